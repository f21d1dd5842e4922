"""Interpretable features of a (cleaned) manager message, shared by training and inference.

Every feature is a readable string, so the words that drove a label can be quoted back to the
manager: ``w:`` one word, ``b:``/``t:`` two or three words in a row, ``f:``/``f2:`` how a sentence
opens, ``cue:`` a hand-written cue from :mod:`coaching.tone_lexicon`, ``form:`` the sentence form
(imperative, second-person modal, wh-question, yes/no completion question, deadline...). Pure Python
and cheap: the whole extraction is a few regex passes and set insertions.
"""

from __future__ import annotations

import re
import unicodedata

from coaching.tone_lexicon import ALWAYS_TRY, BY_NEEDLE, CUES, Cue

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u00b4": "'", "`": "'",
        "\u201c": None, "\u201d": None, "\u201e": None, "\u00ab": None, "\u00bb": None, '"': None,
        "\u00bf": None, "\u00a1": None, "\u2026": "...", "\u00a0": " ", "\u2013": "-", "\u2014": "-",
    }
)


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def normalize(text: str) -> str:
    """Fold case, accents, quote styles and spacing so one feature covers every spelling."""
    folded = text.translate(_TRANSLATE).casefold()
    if not folded.isascii():  # the NFKD pass is the slow part; most messages skip it
        folded = _strip_accents(folded)
    return " ".join(folded.split())


def _by_key() -> dict[str, tuple[tuple[str, tuple[int, ...]], ...]]:
    index: dict[str, list[tuple[str, tuple[int, ...]]]] = {}
    for needle, ids in BY_NEEDLE:
        key = needle[:2] if needle[1].isalnum() else needle[:1]  # "i want": the word "i"
        index.setdefault(key, []).append((needle, ids))
    return {key: tuple(entries) for key, entries in index.items()}


# Every needle starts a word, so only needles keyed by the first two letters of some word can occur:
# a dozen substring tests instead of a few hundred (tests check this equals the full scan).
_BY_KEY = _by_key()
_WORD_START = re.compile(r"(?<![a-z0-9])[a-z0-9]{1,2}")


def scan_cues(norm: str) -> list[Cue]:
    """Every lexicon cue matching the normalized text, in table order."""
    candidates = set(ALWAYS_TRY)
    for key in set(_WORD_START.findall(norm)):
        for needle, ids in _BY_KEY.get(key, ()):
            if needle in norm:  # a substring test is far cheaper than a regex search
                candidates.update(ids)
    return [CUES[index] for index in sorted(candidates) if CUES[index].regex.search(norm)]


def scan_cues_exhaustively(norm: str) -> list[Cue]:
    """The same as :func:`scan_cues` without any shortcut; the reference that tests compare with."""
    return [cue for cue in CUES if cue.regex.search(norm)]


_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SENTENCE = re.compile(r"[^.?!;]+[.?!;]*")
_WH = frozenset(
    "what whats when where wheres who whos whose why how hows which "
    "que cual cuando donde quien por como cuanto cuantos cuantas "
    "was wann wo wer warum wie welche wieso "
    "qu'est quand ou qui pourquoi comment quel quelle combien "
    "quem quando onde qual quanto quantas".split()
)
_AUX = frozenset("did has have is are was were will does do can could would".split())
_DONE = re.compile(
    r"\b(?:yet|signed|sign|sent|send|closed|close|done|finished|back|confirmed|approved|booked|in|"
    r"submitted|heard|replied|responded|returned|arrived|happening|live)\b"
)
_IMPERATIVE = frozenset(
    """call email phone ring text send close book schedule follow push get finish set reach chase ping fix
    escalate offer lower drop cut add prep prepare write submit sign stop start dont don't never always
    focus hit ask put move talk work loop resend re-send be make bring tell find pitch present log review
    double update demo finalize deliver confirm lock nail do go run use take hold kill cancel move redo
    rework apologise apologize win clear keep swap re-engage multithread route lock cc
    llama llamalo envia cierra haz hazlo consigue termina agenda sigue manda
    ruf schick mach erledige schliess sende melde
    envoie envoyez appelle appelez relance relancez fais faites signe conclus regle
    liga ligue mande feche fecha envie faca resolve""".split()
)
_SOFT = frozenset("please pls just now so ok okay then and also".split())
_YOU_MODAL = re.compile(
    r"\b(?:you|u)(?:'ve| have)? (?:need|must|should|have|gotta|got|will|'ll|ought)\b"
    r"|\b(?:du musst|du solltest|tu dois|vous devez|tienes que|debes|necesitas|voce precisa|voce tem|vc precisa)\b"
)
_I_WANT = re.compile(r"\bi(?:'d| would)? (?:need|want|expect|like|require)\b|\bi'?ll need\b")
_DEADLINE = re.compile(
    r"\b(?:asap|eod|cob|today|tonight|tomorrow|right away|immediately|now|this (?:week|afternoon|morning)|"
    r"by (?:eod|cob|end of day|noon|tomorrow|monday|tuesday|wednesday|thursday|friday|\d)|"
    r"before (?:lunch|noon|friday|monday|the)|hoy|heute|sofort|aujourd'hui|hoje|agora)\b"
)
_INCLUSIVE = re.compile(r"\b(?:we|us|let's|together|our)\b")
_YOU_NEG = re.compile(
    r"\b(?:you|u) (?:never|always|didn't|didnt|don't|dont|haven't|havent|weren't|werent|keep|still|"
    r"clearly|obviously|completely|really)\b"
)
_PRAISE = re.compile(
    r"\b(?:thanks?|thank you|thx|ty|appreciated?|proud|great|amazing|brilliant|awesome|excellent|"
    r"impressive|impressed|nice|lovely|congrats|congratulations|well done|earned|deserved?|love[ds]?|"
    r"hope|enjoy|glad|welcome|danke|gracias|merci|obrigad[oa]|bravo|parabens|felicidades|super)\b"
)
_I_FEEL_BAD = re.compile(
    r"\b(?:disappointed|frustrated|unacceptable|not acceptable|not okay|not ok|embarrassing|"
    r"not good enough|tired of|can't believe|not happy|not impressed)\b"
)


