"""The command line (Typer). Commands are thin: they parse arguments and call the library.

Every error a user can cause ends in one sentence on stderr and a non-zero exit;
``--debug`` shows the traceback instead.
"""
from __future__ import annotations

import functools
import inspect
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import typer

from .config import Settings, load_settings
from .errors import UserError
from .locations import GUARD_SET, default_corpus, project_dir

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Text mining for child safeguarding case reviews.")

EXIT_ERROR = 2


@dataclass
class Context:
    settings: Settings
    store_path: Path
    debug: bool

    def open_store(self):
        from .store import Store

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


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def _note_unread(inputs) -> None:
    """Say which files in the folders given were left out for their type (an old .doc, say), not silently."""
    from .ingest import SUPPORTED, unsupported_in_folders

    unread = unsupported_in_folders(inputs)
    if unread:
        names = ", ".join(p.name for p in unread[:5]) + (f" and {len(unread) - 5} more" if len(unread) > 5 else "")
        typer.echo(f"note: {len(unread)} file(s) in the folders given were not read (scr-text reads "
                   f"{' '.join(SUPPORTED)}): {names}", err=True)


def _report_failures(report) -> None:
    """One line per file an intake refused or skipped (IntakeReport)."""
    for line in report.failed + report.duplicates:
        _fail(line)


def _finish_intake(report) -> None:
    """How every command that stores files ends: a line per refused or skipped file, the intake summary, and
    exit 1 if any file was refused or skipped."""
    _report_failures(report)
    for line in report.warnings:
        typer.echo(f"warning: {line}", err=True)
    typer.echo(f"intake: {report.summary()}")
    if not report.ok:
        raise typer.Exit(1)


def _note_unchecked(out: Path) -> None:
    typer.echo(f"note: not checked for unredacted identifiers (nothing is stored, but {out} holds passage text); "
               "`scr-text check` lists them", err=True)


@command()
def init(
    folder: Path = typer.Argument(Path("."), help="Project folder to set up (made if missing)."),
    force: bool = typer.Option(False, "--force", help="Overwrite config files already there."),
) -> None:
    """Set up a project folder: editable copies of the packaged settings, codebook, case-facts and guard configs.

    Commands run in that folder (or with $SCR_TEXT_HOME pointing at it) read its configs/, models/ and
    corpora/ before the packaged ones, and write the store and caches there."""
    import shutil

    from .locations import CONFIG_NAMES, PACKAGED_CONFIGS

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


ALLOW_IDENTIFIERS = typer.Option(False, "--allow-identifiers",
                                 help="Store documents even if the identifier guard finds possible unredacted identifiers.")


@command()
def ingest(
    inputs: List[Path] = typer.Argument(..., help="Files (.txt .md .docx .pdf) or folders."),
    allow_identifiers: bool = ALLOW_IDENTIFIERS,
) -> None:
    """Read, check for unredacted identifiers, segment and store review files; one transaction per file."""
    from .intake import ingest_files
    from .run import intake_check

    with ctx().open_store() as store:
        report = ingest_files(inputs, store, ctx().settings, check=intake_check(ctx().settings, allow_identifiers, store))
    _note_unread(inputs)
    _finish_intake(report)


@command()
def passages(out: Path = typer.Option(..., "--out", help="Output file: .csv or .parquet.")) -> None:
    """Export every stored passage (doc_id, passage, start, end, text)."""
    from .export import passages_frame, write_table

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
    from .run import corpus_inputs
    from .run import run as run_job

    corpus, out = corpus or default_corpus(), out or project_dir() / "out"
    with ctx().open_store() as store:
        result = run_job(corpus, out, store, ctx().settings, allow_identifiers=allow_identifiers)
    _note_unread([corpus_inputs(corpus)])
    _report_failures(result.intake)
    typer.echo(f"{len(result.doc_ids)} reviews, {result.n_passages} passages; {result.intake.summary()}")
    for name, path in result.outputs.items():
        typer.echo(f"  {name}: {path}")
    if not result.intake.ok:
        raise typer.Exit(1)


