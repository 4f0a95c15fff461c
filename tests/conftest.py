"""Shared fixtures: real components (spaCy pipeline, embedding model, SQLite files), small real documents."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scr_text.config import load_settings
from scr_text.locations import SAMPLE_CORPUS
from scr_text.store.database import Store

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def settings():
    return load_settings()


@pytest.fixture(scope="session")
def segmenter(settings):
    from scr_text.nlp.segment import Segmenter

    return Segmenter(settings.segment, settings.limits.max_passages_per_document)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return SAMPLE_CORPUS


@pytest.fixture(scope="session")
def gold_passages(corpus_dir):
    return [json.loads(line) for line in (corpus_dir / "passages.jsonl").read_text().splitlines()]


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "store.sqlite") as s:
        yield s


@pytest.fixture
def small_corpus(tmp_path, corpus_dir) -> Path:
    """Three shipped reviews in the corpus layout."""
    out = tmp_path / "corpus"
    (out / "texts").mkdir(parents=True)
    for name in ("d01.txt", "d02.txt", "d03.txt"):
        shutil.copy(corpus_dir / "texts" / name, out / "texts" / name)
    return out


@pytest.fixture
def corpus_subset(corpus_dir):
    """A function writing some shipped reviews to a folder in the corpus layout (texts/, their gold rows in
    passages.jsonl, their rows of cases.csv) and returning that folder."""
    from scr_text.corpus import load_corpus

    corpus = load_corpus(corpus_dir)
    return lambda out, docs: corpus.write_reviews(docs, out)


def copy_store(src: Path, dst: Path) -> Path:
    """A consistent copy of a store (SQLite's online backup), for tests that change it."""
    import sqlite3

    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    return dst


@pytest.fixture
def retrain_project(tmp_path, corpus_subset) -> Path:
    """A project folder set up for a test-sized retrain: a four-review base corpus (corpora/base), two folds."""
    from scr_text.locations import PACKAGED_CONFIGS

    home = tmp_path / "project"
    corpus_subset(home / "corpora" / "base", ["d01", "d02", "d03", "d04"])
    config = (PACKAGED_CONFIGS / "pipeline.yaml").read_text(encoding="utf-8")
    assert "    base_corpus:\n    folds: 5" in config
    (home / "configs").mkdir()
    (home / "configs" / "pipeline.yaml").write_text(
        config.replace("    base_corpus:\n    folds: 5", "    base_corpus: corpora/base\n    folds: 2"), encoding="utf-8")
    cache = Path.cwd() / ".cache"  # the OpenVINO export made for the corpus run, instead of a second one
    if cache.is_dir():
        (home / ".cache").symlink_to(cache)
    return home


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def corpus_run(tmp_path_factory, corpus_dir):
    """`scr-text run` over the whole shipped corpus once, into a fresh store: (store path, output folder)."""
    import subprocess
    import sys

    base = tmp_path_factory.mktemp("corpus-run")
    store, out = base / "store.sqlite", base / "out"
    res = subprocess.run([sys.executable, "-m", "scr_text", "--store", str(store), "run", str(corpus_dir), "--out", str(out)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    return store, out


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright, headless, with no background networking."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync"])
        yield b
        b.close()
