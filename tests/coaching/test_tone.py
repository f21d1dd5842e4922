"""Behaviour of the tone classifier (coaching.tone): labels, explanations, confidence, rewrites.

The sentences below are written for these tests and are not in the training corpus (a test checks
that), so they measure behaviour rather than memory. No test here asserts a figure measured on the
frozen test split; bench/tone.py reports those.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from coaching.tone import LABELS, classify, confident_pressure, normalize
from coaching.tone_data import SPLITS, load_split
from coaching.tone_rewrite import _compose

TRAINING_TEXTS = {row.text for split in ("train", "dev") for row in load_split(split)}

BEHAVIOUR = [
    # polite, indirect requests for information
    ("Could you let me know where things are with the Aldgate deal?", "status_demand"),
    ("Just checking where Marlow Foods landed", "status_demand"),
    ("When you get a sec, can you tell me if Ferris Labs has signed?", "status_demand"),
    # deal inspection
    ("When will the Brookfield deal close?", "status_demand"),
    ("Who's the decision maker over at Ferris Labs?", "status_demand"),
    ("What's the latest on the January number?", "status_demand"),
    # statements rather than questions
    ("I need to see every proposal before it goes out to Brookfield.", "directive"),
    ("Going forward, cc me on everything you send Marlow Foods.", "directive"),
    ("These demo numbers are not acceptable.", "blame"),
    # blame without the usual words
    ("Were you even awake during the Aldgate call?", "blame"),
    ("Why did you think Brookfield would accept that price?", "blame"),
    # friendly small talk and open coaching stay coaching
    ("How has your week been going?", "coaching"),
    ("Did you manage to rest after the Berlin trip?", "coaching"),
    ("What would help you most with the Marlow Foods renewal?", "coaching"),
    ("Why don't we try a shorter agenda for Ferris Labs?", "coaching"),
    ("What did the Aldgate loss teach you?", "coaching"),
    # the classic forms
    ("Any news on Brookfield?", "status_demand"),
    ("Did Marlow Foods sign yet?", "status_demand"),
    ("Whose fault is the Ferris Labs delay?", "blame"),
    ("How could you forget the Aldgate renewal?", "blame"),
    ("Call Brookfield this afternoon.", "directive"),
    ("You need to get Marlow Foods signed by Friday.", "directive"),
]


def test_behaviour_sentences_are_not_in_the_training_data() -> None:
    assert not {text for text, _ in BEHAVIOUR} & TRAINING_TEXTS


@pytest.mark.parametrize(("text", "label"), BEHAVIOUR)
def test_it_labels_what_managers_actually_write(text: str, label: str) -> None:
    assert classify(text).label == label


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("¿Cuándo firma Marlow Foods?", "status_demand"),
        ("¿Por qué no llamaste a Brookfield?", "blame"),
        ("Tienes que llamar a Ferris Labs mañana.", "directive"),
        ("¿Qué te ayudaría con Aldgate?", "coaching"),
        ("Wie ist der Stand bei Brookfield?", "status_demand"),
        ("Du musst Marlow Foods heute anrufen.", "directive"),
        ("Wie kann ich dich bei Aldgate unterstützen?", "coaching"),
        ("Où en est le contrat Brookfield ?", "status_demand"),
        ("Qu'est-ce qui t'aiderait avec Aldgate ?", "coaching"),
        ("Qual é o status da Brookfield?", "status_demand"),
        ("Você precisa ligar para a Aldgate hoje.", "directive"),
    ],
)
def test_it_reads_the_languages_it_claims(text: str, label: str) -> None:
    assert classify(text).label == label


# --- Robust input: what is not the manager's sentence never changes its label ------------------

WRAPPERS = [
    "<!channel> {}",
    "<!here> {}",
    "<@U0ABC123> {}",
    "<@U0ABC123|dana> {}",
    "Hey <@U0ABC123>! {}",
    "Hi team, {}",
    "Morning all - {}",
    "hey hey, {}",
    "Hallo zusammen, {}",
    ":wave: {} :pray:",
    "🙂 {} 🙏",
    "{} :eyes:",
    "> what the customer said yesterday\n{}",
    "{}\n> an older message quoted below",
    "{} <https://example.com/deck>",
    "<#C0DEALS|deals> {}",
]
SAMPLES = [row.text for row in load_split("dev") if not row.text.lstrip().startswith(">")]


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_markup_greetings_emoji_and_quotes_do_not_change_the_label(wrapper: str) -> None:
    changed = []
    for text in SAMPLES:
        plain, wrapped = classify(text), classify(wrapper.format(text))
        if (plain.label, plain.confidence) != (wrapped.label, wrapped.confidence):
            changed.append((text, plain.label, wrapped.label))
    assert not changed


def test_a_labelled_link_keeps_its_words() -> None:
    assert classify("Why did you lose <https://crm.example/acme|Acme>?").label == "blame"
    suggestion = classify("Why did you lose <https://crm.example/acme|Acme>?").suggestion
    assert suggestion is not None and "Acme" in suggestion


@pytest.mark.parametrize(
    "text",
    ["WHY DID YOU LOSE ACME???", "why did you lose acme", "  Why   did you\tlose Acme?  ", "Why’d you lose Acme?",
     "“Why did you lose Acme?”"],
)
def test_it_ignores_case_quotes_and_spacing(text: str) -> None:
    assert classify(text).label == "blame"


def test_it_treats_curly_and_straight_apostrophes_alike() -> None:
    assert normalize("What’s the status?") == normalize("what's   the STATUS?") == "what's the status?"


def test_it_never_breaks_on_empty_or_odd_input() -> None:
    for text in ["", "   ", "?", "!!!", "🙂", "<@U123> <!channel>", "> only a quote", "a" * 5000, "\\n\\n"]:
        result = classify(text)
        assert result.label in LABELS
        assert 0.0 < result.confidence <= 1.0


# --- Explanations and confidence -----------------------------------------------------------------

def test_the_reasons_quote_the_phrases_that_drove_the_label() -> None:
    result = classify("Where are we on the Brookfield renewal?")
    assert result.label == "status_demand"
    assert result.phrases and all(r.startswith("status_demand: ") for r in result.reasons[:len(result.phrases)])
    assert any("where" in phrase for phrase in result.phrases), result.phrases
    phrases = classify("Going forward, cc me on everything.").phrases
    assert "“going forward”" in phrases and any("cc me" in phrase for phrase in phrases), phrases
    # Names explain nothing: "Globex" is never quoted back as a reason.
    assert not any("globex" in phrase for phrase in classify("What did Globex say about Globex?").phrases)


def test_reasons_never_show_word_pieces_or_bare_function_words() -> None:
    for text in SAMPLES:
        for phrase in classify(text).phrases:
            assert not re.search(r"“<|>”", phrase), (text, phrase)
            assert phrase not in ("“the”", "“you”", "“a”", "a question"), (text, phrase)


def test_a_clear_case_is_confident_and_a_muddled_one_is_not() -> None:
    assert classify("Why did you lose Brookfield?").confidence >= 0.9
    assert classify("ok").confidence < classify("Why did you lose Brookfield?").confidence


def test_only_confident_pressure_holds_or_counts() -> None:
    assert confident_pressure("blame", 0.9, 0.7)
    assert not confident_pressure("blame", 0.6, 0.7)
    assert not confident_pressure("coaching", 0.99, 0.7)
    assert confident_pressure("directive", None, 0.7)  # stored before confidence existed


def test_it_returns_an_immutable_result_with_the_original_text() -> None:
    text = "  Any update?  "
    result = classify(text)
    assert result.text == text and result.label == "status_demand"
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.label = "coaching"  # type: ignore[misc]


# --- Rewrites -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Why did you lose Brookfield?", "What did you learn from the Brookfield deal that we can use next time?"),
        ("What's the status of the Aldgate renewal?", "What would most help you move the Aldgate renewal forward?"),
        ("You need to call Ferris Labs today.", "What would help you connect with Ferris Labs, and how can I help?"),
        ("Update Salesforce before the forecast call.",
         "What would make keeping Salesforce up to date easier, and how can I help?"),
        ("Email me the MSA by Friday.", "What would help you move the MSA forward, and how can I help?"),
        ("Get the SOW signed this week.", "What would help you move the SOW forward, and how can I help?"),
    ],
)
def test_rewrites_keep_the_subject_and_read_naturally(text: str, expected: str) -> None:
    assert classify(text).suggestion == expected


def test_tools_and_documents_are_never_people_to_connect_with() -> None:
    for text in ["Log the call in Salesforce today.", "Ping HubSpot support and fix the sequence.",
                 "Chase the MSA with their legal team.", "Send the NDA to Ferris Labs now.",
                 "Call legal about the DPA."]:
        suggestion = classify(text).suggestion or ""
        assert not re.search(r"connect with (?:the )?(?:Salesforce|HubSpot|MSA|NDA|DPA)\b", suggestion), suggestion


def test_it_answers_in_the_language_of_the_message() -> None:
    assert classify("¿Por qué perdiste a Brookfield?").suggestion == (
        "¿Qué aprendiste de lo que pasó con Brookfield que podamos usar la próxima vez?"
    )
    assert "gelernt" in (classify("Warum hast du Aldgate verloren?").suggestion or "")


def test_it_never_takes_slack_markup_for_the_subject() -> None:
    assert "U0REP1" not in (classify("<@U0REP1> Any update?").suggestion or "")
    assert classify("<@U0REP1|Bob> why did you lose Acme?").suggestion == (
        "What did you learn from the Acme deal that we can use next time?"
    )


def test_it_drops_a_subject_whose_own_words_carry_tone() -> None:
    suggestion = classify("You need to call Any Update Corp today.").suggestion
    assert suggestion is not None and "Any Update" not in suggestion


def test_every_rewrite_over_the_corpus_reads_as_coaching_and_keeps_the_name() -> None:
    named = re.compile(r"\b(Acme|Globex|Initech|Hooli|Umbrella|Soylent|Vandelay|Northwind|Contoso|Fabrikam|"
                       r"Brightline|Meridian|Tallis|Kestrel|Pinecrest|Larkspur|Quantis|Halvorsen|Redwood|"
                       r"Ashford|Cobalt|Evergreen|Juniper|Sterling|Nimbus|Beacon|Falcon|Ridgeway|Cascade)\b")
    bad, lost = [], []
    for split in ("train", "dev"):
        for row in load_split(split):
            result = classify(row.text)
            if result.suggestion is None:
                assert result.label == "coaching"
                continue
            if classify(result.suggestion).label != "coaching":
                bad.append((row.text, result.suggestion))
            name = named.search(row.text)
            if name and name.group().lower() not in result.suggestion.lower():
                lost.append((row.text, result.suggestion))
    assert not bad
    assert len(lost) <= 0.05 * len(TRAINING_TEXTS), lost[:20]


@pytest.mark.parametrize("lang", ["en", "es", "de", "fr", "pt"])
@pytest.mark.parametrize("label", ["status_demand", "blame", "directive"])
@pytest.mark.parametrize("ongoing", [False, True])
def test_every_subjectless_fallback_reads_as_coaching(lang: str, label: str, ongoing: bool) -> None:
    assert classify(_compose(None, label, lang, ongoing)).label == "coaching"


def test_the_splits_cover_every_batch_once() -> None:
    from coaching.tone_data import batch_names

    assigned = [batch for batches in SPLITS.values() for batch in batches]
    assert sorted(assigned) == batch_names()