# Slack shorthand and contractions read as the words they stand for ("why'd u" = "why did you"), so
# a terse message shares its features with the written-out one.
_SHORTHAND = {"u": "you", "ur": "your", "r": "are", "pls": "please", "plz": "please",
              "thx": "thanks", "ty": "thanks", "wk": "week", "b4": "before"}
_SHORT = re.compile(r"\b(?:" + "|".join(_SHORTHAND) + r")\b")
_WH_D = re.compile(r"\b(why|how|what|where|when)'d\b")


def _expand(norm: str) -> str:
    if "'d" in norm:
        norm = _WH_D.sub(r"\1 did", norm)
    return _SHORT.sub(lambda m: _SHORTHAND[m.group()], norm)


def features(norm: str) -> set[str]:
    """The feature set of one normalized message."""
    return features_and_cues(norm)[0]


def features_and_cues(norm: str) -> tuple[set[str], list[Cue]]:
    """The feature set of one normalized message, and the lexicon cues among them (scanned once)."""
    norm = _expand(norm)
    feats: set[str] = set()
    add = feats.add
    tokens = _TOKEN.findall(norm)
    for i, tok in enumerate(tokens):
        add("w:" + tok)
        if len(tok) > 4:  # word pieces: typos, plurals and inflections share their stem
            padded = "<" + tok + ">"
            for j in range(len(padded) - 3):
                add("c:" + padded[j : j + 4])
        if i:
            add("b:" + tokens[i - 1] + " " + tok)
            if i > 1:
                add("t:" + tokens[i - 2] + " " + tokens[i - 1] + " " + tok)
    for sentence in _SENTENCE.findall(norm):
        words = _TOKEN.findall(sentence)
        while words and words[0] in _SOFT:
            words = words[1:]
        if not words:
            continue
        first = words[0]
        add("f:" + first)
        if len(words) > 1:
            add("f2:" + first + " " + words[1])
        if first in _WH:
            add("form:wh")
        elif first in _IMPERATIVE:
            add("form:imperative")
        elif first in _AUX and "?" in sentence:
            add("form:yes/no question")
            if _DONE.search(sentence):
                add("form:asks whether it is done")
    if "?" in norm:
        add("form:question")
    else:
        add("form:statement")
    if _YOU_MODAL.search(norm):
        add("form:you must")
    if _I_WANT.search(norm):
        add("form:I want")
    if _DEADLINE.search(norm):
        add("form:deadline")
    if _INCLUSIVE.search(norm):
        add("form:we")
    if _YOU_NEG.search(norm):
        add("form:you never")
    if _PRAISE.search(norm):
        add("form:warmth")
    if _I_FEEL_BAD.search(norm):
        add("form:judgement")
    cues = scan_cues(norm)
    for cue in cues:
        add("cue:" + cue.name)
    return feats, cues


_FORM_TEXT = {
    "form:wh": "an open wh-question",
    "form:imperative": "opens with an instruction",
    "form:yes/no question": "a yes/no question",
    "form:asks whether it is done": "asks whether something is done yet",
    "form:question": "a question",
    "form:statement": "a statement rather than a question",
    "form:you must": "tells the rep what they must do",
    "form:I want": "states what you want or need",
    "form:deadline": "sets a deadline",
    "form:we": "speaks as “we”",
    "form:you never": "a judgement about the rep (“you never…”, “you didn't…”)",
    "form:judgement": "a judgement of the work",
    "form:warmth": "thanks, praise or warmth",
}


def describe(feature: str) -> str:
    """How a feature reads in an explanation: the phrase itself, in quotes, or what the form means."""
    kind, _, value = feature.partition(":")
    if kind == "form":
        return _FORM_TEXT.get(feature, value)
    if kind == "cue":
        return f"“{value}”"
    if kind in ("f", "f2"):
        return f"opens with “{value}”"
    return f"“{value}”"
