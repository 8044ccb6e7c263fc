"""How the signals become one score, and the reasons people read.

The score is a logistic model: ``score = 1 / (1 + exp(-logit))`` with

    logit = bias + Σ w_c · cosine_c                      (text channels, always present)
                 + Σ w_s · (value_s − neutral_s)          (structure and graph, when known)

so it reads as the probability that the two systems do the same job. The text weights and the
bias are fitted by logistic regression on the tuning half of the labelled development set
(``evaluation/``), which is what makes a threshold mean the same thing on any portfolio: 0.5 is
"as likely a duplicate as not" wherever it is applied. Structure and graph signals have no
labels to learn from yet; their weights are set by hand below, each with its reason, and a
signal that either record does not declare adds nothing (``neutral`` is where it stops
arguing either way).
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["DETECTOR_VERSION", "WEIGHTS", "Evidence", "Weight", "explain", "score", "scores"]

DETECTOR_VERSION = "1.0"  # weights fitted on the development set, 2026-11
"""Stored with every warning; bump it whenever weights, channels or data files change meaning."""


@dataclass(frozen=True)
class Weight:
    value: float
    neutral: float = 0.0
    why: str = ""


WEIGHTS: dict[str, Weight] = {
    # bias, name, word, plain: logistic regression (C=1) on the tune half of the development set,
    # ``python evaluation/evaluate.py --fit-weights``; rounded. All positive, as they should be.
    "bias": Weight(-5.65, why="Most pairs in a portfolio are unrelated: start well below 0.5."),
    "name": Weight(
        6.0, why="Names are written to say what a system does; close names are the strongest sign."
    ),
    "word": Weight(
        4.75, why="Shared words in the description, after place names and generic words are removed."
    ),
    "plain": Weight(4.0, why="The same words typed without tone marks, as many people do."),
    "capabilities": Weight(
        3.0, 0.3, "Declared functions overlapping (rare ones count more) is direct evidence of duplication."
    ),
    "data_domains": Weight(1.0, 0.3, "Holding the same kinds of data suggests the same job, weakly."),
    "level": Weight(0.6, 0.5, "Duplicates are most often peers: two provinces, two communes."),
    "users": Weight(1.0, 0.2, "Serving the same user agencies makes overlap costlier and likelier."),
    "neighbourhood": Weight(1.5, 0.2, "Systems wired to the same platforms tend to play the same role."),
}

TEXT_CHANNELS = ("name", "word", "plain")
STRUCTURE_SIGNALS = ("capabilities", "data_domains", "level", "users", "neighbourhood")


@dataclass
class Evidence:
    """Everything known about one pair; the input of :func:`score` and :func:`explain`."""

    name: float
    word: float
    plain: float
    capabilities: float | None = None
    data_domains: float | None = None
    level: float | None = None
    users: float | None = None
    neighbourhood: float | None = None
    shared_terms: list[str] = field(default_factory=list)
    shared_capabilities: list[Hashable] = field(default_factory=list)
    reuse_of: Hashable | None = None
    central_platform: Hashable | None = None

    def components(self) -> dict[str, float | None]:
        return {name: getattr(self, name) for name in (*TEXT_CHANNELS, *STRUCTURE_SIGNALS)}


def logit(evidence: Evidence, weights: dict[str, Weight] = WEIGHTS) -> float:
    total = weights["bias"].value
    for channel in TEXT_CHANNELS:
        total += weights[channel].value * getattr(evidence, channel)
    for signal in STRUCTURE_SIGNALS:
        value = getattr(evidence, signal)
        if value is not None:
            total += weights[signal].value * (value - weights[signal].neutral)
    return total


def score(evidence: Evidence, weights: dict[str, Weight] = WEIGHTS) -> float:
    """The calibrated probability that the pair does the same job, in [0, 1]."""
    value = logit(evidence, weights)
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


def scores(values: dict[str, np.ndarray], weights: dict[str, Weight] = WEIGHTS) -> np.ndarray:
    """:func:`score` for arrays of pairs; ``nan`` in a structure signal means unknown."""
    total = np.full(len(values["name"]), weights["bias"].value, dtype=np.float64)
    for channel in TEXT_CHANNELS:
        total += weights[channel].value * values[channel]
    for signal in STRUCTURE_SIGNALS:
        value = values[signal]
        total += np.where(np.isnan(value), 0.0, weights[signal].value * (value - weights[signal].neutral))
    return 1.0 / (1.0 + np.exp(-total))


def explain(evidence: Evidence) -> list[dict[str, Any]]:
    """Reasons a reviewer can check, strongest first; each has a stable ``code`` to translate."""
    reasons: list[dict[str, Any]] = []
    if evidence.reuse_of is not None:
        reasons.append(
            {
                "code": "sanctioned_reuse",
                "platform": evidence.reuse_of,
                "message": f"Deployments of one shared platform ({evidence.reuse_of}): reuse, not overlap",
            }
        )
    if evidence.central_platform is not None:
        reasons.append(
            {
                "code": "duplicates_central_platform",
                "platform": evidence.central_platform,
                "message": f"A local system doing what shared platform {evidence.central_platform} provides",
            }
        )
    if evidence.name >= 0.3:
        reasons.append(
            {
                "code": "similar_names",
                "value": round(evidence.name, 2),
                "message": f"Similar names ({evidence.name:.2f})",
            }
        )
    if evidence.shared_terms:
        reasons.append(
            {
                "code": "shared_terms",
                "terms": evidence.shared_terms,
                "value": round(evidence.word, 2),
                "message": "Descriptions share: " + ", ".join(evidence.shared_terms),
            }
        )
    if evidence.capabilities is not None and evidence.shared_capabilities:
        reasons.append(
            {
                "code": "shared_capabilities",
                "items": sorted(map(str, evidence.shared_capabilities)),
                "value": round(evidence.capabilities, 2),
                "message": "Same declared capabilities: "
                + ", ".join(sorted(map(str, evidence.shared_capabilities))),
            }
        )
    for signal, code, text in (
        ("data_domains", "shared_data_domains", "Hold the same kinds of data"),
        ("users", "shared_users", "Serve the same user agencies"),
        ("neighbourhood", "similar_dependencies", "Depend on the same systems"),
    ):
        value = getattr(evidence, signal)
        if value is not None and value >= 0.3:
            reasons.append({"code": code, "value": round(value, 2), "message": f"{text} ({value:.2f})"})
    if evidence.level == 1.0:
        reasons.append({"code": "same_level", "message": "Same scope level"})
    return reasons
