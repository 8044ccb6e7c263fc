"""Structure signals: what two systems declare about their function, data and users.

Each signal returns ``None`` when either record does not declare the field, so that a missing
field is "unknown" and neither raises nor lowers the score.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping

__all__ = ["jaccard", "rarity_weights", "same_level", "weighted_jaccard"]


def rarity_weights(sets: Iterable[frozenset[Hashable] | None]) -> dict[Hashable, float]:
    """IDF-like weight per item: sharing a rare capability says more than sharing "e-mail".

    >>> w = rarity_weights([frozenset({"a", "b"}), frozenset({"a"}), None])
    >>> w["b"] > w["a"]
    True
    """
    declared = [s for s in sets if s]
    counts = Counter(item for s in declared for item in s)
    total = max(len(declared), 1)
    return {item: math.log(1 + total / count) for item, count in counts.items()}


def weighted_jaccard(
    a: frozenset[Hashable] | None, b: frozenset[Hashable] | None, weights: Mapping[Hashable, float]
) -> float | None:
    """Σ weight(shared) / Σ weight(either); ``None`` if either side declares nothing."""
    if not a or not b:
        return None
    union = a | b
    denominator = sum(weights.get(item, 1.0) for item in union)
    if denominator == 0:
        return None
    return sum(weights.get(item, 1.0) for item in a & b) / denominator


def jaccard(a: frozenset[Hashable] | None, b: frozenset[Hashable] | None) -> float | None:
    if not a or not b:
        return None
    return len(a & b) / len(a | b)


def same_level(a: str | None, b: str | None) -> float | None:
    if a is None or b is None:
        return None
    return 1.0 if a == b else 0.0
