"""Overlap detection for the registry: which systems do the same job, and why.

Independent of Flask and of any database: it works on plain records, like a scikit-learn
estimator. ``from similarity import DuplicateFinder``.
"""

from similarity.combine import DETECTOR_VERSION
from similarity.finder import DuplicateFinder, NotFittedError
from similarity.graph import duplicate_clusters
from similarity.records import RecordError

__all__ = ["DETECTOR_VERSION", "DuplicateFinder", "NotFittedError", "RecordError", "duplicate_clusters"]