@command()
def train(
    corpus: Optional[Path] = typer.Option(None, "--corpus", help="Labelled corpus (texts/, passages.jsonl); default: "
                                          "the project's corpora/dev, else the sample corpus."),
    out: Optional[Path] = typer.Option(None, "--out", help="Model folder to write (default: models/default in the "
                                       "project folder)."),
    folds: int = typer.Option(5, "--folds", min=2, help="Folds for the model card's cross-validated metrics."),
    codebook: Optional[Path] = typer.Option(None, "--codebook", help="Codebook file (default configs/codebook.yaml)."),
) -> None:
    """Train the tagger on coded passages and write it, with its model card, to OUT."""
    from .codebook import load_codebook
    from .corpus import load_corpus
    from .train import train as train_model

    frame = load_codebook(codebook)
    out = out or project_dir() / "models" / "default"
    with ctx().open_store() as store:
        model = train_model(load_corpus(corpus or default_corpus()), store, ctx().settings, frame, out, out.name, folds=folds)
    macro = model.card["cv"]["macro"]
    typer.echo(f"model -> {out} (cross-validated macro-F1 {macro['f1']:.3f}, kappa {macro['kappa']:.3f}; see {out / 'MODEL_CARD.md'})")


@command()
def tag(
    inputs: List[Path] = typer.Argument(..., help="Files (.txt .md .docx .pdf) or folders."),
    out: Path = typer.Option(..., "--out", help="Output JSONL: one object per passage."),
    model: str = typer.Option("default", "--model", help="Model name under models/, or a model folder."),
    codebook: Optional[Path] = typer.Option(None, "--codebook", help="Codebook file (default configs/codebook.yaml)."),
) -> None:
    """Tag every passage of the given reviews with the codebook's codes, with evidence."""
    from .codebook import load_codebook
    from .tagging import tag_files

    with ctx().open_store() as store:
        n_docs, n_passages, failed = tag_files(inputs, out, ctx().settings, load_codebook(codebook), model, store)
    _note_unread(inputs)
    for line in failed:
        _fail(line)
    _note_unchecked(out)
    typer.echo(f"{n_docs} document(s), {n_passages} passages tagged -> {out}" + (f"; {len(failed)} failed" if failed else ""))
    if failed:
        raise typer.Exit(1)


