"""kneesource: where does this knee pain come from? Decision support, not a diagnosis."""

from kneesource.assessment import Assessment, RankedCondition
from kneesource.case import Case, parse_case, read_cases
from kneesource.engine import Engine, default_engine
from kneesource.errors import (
    CaseFormatError,
    InputError,
    KneesourceError,
    KnowledgeBaseError,
    ModelError,
    UnknownIdError,
)
from kneesource.inference.exact import Posterior, posterior, posterior_batch
from kneesource.kb.loader import KnowledgeBase, load_knowledge_base
from kneesource.model.bif import to_bif
from kneesource.model.compiled import CompiledModel, Person, check_model, compile_model

__version__ = "0.1.0"

__all__ = [
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
