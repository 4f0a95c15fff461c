"""Commands of the identifier guard: check files, dismiss findings, redact copies."""
from __future__ import annotations

from pathlib import Path
from typing import List

import typer

from scr_text.cli.base import command, ctx, fail, note_unread
from scr_text.errors import UserError

EXIT_FINDINGS = 3


@command()
def check(
    inputs: List[Path] = typer.Argument(..., help="Files (.txt .md .docx .pdf) or folders."),
    format: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """List possible unredacted identifiers. Exit 0: none found; 3: some found; 2: error."""
    import json

    from scr_text.ingest import read_documents
    from scr_text.nlp.segment import Segmenter
    from scr_text.privacy.guard import guard_for, settle

    if format not in ("text", "json"):
        raise UserError("--format must be text or json")
    settings = ctx().settings
    documents, failed = read_documents(inputs, settings)
    if failed:
        raise UserError("; ".join(failed))
    note_unread(inputs)
    segmenter = Segmenter.from_settings(settings)
    guard = guard_for(settings)
    with ctx().open_store() as store:
        dismissals = store.dismissals()
    found = [f for passages in segmenter.transform(documents) for f in guard.check_passages(passages)]
    findings, dismissed = settle(found, dismissals)
    if format == "json":
        typer.echo(json.dumps([f.to_json() for f in findings], ensure_ascii=False, indent=1))
    else:
        for f in findings:
            typer.echo(f"{f.doc_id}:{f.start}-{f.end}\t{f.type}\t{f.score:.2f}\t{f.text}")
        typer.echo(f"{len(findings)} possible identifier(s) in {len(documents)} document(s)"
                   + (f"; {len(dismissed)} dismissed in this project (scr-text dismissals)" if dismissed else ""), err=True)
    raise typer.Exit(EXIT_FINDINGS if findings else 0)


@command()
def dismiss(
    text: str = typer.Argument(..., help="The finding's text, as `scr-text check` prints it."),
    kind: str = typer.Option(..., "--type", help="The finding's type (PERSON, NHS_NUMBER, ...)."),
    by: str = typer.Option(..., "--by", help="Who dismisses it."),
    why: str = typer.Option(..., "--why", help="Why it is not an identifier."),
    undo: bool = typer.Option(False, "--undo", help="Take the dismissal back."),
) -> None:
    """Dismiss a false alarm of the identifier guard for this project: ingest, run and check stop counting it."""
    from scr_text.privacy.guard import load_guard_config

    kinds = load_guard_config()["types"]
    if kind not in kinds:
        raise UserError(f"--type must be one of {', '.join(kinds)}")
    with ctx().open_store() as store:
        if undo:
            if not store.undismiss_finding(kind, text):
                raise UserError(f"no dismissal of {kind} '{text}'")
            typer.echo(f"{kind} '{text}' counts again")
            return
        store.dismiss_finding(kind, text, by, why)
    typer.echo(f"{kind} '{text}' dismissed by {by}: {why}")


@command()
def dismissals() -> None:
    """The identifier-guard findings dismissed in this project: type, text, who, why, when."""
    with ctx().open_store() as store:
        rows = store.dismissals()
    for d in rows:
        typer.echo(f"{d['type']}\t{d['text']}\t{d['coder']}\t{d['reason']}\t{d['dismissed_at']}")
    typer.echo(f"{len(rows)} dismissal(s)", err=True)


@command()
def redact(
    inputs: List[Path] = typer.Argument(..., help="Files (.txt .md .docx .pdf) or folders."),
    out: Path = typer.Option(..., "--out", help="Folder for the redacted copies (<doc_id>.txt, UTF-8)."),
) -> None:
    """Write redacted copies: each possible identifier replaced by a typed placeholder ([PERSON], ...)."""
    from scr_text.ingest import read_documents
    from scr_text.nlp.segment import Segmenter
    from scr_text.privacy.guard import guard_for

    settings = ctx().settings
    documents, failed = read_documents(inputs, settings)
    segmenter = Segmenter.from_settings(settings)
    guard = guard_for(settings)
    out.mkdir(parents=True, exist_ok=True)
    total = 0
    for document, passages in zip(documents, segmenter.transform(documents)):
        findings = guard.check_passages(passages)
        total += len(findings)
        target = out / f"{document.doc_id}.txt"
        if target.resolve() == Path(document.source_path).resolve():
            raise UserError(f"{target}: refusing to overwrite the original; choose another --out")
        target.write_text(guard.redact(document.text, findings), encoding="utf-8")
    note_unread(inputs)
    for line in failed:
        fail(line)
    typer.echo(f"{len(documents)} document(s), {total} identifier(s) replaced -> {out}")
    if failed:
        raise typer.Exit(1)
