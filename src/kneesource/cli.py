"""The ``kneesource`` command. Translates domain errors into messages and exit codes:
0 success, 1 an invalid knowledge base or model, 2 a usage error or bad input.

Each subcommand lives in a module of ``kneesource.commands`` with a ``register(subparsers)``
function that adds its parser and sets ``handler`` to a function ``(args, console) -> exit code``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from rich.console import Console

from kneesource import __version__
from kneesource.commands import core, evaluate, interview, report, serve, simulate
from kneesource.commands.base import EXIT_BROKEN, EXIT_USAGE, Parser
from kneesource.errors import InputError, KneesourceError, KnowledgeBaseError, ModelError

COMMAND_MODULES = [core, evaluate, simulate, interview, serve, report]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="kneesource",
        description="Where does this knee pain come from? Decision support, not a diagnosis.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"kneesource {__version__}",
        help="print the version and exit",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Console(soft_wrap=False)
    err = Console(stderr=True)
    handler: Callable[[argparse.Namespace, Console], int] = args.handler
    try:
        return handler(args, out)
    except InputError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        return EXIT_USAGE
    except (KnowledgeBaseError, ModelError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        return EXIT_BROKEN
    except KneesourceError as exc:  # pragma: no cover - every subclass is handled above
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        return EXIT_BROKEN


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
