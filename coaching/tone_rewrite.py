"""Coaching rewrites for flagged manager messages: keep the subject, read naturally, stay coaching.

The subject is the deal, account, person or topic the manager named ("the Globex renewal",
"Priya"). Tools and documents ("Salesforce", "the MSA") are things to work on, never people to
"connect with". Every template here is itself tested to classify as coaching.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coaching.tone_features import _TRANSLATE, _strip_accents, normalize, scan_cues
from coaching.tone_lexicon import Cue

# Nouns that, after a name, make the subject a noun phrase: "the Globex renewal", "Acme contract".
_DEAL_NOUNS = frozenset(
    "deal deals renewal renewals account accounts contract contracts proposal proposals opportunity opp "
    "demo demos pilot rollout upsell expansion pitch rfp quote quotes negotiation meeting order po project "
    "evaluation trial poc redlines paperwork deck invoice discount pricing onsite qbr".split()
)
# Numbers the rep is asked to report; you don't "move your numbers forward", you get help with them.
_METRIC_NOUNS = frozenset("forecast pipeline quota numbers number targets calls".split())
# People after a name ("the Aperture CTO"): the rewrite is about connecting with them.
_PEOPLE_NOUNS = frozenset("champion cfo cto ceo buyer team".split())
_NOUNS = _DEAL_NOUNS | _METRIC_NOUNS | _PEOPLE_NOUNS
_DETERMINERS = frozenset({"the", "your", "our", "this", "that"})
# Verbs that mean reaching a person or company: the rewrite talks about connecting with them.
_CONTACT = frozenset(
    "call called calling phone phoned ring ping pinged text email emailed contact contacted reach reached "
    "follow followed chase chased chasing talk talked meet met reply replied hear heard loop llamar llama "
    "llamaste anrufen ruf angerufen nachgefasst appeler appelle rappele relance relancer ligar liga ligou "
    "ligue".split()
)
_NEGATIONS = frozenset({"stop", "dont", "never", "no", "without"})
# Capitalised words that are not names: sentence openers, pronouns, days, sales acronyms, and the
# capitalised nouns of German. Compared accent-free, casefolded, and cut at the first ' or - so that
# "How's", "You've" and "Qu'est-ce" are caught by their first part.
_NOT_NAMES = frozenset(
    """a about after all also always an and any anyone are as ask at be before book bring but by call can
    check close could cut demo did didnt do dont drop email escalate every fill finish fix focus follow
    for from get give go great had has have hey hi hit how i id if im in is it its ive just keep let lets
    log loop make maybe move my never no not now of ok okay on or our please prep present push put quick
    re reach schedule seriously send set should so start status still stop talk tell thanks that the
    their then there these they this those to today tomorrow update was we were what whats when where
    which who whose why will with work would yes you your
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december eod eta crm qbr cfo cto ceo vp po rfp poc roi arr mrr
    q1 q2 q3 q4 asap sla nda
    que cual como cuando donde cuantas cuantos por para ya tienes necesitas llama asegurate quiero alguna
    hoy was wie warum wer wessen wo gibt hast haben ich du sie wir ihr schick ruf stell stand neues
    zahlen anrufe angebot termin woche monat quartal deal kunde kunden vertrag gesprach verlangerung
    schuld freitag montag dienstag mittwoch donnerstag
    qu quel quelle comment pourquoi ou des il tu je vous envoie assure combien
    o qual quantas quero voce me liga alguma de da do""".split()
)
_TIME_WORDS = frozenset(
    "yet back today tonight tomorrow week month quarter year now again soon time later sooner earlier "
    "it them him her me us this that these those my his their its early late much".split()
)
_NOT_OBJECTS = _NOT_NAMES | _TIME_WORDS
# Tools and documents: a rep keeps Salesforce up to date and moves the MSA forward; neither is a
# person to "connect with". Compared folded, like _NOT_NAMES.
_TOOLS = frozenset(
    "salesforce sfdc hubspot gong outreach salesloft clari zoom docusign slack jira excel sheets notion "
    "pipedrive zendesk linkedin navigator chorus".split()
)
_DOCS = frozenset("msa sow dpa nda rfp rfi po sla w9 baa redlines mnda eula".split())

_TOKEN = re.compile(r"[\w&]+(?:['.\-][\w&]+)*")
_DET_PHRASE = re.compile(
    r"\b(?:the|your|our|this|that) (?:[\w&'-]+ ){0,2}?(?:" + "|".join(sorted(_NOUNS)) + r")\b",
    re.IGNORECASE,
)
_VERB_OBJECT = re.compile(
    r"\b(?:lose|lost|losing|close|closed|closing|sign|signed|win|won|renew|call|called|calling|email|"
    r"emailed|ping|chase|chasing|with|on|for|about|from)\s+([\w&'-]+(?: [\w&'-]+)?)",
    re.IGNORECASE,
)
# "Still not", "never", "are you": blame about an obstacle now, not a lesson from the past.
_ONGOING = re.compile(
    r"n't\b|\b(?:didnt|doesnt|dont|havent|hasnt|isnt|arent|wasnt|werent|wont|cant|not|never|still|keeps?|"
    r"always)\b|\b(?:are|is) (?:you|your)\b|\bwhat(?:'s| is) wrong\b"
)
_SENTENCE_END = (".", "?", "!", ":", ";")
# Slack markup (<@U123|bob>, <#C1>, <!here>, bare links) is never the subject of a question; a
# labelled link (<https://acme.com|Acme>) keeps its label.
_SLACK_LINK_LABEL = re.compile(r"<(?![@#!])[^<>|]*\|([^<>]*)>")
_SLACK_MARKUP = re.compile(r"<[^<>]*>")


@dataclass(frozen=True)
class _Subject:
    name: str  # as the manager wrote it: "Globex", "Dunder Mifflin", "soylent"
    phrase: str | None  # an English noun phrase when there is one: "the Globex renewal"
    # Who to "connect with" when the ask is to call/email/chase someone: reads better than "move X".
    contact: str | None
    metric: bool = False  # "your numbers", "your pipeline": reported figures, not a deal
    thing: str | None = None  # "tool" (Salesforce) or "doc" (the MSA): never a contact


def _fold(word: str) -> str:
    folded = word.replace("\u2019", "'").casefold()
    if not folded.isascii():
        folded = _strip_accents(folded)
    return folded.partition("'")[0].partition("-")[0]


def _thing(name: str) -> str | None:
    folded = _fold(name.replace("-", ""))
    if folded in _TOOLS:
        return "tool"
    if folded in _DOCS:
        return "doc"
    return None


def _find_subject(text: str) -> _Subject | None:
    # Slack delivers text with &, < and > escaped; the suggestion is escaped again when it is shown.
    unmarked = _SLACK_MARKUP.sub(" ", _SLACK_LINK_LABEL.sub(r"\1", text)).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    clean = " ".join(unmarked.translate(_TRANSLATE).split())
    tokens = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(clean)]
    folded = [_fold(tok) for tok, _, _ in tokens]
    shouting = clean.upper() == clean  # all caps: capitals say nothing about names

    def is_name(i: int) -> bool:
        return not shouting and tokens[i][0][0].isupper() and folded[i] not in _NOT_OBJECTS

    runs: list[tuple[bool, int, int]] = []  # (sentence-initial, first token, end token)
    i = 0
    while i < len(tokens):
        if not is_name(i):
            i += 1
            continue
        j = i + 1  # extend over "Dunder Mifflin", "Stark Industries"
        while j < len(tokens) and is_name(j) and clean[tokens[j - 1][2] : tokens[j][1]] == " ":
            j += 1
        before = clean[: tokens[i][1]].rstrip()
        runs.append((not before or before.endswith(_SENTENCE_END), i, j))
        i = j
    if runs:
        # A capital mid-sentence is a far better sign of a name than one opening a sentence.
        _, i, j = min(runs, key=lambda run: run[0])
        name = clean[tokens[i][1] : tokens[j - 1][2]]
        if name.endswith("'s"):
            name = name[:-2]
        kind = _thing(name)
        if kind is not None:
            return _Subject(name, f"the {name}" if kind == "doc" else None, None, thing=kind)
        window = set(folded[max(0, i - 4) : i])
        contact = name if window & _CONTACT and not window & _NEGATIONS else None
        if j < len(tokens) and folded[j] in _NOUNS:
            det = tokens[i - 1][0].lower() if i and folded[i - 1] in _DETERMINERS else "the"
            phrase = f"{det} {name} {tokens[j][0]}"
            if folded[j] in _PEOPLE_NOUNS:
                contact = phrase
            return _Subject(name, phrase, contact, folded[j] in _METRIC_NOUNS)
        return _Subject(name, None, contact)
    found = _DET_PHRASE.search(clean)
    if found:
        phrase = found.group().lower() if shouting else found.group()
        noun = _fold(phrase.split()[-1])
        return _Subject(phrase, phrase, phrase if noun in _PEOPLE_NOUNS else None, noun in _METRIC_NOUNS)
    for match in _VERB_OBJECT.finditer(clean):
        words = match.group(1).split()
        while words and _fold(words[-1]) in _NOT_OBJECTS:
            words.pop()
        if words and all(_fold(word) not in _NOT_OBJECTS for word in words):
            obj = " ".join(words)
            return _Subject(obj, None, obj if _fold(match.group().split()[0]) in _CONTACT else None)
    return None


# Per language: (status, blame-past, blame-ongoing, directive). {name} is the subject as written;
# the trailing entry of each pair is used when no subject could be found.
_FOREIGN: dict[str, tuple[tuple[str, str], ...]] = {
    "es": (
        ("¿Qué te ayudaría más a avanzar con {name}?", "¿Qué te ayudaría más a avanzar esta semana?"),
        ("¿Qué aprendiste de lo que pasó con {name} que podamos usar la próxima vez?",
         "¿Qué aprendiste de esto que podamos usar la próxima vez?"),
        ("¿Qué te está frenando con {name}, y cómo puedo ayudarte?", "¿Qué te está frenando, y cómo puedo ayudarte?"),
        ("¿Qué te ayudaría a avanzar con {name}, y cómo puedo ayudarte?",
         "¿Qué te ayudaría a avanzar con esto, y cómo puedo ayudarte?"),
    ),
    "de": (
        ("Was würde dir am meisten helfen, bei {name} voranzukommen?", "Was würde dir helfen, diese Woche voranzukommen?"),
        ("Was hast du aus der Sache mit {name} gelernt, das wir nächstes Mal nutzen können?",
         "Was hast du daraus gelernt, das wir nächstes Mal nutzen können?"),
        ("Was hält dich bei {name} auf, und wie kann ich dich unterstützen?",
         "Was hält dich auf, und wie kann ich dich unterstützen?"),
        ("Was würde dir helfen, bei {name} voranzukommen, und wie kann ich dich unterstützen?",
         "Was würde dir helfen voranzukommen, und wie kann ich dich unterstützen?"),
    ),
    "fr": (
        ("Qu'est-ce qui t'aiderait le plus à avancer avec {name} ?", "Qu'est-ce qui t'aiderait le plus à avancer cette semaine ?"),
        ("Qu'est-ce que tu as appris avec {name}, pour la prochaine fois ?",
         "Qu'est-ce que tu as appris de cette situation, pour la prochaine fois ?"),
        ("Qu'est-ce qui te bloque avec {name}, et comment puis-je t'aider ?",
         "Qu'est-ce qui te bloque, et comment puis-je t'aider ?"),
        ("Qu'est-ce qui t'aiderait à avancer avec {name}, et comment puis-je t'aider ?",
         "Qu'est-ce qui t'aiderait à avancer, et comment puis-je t'aider ?"),
    ),
    "pt": (
        ("O que mais te ajudaria a avançar com {name}?", "O que mais te ajudaria a avançar esta semana?"),
        ("O que você aprendeu com o que aconteceu com {name} que podemos usar da próxima vez?",
         "O que você aprendeu com isso que podemos usar da próxima vez?"),
        ("O que está te travando com {name}, e como posso te apoiar?", "O que está te travando, e como posso te apoiar?"),
        ("O que te ajudaria a avançar com {name}, e como posso te apoiar?",
         "O que te ajudaria a avançar com isso, e como posso te apoiar?"),
    ),
}


# Words common in each language and rare in the others: a fallback when no foreign cue fired.
_STOPWORDS: dict[str, frozenset[str]] = {
    "es": frozenset("el la los las que por para con una como esta este cuando donde hoy ya tu".split()),
    "de": frozenset("der die das und ist nicht du dich dir mit bei wie was warum heute schon noch".split()),
    "fr": frozenset("le la les est pas tu te avec pour des une qui quoi pourquoi aujourd'hui".split()),
    "pt": frozenset("o a os as que voce vc nao com para uma como esta hoje ja ligue".split()),
}


def language(norm: str, cues: list[Cue] | None = None) -> str:
    """The message's language among those the coach writes rewrites in ("en" when unsure)."""
    foreign = [cue for cue in (scan_cues(norm) if cues is None else cues) if cue.lang != "en"]
    if foreign:  # a foreign cue decides: English cues such as "status" also fire inside other languages
        return max(foreign, key=lambda cue: cue.weight).lang
    words = norm.replace("?", " ").replace(",", " ").replace(".", " ").split()
    counts = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOPWORDS.items()}
    best = max(counts, key=lambda lang: counts[lang])
    return best if counts[best] >= 2 else "en"


