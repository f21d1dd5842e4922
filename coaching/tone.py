"""Tone classifier for manager messages, with calibrated confidence and coaching rewrites.

A multinomial logistic regression over interpretable features (:mod:`coaching.tone_features`:
words and word pairs, how each sentence opens, the hand-written cues of
:mod:`coaching.tone_lexicon`, sentence form), trained offline by ``scripts/train_tone.py`` on the
team's corpus and scored here in pure Python. It stays explainable: the features that pushed
hardest towards the label are quoted in ``ToneResult.reasons`` ("status_demand: “where are we”").

Slack markup, emoji, quoted lines and a leading greeting are stripped first
(:mod:`coaching.tone_text`), so they never change the label. ``confidence`` is the calibrated
probability of the label; the bot holds a question only when a pressure reading is confident
(:func:`confident_pressure`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from coaching.drift_model import PRESSURE_LABELS
from coaching.tone_features import describe, features_and_cues, normalize
from coaching.tone_model import MODEL, drivers, probabilities, scores
from coaching.tone_rewrite import rewrite
from coaching.tone_text import clean

Label = Literal["coaching", "status_demand", "blame", "directive"]
LABELS: tuple[Label, ...] = ("coaching", "status_demand", "blame", "directive")

__all__ = ["LABELS", "PRESSURE_LABELS", "Label", "ToneResult", "classify", "confident_pressure", "normalize"]

if tuple(MODEL.labels) != LABELS:  # a weights file from another label set must not load silently
    raise RuntimeError(f"tone_weights.json labels {MODEL.labels} do not match {LABELS}")


@dataclass(frozen=True)
class ToneResult:
    text: str
    label: Label
    suggestion: str | None
    reasons: tuple[str, ...]
    confidence: float = 1.0  # calibrated probability of `label`, 0..1

    @property
    def phrases(self) -> tuple[str, ...]:
        """What drove the label, as shown to the manager: “where are we”, sets a deadline..."""
        prefix = f"{self.label}: "
        return tuple(r[len(prefix):] for r in self.reasons if r.startswith(prefix))


def classify(text: str) -> ToneResult:
    """Label one message and, unless it already reads as coaching, suggest a coaching rewrite."""
    cleaned = clean(text)
    feats, cues = features_and_cues(normalize(cleaned))
    probs = probabilities(scores(feats))
    best = max(range(len(LABELS)), key=probs.__getitem__)
    label = LABELS[best]
    names = frozenset(normalize(w) for w in _NAME.findall(cleaned))
    reasons = [f"{label}: {describe(feature)}" for feature in _explain(feats, best, names)]
    if not reasons:
        reasons.append("no feature points strongly anywhere; read as the most likely label")
    reasons.append(f"confidence {probs[best]:.2f}")
    suggestion = None if label == "coaching" else rewrite(cleaned or text, label, cues)
    return ToneResult(text, label, suggestion, tuple(reasons), round(probs[best], 4))


# Word pieces and bare function words drive scores but explain nothing to a manager.
_UNSHOWN = frozenset({"form:question", "form:statement"})
_FUNCTION_WORDS = frozenset(
    "a an the to of on in at for is are was were be it this that these those i you u we me my your our "
    "and or but so not do did does have has had with from by as just".split()
)


# A capitalised word after the first: most likely a name ("Globex"), which explains nothing.
_NAME = re.compile(r"(?<=\w )[A-Z][\w'-]+")


def _explain(feats: set[str], best: int, names: frozenset[str] = frozenset(), limit: int = 3) -> list[str]:
    """Up to ``limit`` readable features that drove the label, strongest first, without overlaps."""
    picked: list[str] = []
    texts: list[str] = []
    for feature, _ in drivers(feats, best, limit=20, skip=("c:", "form:question", "form:statement")):
        kind, _, value = feature.partition(":")
        if kind == "c" or feature in _UNSHOWN or (kind == "w" and value in _FUNCTION_WORDS):
            continue
        if kind in ("w", "b", "t", "f", "f2") and (
            all(w in _FUNCTION_WORDS for w in value.split()) or any(w in names for w in value.split())
        ):
            continue
        if any(value in other for other in texts):
            continue  # "why did" adds nothing next to "why did you"
        shorter = [i for i, other in enumerate(texts) if other in value]
        if shorter:  # "where are we" says more than the "where" already picked: take its place
            picked[shorter[0]], texts[shorter[0]] = feature, value
            continue
        picked.append(feature)
        texts.append(value)
        if len(picked) == limit:
            break
    return picked


def confident_pressure(label: str, confidence: float | None, threshold: float) -> bool:
    """Whether a reading is pressure that should hold a question and count in the tone signal.

    ``confidence`` None is a question stored before confidence existed: it counts as read then.
    """
    return label in PRESSURE_LABELS and (confidence is None or confidence >= threshold)
