"""Commands over reviews: set up a project, ingest, run the main job, tag, case facts, prevalence, clusters,
remove and rename stored reviews."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from scr_text.cli.base import ALLOW_IDENTIFIERS, command, ctx, fail, finish_intake, note_unchecked, note_unread, report_failures
from scr_text.errors import UserError
from scr_text.locations import default_corpus, project_dir


@command()
def init(
    folder: Path = typer.Argument(Path("."), help="Project folder to set up (made if missing)."),
    force: bool = typer.Option(False, "--force", help="Overwrite config files already there."),
) -> None:
    """Set up a project folder: editable copies of the packaged settings, codebook, case-facts and guard configs.

    Commands run in that folder (or with $SCR_TEXT_HOME pointing at it) read its configs/, models/ and
    corpora/ before the packaged ones, and write the store and caches there."""
    import shutil

    from scr_text.locations import CONFIG_NAMES, PACKAGED_CONFIGS

    target = folder / "configs"
    there = [name for name in CONFIG_NAMES if (target / name).exists()]
    if there and not force:
        raise UserError(f"{target} already holds {', '.join(there)}; nothing written (--force overwrites)")
    target.mkdir(parents=True, exist_ok=True)
    for name in CONFIG_NAMES:
        shutil.copyfile(PACKAGED_CONFIGS / name, target / name)
    typer.echo(f"{len(CONFIG_NAMES)} config files -> {target}")
    typer.echo(f"work in {folder} (or set SCR_TEXT_HOME={folder.resolve()}): the store, caches and models you train "
               "go there")


@command()
def ingest(
    inputs: List[Path] = typer.Argument(..., help="Files (.txt .md .docx .pdf) or folders."),
    allow_identifiers: bool = ALLOW_IDENTIFIERS,
) -> None:
    """Read, check for unredacted identifiers, segment and store review files; one transaction per file."""
    from scr_text.ingest.intake import ingest_files
    from scr_text.privacy.guard import intake_check

    with ctx().open_store() as store:
        report = ingest_files(inputs, store, ctx().settings, check=intake_check(ctx().settings, allow_identifiers, store))
    note_unread(inputs)
    finish_intake(report)


@command()
def passages(out: Path = typer.Option(..., "--out", help="Output file: .csv or .parquet.")) -> None:
    """Export every stored passage (doc_id, passage, start, end, text)."""
    from scr_text.tables import passages_frame, write_table

    with ctx().open_store() as store:
        frame = passages_frame(store.passages())
    write_table(frame, out)
    typer.echo(f"{len(frame)} passages -> {out}")


@command()
def run(
    corpus: Optional[Path] = typer.Argument(None, help="Corpus folder (shipped layout: texts/, passages.jsonl, "
                                            "cases.csv); default: the project's corpora/dev, else the sample corpus."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: out/ in the project folder)."),
    allow_identifiers: bool = ALLOW_IDENTIFIERS,
) -> None:
    """The main job: every stage over a corpus, outputs and an HTML summary in OUT."""
    from scr_text.corpus import corpus_inputs
    from scr_text.pipeline import run as run_job

    corpus, out = corpus or default_corpus(), out or project_dir() / "out"
    with ctx().open_store() as store:
        result = run_job(corpus, out, store, ctx().settings, allow_identifiers=allow_identifiers)
    note_unread([corpus_inputs(corpus)])
    report_failures(result.intake)
    typer.echo(f"{len(result.doc_ids)} reviews, {result.n_passages} passages; {result.intake.summary()}")
    for name, path in result.outputs.items():
        typer.echo(f"  {name}: {path}")
    if not result.intake.ok:
        raise typer.Exit(1)


@command()
def tag(
    inputs: List[Path] = typer.Argument(..., help="Files (.txt .md .docx .pdf) or folders."),
    out: Path = typer.Option(..., "--out", help="Output JSONL: one object per passage."),
    model: Optional[str] = typer.Option(None, "--model", help="Model name under models/, or a model folder "
                                        "(default: tagger.model in the settings)."),
    codebook: Optional[Path] = typer.Option(None, "--codebook", help="Codebook file (default configs/codebook.yaml)."),
) -> None:
    """Tag every passage of the given reviews with the codebook's codes, with evidence."""
    from scr_text.codebook import load_codebook
    from scr_text.tagging.apply import tag_files
    from scr_text.tagging.components import Components

    with ctx().open_store() as store:
        parts = Components(ctx().settings, store, load_codebook(codebook), model)
        n_docs, n_passages, failed = tag_files(inputs, out, parts)
    note_unread(inputs)
    for line in failed:
        fail(line)
    note_unchecked(out)
    typer.echo(f"{n_docs} document(s), {n_passages} passages tagged -> {out}" + (f"; {len(failed)} failed" if failed else ""))
    if failed:
        raise typer.Exit(1)


