"""Measure the overlap engine on the labelled development set, against two baselines.

    python evaluation/evaluate.py [--split test|tune|all] [--fit-weights]

Records of ``evaluation/devset/systems.jsonl`` are real Vietnamese systems labelled by function
(see ``evaluation/devset/README.md``). Every pair of records from different agencies is scored;
a pair is a duplicate when both records carry the same function label. Pairs within one agency
are left out: the directives are about agencies duplicating *each other*.

Reported per method: average precision (area under the precision-recall curve), the best F1
over all thresholds with its precision and recall, and precision/recall at the engine's fixed
thresholds (0.5, and 0.6 for warnings) — a calibrated score must do well *at* its threshold,
not only at the best one chosen after the fact.

``--fit-weights`` fits the text weights and bias by logistic regression on the *tune* half and
prints them; they are then written into ``similarity/combine.py`` by hand, and the report is
read on the *test* half, which tuning never saw.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, precision_recall_curve

from similarity import DuplicateFinder
from similarity.combine import TEXT_CHANNELS, WEIGHTS, Weight

DEVSET = Path(__file__).resolve().parent / "devset"


def load(split: str) -> list[dict[str, Any]]:
    records = [
        json.loads(line)
        for line in (DEVSET / "systems.jsonl").read_text(encoding="utf-8").splitlines()
        if line
    ]
    if split == "all":
        return records
    wanted = set(json.loads((DEVSET / "split.json").read_text(encoding="utf-8"))[split])
    return [r for r in records if r["id"] in wanted]


def cross_agency_pairs(records: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    left, right = np.triu_indices(len(records), k=1)
    agencies = np.array([r["agency"] for r in records], dtype=object)
    functions = np.array([r["function"] for r in records], dtype=object)
    different = agencies[left] != agencies[right]
    left, right = left[different], right[different]
    return left, right, (functions[left] == functions[right]).astype(int)


# --- methods -------------------------------------------------------------------------------------


def engine_scores(records: Sequence[dict[str, Any]], left: np.ndarray, right: np.ndarray, weights=None):
    """The engine's own scores; a pair it does not retrieve at all scores 0."""
    finder = DuplicateFinder(candidates=len(records), weights=weights).fit(_engine_records(records))
    found = {(p["a"], p["b"]): p for p in finder.pairs(min_score=0.0, include_reuse=True)}
    scores = np.zeros(left.size)
    components = np.zeros((left.size, len(TEXT_CHANNELS)))
    for index, (i, j) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        a, b = records[i]["id"], records[j]["id"]
        pair = found.get((a, b)) or found.get((b, a))
        if pair is not None:
            scores[index] = pair["score"]
            components[index] = [pair["components"][c] for c in TEXT_CHANNELS]
    return scores, components


def _engine_records(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = ("id", "name", "description", "purpose", "level")
    return [{key: record[key] for key in keys if key in record} for record in records]


def tfidf_baseline(records: Sequence[dict[str, Any]], left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Plain TF-IDF of word 1–2-grams over name and description, cosine."""
    texts = [f"{r['name']} {r.get('description', '')}" for r in records]
    matrix = TfidfVectorizer(ngram_range=(1, 2)).fit_transform(texts)
    return np.asarray(matrix[left].multiply(matrix[right]).sum(axis=1)).ravel()


def trigram_baseline(records: Sequence[dict[str, Any]], left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Jaccard similarity of the names' character trigrams."""
    grams = [{name[i : i + 3] for i in range(len(name) - 2)} for name in (r["name"].lower() for r in records)]
    return np.array(
        [
            len(grams[i] & grams[j]) / max(len(grams[i] | grams[j]), 1)
            for i, j in zip(left, right, strict=True)
        ]
    )


# --- metrics -------------------------------------------------------------------------------------


def metrics(labels: np.ndarray, scores: np.ndarray, thresholds: Sequence[float]) -> dict[str, float]:
    precision, recall, cut = precision_recall_curve(labels, scores)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    best = int(np.argmax(f1[:-1])) if f1.size > 1 else 0
    result = {
        "AP": average_precision_score(labels, scores),
        "best F1": f1[best],
        "P@best": precision[best],
        "R@best": recall[best],
        "best thr": float(cut[best]) if cut.size else float("nan"),
    }
    for threshold in thresholds:
        predicted = scores >= threshold
        true_positive = int((predicted & (labels == 1)).sum())
        result[f"P@{threshold}"] = true_positive / max(int(predicted.sum()), 1)
        result[f"R@{threshold}"] = true_positive / max(int(labels.sum()), 1)
    return result


def fit_weights(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Logistic regression of duplicate / not on the three text cosines (tune half only)."""
    left, right, labels = cross_agency_pairs(records)
    _scores, components = engine_scores(records, left, right)
    model = LogisticRegression(C=1.0, max_iter=1000).fit(components, labels)
    fitted = {"bias": float(model.intercept_[0])}
    fitted.update({c: float(w) for c, w in zip(TEXT_CHANNELS, model.coef_[0], strict=True)})
    return fitted


def report(split: str) -> None:
    records = load(split)
    left, right, labels = cross_agency_pairs(records)
    print(
        f"split={split}: {len(records)} records, {labels.size} cross-agency pairs, {labels.sum()} duplicates"
    )
    methods: dict[str, Callable[[], np.ndarray]] = {
        "engine": lambda: engine_scores(records, left, right)[0],
        "baseline: TF-IDF word 1-2-grams": lambda: tfidf_baseline(records, left, right),
        "baseline: name char-trigram Jaccard": lambda: trigram_baseline(records, left, right),
    }
    columns = ["AP", "best F1", "P@best", "R@best", "best thr", "P@0.5", "R@0.5", "P@0.6", "R@0.6"]
    print(f"{'method':38s} " + " ".join(f"{c:>8s}" for c in columns))
    for name, run in methods.items():
        values = metrics(labels, run(), (0.5, 0.6))
        print(f"{name:38s} " + " ".join(f"{values[c]:8.3f}" for c in columns))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", choices=("test", "tune", "all"), default="test")
    parser.add_argument("--fit-weights", action="store_true", help="fit text weights on the tune half")
    args = parser.parse_args(argv)
    if args.fit_weights:
        fitted = fit_weights(load("tune"))
        print("fitted on tune:", {k: round(v, 2) for k, v in fitted.items()})
        current = {k: WEIGHTS[k].value for k in ("bias", *TEXT_CHANNELS)}
        print("in combine.py: ", current)
        tuned = {**WEIGHTS, **{k: Weight(v, WEIGHTS[k].neutral, WEIGHTS[k].why) for k, v in fitted.items()}}
        records = load("test")
        left, right, labels = cross_agency_pairs(records)
        values = metrics(labels, engine_scores(records, left, right, tuned)[0], (0.5, 0.6))
        print("test with fitted weights:", {k: round(v, 3) for k, v in values.items()})
        return 0
    report(args.split)
    return 0


if __name__ == "__main__":
    sys.exit(main())
