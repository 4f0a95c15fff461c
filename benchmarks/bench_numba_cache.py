"""Cold and warm cost of clustering: numba compiles UMAP's and pynndescent's kernels on first use, and
scr-text points NUMBA_CACHE_DIR at .cache/numba so that a second process loads them instead.

Runs the same clustering (the shipped corpus, all passages) in two fresh processes against an emptied
cache folder and prints both times.   .venv/bin/python benchmarks/bench_numba_cache.py
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

JOB = r"""
import sys, time
t0 = time.perf_counter()
from scr_text.locations import SAMPLE_CORPUS
from scr_text.config import load_settings
from scr_text.embed.encoder import Embedder
from scr_text.ingest.intake import ingest_files
from scr_text.store.database import Store
from scr_text.clusters.density import PassageClusterer
s = load_settings()
with Store(sys.argv[1]) as store:
    ingest_files([SAMPLE_CORPUS / "texts"], store, s, progress=False)
    X = Embedder(s.embed, cache=store).transform([p.text for p in store.passages()])
t1 = time.perf_counter()
PassageClusterer(s.cluster).fit_predict(X)
print(f"{time.perf_counter() - t1:.2f}")
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "numba"
        env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
        store = str(Path(tmp) / "s.sqlite")
        # Fill the embedding cache first, so that both timed runs differ only in the numba cache.
        subprocess.run([sys.executable, "-c", JOB, store], env=env, check=True, capture_output=True)
        shutil.rmtree(cache, ignore_errors=True)
        cold = subprocess.run([sys.executable, "-c", JOB, store], env=env, check=True, capture_output=True, text=True)
        warm = subprocess.run([sys.executable, "-c", JOB, store], env=env, check=True, capture_output=True, text=True)
    print("clustering 1,309 passages (UMAP + HDBSCAN), fresh process each:")
    print(f"  cold (empty numba cache): {cold.stdout.strip()} s")
    print(f"  warm (cache from the cold run): {warm.stdout.strip()} s")


if __name__ == "__main__":
    main()
