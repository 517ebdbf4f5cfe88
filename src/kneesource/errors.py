"""Every error kneesource raises on purpose.

The core raises these domain errors; only the interfaces translate them (the CLI into a message and
exit code 2 for bad input, 1 for a broken knowledge base).

    KneesourceError
    ├── KnowledgeBaseError        the knowledge files are invalid (lists every problem)
    ├── ModelError                a compiled model failed its checks, so inference refuses it
    └── InputError                a case, an option or a file given by the user is not acceptable
        ├── UnknownIdError        an id that is not in the vocabulary (carries close matches)
        ├── CaseFormatError       a case file or record that is malformed or out of range
        └── TooComplexError       evidence beyond the stated bound of exact inference

Messages name the bad value and say what would be accepted.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence


class KneesourceError(Exception):
    """Base class of every error raised on purpose by kneesource."""


class KnowledgeBaseError(KneesourceError):
    """The knowledge base did not validate; ``problems`` holds every problem found."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        listing = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"the knowledge base has {len(self.problems)} problem(s):\n{listing}")


class ModelError(KneesourceError):
    """A compiled model is inconsistent; inference refuses to run on it."""


class InputError(KneesourceError):
    """Input from the user (a case, an option, a file) is not acceptable."""


class CaseFormatError(InputError):
    """A case is malformed: wrong type, missing field, value out of range, bad JSON."""


class TooComplexError(InputError):
    """Evidence whose exact inference would exceed the stated bound (found before any work)."""


class UnknownIdError(InputError):
    """An id is not in the vocabulary; ``suggestions`` lists the closest valid ids."""

    def __init__(self, kind: str, value: str, valid: Iterable[str], where: str = "") -> None:
        valid_ids = sorted(valid)
        self.kind = kind
        self.value = value
        self.suggestions = closest(value, valid_ids)
        place = f" in {where}" if where else ""
        hint = did_you_mean(self.suggestions) or (
            f"; run `kneesource {kind}s` to list the {len(valid_ids)} valid ids"
        )
        super().__init__(f"unknown {kind} id {value!r}{place}{hint}")


def closest(value: str, valid: Sequence[str], n: int = 3) -> list[str]:
    """The valid ids most similar to ``value``, best first (may be empty)."""
    matches = difflib.get_close_matches(value, valid, n=n, cutoff=0.5)
    if not matches:
        lowered = value.lower()
        matches = [v for v in valid if lowered in v or v in lowered][:n]
    return matches


def did_you_mean(near: Sequence[str]) -> str:
    """``"; did you mean 'a', 'b'?"`` for the closest ids (``closest``), or ``""`` for none."""
    return f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
