"""What every request handler needs from the application: its store and its engine."""

from __future__ import annotations

from fastapi import Request

from kneesource.engine import Engine
from kneesource.web.store import InterviewStore


def store_of(request: Request) -> InterviewStore:
    store: InterviewStore = request.app.state.store
    return store


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine
