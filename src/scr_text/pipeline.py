"""The main job: every stage over a corpus, its outputs and an HTML summary in one folder.

Read top-down, this is the path of a passage: intake (read, guard, segment, store), embed, tag, case facts,
clusters, reports. The heavy parts are assembled once per job in ``Components`` and shared by the stages."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from scr_text.clusters.stored import cluster_stored
from scr_text.codebook import load_codebook
from scr_text.config import Settings
from scr_text.corpus import corpus_inputs, read_cases
from scr_text.facts.sheet import facts_for_stored, write_facts, write_prevalence
from scr_text.ingest.intake import IntakeReport, ingest_files
from scr_text.privacy.guard import intake_check
from scr_text.records import TagTable
from scr_text.report import render
from scr_text.store.database import Store
from scr_text.tables import passages_frame, write_jsonl, write_table
from scr_text.tagging.apply import tag_stored
from scr_text.tagging.components import Components


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
    tags: TagTable | None = None
    cluster_lines: list[str] = field(default_factory=list)


def run(corpus: Path, out_dir: Path, store: Store, settings: Settings, progress: bool = True,
        allow_identifiers: bool = False) -> RunResult:
    run_id = store.start_run("run", {"corpus": str(corpus), "out": str(out_dir)})
    try:
        result = _run_stages(corpus, out_dir, store, settings, progress, allow_identifiers, run_id)
    except BaseException:
        store.finish_run(run_id, "failed")
        raise
    store.finish_run(run_id, "ok" if result.intake.ok else "partial")
    return result


def _run_stages(corpus: Path, out_dir: Path, store: Store, settings: Settings, progress: bool,
                allow_identifiers: bool, run_id: int) -> RunResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    codebook = load_codebook()

    t = time.perf_counter()
    intake = ingest_files([corpus_inputs(corpus)], store, settings, progress=progress,
                          check=intake_check(settings, allow_identifiers, store))
    timings["ingest"] = time.perf_counter() - t
    doc_ids = sorted(intake.added + intake.replaced + intake.unchanged)
    passages = [p for d in doc_ids for p in store.passages(d)]
    result = RunResult(out_dir, intake, doc_ids, len(passages), timings, codebook=codebook)
    if not doc_ids:  # every file failed: report that, and nothing else
        result.outputs["summary"] = render.write_summary(result, out_dir / "summary.html")
        return result

    parts = Components(settings, store, codebook, progress=progress)
    t = time.perf_counter()
    parts.embed(passages)  # into the store's cache, with a progress bar: the stages below read it from there
    timings["embed"] = time.perf_counter() - t

    t = time.perf_counter()
    result.model_key, result.tags = tag_stored(parts, doc_ids, run_id, progress)
    timings["tag"] = time.perf_counter() - t

    t = time.perf_counter()
    fact_items = facts_for_stored(parts, doc_ids, result.tags)
    timings["facts"] = time.perf_counter() - t

    result.outputs["passages"] = write_table(passages_frame(passages), out_dir / "passages.csv")
    write_jsonl(result.tags.rows(), out_dir / "tags.jsonl")
    result.outputs["tags"] = out_dir / "tags.jsonl"
    result.outputs["facts"], result.outputs["facts_evidence"] = write_facts(fact_items, out_dir / "facts.csv")
    gold = _gold_cases(corpus, doc_ids)
    result.outputs.update(write_prevalence([row for row, _ in fact_items], codebook, out_dir, gold))
    if len(doc_ids) >= 2:  # one review has no recurring patterns to find
        t = time.perf_counter()
        cluster_paths, result.cluster_lines = cluster_stored(parts, doc_ids, result.tags, out_dir)
        result.outputs.update(cluster_paths)
        timings["cluster"] = time.perf_counter() - t
    (out_dir / "timings.json").write_text(json.dumps({k: round(v, 3) for k, v in timings.items()}, indent=1) + "\n")
    result.outputs["timings"] = out_dir / "timings.json"
    result.outputs["summary"] = render.write_summary(result, out_dir / "summary.html")
    return result


def _gold_cases(corpus: Path, doc_ids: list[str]) -> list[dict] | None:
    """The corpus's gold case facts for the reviews run, when it has them for every one."""
    rows = {r["doc_id"]: r for r in read_cases(corpus / "cases.csv")}
    return [rows[d] for d in doc_ids] if all(d in rows for d in doc_ids) else None


def _ingest_and_tag(corpus: Path, store: Store, settings: Settings, allow_identifiers: bool):
    """What the corpus commands share: ingest (if needed) and tag (if needed) a corpus's reviews. With no review
    stored (every file refused), no doc_ids and no tags: the caller reports the intake as `run` does."""
    intake = ingest_files([corpus_inputs(corpus)], store, settings, progress=True,
                          check=intake_check(settings, allow_identifiers, store))
    doc_ids = sorted(intake.added + intake.replaced + intake.unchanged)
    parts = Components(settings, store)
    tags = tag_stored(parts, doc_ids)[1] if doc_ids else None
    return parts, intake, doc_ids, tags


def run_prevalence(corpus: Path, out_dir: Path, store: Store, settings: Settings,
                   allow_identifiers: bool = False) -> tuple[dict[str, Path], IntakeReport]:
    """Ingest (if needed), tag and extract facts for a corpus, then write the prevalence outputs."""
    parts, intake, doc_ids, tags = _ingest_and_tag(corpus, store, settings, allow_identifiers)
    if not doc_ids:
        return {}, intake
    items = facts_for_stored(parts, doc_ids, tags)
    paths = write_prevalence([row for row, _ in items], parts.codebook, out_dir, _gold_cases(corpus, doc_ids))
    paths["facts"], paths["facts_evidence"] = write_facts(items, out_dir / "facts.csv")
    return paths, intake


def run_clusters(corpus: Path, out_dir: Path, store: Store, settings: Settings,
                 allow_identifiers: bool = False) -> tuple[dict[str, Path], list[str], IntakeReport]:
    """Ingest (if needed), tag and cluster a corpus, then write the cluster outputs."""
    parts, intake, doc_ids, tags = _ingest_and_tag(corpus, store, settings, allow_identifiers)
    if not doc_ids:
        return {}, [], intake
    paths, lines = cluster_stored(parts, doc_ids, tags, out_dir)
    return paths, lines, intake
