"""Commands for coders' work: import coding, agreement, disagreements, REFI-QDA and corpus exports."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from scr_text.cli.base import ALLOW_IDENTIFIERS, command, ctx
from scr_text.errors import UserError


def _model_key(codebook) -> str | None:
    from scr_text.modeldir import model_key, resolve_model_dir

    try:
        return model_key(resolve_model_dir(ctx().settings.tagger.model), codebook.hash)
    except UserError:
        return None


@command("import-coding")
def import_coding(
    file: Path = typer.Argument(..., help="Coding to import: .jsonl, .csv (doc_id, start, end, codes[, coder]) or .qdpx."),
    coder: Optional[str] = typer.Option(None, "--coder", help="Coder name (default: the file's coder field or QDPX users)."),
    allow_identifiers: bool = ALLOW_IDENTIFIERS,
    uncoded: str = typer.Option("absent", "--uncoded", help="A passage of a coded review no span reaches: 'absent' "
                                "(seen, no code) or 'missing' (not rated; left out of agreement for this coder)."),
) -> None:
    """Import a coder's coding; spans are mapped to the passages they cover, code names to codebook ids."""
    from scr_text.codebook import load_codebook
    from scr_text.coding.coders import import_coding as do_import

    with ctx().open_store() as store:
        result = do_import(file, coder, store, ctx().settings, load_codebook(), allow_identifiers, uncoded)
    for line in result.notes:
        typer.echo(f"note: {line}", err=True)
    for r in result.reports:
        typer.echo(r.summary())
    for line in result.left_out:
        typer.echo(f"left out: {line}", err=True)
    if result.left_out:
        raise typer.Exit(1)


@command()
def agree(
    coders: Optional[List[str]] = typer.Option(None, "--coders", help="Coders to compare (default: all in the store)."),
    include_model: bool = typer.Option(False, "--include-model", help="The model takes part as coder 'model'."),
    out: Optional[Path] = typer.Option(None, "--out", help="CSV: one row per code, coder pair and universe."),
    html: Optional[Path] = typer.Option(None, "--html", help="HTML table that flags codes under agreement.min_kappa."),
) -> None:
    """Agreement between coders per code and overall: % agreement, Cohen's kappa, Gwet's AC1, Krippendorff's alpha."""
    from scr_text.codebook import load_codebook
    from scr_text.coding.agreement_report import agreement_tables, format_agreement, write_agreement_csv, write_agreement_html

    codebook = load_codebook()
    with ctx().open_store() as store:
        tables, names = agreement_tables(store, coders, include_model, _model_key(codebook), codebook, ctx().settings)
    typer.echo(format_agreement(tables))
    if out:
        write_agreement_csv(tables, out)
        typer.echo(f"-> {out}")
    if html:
        write_agreement_html(tables, names, ctx().settings, html)
        typer.echo(f"-> {html}")


@command()
def disagreements(
    coders: List[str] = typer.Option(..., "--coders", help="Exactly two coders ('model' for the model)."),
    code: str = typer.Option(..., "--code", help="Code id."),
    sort: str = typer.Option("score", "--sort", help="score (the model's probability, highest first) or position."),
    out: Optional[Path] = typer.Option(None, "--out", help="Also write .csv, .json or .html (with a side-by-side review)."),
    doc: Optional[str] = typer.Option(None, "--doc", help="Review for the side-by-side view (default: most disagreements)."),
) -> None:
    """The passages where two coders differ on one code, with each one's codes and the model's score and evidence."""
    from scr_text.codebook import load_codebook
    from scr_text.coding.agreement_report import disagreement_items, write_disagreements

    codebook = load_codebook()
    if len(coders) != 2:
        raise UserError("--coders takes exactly two names")
    if code not in codebook.ids:
        raise UserError(f"unknown code '{code}' (codes: {', '.join(codebook.ids)})")
    if sort not in ("score", "position"):
        raise UserError("--sort must be score or position")
    with ctx().open_store() as store:
        items, side = disagreement_items(store, coders[0], coders[1], code, sort, _model_key(codebook), doc)
        if out:
            write_disagreements(items, side, coders[0], coders[1], code, sort, out)
    for it in items:
        score = "  -  " if it["model_score"] is None else f"{it['model_score']:.2f}"
        typer.echo(f"{it['doc_id']} ¶{it['passage']}\t{coders[0]}: {','.join(it['codes_a']) or '-'}\t"
                   f"{coders[1]}: {','.join(it['codes_b']) or '-'}\tmodel {score}\t{it['text'][:90]}")
    typer.echo(f"{len(items)} disagreement(s) on {code}", err=True)


