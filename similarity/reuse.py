"""Sanctioned reuse and central duplicates: how two systems relate through shared platforms.

Two deployments of one shared platform are reuse, not duplication; a local system doing what a
central shared platform already provides is the duplication the directives name first ("build
centrally first"); and an overlap with a deployment is reported as one with its platform, so the
reviewer reads one warning ("reuse the platform"), not thirty. Plain functions over records.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from similarity.combine import Evidence
from similarity.records import Record

__all__ = [
    "central_duplicate",
    "fold_into_platforms",
    "fold_pairs",
    "reuse_pairs",
    "sanctioned_reuse",
    "via_reason",
]


def sanctioned_reuse(a: Record, b: Record) -> Hashable | None:
    """The shared platform that makes the pair sanctioned reuse, if any."""
    if a.instance_of is not None and a.instance_of == b.instance_of:
        return a.instance_of
    if a.instance_of is not None and a.instance_of == b.id:
        return b.id
    if b.instance_of is not None and b.instance_of == a.id:
        return a.id
    return None


def central_duplicate(a: Record, b: Record, evidence: Evidence) -> Hashable | None:
    """A local system re-building what a central shared platform provides (build centrally first).

    Overlapping a deployment of a platform is overlapping the platform itself, so the reason
    names the platform the local system should have reused.
    """
    for deployment, local in ((a, b), (b, a)):
        if deployment.instance_of is not None and local.instance_of is None and not local.is_shared_platform:
            return deployment.instance_of
    for platform, local in ((a, b), (b, a)):
        if (
            platform.is_shared_platform
            and not local.is_shared_platform
            and local.level not in (None, "central")
        ):
            overlapping = evidence.capabilities is not None and evidence.capabilities >= 0.5
            if overlapping or evidence.word >= 0.5:
                return platform.id
    return None


def via_reason(count: int) -> dict[str, Any]:
    return {
        "code": "via_deployments",
        "count": count,
        "message": f"Found through {count} deployment{'' if count == 1 else 's'} of the platform",
    }


def reuse_pairs(records: Sequence[Record], left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """:func:`sanctioned_reuse` for arrays of rows: whether each pair reuses one platform."""
    codes: dict[Hashable, int] = {}
    own = np.array([codes.setdefault(r.id, len(codes)) for r in records], dtype=np.int64)
    platform = np.array(
        [-1 if r.instance_of is None else codes.setdefault(r.instance_of, len(codes)) for r in records],
        dtype=np.int64,
    )
    a, b = platform[left], platform[right]
    return ((a >= 0) & ((a == b) | (a == own[right]))) | ((b >= 0) & (b == own[left]))


def fold_pairs(
    records: Sequence[Record],
    index: Mapping[Hashable, int],
    left: np.ndarray,
    right: np.ndarray,
    reuse: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Report an overlap with a deployment of a shared platform as an overlap with the platform.

    A province that built its own document system overlaps every province running the
    central one; the reviewer needs one warning ("reuse the platform"), not thirty. Pairs
    come best first; the best of those naming the same two systems is kept and counts the
    deployments it stands for. Returns the kept positions, the rows shown as each side,
    and the deployment counts (0: not folded). The array form of
    :func:`fold_into_platforms`, which ``query`` uses.
    """
    size = len(records)
    representative = np.arange(size, dtype=np.int64)
    for row, record in enumerate(records):
        if record.instance_of is not None and record.instance_of in index:
            representative[row] = index[record.instance_of]
    shown_left = np.where(reuse, left, representative[left])
    shown_right = np.where(reuse, right, representative[right])
    renamed = ~reuse & ((shown_left != left) | (shown_right != right))
    valid = shown_left != shown_right
    positions = np.flatnonzero(valid)
    keys = (
        np.minimum(shown_left, shown_right)[positions] * size + np.maximum(shown_left, shown_right)[positions]
    )
    unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    counts = np.bincount(inverse.ravel(), weights=renamed[positions], minlength=unique.size)
    kept = positions[first]
    via = np.where(renamed[kept], counts, 0).astype(np.int64)
    order = np.argsort(kept, kind="stable")
    kept, via = kept[order], via[order]
    return kept, shown_left[kept], shown_right[kept], via


def fold_into_platforms(
    records: Sequence[Record],
    index: Mapping[Hashable, int],
    matches: list[dict[str, Any]],
    sides: tuple[str, ...],
) -> list[dict[str, Any]]:
    """Report an overlap with a deployment of a shared platform as an overlap with the platform.

    A province that built its own document system overlaps every province running the
    central one; the reviewer needs one warning ("reuse the platform"), not thirty. Matches
    must come best first; each folded match counts the deployments it stands for.
    """
    folded: dict[tuple[Hashable, ...], dict[str, Any]] = {}
    for match in matches:
        if match["relation"] == "reuse":
            key = tuple(match[side] for side in sides)
            folded.setdefault(key, match)
            continue
        renamed = dict(match)
        for side in sides:
            record = records[index[match[side]]] if match[side] in index else None
            if record is not None and record.instance_of is not None and record.instance_of in index:
                renamed[side] = record.instance_of
        ids = [renamed[side] for side in sides]
        if len(sides) == 2 and ids[0] == ids[1]:
            continue
        key = tuple(sorted(ids, key=str)) if len(sides) == 2 else tuple(ids)
        if key in folded:
            if renamed != match and "via_deployments" in folded[key]:
                folded[key]["via_deployments"] += 1
                folded[key]["reasons"][-1].update(via_reason(folded[key]["via_deployments"]))
            continue
        if renamed != match:
            renamed["via_deployments"] = 1
            renamed["reasons"] = [*match["reasons"], via_reason(1)]
        folded[key] = renamed
    return list(folded.values())
