"""The SQLite store: schema versions, atomic writes, and a process killed in the middle of an ingest."""
from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from procs import count, kill_when
from scr_text.errors import UserError
from scr_text.records import Document, Passage
from scr_text.store.database import SCHEMA_VERSION, Store


def test_new_store_is_at_the_current_schema_version(tmp_path):
    with Store(tmp_path / "s.sqlite") as s:
        assert s.version == SCHEMA_VERSION
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


OPEN_AT = """
import sys, time
from scr_text.store.database import Store
while time.time() < float(sys.argv[2]):
    pass
with Store(sys.argv[1]) as s:
    print(s.version)
"""


def test_processes_opening_a_new_store_at_the_same_moment_all_get_it(tmp_path):
    # Six processes released at one instant on a file that does not exist yet: each must open the store
    # at the current schema (before: "not a scr-text store (database is locked)" from the switch to WAL,
    # or an IndexError from a migration another process had just finished; in 14 of 15 such rounds).
    import time

    for attempt in range(4):
        path = tmp_path / f"s{attempt}.sqlite"
        start = time.time() + 2.0
        procs = [subprocess.Popen([sys.executable, "-c", OPEN_AT, str(path), str(start)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(6)]
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0 and out.strip() == str(SCHEMA_VERSION), err


def test_a_store_from_a_newer_scr_text_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(UserError, match="newer than this scr-text"):
        Store(path)


def test_a_failed_write_leaves_nothing_behind(store):
    doc = Document("x", "/x.txt", "txt", "abc", "Hello world.")
    bad = [Passage("x", 0, 0, 5, "Hello"), Passage("x", 0, 6, 12, "world.")]  # duplicate index
    with pytest.raises(sqlite3.IntegrityError):
        store.add_document(doc, bad, None, None)
    assert store.counts()["documents"] == 0 and store.counts()["passages"] == 0


def test_tags_are_kept_at_full_precision_and_rounded_only_in_the_tag_contract(store):
    doc = Document("x", "/x.txt", "txt", "abc", "Hello world.\n\nAgain.")
    store.add_document(doc, [Passage("x", 0, 0, 12, "Hello world."), Passage("x", 1, 14, 20, "Again.")], None, None)
    store.put_tags("m", None, [("x", 0, "neglect", 0.123456789, True, '[{"type": "classifier"}]'),
                               ("x", 0, "planning", 0.2, False, "[]"),
                               ("x", 1, "neglect", 0.05, False, "[]"), ("x", 1, "planning", 0.987654321, True, "[]")])
    tags = store.tags("m", "x", ["planning", "neglect"])  # columns in the order asked for
    assert tags.scores.tolist() == [[0.2, 0.123456789], [0.987654321, 0.05]]
    assert tags.decided.tolist() == [[False, True], [True, False]]
    assert tags.of("x").evidence == [{"neglect": [{"type": "classifier"}]}, {"planning": []}] and len(tags.of("y")) == 0
    first, second = tags.rows()
    assert first["codes"] == ["neglect"] and first["scores"] == {"planning": 0.2, "neglect": 0.1235}
    assert (second["start"], second["end"], second["text"], second["codes"]) == (14, 20, "Again.", ["planning"])


def consistent(path) -> tuple[int, int]:
    """Check every stored document is whole: passages contiguous and matching the text."""
    with Store(path) as s:
        assert s.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        n_passages = 0
        for doc_id in s.doc_ids():
            doc = s.document(doc_id)
            passages = s.passages(doc_id)
            assert passages, f"{doc_id} stored without passages"
            assert [p.index for p in passages] == list(range(len(passages)))
            for p in passages:
                assert doc.text[p.start:p.end] == p.text
            n_passages += len(passages)
        return len(s.doc_ids()), n_passages


@pytest.mark.parametrize("kill_after_documents", [1, 5, 10])
def test_sigkill_during_ingest_leaves_a_consistent_store_and_the_rerun_completes(tmp_path, corpus_dir, kill_after_documents):
    import shutil

    texts = tmp_path / "texts"
    texts.mkdir()
    names = sorted(p.name for p in (corpus_dir / "texts").glob("*.txt"))[:16]
    for name in names:
        shutil.copy(corpus_dir / "texts" / name, texts)
    path = tmp_path / "s.sqlite"
    cmd = [sys.executable, "-m", "scr_text", "--store", str(path), "ingest", str(texts)]
    killed = kill_when(cmd, lambda: count(path, "SELECT COUNT(*) FROM documents") >= kill_after_documents)
    assert killed, "ingest finished before it could be killed"
    docs, _ = consistent(path)
    assert kill_after_documents <= docs < len(names)
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"{docs} unchanged" in done.stdout
    import json

    stems = {n[:-4] for n in names}
    expected = sum(1 for line in open(corpus_dir / "passages.jsonl") if json.loads(line)["doc_id"] in stems)
    assert consistent(path) == (len(names), expected)
