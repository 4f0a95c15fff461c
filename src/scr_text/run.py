"""The main job: every stage over a corpus, its outputs and an HTML summary in one folder."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from .codebook import load_codebook
from .config import Settings
from .corpus import read_cases
from .embed import Embedder
from .errors import UserError
from .export import passages_frame, write_table
from .factsheet import facts_for_stored, rows_to_scores, write_facts, write_prevalence
from .hashing import text_key
from .intake import IntakeReport, ingest_files
from .report import render
from .segment import Segmenter
from .store import Store
from .tagging import tag_stored, write_jsonl


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
    cluster_lines: list[str] = field(default_factory=list)


def corpus_inputs(corpus: Path) -> Path:
    """A corpus folder in the shipped layout has its reviews under texts/; any other folder is read as is."""
    if not corpus.exists():
        raise UserError(f"{corpus}: corpus folder not found")
    return corpus / "texts" if (corpus / "texts").is_dir() else corpus


def intake_check(settings: Settings, allow_identifiers: bool, store: Store):
    """The identifier guard's check for intake (with the store's dismissals), unless the user allowed identifiers."""
    if allow_identifiers:
        return None
    from .guard import ingest_check

    return ingest_check(settings, store)


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

    t = time.perf_counter()
    Embedder(settings.embed, cache=store, progress=progress).transform([p.text for p in passages])
    timings["embed"] = time.perf_counter() - t

    t = time.perf_counter()
    model_name = settings.extra.get("tagger", {}).get("model", "default")
    result.model_key, result.tag_rows = tag_stored(store, doc_ids, settings, codebook, model_name, run_id, progress)
    timings["tag"] = time.perf_counter() - t

    t = time.perf_counter()
    fact_items = facts_for_stored(store, doc_ids, result.tag_rows, settings, codebook, model_name)
    timings["facts"] = time.perf_counter() - t

    result.outputs["passages"] = write_table(passages_frame(passages), out_dir / "passages.csv")
    write_jsonl(result.tag_rows, out_dir / "tags.jsonl")
    result.outputs["tags"] = out_dir / "tags.jsonl"
    result.outputs["facts"], result.outputs["facts_evidence"] = write_facts(fact_items, out_dir / "facts.csv")
    gold = _gold_cases(corpus, doc_ids)
    result.outputs.update(write_prevalence([row for row, _ in fact_items], codebook, out_dir, gold))
    if len(doc_ids) >= 2:  # one review has no recurring patterns to find
        t = time.perf_counter()
        cluster_paths, result.cluster_lines = cluster_stored(store, doc_ids, result.tag_rows, settings, codebook,
                                                             out_dir, result.model_key)
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
    stored (every file refused), no doc_ids and no rows: the caller reports the intake as `run` does."""
    codebook = load_codebook()
    intake = ingest_files([corpus_inputs(corpus)], store, settings, progress=True,
                          check=intake_check(settings, allow_identifiers, store))
    doc_ids = sorted(intake.added + intake.replaced + intake.unchanged)
    model_name = settings.extra.get("tagger", {}).get("model", "default")
    if not doc_ids:
        return codebook, intake, doc_ids, model_name, None, []
    key, rows = tag_stored(store, doc_ids, settings, codebook, model_name)
    return codebook, intake, doc_ids, model_name, key, rows


def run_prevalence(corpus: Path, out_dir: Path, store: Store, settings: Settings,
                   allow_identifiers: bool = False) -> tuple[dict[str, Path], IntakeReport]:
    """Ingest (if needed), tag and extract facts for a corpus, then write the prevalence outputs."""
    codebook, intake, doc_ids, model_name, _, rows = _ingest_and_tag(corpus, store, settings, allow_identifiers)
    if not doc_ids:
        return {}, intake
    items = facts_for_stored(store, doc_ids, rows, settings, codebook, model_name)
    paths = write_prevalence([row for row, _ in items], codebook, out_dir, _gold_cases(corpus, doc_ids))
    paths["facts"], paths["facts_evidence"] = write_facts(items, out_dir / "facts.csv")
    return paths, intake


LATEST_CLUSTERS = "clusters:latest"


def cluster_stored(store: Store, doc_ids: list[str], tag_rows: list[dict], settings: Settings, codebook,
                   out_dir: Path, model_key: str) -> tuple[dict[str, Path], list[str]]:
    """Cluster the stored reviews' passages in every configured view and write the outputs; the same
    reviews, model and settings again reuse the stored outputs."""
    cfg = settings.extra.get("cluster", {})
    key = "clusters:" + text_key(json.dumps([doc_ids, store.document_hashes(doc_ids), model_key, cfg,
                                             settings.embed.model], sort_keys=True, default=str))
    cached = store.get_artifacts(key)  # {"<output name>/<file name>": bytes, "summary": bytes}
    if cached:
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {}
        for name, data in cached.items():
            if name != "summary":
                output, filename = name.split("/", 1)
                paths[output] = out_dir / filename
                paths[output].write_bytes(data)
        return paths, cached["summary"].decode("utf-8").splitlines()
    paths, lines = _cluster(store, doc_ids, tag_rows, settings, codebook, out_dir, cfg)
    store.put_artifacts(key, {f"{name}/{p.name}": p.read_bytes() for name, p in paths.items()}
                        | {"summary": "\n".join(lines).encode("utf-8")})
    # The most recent map, whatever reviews it covers: the web app shows it while a newer one is made.
    store.put_artifacts(LATEST_CLUSTERS, {"clusters_html": paths["clusters_html"].read_bytes(),
                                          "doc_ids": json.dumps(doc_ids).encode("utf-8")})
    return paths, lines


def _cluster(store: Store, doc_ids: list[str], tag_rows: list[dict], settings: Settings, codebook, out_dir: Path,
             cfg: dict) -> tuple[dict[str, Path], list[str]]:
    from .patterns import cluster_view, summary_lines, write_outputs
    from .train import stored_passages

    segmenter = Segmenter(settings.segment, settings.limits.max_passages_per_document)
    passages = stored_passages(store, doc_ids, segmenter)
    embeddings = Embedder(settings.embed, cache=store).transform([p.text for p in passages])
    scores, decided = rows_to_scores(tag_rows, codebook.ids)
    results = [cluster_view(view, passages, embeddings, scores, decided, codebook, cfg)
               for view in cfg.get("views", ["all", "practice_learning", "risk_factor"])]
    texts = {d: store.document(d).text for d in doc_ids}
    return write_outputs(results, passages, decided, codebook, texts, out_dir), summary_lines(results)


def run_clusters(corpus: Path, out_dir: Path, store: Store, settings: Settings,
                 allow_identifiers: bool = False) -> tuple[dict[str, Path], list[str], IntakeReport]:
    """Ingest (if needed), tag and cluster a corpus, then write the cluster outputs."""
    codebook, intake, doc_ids, _, key, rows = _ingest_and_tag(corpus, store, settings, allow_identifiers)
    if not doc_ids:
        return {}, [], intake
    paths, lines = cluster_stored(store, doc_ids, rows, settings, codebook, out_dir, key)
    return paths, lines, intake
