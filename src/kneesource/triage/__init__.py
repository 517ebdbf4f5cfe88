"""Triage: how urgently to act on an assessment, and why.

Warning-sign rules and probability thresholds are data (``knowledge/redflags.yaml``); this
package loads and checks them against the knowledge base and applies them to an assessed case.
See ``docs/triage.md`` for how the level is decided.
"""

from kneesource.triage.decide import (
    MAX_COMBINED,
    QuickLevel,
    Reason,
    Triage,
    Uncertainty,
    quick_level,
    triage,
    triage_levels,
    triage_many,
)
from kneesource.triage.rules import RuleSet, load_rules
from kneesource.triage.schema import LEVELS, Level, level_rank

__all__ = [
    "LEVELS",
    "MAX_COMBINED",
    "Level",
    "QuickLevel",
    "Reason",
    "RuleSet",
    "Triage",
    "Uncertainty",
    "level_rank",
    "load_rules",
    "quick_level",
    "triage",
    "triage_levels",
    "triage_many",
]
