"""Loader and scorer for the team's labelled tone corpus (package data: ``coaching/data/tone/``).

The corpus is written in batches, one TSV per writing session (``label<TAB>text<TAB>writer`` after a
header line; a literal ``\\n`` inside a text is a line break). Splits are by whole batch, never by
row, so near-paraphrases written in one sitting cannot sit on both sides of a split. ``TEST`` is
frozen: no rule, weight or threshold is tuned on it, the training script refuses to read it, and
no unit test asserts a figure measured on it. Kept apart from ``coaching.tone`` so classifying
never touches these files; only the training script, tests and the benchmark read them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files

LABELS: tuple[str, ...] = ("coaching", "status_demand", "blame", "directive")
PRESSURE: frozenset[str] = frozenset({"status_demand", "blame", "directive"})

TRAIN: tuple[str, ...] = (
    "batch_01", "batch_02", "batch_03", "batch_04", "batch_05", "batch_07", "batch_09", "batch_10",
    "batch_12", "batch_14", "batch_15", "batch_17", "batch_18", "batch_19", "batch_20", "batch_21", "batch_22",
    "batch_23", "batch_24", "batch_25", "friendly_01", "friendly_04",
)
DEV: tuple[str, ...] = ("batch_08", "batch_13", "friendly_02")
TEST: tuple[str, ...] = ("batch_06", "batch_11", "batch_16", "friendly_03")  # frozen
SPLITS: dict[str, tuple[str, ...]] = {"train": TRAIN, "dev": DEV, "test": TEST}


@dataclass(frozen=True)
class Row:
    label: str
    text: str
    writer: str
    batch: str

    @property
    def friendly(self) -> bool:
        """Friendly or supportive small talk, which must never be flagged."""
        return self.batch.startswith("friendly_")


def batch_names() -> list[str]:
    folder = files("coaching") / "data" / "tone"
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".tsv") and p.name[0] != "_")


def load_batch(batch: str) -> list[Row]:
    """Rows of one batch in file order; a malformed row raises ``ValueError`` naming its line."""
    text = (files("coaching") / "data" / "tone" / f"{batch}.tsv").read_text(encoding="utf-8")
    lines = text.splitlines()
    if not lines or lines[0] != "label\ttext\twriter":
        raise ValueError(f"{batch}.tsv: the first line must be the header label<TAB>text<TAB>writer")
    rows = []
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 3 or parts[0] not in LABELS or not parts[1].strip() or not parts[2].strip():
            raise ValueError(f"{batch}.tsv line {lineno}: expected a label, a text and a writer")
        rows.append(Row(parts[0], parts[1].replace("\\n", "\n"), parts[2], batch))
    return rows


def load_split(split: str) -> list[Row]:
    return [row for batch in SPLITS[split] for row in load_batch(batch)]


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
    for label in LABELS:
        tp = sum(1 for want, got in pairs if want == label and got == label)
        predicted = sum(1 for _, got in pairs if got == label)
        actual = sum(1 for want, _ in pairs if want == label)
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(LabelScore(label, precision, recall, f1, actual))
    return scores, sum(s.f1 for s in scores) / len(scores)


def pressure_recall(pairs: Iterable[tuple[str, str]]) -> float:
    """Of the messages that carry pressure, the share flagged as any pressure label."""
    flagged = [got in PRESSURE for want, got in pairs if want in PRESSURE]
    return sum(flagged) / len(flagged) if flagged else 0.0
