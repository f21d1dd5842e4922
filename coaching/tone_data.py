"""Loader and scorer for the labelled tone dataset (package data: ``coaching/data/tone_dataset.tsv``).

Kept apart from ``coaching.tone`` so classifying never touches the filesystem; only tests and the
benchmark read the dataset.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files

LABELS: frozenset[str] = frozenset({"coaching", "status_demand", "blame", "directive"})
SPLITS: frozenset[str] = frozenset({"train", "test"})


def load_dataset() -> list[tuple[str, str, str]]:
    """Return ``(label, question, split)`` rows in file order.

    Blank lines and ``#`` comment lines are skipped. A malformed row raises ``ValueError`` naming its
    line, because a silently dropped row would skew the accuracy figures.
    """
    text = (files("coaching") / "data" / "tone_dataset.tsv").read_text(encoding="utf-8")
    rows: list[tuple[str, str, str]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise ValueError(f"tone_dataset.tsv line {lineno}: expected 3 tab-separated fields")
        label, question, split = parts
        if label not in LABELS or split not in SPLITS or not question.strip():
            raise ValueError(f"tone_dataset.tsv line {lineno}: bad label, split or empty question")
        rows.append((label, question, split))
    return rows


@dataclass(frozen=True)
class LabelScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int  # how many rows truly carry this label


def score(pairs: Iterable[tuple[str, str]]) -> tuple[list[LabelScore], float]:
    """Per-label precision/recall/F1 and the macro-F1 for ``(expected, predicted)`` pairs.

    A label never predicted has precision 0 (not undefined), so a classifier cannot hide a dead label.
    """
    pairs = list(pairs)
    scores = []
    for label in sorted(LABELS):
        tp = sum(1 for want, got in pairs if want == label and got == label)
        predicted = sum(1 for _, got in pairs if got == label)
        actual = sum(1 for want, _ in pairs if want == label)
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(LabelScore(label, precision, recall, f1, actual))
    return scores, sum(s.f1 for s in scores) / len(scores)
