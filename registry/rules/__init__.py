"""Justification rules R1–R10: what the directives require of every information system."""

from registry.rules.base import Rule, RuleContext, Violation
from registry.rules.catalogue import RULES, rule_by_code

__all__ = ["RULES", "Rule", "RuleContext", "Violation", "rule_by_code"]
