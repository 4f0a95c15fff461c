"""Hardening: arbitrary input never crashes ingestion or segmentation and offsets always round-trip;
killed processes and concurrent writers leave a consistent store."""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time

from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from procs import count, kill_when
from scr_text import ingest
from scr_text.errors import IngestError
from scr_text.nlp.segment import paragraph_spans
from scr_text.records import Document
from test_store import consistent

# Text with the awkward parts of real files: odd Unicode, NULs, mixed newlines, very long lines.
AWKWARD = st.lists(
    st.one_of(
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
        st.sampled_from(["\n", "\r\n", "\r", "\n\n", " \n \n", "\t", "\x00", "\u2028", "\ufeff", "é", "ß", "👶🏽",
                         "\u200b", "Child D. ", "Mother said. "]),
    ),
    max_size=40,
).map("".join)
HYP = hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])


@HYP
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes_are_text_or_one_clear_error(tmp_path_factory, settings, data):
    f = tmp_path_factory.mktemp("bytes") / "x.txt"
    f.write_bytes(data)
    try:
        document = ingest.read(f, settings)
    except IngestError as exc:
        assert str(exc).startswith(str(f)) and "\n" not in str(exc)
        return
    assert document.text.strip() and "\r" not in document.text


@HYP
@given(text=AWKWARD, long_line=st.integers(min_value=0, max_value=30000))
def test_segmentation_of_awkward_text_round_trips(segmenter, text, long_line):
    text = text + ("word " * (long_line // 5))
    document = Document("h", "h.txt", "txt", "x", text)
    (passages,) = segmenter.transform([document])
    spans = paragraph_spans(text)
    assert all(text[p.start:p.end] == p.text for p in passages)
    assert all(p.text.strip() == p.text and p.text for p in passages)
    assert [p.index for p in passages] == list(range(len(passages)))
    # Every non-blank paragraph is covered, in order, without overlap.
    assert sum(len(p.text) for p in passages) <= sum(b - a for a, b in spans)
    assert all(a.end <= b.start for a, b in zip(passages, passages[1:]))


@HYP
@given(text=AWKWARD)
def test_file_round_trip_matches_what_python_reads(tmp_path_factory, settings, segmenter, text):
    data = text.encode("utf-8")
    # A NUL near the start makes the reader call the file binary or, where NULs alternate with other bytes
    # ("0\x00"), BOM-less UTF-16: not UTF-8 text, so not this property's business.
    assume(b"\x00" not in data[:4096])
    f = tmp_path_factory.mktemp("t") / "r.txt"
    f.write_bytes(data)
    try:
        document = ingest.read(f, settings)
    except IngestError:
        return
    as_read = open(f, encoding="utf-8").read()  # a leading "\ufeff" included, as the offsets contract says
    assert document.text == as_read
    (passages,) = segmenter.transform([document])
    assert all(as_read[p.start:p.end] == p.text for p in passages)
    if as_read.startswith("\ufeff"):
        assert all(p.start >= 1 for p in passages)  # the file's BOM is in no passage


def _corpus_subset(tmp_path, corpus_dir, n):
    texts = tmp_path / "texts"
    texts.mkdir()
    for f in sorted((corpus_dir / "texts").glob("*.txt"))[:n]:
        shutil.copy(f, texts)
    return texts


def test_two_processes_ingesting_into_one_store_lose_nothing(tmp_path, corpus_dir):
    texts = _corpus_subset(tmp_path, corpus_dir, 12)
    half_a = tmp_path / "a"
    half_a.mkdir()
    for f in sorted(texts.glob("*.txt"))[:8]:
        shutil.copy(f, half_a)
    store = tmp_path / "s.sqlite"
    cmd = [sys.executable, "-m", "scr_text", "--store", str(store), "ingest"]
    procs = [subprocess.Popen(cmd + [str(texts)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
             subprocess.Popen(cmd + [str(half_a)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
    outs = [p.communicate(timeout=600) for p in procs]
    for _, err in outs:
        assert "locked" not in err and "Traceback" not in err, err
    # The same eight files reached both: each is stored once, by whichever got there first;
    # the other sees it as unchanged (same stem and content).
    assert consistent(store) == (12, sum(1 for _ in open(corpus_dir / "passages.jsonl")
                                         if json.loads(_)["doc_id"] in {f.stem for f in texts.glob("*.txt")}))


def test_sigkill_during_run_tagging_then_rerun_completes_without_duplicates(tmp_path, corpus_dir):
    texts = _corpus_subset(tmp_path, corpus_dir, 10)
    store = tmp_path / "s.sqlite"
    cmd = [sys.executable, "-m", "scr_text", "--store", str(store), "run", str(texts), "--out", str(tmp_path / "out")]
    killed = kill_when(cmd, lambda: count(store, "SELECT COUNT(DISTINCT doc_id) FROM tags") >= 1)
    assert killed, "run finished before it could be killed"
    conn = sqlite3.connect(store)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # A document's tags are written whole or not at all: 14 codes for each of its passages.
    for doc_id, n_tags in conn.execute("SELECT doc_id, COUNT(*) FROM tags GROUP BY doc_id"):
        n_passages = conn.execute("SELECT COUNT(*) FROM passages WHERE doc_id=?", (doc_id,)).fetchone()[0]
        assert n_tags == 14 * n_passages
    conn.close()
    assert not (tmp_path / "out" / "tags.jsonl").exists() or (tmp_path / "out" / "tags.jsonl").stat().st_size > 0
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    docs, passages = consistent(store)
    conn = sqlite3.connect(store)
    assert conn.execute("SELECT COUNT(*) FROM tags").fetchone()[0] == 14 * passages
    rows = [json.loads(line) for line in (tmp_path / "out" / "tags.jsonl").read_text().splitlines()]
    assert len(rows) == passages and len({(r["doc_id"], r["passage"]) for r in rows}) == passages


def test_sigkill_during_tag_leaves_no_half_written_output(tmp_path, corpus_dir):
    texts = _corpus_subset(tmp_path, corpus_dir, 16)
    out = tmp_path / "tags.jsonl"
    part = out.with_name(out.name + ".part")
    store = tmp_path / "s.sqlite"
    cmd = [sys.executable, "-m", "scr_text", "--store", str(store), "tag", str(texts), "--out", str(out)]
    killed = kill_when(cmd, lambda: part.exists() and part.stat().st_size > 0)
    assert killed, "tag finished before it could be killed"
    assert not out.exists()  # only the .part file: never a truncated output under the real name
    assert sqlite3.connect(store).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len({r["doc_id"] for r in rows}) == 16 and len(rows) == len({(r["doc_id"], r["passage"]) for r in rows})


def test_sigkill_during_import_leaves_each_coders_coding_whole(tmp_path, corpus_dir):
    texts = _corpus_subset(tmp_path, corpus_dir, 16)
    store = tmp_path / "s.sqlite"
    base = [sys.executable, "-m", "scr_text", "--store", str(store)]
    assert subprocess.run(base + ["ingest", str(texts)], capture_output=True).returncode == 0
    stems = {f.stem for f in texts.glob("*.txt")}
    gold = [json.loads(line) for line in (corpus_dir / "passages.jsonl").read_text().splitlines()]
    rows = [g for g in gold if g["doc_id"] in stems]
    f = tmp_path / "coding.jsonl"
    f.write_text("".join(json.dumps({**g, "coder": "gold"}) + "\n" for g in rows))

    def codings():
        return count(store, "SELECT COUNT(*) FROM codings")

    # Kill at several points: as soon as it starts, and after it has had a moment to load.
    for delay in (0.0, 2.0, 4.0):
        t0 = time.time()
        kill_when(base + ["import-coding", str(f)], lambda t0=t0, delay=delay: time.time() - t0 >= delay)
        n = codings()
        assert n in (0, len(rows)), n  # one transaction: all of the coder's passages or none
    done = subprocess.run(base + ["import-coding", str(f)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert codings() == len(rows)
    with sqlite3.connect(store) as c:
        assert c.execute("SELECT COUNT(*) FROM (SELECT DISTINCT coder, doc_id, passage FROM codings)").fetchone()[0] == len(rows)
