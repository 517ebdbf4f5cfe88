"""The public API is small and deliberate: this test pins it, so it changes only on purpose."""

from __future__ import annotations

import inspect

import kneesource

EXPECTED = [
    "Assessment",
    "Case",
    "CaseFormatError",
    "CompiledModel",
    "Engine",
    "InputError",
    "KneesourceError",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "ModelError",
    "Person",
    "Posterior",
    "RankedCondition",
    "UnknownIdError",
    "__version__",
    "check_model",
    "compile_model",
    "default_engine",
    "load_knowledge_base",
    "parse_case",
    "posterior",
    "posterior_batch",
    "read_cases",
    "to_bif",
]


def test_all_is_sorted_and_pinned() -> None:
    assert sorted(kneesource.__all__) == kneesource.__all__
    assert kneesource.__all__ == EXPECTED


def test_everything_public_is_exported() -> None:
    public = {
        name
        for name, value in vars(kneesource).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    assert public == set(EXPECTED) - {"__version__"}
