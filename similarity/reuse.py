"""Sanctioned reuse and central duplicates: how two systems relate through shared platforms.

Two deployments of one shared platform are reuse, not duplication; a local system doing what a
central shared platform already provides is the duplication the directives name first ("build
centrally first"). Plain functions over two records.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from similarity.combine import Evidence
from similarity.records import Record

__all__ = ["central_duplicate", "sanctioned_reuse", "via_reason"]


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
        "message": f"Found through {count} deployment(s) of the platform",
    }
