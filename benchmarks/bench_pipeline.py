"""Pipeline throughput and overhead on the shipped corpus.

Prints, for corpora/dev: tokens/s of segmentation, passages/s of embedding, the cold and warm
wall time of `scr-text run`, and, in the same run, the raw throughput of the same spaCy pipeline
(same components) and the same embedding model on the same text, so that the pipeline's
overhead is a ratio. Each measurement is a fresh process: model loading counts on both sides.

    .venv/bin/python benchmarks/bench_pipeline.py [--corpus corpora/dev]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAW = r"""
import json, sys, time
t0 = time.perf_counter()
from scr_text.config import load_settings
from scr_text.nlp.segment import paragraph_spans
import spacy
s = load_settings()
paths = sorted(__import__('pathlib').Path(sys.argv[1]).glob('*.txt'))
texts = [p.read_text(encoding='utf-8') for p in paths]
paras = [t[a:b] for t in texts for a, b in paragraph_spans(t)]
t1 = time.perf_counter()
nlp = spacy.load(s.segment.model)
for n in s.segment.disable:
    nlp.disable_pipe(n)
for n in s.segment.enable:
    nlp.enable_pipe(n)
tokens = sum(len(d) for d in nlp.pipe(paras, batch_size=s.segment.batch_size))
t2 = time.perf_counter()
from sentence_transformers import SentenceTransformer
from scr_text.embed.encoder import resolve_model_path
m = SentenceTransformer(str(resolve_model_path(s.embed.model)), device='cpu', local_files_only=True)
m.encode(paras, batch_size=s.embed.batch_size, normalize_embeddings=True)
t3 = time.perf_counter()
print(json.dumps({"paragraphs": len(paras), "tokens": tokens, "spacy_s": t2 - t1, "embed_s": t3 - t2, "total_s": t3 - t0}))
"""


def timed(cmd: list[str]) -> tuple[float, str]:
    t = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{res.stderr[-2000:]}")
    return time.perf_counter() - t, res.stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(Path(__file__).resolve().parents[1] / "corpora" / "dev"))
    args = ap.parse_args()
    corpus = Path(args.corpus)
    _, out = timed([sys.executable, "-c", RAW, str(corpus / "texts")])
    raw = json.loads(out)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "scr_text", "--store", f"{tmp}/bench.sqlite", "run", str(corpus), "--out", f"{tmp}/out"]
        cold, _ = timed(cmd)
        stages = json.loads(Path(f"{tmp}/out/timings.json").read_text())
        warm, _ = timed(cmd)
        import sqlite3

        conn = sqlite3.connect(f"{tmp}/bench.sqlite")
        n_passages = conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
    print(f"corpus: {corpus} ({raw['paragraphs']} paragraphs, {raw['tokens']} tokens)")
    print(f"raw spaCy pipeline:        {raw['spacy_s']:6.2f} s  ({raw['tokens'] / raw['spacy_s']:,.0f} tokens/s)")
    print(f"raw embedding model:       {raw['embed_s']:6.2f} s  ({raw['paragraphs'] / raw['embed_s']:,.1f} passages/s)")
    print(f"raw process total:         {raw['total_s']:6.2f} s  (imports, loading, spaCy, embedding)")
    foundation = stages["ingest"] + stages["embed"]
    print(f"scr-text run, cold:        {cold:6.2f} s  (new store, every stage; {n_passages} passages)")
    print("  stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items()))
    print(f"scr-text run, warm:        {warm:6.2f} s  (same store, nothing changed)")
    print(f"ingest+segment+embed / raw spaCy+embedding: {foundation / (raw['spacy_s'] + raw['embed_s']):.2f}   (target <= 1.25)")
    print(f"warm / cold:               {warm / cold:6.1%}  (target <= 5%)")


if __name__ == "__main__":
    main()
