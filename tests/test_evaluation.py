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
