"""The main job: every stage over a corpus, its outputs and an HTML summary in one folder."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .codebook import load_codebook
from .config import Settings
from .embed import Embedder
from .errors import UserError
from .export import passages_frame, write_table
from .intake import IntakeReport, ingest_files
from .report import render
from .store import Store
from .tagging import tag_stored, write_jsonl
from .factsheet import facts_for_stored, write_facts, write_prevalence


@dataclass
class RunResult:
    out_dir: Path
    intake: IntakeReport
    doc_ids: list[str]
    n_passages: int
    timings: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, Path] = field(default_factory=dict)
    codebook: object = None
    model_key: str = ""
    tag_rows: list[dict] = field(default_factory=list)


def corpus_inputs(corpus: Path) -> Path:
    """A corpus folder in the shipped layout has its reviews under texts/; any other folder is read as is."""
    if not corpus.exists():
        raise UserError(f"{corpus}: corpus folder not found")
    return corpus / "texts" if (corpus / "texts").is_dir() else corpus


def intake_check(settings: Settings, allow_identifiers: bool):
    """The identifier guard's check for intake, unless the user allowed identifiers."""
    if allow_identifiers:
        return None
    from .guard import guard_for, ingest_check

    return ingest_check(guard_for(settings))


def run(corpus: Path, out_dir: Path, store: Store, settings: Settings, progress: bool = True,
        allow_identifiers: bool = False) -> RunResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    codebook = load_codebook()
    run_id = store.start_run("run", {"corpus": str(corpus), "out": str(out_dir)})

    t = time.perf_counter()
    intake = ingest_files([corpus_inputs(corpus)], store, settings, progress=progress,
                          check=intake_check(settings, allow_identifiers))
    timings["ingest"] = time.perf_counter() - t
    doc_ids = sorted(intake.added + intake.replaced + intake.unchanged)
    passages = [p for d in doc_ids for p in store.passages(d)]

    t = time.perf_counter()
    Embedder(settings.embed, cache=store, progress=progress).transform([p.text for p in passages])
    timings["embed"] = time.perf_counter() - t

    t = time.perf_counter()
    model_name = settings.extra.get("tagger", {}).get("model", "default")
    key, rows = tag_stored(store, doc_ids, settings, codebook, model_name, run_id, progress)
    timings["tag"] = time.perf_counter() - t

    t = time.perf_counter()
    fact_items = facts_for_stored(store, doc_ids, rows, settings, codebook, model_name)
    timings["facts"] = time.perf_counter() - t

    result = RunResult(out_dir, intake, doc_ids, len(passages), timings, codebook=codebook, model_key=key, tag_rows=rows)
    result.outputs["passages"] = write_table(passages_frame(passages), out_dir / "passages.csv")
    write_jsonl(rows, out_dir / "tags.jsonl")
    result.outputs["tags"] = out_dir / "tags.jsonl"
    result.outputs["facts"], result.outputs["facts_evidence"] = write_facts(fact_items, out_dir / "facts.csv")
    gold = _gold_cases(corpus, doc_ids)
    result.outputs.update(write_prevalence([row for row, _ in fact_items], codebook, out_dir, gold))
    result.outputs["summary"] = render.write_summary(result, out_dir / "summary.html")
    store.finish_run(run_id, "ok" if intake.ok else "partial")
    return result


def _gold_cases(corpus: Path, doc_ids: list[str]) -> list[dict] | None:
    """The corpus's gold case facts for the reviews run, when it has them for every one."""
    import csv

    path = corpus / "cases.csv"
    if not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8") as fh:
        rows = {r["doc_id"]: r for r in csv.DictReader(fh)}
    return [rows[d] for d in doc_ids] if all(d in rows for d in doc_ids) else None


def run_prevalence(corpus: Path, out_dir: Path, store: Store, settings: Settings,
                   allow_identifiers: bool = False) -> tuple[dict[str, Path], IntakeReport]:
    """Ingest (if needed), tag and extract facts for a corpus, then write the prevalence outputs."""
    codebook = load_codebook()
    intake = ingest_files([corpus_inputs(corpus)], store, settings, progress=True,
                          check=intake_check(settings, allow_identifiers))
    doc_ids = sorted(intake.added + intake.replaced + intake.unchanged)
    if not doc_ids:
        raise UserError(f"{corpus}: no review could be read")
    model_name = settings.extra.get("tagger", {}).get("model", "default")
    _, rows = tag_stored(store, doc_ids, settings, codebook, model_name)
    items = facts_for_stored(store, doc_ids, rows, settings, codebook, model_name)
    paths = write_prevalence([row for row, _ in items], codebook, out_dir, _gold_cases(corpus, doc_ids))
    paths["facts"], paths["facts_evidence"] = write_facts(items, out_dir / "facts.csv")
    return paths, intake
