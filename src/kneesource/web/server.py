"""The application uvicorn's workers import: built from ``$KNEESOURCE_SERVE_DB``."""

from __future__ import annotations

import os

from kneesource.web.app import create_app

app = create_app(os.environ.get("KNEESOURCE_SERVE_DB"))
