"""The engine: a validated knowledge base and its compiled model, ready to assess cases."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from kneesource.assessment import Assessment, assess_cases
from kneesource.case import Case, parse_case
from kneesource.kb.loader import KnowledgeBase, load_knowledge_base
from kneesource.model.compiled import CompiledModel, compile_model


class Engine:
    """Holds one knowledge base and its compiled model; both are immutable."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.model: CompiledModel = compile_model(kb)

    @classmethod
    def from_directory(cls, directory: Path | None = None) -> Engine:
        return cls(load_knowledge_base(directory))

    def case(self, data: object) -> Case:
        """Validate a decoded JSON case for this engine's vocabulary."""
        return parse_case(data, self.model)

    def assess(self, case: Case) -> Assessment:
        return assess_cases(self.kb, self.model, [case])[0]

    def assess_many(self, cases: Sequence[Case]) -> list[Assessment]:
        return assess_cases(self.kb, self.model, cases)


@functools.cache
def default_engine() -> Engine:
    """The engine on the knowledge base shipped with the package (loaded once)."""
    return Engine.from_directory()