@command()
def evaluate(
    corpus: Optional[Path] = typer.Option(None, "--corpus", help="Labelled corpus (texts/, passages.jsonl); default: "
                                          "the project's corpora/dev, else the sample corpus."),
    folds: int = typer.Option(5, "--folds", min=2, help="K for K-fold cross-validation grouped by review "
                              "(at most one fold per review)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Shuffle which reviews share a fold (default: one fixed split)."),
    by_style: bool = typer.Option(False, "--by-style", help="Leave one style out instead of K folds: per style in the "
                                  "corpus's styles.csv, train on every other style and test on it (new writers)."),
    tags: Optional[Path] = typer.Option(None, "--tags", help="Score this `tag` output file instead of cross-validating."),
    facts: bool = typer.Option(False, "--facts", help="Evaluate case facts and prevalence instead of passage codes."),
    guard: bool = typer.Option(False, "--guard", help="Evaluate the identifier guard: recall on a set of planted identifiers, "
                               "false alarms on the corpus's redacted reviews."),
    guard_set: Path = typer.Option(GUARD_SET, "--guard-set", show_default=False,
                                   help="JSONL of {text, identifiers: [{type, text}]} for --guard (default: the "
                                   "packaged set of planted identifiers)."),
    gold: Optional[Path] = typer.Option(None, "--gold", help="Gold passages.jsonl for --tags (default: the corpus's)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Also write the full result as JSON."),
    codebook: Optional[Path] = typer.Option(None, "--codebook", help="Codebook file (default configs/codebook.yaml)."),
) -> None:
    """Per-code precision, recall, F1 and kappa against gold: rules, classifier, combined and a TF-IDF baseline."""
    import json

    from .codebook import load_codebook
    from .corpus import load_corpus
    from .evaluate import cross_validate, format_intervals, format_table, score_tag_file

    frame = load_codebook(codebook)
    corpus = corpus or default_corpus()
    if guard:
        from .evaluate import evaluate_guard

        result, text = evaluate_guard(guard_set, ctx().settings, corpus)
        typer.echo(text)
    elif facts:
        from .evaluate import evaluate_facts

        with ctx().open_store() as store:
            result, text = evaluate_facts(load_corpus(corpus), store, ctx().settings, frame, folds)
        typer.echo(text)
    elif tags is not None:
        result = score_tag_file(tags, gold or corpus / "passages.jsonl", frame.ids, _resampling(ctx().settings))
        typer.echo(f"{result['n_paragraphs']} gold paragraphs in {result['documents']} document(s)")
        typer.echo(format_table({"systems": {"tagged": result}}))
    else:
        from .config import classifier_options
        from .evaluate import SYSTEMS, format_splits, style_splits, target_lines
        from .segment import Segmenter
        from .train import corpus_batch

        settings = ctx().settings
        segmenter = Segmenter(settings.segment, settings.limits.max_passages_per_document)
        gold = load_corpus(corpus)
        styles = gold.styles() if by_style else None  # checked before the slow part
        with ctx().open_store() as store:
            batch, Y, groups, _ = corpus_batch(gold, store, settings, frame, segmenter)
        result = cross_validate(batch, Y, groups, frame.ids, folds=folds, options=classifier_options(settings, frame),
                                progress=lambda n, k: typer.echo(f"fold {n}/{k} done", err=True), seed=seed,
                                resampling=_resampling(settings),
                                splits=style_splits(groups, styles) if by_style else None,
                                # Held-out styles compare the shipped tagger with the rules and the baseline; the
                                # classifier without rules (a second fit per split) is left to K-fold.
                                systems=("rules", "combined", "baseline") if by_style else SYSTEMS)
        if by_style:
            typer.echo(f"leave-one-style-out: {result['folds']} styles, {len(set(groups))} reviews, {len(Y)} passages")
        else:
            split = "" if seed is None else f", reviews shuffled into folds with seed {seed}"
            typer.echo(f"{result['folds']}-fold cross-validation grouped by review{split}: {len(set(groups))} reviews, "
                       f"{len(Y)} passages")
        typer.echo(format_table(result))
        if result["rules_decide"]:  # the rule fallback (README "Models"): codes too rare in some training folds
            typer.echo("combined: decided by the rule stage alone in some folds: " + ", ".join(
                f"{code} ({n} of {result['folds']})" for code, n in result["rules_decide"].items()))
        if by_style:
            typer.echo("\nmacro-F1 on each style when it is held out:\n" + format_splits(result))
        typer.echo("\n".join(target_lines(result, settings.extra.get("evaluate", {}).get("targets", {}),
                                         "styles" if by_style else "folds")))
    if result.get("intervals"):  # none with fewer than two reviews
        typer.echo("\n" + format_intervals(result["intervals"]))
    if out is not None:
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def _resampling(settings: Settings) -> dict | None:
    """The bootstrap over reviews behind `evaluate`'s intervals (settings `evaluate.bootstrap`, `.seed`)."""
    cfg = settings.extra.get("evaluate", {})
    n_boot = int(cfg.get("bootstrap", 1000))
    return {"n_boot": n_boot, "seed": int(cfg.get("seed", 0))} if n_boot > 0 else None


