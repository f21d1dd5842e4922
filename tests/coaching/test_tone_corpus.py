"""The team's tone corpus and the training script: size, spread, splits, and reproducible weights.

Nothing here measures the classifier on the frozen test split; bench/tone.py does, for people.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from coaching.tone_data import LABELS, SPLITS, TEST, batch_names, load_batch, load_split
from coaching.tone_features import normalize
from coaching.tone_rewrite import language
from coaching.tone_text import clean

ROOT = Path(__file__).resolve().parents[2]
ALL = [row for split in SPLITS for row in load_split(split)]
LABELLED = [row for row in ALL if not row.friendly]
FRIENDLY = [row for row in ALL if row.friendly]


def test_the_corpus_is_big_enough_and_balanced() -> None:
    assert len(LABELLED) >= 2000
    assert len(FRIENDLY) >= 300
    assert all(row.label == "coaching" for row in FRIENDLY)
    counts = Counter(row.label for row in LABELLED)
    assert set(counts) == set(LABELS)
    assert min(counts.values()) >= 300, counts


def test_no_message_sits_in_two_splits_or_twice_in_one() -> None:
    seen: dict[str, str] = {}
    for split in SPLITS:
        for row in load_split(split):
            key = " ".join(row.text.casefold().split())
            assert seen.setdefault(key, split) == split, (row.text, seen[key], split)


def test_every_split_holds_whole_batches_and_every_label() -> None:
    for split, batches in SPLITS.items():
        assert batches, split
        labels = {row.label for batch in batches for row in load_batch(batch)}
        assert labels == set(LABELS), split
    assert sorted(b for batches in SPLITS.values() for b in batches) == batch_names()


def test_the_corpus_spans_registers_and_languages() -> None:
    texts = [row.text for row in LABELLED]

    def share(pattern: str) -> int:
        return sum(1 for text in texts if re.search(pattern, text))

    assert share(r"<@U\w+") >= 15  # mentions
    assert share(r"<!(?:channel|here)>") >= 5
    assert share(r":[a-z_]+:") >= 15  # shortcodes
    assert share(r"[\U0001F300-\U0001FAFF]") >= 10  # emoji
    assert share(r"<https?://") >= 5 and share(r"`") >= 2
    assert share(r"\n") >= 5  # quotes and several lines
    assert share(r"^[a-z]") >= 100  # Slack-terse lower case
    assert share(r"[.!?] \w.*[.!?]") >= 150  # several sentences in one message
    assert share(r"[^?]$") >= 500  # statements as well as questions
    languages = Counter(language(normalize(clean(text))) for text in texts)
    for lang in ("es", "de", "fr", "pt"):  # the languages the coach writes rewrites in
        assert languages[lang] >= 50, languages


def test_every_row_names_its_writer_and_the_review_covers_every_batch() -> None:
    assert all(row.writer for row in ALL)
    review = (ROOT / "docs" / "tone-review.md").read_text(encoding="utf-8")
    for batch in batch_names():
        assert f"`{batch}`" in review, batch


def test_the_one_on_one_exclusions_are_few_and_reasoned() -> None:
    lines = (ROOT / "coaching" / "data" / "tone" / "_1on1_not_coaching.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id\tlabel\treason"
    rows = [line.split("\t") for line in lines[1:] if line.strip()]
    assert 0 < len(rows) <= 10
    assert all(len(r) == 3 and r[0].isdigit() and r[1] in LABELS[1:] and len(r[2]) > 20 for r in rows)


def _train_module() -> object:
    spec = importlib.util.spec_from_file_location("train_tone", ROOT / "scripts" / "train_tone.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_tone"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_training_reproduces_the_shipped_weights_without_reading_the_test_split(monkeypatch) -> None:
    pytest.importorskip("sklearn")
    train_tone = _train_module()
    read: list[str] = []
    original = train_tone.load_batch

    def spy(batch: str):
        read.append(batch)
        return original(batch)

    monkeypatch.setattr(train_tone, "load_batch", spy)
    model = train_tone.train()
    assert read and not set(read) & set(TEST)
    shipped = (ROOT / "coaching" / "data" / "tone_weights.json").read_text(encoding="utf-8")
    assert train_tone.dump(model) == shipped
    assert json.loads(shipped)["labels"] == list(LABELS)
