"""Subcommands of the ``kneesource`` CLI, one module per feature."""
