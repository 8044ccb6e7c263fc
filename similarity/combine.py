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

__all__ = [
    "DETECTOR_VERSION",
    "SEMANTIC_WEIGHTS",
    "WEIGHTS",
    "Evidence",
    "Weight",
    "explain",
    "score",
    "scores",
]

DETECTOR_VERSION = "2.0"  # meaning channel and thesaurus functions; refitted on both sets, 2026-12
"""Stored with every warning; bump it whenever weights, channels or data files change meaning."""


@dataclass(frozen=True)
class Weight:
    value: float
    neutral: float = 0.0
    why: str = ""


WEIGHTS: dict[str, Weight] = {
    # bias, name, word, plain, function: logistic regression (C=10) on the tune halves of both
    # development sets, ``python evaluation/evaluate.py --fit-weights``; rounded. This is the
    # model for a pair whose meaning is not known (a system not yet embedded, or no encoder).
    "bias": Weight(-5.24, why="Most pairs in a portfolio are unrelated: start well below 0.5."),
    "name": Weight(4.32, why="Names are written to say what a system does; close names are a strong sign."),
    "word": Weight(
        6.78, why="Shared words in the description, after place names and generic words are removed."
    ),
    "plain": Weight(5.74, why="The same words typed without tone marks, as many people do."),
    "capabilities": Weight(
        3.0, 0.3, "Declared functions overlapping (rare ones count more) is direct evidence of duplication."
    ),
    "data_domains": Weight(1.0, 0.3, "Holding the same kinds of data suggests the same job, weakly."),
    "level": Weight(0.6, 0.5, "Duplicates are most often peers: two provinces, two communes."),
    "users": Weight(1.0, 0.2, "Serving the same user agencies makes overlap costlier and likelier."),
    "neighbourhood": Weight(1.5, 0.2, "Systems wired to the same platforms tend to play the same role."),
    "function": Weight(
        4.25, 0.5, "A brand name or acronym of the thesaurus names the same function (or another one)."
    ),
}

SEMANTIC_WEIGHTS: dict[str, Weight] = {
    **WEIGHTS,
    # Fitted like WEIGHTS, with the meaning channel: words weigh less once meaning is known.
    "bias": Weight(-5.33, why=WEIGHTS["bias"].why),
    "name": Weight(2.87, why=WEIGHTS["name"].why),
    "word": Weight(5.44, why=WEIGHTS["word"].why),
    "plain": Weight(4.58, why=WEIGHTS["plain"].why),
    "function": Weight(3.96, 0.5, WEIGHTS["function"].why),
    "meaning": Weight(2.87, why="Closeness of the multilingual sentence embeddings, standardised."),
}
"""The model used for a pair when both systems have a vector: refitted with the meaning channel."""

MEANING_CENTRE = 0.0
MEANING_SCALE = 4.0
"""The meaning channel is standardised (spreads above unrelated pairs of the same languages,
:func:`similarity.semantic.standardise`); the model reads it divided by ``MEANING_SCALE`` so
its weight is of the size of the others'. ``MEANING_CENTRE`` stands for "unknown"."""

MEANING_REASON = 2.0
"""Standardised closeness from which "close in meaning" is worth telling a reviewer: further
above unrelated pairs than all but about one in fifty of them."""

TEXT_CHANNELS = ("name", "word", "plain")
LEARNED_SIGNALS = ("function",)
"""Fitted on the development sets with the text channels; ``nan`` (unknown) adds nothing."""
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
    function: float | None = None
    meaning: float | None = None
    shared_terms: list[str] = field(default_factory=list)
    same_function: list[tuple[str, str]] = field(default_factory=list)
    """``(function code, term)`` that told the function of either system (the thesaurus)."""
    meaning_pending: bool = False
    """The engine has a meaning channel, but one of the two has no vector yet."""
    shared_capabilities: list[Hashable] = field(default_factory=list)
    reuse_of: Hashable | None = None
    central_platform: Hashable | None = None

    def components(self) -> dict[str, float | None]:
        return {
            name: getattr(self, name)
            for name in (*TEXT_CHANNELS, *LEARNED_SIGNALS, *STRUCTURE_SIGNALS, "meaning")
        }


def meaning_feature(cosine: float | np.ndarray) -> float | np.ndarray:
    return (cosine - MEANING_CENTRE) / MEANING_SCALE


def logit(
    evidence: Evidence,
    weights: dict[str, Weight] = WEIGHTS,
    semantic_weights: dict[str, Weight] = SEMANTIC_WEIGHTS,
) -> float:
    """The model with meaning when the pair has it, the lexical model otherwise."""
    if evidence.meaning is not None:
        weights = semantic_weights
    total = weights["bias"].value
    for channel in TEXT_CHANNELS:
        total += weights[channel].value * getattr(evidence, channel)
    for signal in (*LEARNED_SIGNALS, *STRUCTURE_SIGNALS):
        value = getattr(evidence, signal)
        if value is not None:
            total += weights[signal].value * (value - weights[signal].neutral)
    if evidence.meaning is not None:
        total += weights["meaning"].value * float(meaning_feature(evidence.meaning))
    return total


