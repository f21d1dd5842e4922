"""Pure-Python inference for the tone classifier: a multinomial logistic regression.

The weights come from ``coaching/data/tone_weights.json`` (written by ``scripts/train_tone.py``),
read once at import like any other module data. Scoring a message is one dictionary lookup per
feature and a softmax over four labels; no numpy at runtime.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib.resources import files


@dataclass(frozen=True)
class Model:
    labels: tuple[str, ...]
    bias: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]
    temperature: float  # fitted on the dev split so that probabilities are calibrated


def _load() -> Model:
    raw = json.loads((files("coaching") / "data" / "tone_weights.json").read_text(encoding="utf-8"))
    return Model(
        labels=tuple(raw["labels"]),
        bias=tuple(raw["bias"]),
        weights={feature: tuple(values) for feature, values in raw["weights"].items()},
        temperature=float(raw["temperature"]),
    )


MODEL = _load()


def scores(feats: set[str], model: Model = MODEL) -> list[float]:
    """The raw score of each label (in ``model.labels`` order)."""
    total = list(model.bias)
    weights = model.weights
    for feature in feats:
        row = weights.get(feature)
        if row is not None:
            total[0] += row[0]
            total[1] += row[1]
            total[2] += row[2]
            total[3] += row[3]
    return total


def probabilities(raw: list[float], model: Model = MODEL) -> list[float]:
    top = max(raw)
    exps = [math.exp((value - top) / model.temperature) for value in raw]
    norm = sum(exps)
    return [value / norm for value in exps]


def drivers(feats: set[str], label: int, model: Model = MODEL, limit: int = 3,
            skip: tuple[str, ...] = ()) -> list[tuple[str, float]]:
    """The features that pushed hardest towards ``label`` over the best other label, strongest first.

    Features starting with any of ``skip`` are left out (cheaply, before any arithmetic).
    """
    out = []
    others = [i for i in range(len(model.labels)) if i != label]
    a, b, c = others  # four labels: the three others, unrolled because this runs on every message
    weights = model.weights
    for feature in feats:
        if skip and feature.startswith(skip):
            continue
        row = weights.get(feature)
        if row is None:
            continue
        own = row[label]
        if own <= row[a] or own <= row[b] or own <= row[c]:
            continue
        out.append((feature, own - max(row[a], row[b], row[c])))
    out.sort(key=lambda item: (-item[1], item[0]))
    return out[:limit]
