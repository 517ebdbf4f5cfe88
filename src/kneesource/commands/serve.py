"""``kneesource serve``: the web interview and the REST API (FastAPI on uvicorn)."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from kneesource.commands.base import EXIT_OK
from kneesource.errors import InputError


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the interview in a browser and the REST API",
        description="Serve the interview in a browser (at /) and the REST API (at /v1, "
        "documented at /docs). Interviews are kept in the same database as the terminal "
        "interview unless --db says otherwise.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument(
        "--db",
        help="database: sqlite:///PATH, a file path or postgresql://USER@HOST/DB (default: the "
        "terminal interview's file, or $KNEESOURCE_DB)",
    )
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.set_defaults(handler=serve)


def serve(args: argparse.Namespace, out: Console) -> int:
    import os

    import uvicorn

    from kneesource.interview.store import ENV_VAR
    from kneesource.web.store import InterviewStore, database_url

    if not 1 <= args.port <= 65535:
        raise InputError(f"--port must be between 1 and 65535, got {args.port}")
    if args.workers < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}")
    url = database_url(args.db or os.environ.get(ENV_VAR))
    InterviewStore(url).close()  # opens and migrates the database, or says why not
    os.environ["KNEESOURCE_SERVE_DB"] = url
    out.print(f"kneesource is at [bold]http://{args.host}:{args.port}/[/bold] (stop with Ctrl-C)")
    uvicorn.run(
        "kneesource.web.server:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
        factory=False,
    )
    return EXIT_OK
