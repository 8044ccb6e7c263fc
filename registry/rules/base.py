"""What a rule is: a code, a severity, a message in both languages, the statuses it judges.

A rule is a plain function of a system and a :class:`RuleContext` (the portfolio facts it
needs, loaded once for a batch), returning the details its message names or ``None`` when the
system passes. Rules never touch the database themselves, so they are fast and trivially
tested.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from registry.models import InformationSystem


@dataclass(frozen=True)
class PlatformFacts:
    id: int
    code: str
    name: str
    capability_ids: frozenset[int]


@dataclass
class RuleContext:
    """Portfolio facts the rules read: central platforms, connections, recent use."""

    today: date
    central_platforms: list[PlatformFacts] = field(default_factory=list)
    shared_platform_ids: frozenset[int] = frozenset()
    depends_on: Mapping[int, frozenset[int]] = field(default_factory=dict)
    """System id → ids of the systems it depends on."""
    last_usage: Mapping[int, tuple[date, int | None]] = field(default_factory=dict)
    """System id → (end of its latest usage report, active users in it)."""
    capability_codes: Mapping[int, str] = field(default_factory=dict)

    @cached_property
    def platforms_by_capability(self) -> dict[int, list[int]]:
        """Capability id → positions in :attr:`central_platforms` of the platforms offering it.

        R6 asks, for each of 100,000 systems, which central platform shares most of its
        capabilities; looking up its one to four capabilities beats comparing with every platform.
        """
        found: dict[int, list[int]] = {}
        for position, platform in enumerate(self.central_platforms):
            for capability_id in platform.capability_ids:
                found.setdefault(capability_id, []).append(position)
        return found


Check = Callable[[InformationSystem, RuleContext], dict[str, Any] | None]


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    title: object
    message: object
    """A lazy translatable string; ``%(name)s`` placeholders are filled from the details."""
    statuses: frozenset[str]
    check: Check

    def applies_to(self, system: InformationSystem) -> bool:
        return system.status in self.statuses

    def evaluate(self, system: InformationSystem, context: RuleContext) -> Violation | None:
        if not self.applies_to(system):
            return None
        details = self.check(system, context)
        return None if details is None else Violation(self, details)


@dataclass(frozen=True)
class Violation:
    rule: Rule
    details: dict[str, Any]
