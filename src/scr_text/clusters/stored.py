"""Clustering the stored reviews' passages in every configured view, with the outputs kept in the store."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from scr_text.hashing import text_key
from scr_text.records import TagTable
from scr_text.tagging.components import Components

LATEST_CLUSTERS = "clusters:latest"


def cluster_stored(parts: Components, doc_ids: list[str], tags: TagTable,
                   out_dir: Path) -> tuple[dict[str, Path], list[str]]:
    """Cluster the stored reviews' passages in every configured view and write the outputs; the same
    reviews, model and settings again reuse the stored outputs."""
    store, cfg = parts.store, parts.settings.cluster
    key = "clusters:" + text_key(json.dumps([doc_ids, store.document_hashes(doc_ids), parts.model_key, asdict(cfg),
                                             parts.settings.embed.model], sort_keys=True, default=str))
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
    paths, lines = _cluster(parts, doc_ids, tags, out_dir)
    store.put_artifacts(key, {f"{name}/{p.name}": p.read_bytes() for name, p in paths.items()}
                        | {"summary": "\n".join(lines).encode("utf-8")})
    # The most recent map, whatever reviews it covers: the web app shows it while a newer one is made.
    store.put_artifacts(LATEST_CLUSTERS, {"clusters_html": paths["clusters_html"].read_bytes(),
                                          "doc_ids": json.dumps(doc_ids).encode("utf-8")})
    return paths, lines


def _cluster(parts: Components, doc_ids: list[str], tags: TagTable, out_dir: Path) -> tuple[dict[str, Path], list[str]]:
    from scr_text.clusters.patterns import cluster_view, summary_lines, write_outputs

    cfg, codebook = parts.settings.cluster, parts.codebook
    passages = parts.stored_passages(doc_ids)
    embeddings = parts.embed(passages)
    scores, decided = tags.scores, tags.decided
    results = [cluster_view(view, passages, embeddings, scores, decided, codebook, cfg) for view in cfg.views]
    texts = {d: parts.store.document(d).text for d in doc_ids}
    return write_outputs(results, passages, decided, codebook, texts, out_dir), summary_lines(results)