def score(
    evidence: Evidence,
    weights: dict[str, Weight] = WEIGHTS,
    semantic_weights: dict[str, Weight] = SEMANTIC_WEIGHTS,
) -> float:
    """The calibrated probability that the pair does the same job, in [0, 1]."""
    value = logit(evidence, weights, semantic_weights)
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


def scores(
    values: dict[str, np.ndarray],
    weights: dict[str, Weight] = WEIGHTS,
    semantic_weights: dict[str, Weight] = SEMANTIC_WEIGHTS,
) -> np.ndarray:
    """:func:`score` for arrays of pairs; ``nan`` in a signal means unknown."""

    def model_logit(model: dict[str, Weight]) -> np.ndarray:
        total = np.full(len(values["name"]), model["bias"].value, dtype=np.float64)
        for channel in TEXT_CHANNELS:
            total += model[channel].value * values[channel]
        for signal in (*LEARNED_SIGNALS, *STRUCTURE_SIGNALS):
            value = values.get(signal)
            if value is not None:
                total += np.where(np.isnan(value), 0.0, model[signal].value * (value - model[signal].neutral))
        return total

    total = model_logit(weights)
    meaning = values.get("meaning")
    if meaning is not None and not np.isnan(meaning).all():
        known = ~np.isnan(meaning)
        semantic = model_logit(semantic_weights) + semantic_weights["meaning"].value * meaning_feature(
            np.where(known, meaning, MEANING_CENTRE)
        )
        total = np.where(known, semantic, total)
    return 1.0 / (1.0 + np.exp(-total))


def explain(evidence: Evidence) -> list[dict[str, Any]]:
    """Reasons a reviewer can check, strongest first; each has a stable ``code`` to translate."""
    reasons: list[dict[str, Any]] = []
    if evidence.reuse_of is not None:
        reasons.append(
            {
                "code": "sanctioned_reuse",
                "platform": evidence.reuse_of,
                "message": f"Both deploy shared platform {evidence.reuse_of}: reuse, not duplication",
            }
        )
    if evidence.central_platform is not None:
        reasons.append(
            {
                "code": "duplicates_central_platform",
                "platform": evidence.central_platform,
                "message": f"A local system for what platform {evidence.central_platform} already does",
            }
        )
    if evidence.same_function:
        reasons.append(
            {
                "code": "same_function",
                "items": [{"function": code, "term": term} for code, term in evidence.same_function],
                "message": "Both do the same job: "
                + "; ".join(
                    f"{code} ('{term}' is one of its names)" for code, term in evidence.same_function
                ),
            }
        )
    if evidence.meaning is not None and evidence.meaning >= MEANING_REASON:
        reasons.append(
            {
                "code": "similar_meaning",
                "value": round(evidence.meaning, 2),
                "message": "The descriptions mean much the same, even where the words differ",
            }
        )
    if evidence.name >= 0.3:
        reasons.append(
            {
                "code": "similar_names",
                "value": round(evidence.name, 2),
                "message": f"The names are alike ({evidence.name:.2f})",
            }
        )
    if evidence.shared_terms:
        reasons.append(
            {
                "code": "shared_terms",
                "terms": evidence.shared_terms,
                "value": round(evidence.word, 2),
                "message": "Both descriptions speak of: " + ", ".join(evidence.shared_terms),
            }
        )
    if evidence.capabilities is not None and evidence.shared_capabilities:
        reasons.append(
            {
                "code": "shared_capabilities",
                "items": sorted(map(str, evidence.shared_capabilities)),
                "value": round(evidence.capabilities, 2),
                "message": "Both declare the capabilities: "
                + ", ".join(sorted(map(str, evidence.shared_capabilities))),
            }
        )
    for signal, code, text in (
        ("data_domains", "shared_data_domains", "They hold the same kinds of data"),
        ("users", "shared_users", "They serve the same user agencies"),
        ("neighbourhood", "similar_dependencies", "They connect to the same systems"),
    ):
        value = getattr(evidence, signal)
        if value is not None and value >= 0.3:
            reasons.append({"code": code, "value": round(value, 2), "message": f"{text} ({value:.2f})"})
    if evidence.level == 1.0:
        reasons.append({"code": "same_level", "message": "Both work at the same level of government"})
    if evidence.meaning_pending:
        reasons.append(
            {
                "code": "meaning_not_compared",
                "message": "Not yet compared by meaning: the texts are still being embedded",
            }
        )
    return reasons
