"""Shared pieces of the subcommands: exit codes, the parser class, atomic writes."""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

from kneesource.errors import InputError, closest, did_you_mean

EXIT_OK, EXIT_BROKEN, EXIT_USAGE = 0, 1, 2


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors exit with code 2 and a one-line message."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {_with_suggestion(message)}\n")


_INVALID_CHOICE = re.compile(r"argument (.+?): invalid choice: '(.*)' \(choose from (.*)\)$")


def _with_suggestion(message: str) -> str:
    """argparse's "invalid choice" message with the closest choices suggested, and a command
    named as such (not by the list of every command)."""
    found = _INVALID_CHOICE.match(message)
    if found is None:
        return message
    name, value, listed = found.groups()
    # Quoted by Python 3.11 ('a', 'b'); later versions may list them bare (a, b).
    choices = re.findall(r"'([^']*)'", listed) or [c.strip() for c in listed.split(",")]
    hint = did_you_mean(closest(value, choices))
    if name.startswith("{") or name.endswith("_command"):  # a command or a subcommand
        return f"unknown command {value!r}{hint} (commands: {', '.join(choices)})"
    return f"argument {name}: invalid choice {value!r}{hint} (choose from {', '.join(choices)})"


def write_atomically(path: Path, text: str | bytes) -> None:
    """Write to a temporary file beside ``path`` and rename, so no half-written file remains."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"cannot write {path}: folder {directory} does not exist")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if isinstance(text, bytes):
            with os.fdopen(fd, "wb") as raw:
                raw.write(text)
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
