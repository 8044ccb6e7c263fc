"""Measure the overlap engine on the labelled development sets, against baselines.

    python evaluation/evaluate.py [--set names|meaning|both] [--split test|tune|all] [--fit-weights]

Two sets of real Vietnamese systems labelled by function: ``devset`` (Vietnamese descriptions,
names as documents write them) and ``devset_meaning`` (brand names, acronyms, half the
descriptions in English, hard negatives that share words); each folder's README says how it
was collected. Every pair of records from different agencies is scored;
a pair is a duplicate when both records carry the same function label. Pairs within one agency
are left out: the directives are about agencies duplicating *each other*.

Reported per method: average precision (area under the precision-recall curve), the best F1
over all thresholds with its precision and recall, and precision/recall at the engine's fixed
thresholds (0.5, and 0.6 for warnings) — a calibrated score must do well *at* its threshold,
not only at the best one chosen after the fact.

``--fit-weights`` fits both models of ``similarity/combine.py`` (the lexical one, and the one
with meaning) by logistic regression on the *tune* halves of both sets and prints them; they
are then written into ``similarity/combine.py`` by hand, and the report is read on the *test*
halves, which tuning never saw. The report also prints a calibration table (observed share of
duplicates per band of score) and, where records say their language, figures per language pair.

Vectors are cached in ``evaluation/.vectors.npz`` (keyed like the registry's) so a second run
does not embed again.
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
from similarity.combine import (
    LEARNED_SIGNALS,
    MEANING_CENTRE,
    SEMANTIC_WEIGHTS,
    TEXT_CHANNELS,
    WEIGHTS,
    Weight,
    meaning_feature,
)
from similarity.semantic import MemoryStore, compose, default_embedder, piece_key, pieces

FITTED = (*TEXT_CHANNELS, *LEARNED_SIGNALS)

HERE = Path(__file__).resolve().parent
DEVSET = HERE / "devset"
SETS = {"names": (HERE / "devset",), "meaning": (HERE / "devset_meaning",)}
SETS["both"] = SETS["names"] + SETS["meaning"]
CACHE = HERE / ".vectors.npz"


class FileStore(MemoryStore):
    """Vectors kept between runs in one ``.npz`` file."""

    def __init__(self, path: Path = CACHE):
        super().__init__()
        self.path = path
        if path.exists():
            with np.load(path) as data:
                self.vectors = {key: data[key] for key in data.files}

    def put_many(self, vectors) -> None:  # type: ignore[no-untyped-def]
        super().put_many(vectors)
        np.savez(self.path, **self.vectors)


def load(split: str, which: str = "names") -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for folder in SETS[which]:
        rows = [
            json.loads(line)
            for line in (folder / "systems.jsonl").read_text(encoding="utf-8").splitlines()
            if line
        ]
        if split != "all":
            wanted = set(json.loads((folder / "split.json").read_text(encoding="utf-8"))[split])
            rows = [r for r in rows if r["id"] in wanted]
        records += rows
    return records


def cross_agency_pairs(records: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    left, right = np.triu_indices(len(records), k=1)
    agencies = np.array([r["agency"] for r in records], dtype=object)
    functions = np.array([r["function"] for r in records], dtype=object)
    different = agencies[left] != agencies[right]
    left, right = left[different], right[different]
    return left, right, (functions[left] == functions[right]).astype(int)


# --- methods -------------------------------------------------------------------------------------


def engine_scores(
    records: Sequence[dict[str, Any]],
    left: np.ndarray,
    right: np.ndarray,
    weights=None,
    semantic_weights=None,
    semantic: bool = True,
):
    """The engine's own scores; a pair it does not retrieve at all scores 0.

    Also returns each pair's learned components (``FITTED`` then ``meaning``; ``nan`` where
    unknown or not retrieved), for fitting."""
    finder = DuplicateFinder(
        candidates=len(records),
        weights=weights,
        semantic_weights=semantic_weights,
        semantic="auto" if semantic else None,
        vectors=FileStore() if semantic else None,
    ).fit(_engine_records(records))
    found = {(p["a"], p["b"]): p for p in finder.pairs(min_score=0.0, include_reuse=True)}
    scores = np.zeros(left.size)
    components = np.full((left.size, len(FITTED) + 1), np.nan)
    for index, (i, j) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        a, b = records[i]["id"], records[j]["id"]
        pair = found.get((a, b)) or found.get((b, a))
        if pair is not None:
            scores[index] = pair["score"]
            values = pair["components"]
            components[index] = [np.nan if values[c] is None else values[c] for c in (*FITTED, "meaning")]
    return scores, components


def record_vectors(records: Sequence[dict[str, Any]]) -> np.ndarray:
    """Every record's vector, through the cache."""
    store = FileStore()
    texts = [pieces(r["name"], r.get("description")) for r in records]
    missing = {piece_key(t): t for group in texts for t in group if piece_key(t) not in store.vectors}
    embedder = default_embedder()
    if missing and embedder is not None:
        vectors = embedder.embed_texts(list(missing.values()))
        store.put_many(dict(zip(missing, vectors, strict=True)))
    return np.array([compose([store.vectors[piece_key(t)] for t in group]) for group in texts])