@command()
def facts(
    inputs: List[Path] = typer.Argument(..., help="Files (.txt .md .docx .pdf) or folders."),
    out: Path = typer.Option(..., "--out", help="Output CSV (one row per review); evidence goes to a sibling .evidence.jsonl."),
    model: str = typer.Option("default", "--model", help="Model name under models/, or a model folder."),
) -> None:
    """Case facts per review (outcome, incident, proceedings, law, perpetrator, ...) with confidence and evidence."""
    from .codebook import load_codebook
    from .factsheet import facts_for_files

    with ctx().open_store() as store:
        n, failed = facts_for_files(inputs, out, ctx().settings, load_codebook(), model, store)
    _note_unread(inputs)
    for line in failed:
        _fail(line)
    _note_unchecked(out)
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
    from .run import run_prevalence

    corpus, out = corpus or default_corpus(), out or project_dir() / "out"
    with ctx().open_store() as store:
        paths, report = run_prevalence(corpus, out, store, ctx().settings, allow_identifiers)
    for name, path in paths.items():
        typer.echo(f"  {name}: {path}")
    _finish_intake(report)


@command()
def cluster(
    corpus: Optional[Path] = typer.Argument(None, help="Corpus folder, or any folder of reviews (default: the "
                                            "project's corpora/dev, else the sample corpus)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: out/ in the project folder)."),
    allow_identifiers: bool = ALLOW_IDENTIFIERS,
) -> None:
    """Recurring patterns: clusters of passages per view, with labels, code shares, exemplars and a map."""
    from .run import run_clusters

    corpus, out = corpus or default_corpus(), out or project_dir() / "out"
    with ctx().open_store() as store:
        paths, lines, report = run_clusters(corpus, out, store, ctx().settings, allow_identifiers)
    for line in lines:
        typer.echo(line)
    for name, path in paths.items():
        typer.echo(f"  {name}: {path}")
    _finish_intake(report)


def _model_key(codebook) -> str | None:
    from .modeldir import model_key, resolve_model_dir

    try:
        return model_key(resolve_model_dir(ctx().settings.extra.get("tagger", {}).get("model", "default")), codebook.hash)
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
    from .codebook import load_codebook
    from .coders import import_coding as do_import

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
    from .agreement_report import agreement_tables, format_agreement, write_agreement_csv, write_agreement_html
    from .codebook import load_codebook

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
    from .agreement_report import disagreement_items, write_disagreements
    from .codebook import load_codebook

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
    from .agreement_report import export_project
    from .codebook import load_codebook

    with ctx().open_store() as store:
        n_docs, n_coders = export_project(store, corpus, out, coder, load_codebook(), _model_key(load_codebook()))
    typer.echo(f"{n_docs} review(s), {n_coders} coder(s) -> {out}")


@command("export-qdc")
def export_qdc(out: Path = typer.Option(..., "--out", help="The .qdc codebook to write.")) -> None:
    """The codebook (ids, definitions, include and exclude notes) as a REFI-QDA codebook."""
    from .codebook import load_codebook
    from .qdpx import codebook_qdc

    out.write_text(codebook_qdc(load_codebook()), encoding="utf-8")
    typer.echo(f"-> {out}")


@command("export-corpus")
def export_corpus(
    out: Path = typer.Option(..., "--out", help="New (or empty) folder to write the corpus into."),
    coder: List[str] = typer.Option(..., "--coder", help="Coders whose coding to export (repeat for several)."),
    base: Optional[Path] = typer.Option(None, "--with", help="A labelled corpus to copy in first (e.g. corpora/dev)."),
) -> None:
    """Coders' coding (web app decisions, imports) as a labelled corpus that `train --corpus` reads."""
    from .codebook import load_codebook
    from .corpus import load_corpus
    from .corpus_export import export_corpus as do_export

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
    from .codebook import load_codebook
    from .coding import code_index, normalise_name
    from .qdpx_import import read_qdc

    index = code_index(load_codebook())
    codes = read_qdc(file)
    mapped = [(n, index.get(normalise_name(n))) for n, _ in codes]
    for name, target in mapped:
        typer.echo(f"{name}\t-> {target or 'UNMAPPED'}")
    typer.echo(f"{sum(1 for _, t in mapped if t)} of {len(mapped)} code(s) map to the codebook", err=True)