def rewrite(text: str, label: str, cues: list[Cue] | None = None) -> str:
    """A coaching version of a flagged message that keeps its subject.

    ``cues`` are the lexicon cues already found in ``text``, when the caller has them.
    """
    norm = normalize(text)
    subject = _find_subject(text)
    ongoing = label == "blame" and bool(_ONGOING.search(norm))
    if subject is not None and " " in subject.name and any(
        cue.weight > 1 and cue.label != "coaching" for cue in scan_cues(normalize(subject.name))
    ):
        # A name's own words can carry tone ("Any Update Corp"): drop it rather than echo them.
        # A one-word name cannot hold a multi-word cue, and one-word cues are tested not to echo.
        subject = None
    return _compose(subject, label, language(norm, cues), ongoing)


def _compose(subject: _Subject | None, label: str, lang: str, ongoing: bool) -> str:
    if lang in _FOREIGN:
        slot = {"status_demand": 0, "blame": 2 if ongoing else 1, "directive": 3}[label]
        with_name, without = _FOREIGN[lang][slot]
        return with_name.format(name=subject.name) if subject else without
    if subject is None:
        if label == "status_demand":
            return "What would most help you make progress this week?"
        if label == "blame":
            if ongoing:
                return "What's getting in the way, and how can I help?"
            return "What did you learn from this that we can use next time?"
        return "What would help you make progress on this, and how can I help?"
    name, phrase = subject.name, subject.phrase
    if subject.thing == "tool":
        if label == "blame" and not ongoing:
            return f"What would make keeping {name} up to date easier for you?"
        return f"What would make keeping {name} up to date easier, and how can I help?"
    if subject.metric:
        if label == "directive":
            return f"What would help you most with {phrase}, and how can I help?"
        if label == "blame" and not ongoing:
            return f"What did you learn about {phrase} that we can use next time?"
    if label == "status_demand":
        if subject.metric:
            return f"What would most help you with {phrase} this week?"
        if phrase:
            return f"What would most help you move {phrase} forward?"
        return f"What would most help you move things forward with {name}?"
    if label == "blame":
        if ongoing:
            if subject.contact:
                return f"What's getting in the way of connecting with {subject.contact}, and how can I help?"
            return f"What's getting in the way with {phrase or name}, and how can I help?"
        if phrase:
            return f"What did you learn from {phrase} that we can use next time?"
        if subject.contact:
            return f"What did you learn from your conversations with {subject.contact} that we can use next time?"
        return f"What did you learn from the {name} deal that we can use next time?"
    if subject.contact:
        return f"What would help you connect with {subject.contact}, and how can I help?"
    if phrase:
        return f"What would help you move {phrase} forward, and how can I help?"
    return f"What would help you move things forward with {name}, and how can I help?"
