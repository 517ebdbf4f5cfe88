"""Every test process and the commands it starts keep their ready engines in a cache directory of
the test session's own, not in the user's."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_CACHE = tempfile.mkdtemp(prefix="kneesource-test-cache-")


def pytest_configure(config: pytest.Config) -> None:
    os.environ["KNEESOURCE_CACHE_DIR"] = _CACHE


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_CACHE, ignore_errors=True)