@command("export-qdpx")
def export_qdpx(
    corpus: Optional[Path] = typer.Argument(None, help="Only these reviews (a corpus folder); default: the whole store."),
    out: Path = typer.Option(..., "--out", help="The .qdpx project to write."),
    coder: Optional[List[str]] = typer.Option(None, "--coder", help="Coders to include (default: all, and the model)."),
) -> None:
    """The corpus, codebook (with definitions) and coding as a REFI-QDA project (NVivo, ATLAS.ti, MAXQDA, QualCoder)."""
    from scr_text.codebook import load_codebook
    from scr_text.coding.agreement_report import export_project

    with ctx().open_store() as store:
        n_docs, n_coders = export_project(store, corpus, out, coder, load_codebook(), _model_key(load_codebook()))
    typer.echo(f"{n_docs} review(s), {n_coders} coder(s) -> {out}")


@command("export-qdc")
def export_qdc(out: Path = typer.Option(..., "--out", help="The .qdc codebook to write.")) -> None:
    """The codebook (ids, definitions, include and exclude notes) as a REFI-QDA codebook."""
    from scr_text.codebook import load_codebook
    from scr_text.coding.qdpx_export import codebook_qdc

    out.write_text(codebook_qdc(load_codebook()), encoding="utf-8")
    typer.echo(f"-> {out}")


@command("export-corpus")
def export_corpus(
    out: Path = typer.Option(..., "--out", help="New (or empty) folder to write the corpus into."),
    coder: List[str] = typer.Option(..., "--coder", help="Coders whose coding to export (repeat for several)."),
    base: Optional[Path] = typer.Option(None, "--with", help="A labelled corpus to copy in first (e.g. corpora/dev)."),
) -> None:
    """Coders' coding (web app decisions, imports) as a labelled corpus that `train --corpus` reads."""
    from scr_text.codebook import load_codebook
    from scr_text.coding.corpus_export import export_corpus as do_export
    from scr_text.corpus import load_corpus

    with ctx().open_store() as store:
        report = do_export(store, coder, out, load_codebook(), load_corpus(base) if base else None)
    replaced = f" ({len(report.replaced)} replacing the base's coding: {', '.join(report.replaced)})" if report.replaced else ""
    typer.echo(f"{len(report.reviews)} coded review(s){replaced}, {len(report.with_facts)} with all case facts; "
               f"{report.base_reviews} from the base corpus -> {out}")
    missing = len(report.reviews) - len(report.with_facts)
    if missing:
        typer.echo(f"{missing} coded review(s) have no cases.csv row (not every case fact set by the coder); "
                   "the case-facts model trains on the reviews that have one", err=True)


@command("import-qdc")
def import_qdc(file: Path = typer.Argument(..., help="A REFI-QDA .qdc codebook.")) -> None:
    """Check a REFI-QDA codebook against the current one: which of its codes map to codebook ids."""
    from scr_text.codebook import load_codebook
    from scr_text.coding.qdpx_import import read_qdc
    from scr_text.coding.spans import code_index, normalise_name

    index = code_index(load_codebook())
    codes = read_qdc(file)
    mapped = [(n, index.get(normalise_name(n))) for n, _ in codes]
    for name, target in mapped:
        typer.echo(f"{name}\t-> {target or 'UNMAPPED'}")
    typer.echo(f"{sum(1 for _, t in mapped if t)} of {len(mapped)} code(s) map to the codebook", err=True)
