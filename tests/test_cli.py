"""The scr-text command as a user runs it: real subprocesses, a real store file."""
from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd


def scr(*args, store, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "scr_text", "--store", str(store), *map(str, args)],
        capture_output=True, text=True, cwd=cwd,
    )


def test_run_writes_passages_and_summary_and_a_rerun_is_a_no_op(tmp_path, small_corpus):
    store = tmp_path / "p.sqlite"
    out = tmp_path / "out"
    first = scr("run", small_corpus, "--out", out, store=store)
    assert first.returncode == 0, first.stderr
    assert "3 reviews" in first.stdout
    frame = pd.read_csv(out / "passages.csv")
    assert list(frame.columns[:5]) == ["doc_id", "passage", "start", "end", "text"]
    texts = {d: (small_corpus / "texts" / f"{d}.txt").read_text() for d in frame.doc_id.unique()}
    assert all(texts[r.doc_id][r.start:r.end] == r.text for r in frame.itertuples())
    html = (out / "summary.html").read_text()
    assert "3 added" in html and "passages.csv" in html
    # The re-run is answered by the store: none of the heavy libraries is even imported.
    again = subprocess.run([sys.executable, "-X", "importtime", "-m", "scr_text", "--store", str(store), "run",
                            str(small_corpus), "--out", str(out)], capture_output=True, text=True)
    assert again.returncode == 0 and "3 unchanged" in again.stdout
    imported = {line.split("|")[-1].strip() for line in again.stderr.splitlines() if line.startswith("import time:")}
    assert "scr_text.pipeline" in imported
    assert not imported & {"spacy", "torch", "openvino", "nncf", "sklearn", "presidio_analyzer", "umap"}


def test_passages_export_csv_and_parquet(tmp_path, small_corpus):
    store = tmp_path / "p.sqlite"
    assert scr("ingest", small_corpus / "texts", store=store).returncode == 0
    for name in ("p.csv", "p.parquet"):
        res = scr("passages", "--out", tmp_path / name, store=store)
        assert res.returncode == 0, res.stderr
    a = pd.read_csv(tmp_path / "p.csv")
    b = pd.read_parquet(tmp_path / "p.parquet")
    assert len(a) == len(b) > 0 and list(a.doc_id) == list(b.doc_id)
    bad = scr("passages", "--out", tmp_path / "p.xlsx", store=store)
    assert bad.returncode == 2 and "use a .csv or .parquet" in bad.stderr and "Traceback" not in bad.stderr


def test_bad_file_in_a_batch_is_one_line_the_rest_is_stored_and_exit_is_nonzero(tmp_path, small_corpus):
    store = tmp_path / "p.sqlite"
    (small_corpus / "texts" / "broken.pdf").write_bytes(b"%PDF-1.7 truncated")
    (small_corpus / "texts" / "minutes.doc").write_bytes(b"\xd0\xcf\x11\xe0")  # old Word: not read, but said so
    res = scr("ingest", small_corpus / "texts", store=store)
    assert res.returncode == 1
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "broken.pdf" in errors[0]
    assert "note: 1 file(s) in the folders given were not read (scr-text reads .txt .md .docx .pdf): minutes.doc" in res.stderr
    # Alone, too, the broken file is one line and nothing else but the progress bar: pypdf's notes on its
    # repair attempts stay out of the user's way.
    alone = scr("ingest", small_corpus / "texts" / "broken.pdf", store=store)
    assert alone.returncode == 1
    assert [ln for ln in re.split(r"[\r\n]", alone.stderr) if ln.strip() and "%|" not in ln] == errors
    assert "Traceback" not in res.stderr
    assert "3 added" in res.stdout and "1 failed" in res.stdout


def test_missing_corpus_is_a_clear_error_and_debug_shows_the_traceback(tmp_path):
    store = tmp_path / "p.sqlite"
    res = scr("run", tmp_path / "nowhere", "--out", tmp_path / "o", store=store)
    assert res.returncode == 2 and res.stderr.strip().endswith("corpus folder not found")
    res = subprocess.run([sys.executable, "-m", "scr_text", "--debug", "--store", str(store), "run", str(tmp_path / "nowhere")],
                         capture_output=True, text=True)
    assert "Traceback" in res.stderr


