"""The engine: a validated knowledge base, its compiled model and its triage rules, ready to assess
and triage cases."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from pathlib import Path

from kneesource import engine_cache
from kneesource.assessment import Assessment, assess_cases
from kneesource.case import Case, parse_case
from kneesource.kb.loader import KnowledgeBase, default_knowledge_dir, load_knowledge_base
from kneesource.model.compiled import CompiledModel, compile_model
from kneesource.triage import RuleSet, Triage, load_rules, triage, triage_many


class Engine:
    """Holds one knowledge base, its compiled model and its triage rules; all are immutable.

    ``rules`` default to ``redflags.yaml`` shipped with the package, validated against ``kb``."""

    def __init__(self, kb: KnowledgeBase, rules: RuleSet | None = None) -> None:
        self.kb = kb
        self.model: CompiledModel = compile_model(kb)
        self.rules: RuleSet = rules if rules is not None else load_rules(kb)

    @classmethod
    def from_directory(cls, directory: Path | None = None) -> Engine:
        """The knowledge files and the red-flag rules, both read from ``directory``; a ready
        engine from an earlier run on the same files and code is reused (``engine_cache``)."""
        directory = directory or default_knowledge_dir()
        digest = engine_cache.key(directory)
        cached = engine_cache.load(digest)
        if isinstance(cached, cls):
            return cached
        kb = load_knowledge_base(directory)
        engine = cls(kb, load_rules(kb, directory))
        engine_cache.store(digest, engine)
        return engine

    def case(self, data: object) -> Case:
        """Validate a decoded JSON case for this engine's vocabulary."""
        return parse_case(data, self.model)

    def assess(self, case: Case) -> Assessment:
        """The ranked differential with its triage (how urgently to act, and why)."""
        return self.assess_many([case])[0]

    def assess_many(self, cases: Sequence[Case], explain: bool = True) -> list[Assessment]:
        """Assess and triage many cases. ``explain`` False skips the supporting and conflicting
        evidence (one posterior per finding left out): the probabilities and triage are the
        same, and a batch of fully answered cases runs many times faster."""
        assessments = assess_cases(self.kb, self.model, cases, explain)
        triaged = triage_many(self.rules, self.kb, self.model, cases, assessments)
        return [dataclasses.replace(a, triage=t) for a, t in zip(assessments, triaged, strict=True)]

    def triage(self, case: Case, assessment: Assessment) -> Triage:
        """Triage a case already assessed (with or without a triage of its own)."""
        return triage(self.rules, self.kb, case, assessment, self.model)


@functools.cache
def default_engine() -> Engine:
    """The engine on the knowledge base shipped with the package (loaded once)."""
    return Engine.from_directory()