@command()
def facts(
    inputs: List[Path] = typer.Argument(..., help="Files (.txt .md .docx .pdf) or folders."),
    out: Path = typer.Option(..., "--out", help="Output CSV (one row per review); evidence goes to a sibling .evidence.jsonl."),
    model: Optional[str] = typer.Option(None, "--model", help="Model name under models/, or a model folder "
                                        "(default: tagger.model in the settings)."),
) -> None:
    """Case facts per review (outcome, incident, proceedings, law, perpetrator, ...) with confidence and evidence."""
    from scr_text.codebook import load_codebook
    from scr_text.facts.sheet import facts_for_files
    from scr_text.tagging.components import Components

    with ctx().open_store() as store:
        n, failed = facts_for_files(inputs, out, Components(ctx().settings, store, load_codebook(), model))
    note_unread(inputs)
    for line in failed:
        fail(line)
    note_unchecked(out)
    typer.echo(f"{n} review(s) -> {out} (evidence: {out.with_suffix('.evidence.jsonl')})")
    if failed:
        raise typer.Exit(1)


@command()
def prevalence(
    corpus: Optional[Path] = typer.Argument(None, help="Corpus folder; compared with its cases.csv where it has one "
                                            "(default: the project's corpora/dev, else the sample corpus)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: out/ in the project folder)."),
    allow_identifiers: bool = ALLOW_IDENTIFIERS,
) -> None:
    """The prevalence table of case facts over a corpus (CSV and HTML with a bar chart)."""
    from scr_text.pipeline import run_prevalence

    corpus, out = corpus or default_corpus(), out or project_dir() / "out"
    with ctx().open_store() as store:
        paths, report = run_prevalence(corpus, out, store, ctx().settings, allow_identifiers)
    for name, path in paths.items():
        typer.echo(f"  {name}: {path}")
    finish_intake(report)


@command()
def cluster(
    corpus: Optional[Path] = typer.Argument(None, help="Corpus folder, or any folder of reviews (default: the "
                                            "project's corpora/dev, else the sample corpus)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: out/ in the project folder)."),
    allow_identifiers: bool = ALLOW_IDENTIFIERS,
) -> None:
    """Recurring patterns: clusters of passages per view, with labels, code shares, exemplars and a map."""
    from scr_text.pipeline import run_clusters

    corpus, out = corpus or default_corpus(), out or project_dir() / "out"
    with ctx().open_store() as store:
        paths, lines, report = run_clusters(corpus, out, store, ctx().settings, allow_identifiers)
    for line in lines:
        typer.echo(line)
    for name, path in paths.items():
        typer.echo(f"  {name}: {path}")
    finish_intake(report)


@command()
def remove(doc_ids: List[str] = typer.Argument(..., help="Stored reviews to remove.")) -> None:
    """Remove stored reviews with everything kept about them (passages, tags, codings, decisions, facts)."""
    with ctx().open_store() as store:
        unknown = [d for d in doc_ids if d not in set(store.doc_ids())]
        if unknown:
            raise UserError(f"no stored review called {', '.join(repr(d) for d in unknown)}")
        store.remove_documents(doc_ids)
    typer.echo(f"removed {len(doc_ids)} review(s)")


@command()
def rename(old: str = typer.Argument(..., help="A stored review."), new: str = typer.Argument(..., help="Its new id.")) -> None:
    """Give a stored review another id; its passages, tags, codings, decisions and facts follow."""
    with ctx().open_store() as store:
        store.rename_document(old, new)
    typer.echo(f"{old} -> {new}")
