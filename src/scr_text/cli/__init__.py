"""The command line (Typer). Commands are thin: they parse arguments and call the library.

Every error a user can cause ends in one sentence on stderr and a non-zero exit; ``--debug`` shows the
traceback instead. Each group of commands is a module; importing it registers its commands on ``app``, in
the order ``scr-text --help`` lists them.
"""
from scr_text.cli import coding_commands, corpus_commands, model_commands, privacy_commands, serve_command  # noqa: F401
from scr_text.cli.base import app, entry

__all__ = ["app", "entry"]
