"""What every command shares: the Typer app, the settings and store of a call, the shared options, how
intake results and failures are reported, and the entry point that turns user errors into one line."""
from __future__ import annotations

import functools
import inspect
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

from scr_text.config import Settings, load_settings
from scr_text.errors import UserError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Text mining for child safeguarding case reviews.")

EXIT_ERROR = 2


@dataclass
class Context:
    settings: Settings
    store_path: Path
    debug: bool

    def open_store(self):
        from scr_text.store.database import Store

        return Store(self.store_path, self.settings.store.busy_timeout_s)


# The options every command takes, before its name or after it (`scr-text --store S agree` and
# `scr-text agree --store S` alike); the one given after the command wins.
_given: dict = {"config": None, "store": None, "debug": False}
_ctx: Context | None = None

CONFIG_OPTION = typer.Option(None, "--config", help="Settings file (default: the project's configs/pipeline.yaml, "
                             "else the packaged one; or $SCR_TEXT_CONFIG).")
STORE_OPTION = typer.Option(None, "--store", help="Project store file (default: store.path in the settings, in the "
                            "project folder; or $SCR_TEXT_STORE).")
DEBUG_OPTION = typer.Option(False, "--debug", help="Show tracebacks.")


def ctx() -> Context:
    """The settings and store of this call, read on first use (so `init` and `--version` need neither)."""
    global _ctx
    if _ctx is None:
        settings = load_settings(_given["config"])
        store_path = _given["store"] or os.environ.get("SCR_TEXT_STORE") or settings.resolve(settings.store.path)
        _ctx = Context(settings, Path(store_path), _given["debug"])
    return _ctx


def _remember(config: Path | None, store: Path | None, debug: bool) -> None:
    global _ctx
    for key, value in (("config", config), ("store", store), ("debug", debug)):
        if value:
            _given[key] = value
            _ctx = None


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"scr-text {version('scr-text')}")
        raise typer.Exit()


@app.callback()
def main(
    config: Optional[Path] = CONFIG_OPTION,
    store: Optional[Path] = STORE_OPTION,
    debug: bool = DEBUG_OPTION,
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_version, help="Print the version and exit."),
) -> None:
    _remember(config, store, debug)


def command(name: str | None = None):
    """``app.command``, with the shared options (--config, --store, --debug) added to the command itself."""
    shared = [inspect.Parameter(f"shared_{key}", inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
              for key, default, annotation in (("config", CONFIG_OPTION, Optional[Path]),
                                               ("store", STORE_OPTION, Optional[Path]),
                                               ("debug", DEBUG_OPTION, bool))]

    def register(fn):
        signature = inspect.signature(fn, eval_str=True)

        @functools.wraps(fn)
        def wrapper(*args, shared_config=None, shared_store=None, shared_debug=False, **kwargs):
            _remember(shared_config, shared_store, shared_debug)
            return fn(*args, **kwargs)

        wrapper.__signature__ = signature.replace(parameters=[*signature.parameters.values(), *shared])
        return app.command(name)(wrapper)

    return register


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def note_unread(inputs) -> None:
    """Say which files in the folders given were left out for their type (an old .doc, say), not silently."""
    from scr_text.ingest import SUPPORTED, unsupported_in_folders

    unread = unsupported_in_folders(inputs)
    if unread:
        names = ", ".join(p.name for p in unread[:5]) + (f" and {len(unread) - 5} more" if len(unread) > 5 else "")
        typer.echo(f"note: {len(unread)} file(s) in the folders given were not read (scr-text reads "
                   f"{' '.join(SUPPORTED)}): {names}", err=True)


def report_failures(report) -> None:
    """One line per file an intake refused or skipped (IntakeReport)."""
    for line in report.failed + report.duplicates:
        fail(line)


def finish_intake(report) -> None:
    """How every command that stores files ends: a line per refused or skipped file, the intake summary, and
    exit 1 if any file was refused or skipped."""
    report_failures(report)
    for line in report.warnings:
        typer.echo(f"warning: {line}", err=True)
    typer.echo(f"intake: {report.summary()}")
    if not report.ok:
        raise typer.Exit(1)


def note_unchecked(out: Path) -> None:
    typer.echo(f"note: not checked for unredacted identifiers (nothing is stored, but {out} holds passage text); "
               "`scr-text check` lists them", err=True)


ALLOW_IDENTIFIERS = typer.Option(False, "--allow-identifiers",
                                 help="Store documents even if the identifier guard finds possible unredacted identifiers.")


def entry() -> None:
    """Console entry point: user errors become one line and exit code 2."""
    debug = "--debug" in sys.argv
    if not debug:
        # pypdf logs each repair it attempts on a damaged PDF; the user gets the file's text or its one-line
        # error instead.
        logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        code = app(standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except UserError as exc:
        if debug:
            raise
        fail(str(exc))
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        fail("interrupted")
        sys.exit(130)
    except OSError as exc:  # a path the user gave that cannot be read or written (an output folder that is a file)
        if debug:
            raise
        reason = "exists and is not a folder" if isinstance(exc, FileExistsError) else (exc.strerror or str(exc))
        fail(f"{exc.filename}: {reason}" if exc.filename else reason)
        sys.exit(EXIT_ERROR)
    except typer.Abort:
        sys.exit(1)
    except typer.TyperException as exc:  # usage errors (Typer carries its own click): usage line, exit 2
        if hasattr(exc, "show"):
            exc.show()
        else:
            fail(exc.format_message())
        sys.exit(exc.exit_code)
    except Exception as exc:  # anything unforeseen
        if debug:
            raise
        fail(f"{exc.__class__.__name__}: {exc} (run with --debug for the traceback)")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