def test_usage_errors_show_the_usage_and_exit_2(tmp_path):
    store = tmp_path / "p.sqlite"
    for args, message in ((["facts"], "Missing argument"), (["agree", "--nosuch"], "No such option: --nosuch"),
                          (["evaluate", "--folds", "x"], "Invalid value for '--folds'"),
                          (["evaluate", "--folds", "1"], "greater than or equal to 2")):
        res = scr(*args, store=store)
        assert res.returncode == 2, (args, res.stderr)
        assert "Usage: " in res.stderr and f"{args[0]} [OPTIONS]" in res.stderr and message in res.stderr
        assert "Traceback" not in res.stderr and "--debug" not in res.stderr


def test_an_output_path_that_cannot_be_written_is_one_line_and_exit_2(tmp_path):
    blocker = tmp_path / "report"
    blocker.write_text("a file where a folder is wanted")
    for args in (["passages", "--out", blocker / "p.csv"], ["export-qdc", "--out", blocker / "c.qdc"]):
        res = scr(*args, store=tmp_path / "p.sqlite")
        assert res.returncode == 2, res.stderr
        (line,) = res.stderr.splitlines()
        assert line.startswith(f"error: {blocker}") and "Traceback" not in res.stderr


def test_retrain_from_a_coders_coding_prints_before_and_after_and_keeps_model_and_corpus(tmp_path, corpus_dir, gold_passages,
                                                                                           retrain_project):
    import json

    home = retrain_project
    new = tmp_path / "new"
    new.mkdir()
    for d in ("d05", "d06"):
        (new / f"{d}.txt").write_bytes((corpus_dir / "texts" / f"{d}.txt").read_bytes())
    coding = tmp_path / "coding.jsonl"
    coding.write_text("".join(json.dumps({"doc_id": r["doc_id"], "start": r["start"], "end": r["end"], "codes": r["codes"]}) + "\n"
                              for r in gold_passages if r["doc_id"] in ("d05", "d06")))
    store = tmp_path / "s.sqlite"
    assert scr("ingest", new, store=store, cwd=home).returncode == 0
    assert scr("import-coding", coding, "--coder", "ana", store=store, cwd=home).returncode == 0
    res = scr("retrain", "--coder", "ana", "--name", "ana1", store=store, cwd=home)
    assert res.returncode == 0, res.stderr[-2000:]
    result = json.loads((home / "models" / "ana1" / "retrain.json").read_text())
    assert result["reviews"] == ["d05", "d06"] and result["passages"] == sum(r["doc_id"] in ("d05", "d06") for r in gold_passages)
    macro = next(line for line in res.stdout.splitlines() if line.startswith("macro"))
    assert macro.split()[1:] == [f"{result['before']['macro']['f1']:.3f}", f"{result['after']['macro']['f1']:.3f}"]
    assert "Retrained from analysts' coding" in (home / "models" / "ana1" / "MODEL_CARD.md").read_text()
    assert sorted(p.name for p in (home / "corpora" / "ana1" / "texts").iterdir()) == [f"d0{i}.txt" for i in range(1, 7)]
    assert (tmp_path / "s.training.sqlite").is_file()  # the base corpus went into a store of its own
    assert scr("passages", "--out", tmp_path / "p.csv", store=store, cwd=home).returncode == 0
    import csv

    assert {r["doc_id"] for r in csv.DictReader(open(tmp_path / "p.csv", encoding="utf-8"))} == {"d05", "d06"}
    again = scr("retrain", "--coder", "ana", "--name", "ana1", store=store, cwd=home)
    assert again.returncode != 0 and "exists already" in again.stderr
    assert (home / "models" / "ana1" / "retrain.json").is_file()  # nothing overwritten, nothing removed
