"""Commands that train the tagger and evaluate it."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from scr_text.cli.base import command, ctx
from scr_text.config import Settings
from scr_text.formatting import format_number
from scr_text.locations import GUARD_SET, default_corpus, project_dir


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
    from scr_text.codebook import load_codebook
    from scr_text.corpus import load_corpus
    from scr_text.training.train import train as train_model

    frame = load_codebook(codebook)
    out = out or project_dir() / "models" / "default"
    with ctx().open_store() as store:
        model = train_model(load_corpus(corpus or default_corpus()), store, ctx().settings, frame, out, out.name, folds=folds)
    macro = model.card["cv"]["macro"]
    typer.echo(f"model -> {out} (cross-validated macro-F1 {macro['f1']:.3f}, kappa {macro['kappa']:.3f}; see {out / 'MODEL_CARD.md'})")


@command()
def retrain(
    coder: List[str] = typer.Option(..., "--coder", help="Coders whose coding to train on (repeat for several)."),
    name: Optional[str] = typer.Option(None, "--name", help="The new model's name (default retrained-<UTC time>)."),
) -> None:
    """Train a new model on the base corpus (app.retrain.base_corpus) plus coders' coding, and print its
    F1 on their reviews before (the current model) and after (the new one's fits, out of fold)."""
    from scr_text.codebook import load_codebook
    from scr_text.store.database import Store
    from scr_text.training.retrain import per_code_rows, training_store_path
    from scr_text.training.retrain import retrain as do_retrain

    c = ctx()
    with c.open_store() as store, Store(training_store_path(c.store_path), c.settings.store.busy_timeout_s) as work:
        result = do_retrain(store, coder, c.settings, load_codebook(), work, name,
                            step=lambda text, _share: typer.echo(f"... {text}", err=True))
    typer.echo(f"{'code':<28} {'coded':>5} {'F1 before':>9} {'F1 after':>9}")
    for code, n, before, after in per_code_rows(result):
        typer.echo(f"{code:<28} {n:>5} {format_number(before):>9} {format_number(after):>9}")
    typer.echo(f"{'macro':<28} {'':>5} {result.before['macro']['f1']:>9.3f} {result.after['macro']['f1']:>9.3f}")
    typer.echo(f"{len(result.reviews)} coded review(s), {result.passages} passages; model -> {project_dir() / 'models' / result.model} "
               f"(corpus kept in corpora/{result.model}); to use it, set tagger.model: {result.model} in configs/pipeline.yaml")


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

    from scr_text.codebook import load_codebook
    from scr_text.corpus import load_corpus
    from scr_text.evaluation.cross_validation import cross_validate
    from scr_text.evaluation.tables import format_intervals, format_table
    from scr_text.evaluation.tag_file import score_tag_file

    frame = load_codebook(codebook)
    corpus = corpus or default_corpus()
    if guard:
        from scr_text.evaluation.guard_eval import evaluate_guard

        result, text = evaluate_guard(guard_set, ctx().settings, corpus)
        typer.echo(text)
    elif facts:
        from scr_text.evaluation.facts_eval import evaluate_facts

        with ctx().open_store() as store:
            result, text = evaluate_facts(load_corpus(corpus), store, ctx().settings, frame, folds)
        typer.echo(text)
    elif tags is not None:
        result = score_tag_file(tags, gold or corpus / "passages.jsonl", frame.ids, _resampling(ctx().settings))
        typer.echo(f"{result['n_paragraphs']} gold paragraphs in {result['documents']} document(s)")
        typer.echo(format_table({"systems": {"tagged": result}}))
    else:
        from scr_text.evaluation.cross_validation import SYSTEMS, style_splits
        from scr_text.evaluation.tables import format_splits, target_lines
        from scr_text.nlp.segment import Segmenter
        from scr_text.tagging.batch import corpus_batch
        from scr_text.tagging.options import classifier_options

        settings = ctx().settings
        segmenter = Segmenter.from_settings(settings)
        gold = load_corpus(corpus)
        styles = gold.styles() if by_style else None  # checked before the slow part
        with ctx().open_store() as store:
            batch, Y, groups, _ = corpus_batch(gold, store, settings, frame, segmenter)
        result = cross_validate(batch, Y, groups, frame.ids, folds=folds, options=classifier_options(settings.tagger, frame),
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
        typer.echo("\n".join(target_lines(result, settings.evaluate.targets,
                                         "styles" if by_style else "folds")))
    if result.get("intervals"):  # none with fewer than two reviews
        typer.echo("\n" + format_intervals(result["intervals"]))
    if out is not None:
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def _resampling(settings: Settings) -> dict | None:
    """The bootstrap over reviews behind `evaluate`'s intervals (settings `evaluate.bootstrap`, `.seed`)."""
    cfg = settings.evaluate
    return {"n_boot": int(cfg.bootstrap), "seed": int(cfg.seed)} if cfg.bootstrap > 0 else None