@command()
def serve(
    host: Optional[str] = typer.Option(None, "--host", help="Address to listen on (default from the config: 127.0.0.1)."),
    port: Optional[int] = typer.Option(None, "--port", help="Port (default from the config: 8765)."),
    token: Optional[str] = typer.Option(None, "--token", envvar="SCR_TEXT_TOKEN",
                                        help="Required on non-loopback addresses; pass ?token=... once in the browser."),
) -> None:
    """The analyst web app over the project store."""
    import socket

    import uvicorn

    from .app import create_app

    cfg = ctx().settings.extra.get("app", {})
    host = host or cfg.get("host", "127.0.0.1")
    port = port or int(cfg.get("port", 8765))
    try:  # before announcing the address: uvicorn would print it, then fail with a log line and exit 1
        socket.create_server((host, port)).close()
    except OSError as exc:
        reason = (exc.strerror or str(exc)).split(" (while attempting")[0]  # the address is said already
        raise UserError(f"cannot listen on {host}:{port} ({reason}); choose another --host or --port") from exc
    application = create_app(ctx().store_path, ctx().settings, host, token)
    typer.echo(f"scr-text web app on http://{host}:{port}/" + (f"?token={token}" if token else ""))
    uvicorn.run(application, host=host, port=port, log_level="warning")


EXIT_FINDINGS = 3


@command()
def check(
    inputs: List[Path] = typer.Argument(..., help="Files (.txt .md .docx .pdf) or folders."),
    format: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """List possible unredacted identifiers. Exit 0: none found; 3: some found; 2: error."""
    import json

    from .guard import guard_for, settle
    from .segment import Segmenter
    from .train import read_documents

    if format not in ("text", "json"):
        raise UserError("--format must be text or json")
    settings = ctx().settings
    documents, failed = read_documents(inputs, settings)
    if failed:
        raise UserError("; ".join(failed))
    _note_unread(inputs)
    segmenter = Segmenter(settings.segment, settings.limits.max_passages_per_document)
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
    from .guard import load_guard_config

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


@command()
def redact(
    inputs: List[Path] = typer.Argument(..., help="Files (.txt .md .docx .pdf) or folders."),
    out: Path = typer.Option(..., "--out", help="Folder for the redacted copies (<doc_id>.txt, UTF-8)."),
) -> None:
    """Write redacted copies: each possible identifier replaced by a typed placeholder ([PERSON], ...)."""
    from .guard import guard_for
    from .segment import Segmenter
    from .train import read_documents

    settings = ctx().settings
    documents, failed = read_documents(inputs, settings)
    segmenter = Segmenter(settings.segment, settings.limits.max_passages_per_document)
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
    _note_unread(inputs)
    for line in failed:
        _fail(line)
    typer.echo(f"{len(documents)} document(s), {total} identifier(s) replaced -> {out}")
    if failed:
        raise typer.Exit(1)


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
        _fail(str(exc))
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        _fail("interrupted")
        sys.exit(130)
    except OSError as exc:  # a path the user gave that cannot be read or written (an output folder that is a file)
        if debug:
            raise
        reason = "exists and is not a folder" if isinstance(exc, FileExistsError) else (exc.strerror or str(exc))
        _fail(f"{exc.filename}: {reason}" if exc.filename else reason)
        sys.exit(EXIT_ERROR)
    except typer.Abort:
        sys.exit(1)
    except typer.TyperException as exc:  # usage errors (Typer carries its own click): usage line, exit 2
        if hasattr(exc, "show"):
            exc.show()
        else:
            _fail(exc.format_message())
        sys.exit(exc.exit_code)
    except Exception as exc:  # anything unforeseen
        if debug:
            raise
        _fail(f"{exc.__class__.__name__}: {exc} (run with --debug for the traceback)")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
