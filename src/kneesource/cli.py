"""The ``kneesource`` command. Translates domain errors into messages and exit codes:
0 success, 1 an invalid knowledge base or model, 2 a usage error or bad input.

Each subcommand lives in a module of ``kneesource.commands`` with a ``register(subparsers)``
function that adds its parser and sets ``handler`` to a function ``(args, console) -> exit code``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from rich.console import Console

from kneesource import __version__
from kneesource.commands.base import EXIT_BROKEN, EXIT_USAGE, Parser
from kneesource.errors import InputError, KneesourceError, KnowledgeBaseError, ModelError

# Each command and the module of ``kneesource.commands`` that registers it. A command line that
# names one imports only that module (a single ``assess`` does not load the evaluation, the
# interview or the web server); anything else (help, a mistyped command) registers them all.
COMMANDS = {
    "assess": "core",
    "findings": "core",
    "conditions": "core",
    "kb": "core",
    "model": "core",
    "evaluate": "evaluate",
    "simulate": "simulate",
    "interview": "interview",
    "questions": "interview",
    "serve": "serve",
    "report": "report",
    "questionnaire": "report",
}
COMMAND_MODULES = list(dict.fromkeys(COMMANDS.values()))


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``command`` (a known command's name) only that command's module is
    imported and registered."""
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
    # Every command in the usage line, also when only one command's module is registered (an
    # error such as an unrecognised argument prints the top-level usage).
    every = "{" + ",".join(COMMANDS) + "}"
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser, metavar=every)
    names = [COMMANDS[command]] if command in COMMANDS else COMMAND_MODULES
    for name in names:
        importlib.import_module(f"kneesource.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv[0] if argv else None).parse_args(argv)
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