def e5_baseline(records: Sequence[dict[str, Any]], left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Plain cosine of the engine's sentence vectors (multilingual-e5-small)."""
    vectors = record_vectors(records)
    return np.einsum("ij,ij->i", vectors[left], vectors[right])


def char_tfidf_baseline(records: Sequence[dict[str, Any]], left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Character 3–5-gram TF-IDF over name and description, cosine."""
    texts = [f"{r['name']} {r.get('description', '')}" for r in records]
    matrix = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit_transform(texts)
    return np.asarray(matrix[left].multiply(matrix[right]).sum(axis=1)).ravel()


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


def design(components: np.ndarray, with_meaning: bool) -> np.ndarray:
    """The models' inputs: text cosines, learned signals minus their neutral (0 if unknown),
    and the rescaled meaning cosine."""
    columns = []
    for index, name in enumerate(FITTED):
        value = components[:, index]
        if name in TEXT_CHANNELS:
            columns.append(np.nan_to_num(value))
        else:
            columns.append(np.where(np.isnan(value), 0.0, value - WEIGHTS[name].neutral))
    if with_meaning:
        meaning = components[:, len(FITTED)]
        columns.append(meaning_feature(np.where(np.isnan(meaning), MEANING_CENTRE, meaning)))
    return np.column_stack(columns)


def fit_weights(
    sets: Sequence[Sequence[dict[str, Any]]], regularisation: float = 10.0
) -> dict[str, dict[str, float]]:
    """Logistic regressions of duplicate / not, without and with meaning (tune halves only).

    Pairs are formed within each set (their function labels are defined apart), then pooled.
    """
    parts = []
    for records in sets:
        left, right, labels = cross_agency_pairs(records)
        parts.append((engine_scores(records, left, right)[1], labels))
    components = np.vstack([c for c, _ in parts])
    labels = np.concatenate([y for _, y in parts])
    fitted: dict[str, dict[str, float]] = {}
    for model, with_meaning in (("lexical", False), ("semantic", True)):
        names = [*FITTED, "meaning"] if with_meaning else list(FITTED)
        rows = ~np.isnan(components[:, len(FITTED)]) if with_meaning else np.ones(labels.size, dtype=bool)
        regression = LogisticRegression(C=regularisation, max_iter=5000).fit(
            design(components[rows], with_meaning), labels[rows]
        )
        fitted[model] = {"bias": float(regression.intercept_[0])}
        fitted[model].update({c: float(w) for c, w in zip(names, regression.coef_[0], strict=True)})
    return fitted


def calibration(labels: np.ndarray, scores: np.ndarray) -> str:
    """Observed share of duplicates per band of score: a calibrated 0.6 holds about 60%."""
    lines = [f"{'score band':>12s} {'pairs':>7s} {'duplicates':>10s} {'observed':>8s}"]
    for low, high in ((0.0, 0.1), (0.1, 0.3), (0.3, 0.5), (0.5, 0.6), (0.6, 0.8), (0.8, 1.01)):
        inside = (scores >= low) & (scores < high)
        count = int(inside.sum())
        share = labels[inside].mean() if count else float("nan")
        lines.append(
            f"{low:5.1f}–{min(high, 1.0):4.1f} {count:9d} {int(labels[inside].sum()):10d} {share:8.3f}"
        )
    brier = float(np.mean((scores - labels) ** 2))
    lines.append(f"Brier score {brier:.4f}")
    return "\n".join(lines)


COLUMNS = ["AP", "best F1", "P@best", "R@best", "best thr", "P@0.5", "R@0.5", "P@0.6", "R@0.6"]


def _line(name: str, labels: np.ndarray, scores: np.ndarray) -> str:
    if labels.sum() == 0:
        return f"{name:38s} (no duplicates)"
    values = metrics(labels, scores, (0.5, 0.6))
    return f"{name:38s} " + " ".join(f"{values[c]:8.3f}" for c in COLUMNS)


def report(split: str, which: str) -> None:
    if which == "both":
        for each in ("names", "meaning"):
            report(split, each)
            print()
        return
    records = load(split, which)
    left, right, labels = cross_agency_pairs(records)
    print(
        f"set={which} split={split}: {len(records)} records, {labels.size} cross-agency pairs,"
        f" {labels.sum()} duplicates"
    )
    methods: dict[str, Callable[[], np.ndarray]] = {
        "engine": lambda: engine_scores(records, left, right)[0],
        "engine without meaning": lambda: engine_scores(records, left, right, semantic=False)[0],
        "baseline: e5-small cosine": lambda: e5_baseline(records, left, right),
        "baseline: TF-IDF char 3-5-grams": lambda: char_tfidf_baseline(records, left, right),
        "baseline: TF-IDF word 1-2-grams": lambda: tfidf_baseline(records, left, right),
        "baseline: name char-trigram Jaccard": lambda: trigram_baseline(records, left, right),
    }
    print(f"{'method':38s} " + " ".join(f"{c:>8s}" for c in COLUMNS))
    results = {}
    for name, run in methods.items():
        results[name] = run()
        print(_line(name, labels, results[name]))
    languages = np.array([r.get("language", "vi") for r in records], dtype=object)
    if len(set(languages)) > 1:
        print("\nengine by language pair:")
        pair_language = np.array(
            ["-".join(sorted((a, b))) for a, b in zip(languages[left], languages[right], strict=True)]
        )
        for pair in sorted(set(pair_language)):
            inside = pair_language == pair
            print(_line(f"  {pair} ({inside.sum()} pairs)", labels[inside], results["engine"][inside]))
    print("\ncalibration of the engine:")
    print(calibration(labels, results["engine"]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", choices=("test", "tune", "all"), default="test")
    parser.add_argument("--set", choices=sorted(SETS), default="both", dest="which")
    parser.add_argument("--fit-weights", action="store_true", help="fit both models on the tune halves")
    args = parser.parse_args(argv)
    if args.fit_weights:
        chosen = ("names", "meaning") if args.which == "both" else (args.which,)
        fitted = fit_weights([load("tune", which) for which in chosen])
        current = {"lexical": WEIGHTS, "semantic": SEMANTIC_WEIGHTS}
        tuned = {}
        for model, values in fitted.items():
            print(f"{model} fitted on tune:", {k: round(v, 2) for k, v in values.items()})
            print(f"{model} in combine.py:  ", {k: current[model][k].value for k in values})
            tuned[model] = {
                **current[model],
                **{k: Weight(v, current[model][k].neutral, current[model][k].why) for k, v in values.items()},
            }
        for which in ("names", "meaning"):
            records = load("test", which)
            left, right, labels = cross_agency_pairs(records)
            scores = engine_scores(records, left, right, tuned["lexical"], tuned["semantic"])[0]
            print(_line(f"test {which}, fitted weights", labels, scores))
        return 0
    report(args.split, args.which)
    return 0


if __name__ == "__main__":
    sys.exit(main())
