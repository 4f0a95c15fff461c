"""The same review twice (DOCX and TXT) is said, and reviews can be removed and renamed with everything kept
about them following (CLI over a real store)."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

from docmaker import PARAGRAPHS, make_docx


def scr(store, *args):
    return subprocess.run([sys.executable, "-m", "scr_text", "--store", str(store), *map(str, args)],
                          capture_output=True, text=True)


def test_the_same_review_in_two_formats_is_stored_with_a_warning_then_removed_or_renamed(tmp_path):
    store = tmp_path / "s.sqlite"
    docx = make_docx(tmp_path / "overview.docx", PARAGRAPHS)
    txt = tmp_path / "overview_copy.txt"
    txt.write_text("\n\n".join(PARAGRAPHS) + "\n", encoding="utf-8")
    assert scr(store, "ingest", docx).returncode == 0
    res = scr(store, "ingest", txt)
    assert res.returncode == 0, res.stderr
    assert "warning:" in res.stderr and "stored review 'overview'" in res.stderr and "the same review twice" in res.stderr
    # A coder's coding of the copy follows it through a rename, and goes with it on removal.
    f = tmp_path / "c.jsonl"
    f.write_text(json.dumps({"doc_id": "overview_copy", "start": 0, "end": len(PARAGRAPHS[0]), "codes": ["planning"]}) + "\n")
    assert scr(store, "import-coding", f, "--coder", "kim").returncode == 0
    assert scr(store, "rename", "overview_copy", "overview/2").returncode == 2  # no slashes in an id
    assert scr(store, "rename", "overview_copy", "overview").returncode == 2  # taken
    res = scr(store, "rename", "overview_copy", "overview (text copy)")
    assert res.returncode == 0, res.stderr
    conn = sqlite3.connect(store)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert {r[0] for r in conn.execute("SELECT DISTINCT doc_id FROM codings WHERE coder='kim'")} == {"overview (text copy)"}
    assert conn.execute("SELECT COUNT(*) FROM passages WHERE doc_id='overview (text copy)'").fetchone()[0] == len(PARAGRAPHS)
    assert scr(store, "remove", "nope").returncode == 2
    res = scr(store, "remove", "overview (text copy)")
    assert res.returncode == 0, res.stderr
    assert [r[0] for r in conn.execute("SELECT doc_id FROM documents")] == ["overview"]
    assert conn.execute("SELECT COUNT(*) FROM codings WHERE coder='kim'").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM passages WHERE doc_id != 'overview'").fetchone()[0] == 0
