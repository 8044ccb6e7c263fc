"""The evaluation scripts run (their figures are read by people, not asserted here)."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "evaluation"))

import evaluate  # noqa: E402


def test_metrics_on_a_known_ranking():
    labels = np.array([1, 0, 1, 0])
    values = evaluate.metrics(labels, np.array([0.9, 0.8, 0.7, 0.1]), (0.5,))
    assert values["P@0.5"] == 2 / 3 and values["R@0.5"] == 1.0
    assert round(values["AP"], 3) == round((1 + 2 / 3) / 2, 3)


def test_pairs_are_cross_agency_and_labelled_by_function():
    records = [
        {"id": "a", "agency": "X", "function": "f"},
        {"id": "b", "agency": "Y", "function": "f"},
        {"id": "c", "agency": "X", "function": "g"},
    ]
    left, right, labels = evaluate.cross_agency_pairs(records)
    assert sorted(zip(left.tolist(), right.tolist(), labels.tolist(), strict=True)) == [(0, 1, 1), (1, 2, 0)]


def test_the_report_runs_on_the_development_set(capsys):
    assert evaluate.main(["--split", "test"]) == 0
    output = capsys.readouterr().out
    assert "engine" in output and "baseline: TF-IDF" in output and "char-trigram" in output


def test_the_engine_beats_its_baselines_and_its_warning_threshold_holds():
    """On the test halves (never tuned on) of both sets: better than plain sentence embeddings
    and plain TF-IDF, and a score of 0.6 still means "more likely than not"."""
    for which in ("names", "meaning"):
        records = evaluate.load("test", which)
        left, right, labels = evaluate.cross_agency_pairs(records)
        engine = evaluate.metrics(labels, evaluate.engine_scores(records, left, right)[0], (0.6,))
        for baseline in (evaluate.e5_baseline, evaluate.char_tfidf_baseline):
            assert engine["AP"] > evaluate.metrics(labels, baseline(records, left, right), (0.6,))["AP"] + 0.1
        assert engine["P@0.6"] >= 0.5
        assert engine["AP"] >= (0.85 if which == "names" else 0.7)


def test_the_meaning_set_is_well_formed():
    records = evaluate.load("all", "meaning")
    split = evaluate.load("tune", "meaning") + evaluate.load("test", "meaning")
    assert sorted(r["id"] for r in split) == sorted(r["id"] for r in records)
    assert {r["language"] for r in records} == {"vi", "en"}
    assert all(r["name"] and r["description"] and r["function"] and r["source"] for r in records)
