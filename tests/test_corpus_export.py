"""`export-corpus`: coders' work in the store becomes a labelled corpus that `train` reads."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from scr_text.codebook import load_codebook
from scr_text.coding.corpus_export import export_corpus
from scr_text.corpus import load_corpus
from scr_text.errors import UserError
from scr_text.facts.extract import FACT_COLUMNS
from scr_text.store.database import Store
from scr_text.tagging.tagger import TaggerModel

FACTS = {"outcome": "death", "incident": "physical_abuse_or_homicide", "proceedings": "ongoing", "law": "private",
         "perpetrator": "mother_partner", "harm_by_da_perpetrator": "yes"}


def _cli(store, *args):
    return subprocess.run([sys.executable, "-m", "scr_text", "--store", str(store), *args], capture_output=True, text=True)


@pytest.fixture
def coded_store(tmp_path, small_corpus):
    """d01-d03 stored; analyst 'ana' works through d01 and d02 the way the web app records it, and sets
    every case fact of d01 but only one of d02; 'bo' imports a coding of d03 and sets its facts."""
    path = tmp_path / "coded.sqlite"
    res = _cli(path, "ingest", str(small_corpus / "texts"))
    assert res.returncode == 0, res.stderr
    with Store(path) as store:
        store.decide("ana", "d01", 1, "physical_abuse", "accept")
        store.decide("ana", "d01", 1, "neglect", "add")
        store.decide("ana", "d01", 3, "domestic_abuse", "accept")
        store.decide("ana", "d01", 3, "domestic_abuse", "reject")  # changed her mind: not coded
        store.decide("ana", "d02", 2, "planning", "add")
        for fact, value in FACTS.items():
            store.correct_fact("ana", "d01", fact, value)
        store.correct_fact("ana", "d02", "outcome", "serious_harm")
        for fact, value in FACTS.items():
            store.correct_fact("bo", "d03", fact, value)
        coding = tmp_path / "bo.jsonl"
        text = store.document("d03").text
        coding.write_text(json.dumps({"doc_id": "d03", "start": 0, "end": len(text.split("\n\n")[0]),
                                      "codes": ["recording"]}) + "\n")
    res = _cli(path, "import-coding", str(coding), "--coder", "bo")
    assert res.returncode == 0, res.stderr
    return path


def test_export_writes_the_coders_codes_texts_and_facts(tmp_path, coded_store, corpus_subset):
    codebook = load_codebook()
    base = corpus_subset(tmp_path / "base", ("d02", "d04", "d05"))  # d02 is also coded by 'ana': hers replaces the base's
    cases = load_corpus(base).cases

    out = tmp_path / "exported"
    with Store(coded_store) as store:
        report = export_corpus(store, ["ana", "bo"], out, codebook, load_corpus(base))
        stored = {d: store.document(d).text for d in ("d01", "d02", "d03")}
        n_passages = {d: len(store.passages(d)) for d in stored}
    assert report.reviews == ["d01", "d02", "d03"] and report.replaced == ["d02"] and report.base_reviews == 2
    assert report.with_facts == ["d01", "d03"]

    exported = load_corpus(out)
    assert exported.doc_ids == ["d01", "d02", "d03", "d04", "d05"]
    for d, text in stored.items():
        assert (out / "texts" / f"{d}.txt").read_text(encoding="utf-8") == text
    rows = {(r["doc_id"], r["para"]): r for r in exported.passages}
    for d, text in stored.items():  # every passage of a coded review, offsets into its text
        mine = [r for r in exported.passages if r["doc_id"] == d]
        assert len(mine) == n_passages[d]
        assert all(text[r["start"]:r["end"]].strip() for r in mine)
    assert rows[("d01", 1)]["codes"] == ["neglect", "physical_abuse"]  # codebook order
    assert rows[("d01", 3)]["codes"] == []  # rejected
    assert rows[("d01", 2)]["codes"] == []  # seen, left uncoded
    assert [r["codes"] for r in exported.passages if r["doc_id"] == "d02" and r["codes"]] == [["planning"]]
    assert rows[("d03", 0)]["codes"] == ["recording"] and rows[("d03", 1)]["codes"] == []
    base_d04 = [r for r in load_corpus(base).passages if r["doc_id"] == "d04"]
    assert [r for r in exported.passages if r["doc_id"] == "d04"] == base_d04

    by_doc = {c["doc_id"]: c for c in exported.cases}
    assert sorted(by_doc) == ["d01", "d03", "d04", "d05"]  # d02's facts are incomplete
    assert {f: by_doc["d01"][f] for f in FACT_COLUMNS} == FACTS
    assert by_doc["d01"]["risks_present"] == "neglect;physical_abuse"
    assert by_doc["d03"]["risks_present"] == ""
    assert by_doc["d04"] == next(c for c in cases if c["doc_id"] == "d04")


def test_exported_corpus_trains_a_model(tmp_path, coded_store):
    out = tmp_path / "exported"
    res = _cli(coded_store, "export-corpus", "--coder", "ana", "--coder", "bo", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "3 coded review(s)" in res.stdout and "1 coded review(s) have no cases.csv row" in res.stderr
    model_dir = tmp_path / "m"
    res = _cli(tmp_path / "train.sqlite", "train", "--corpus", str(out), "--out", str(model_dir), "--folds", "3")
    assert res.returncode == 0, res.stderr
    card = TaggerModel.load(model_dir).card
    assert card["n_documents"] == 3
    assert card["facts_cv"]["n_reviews"] == 2  # facts learn from the reviews that have them
    assert (model_dir / "facts.skops").is_file()


def test_export_refusals_write_nothing(tmp_path, coded_store):
    codebook = load_codebook()
    with Store(coded_store) as store:
        with pytest.raises(UserError, match="no coding by nobody"):
            export_corpus(store, ["nobody"], tmp_path / "a", codebook)
        store.decide("bo", "d01", 0, "planning", "add")
        with pytest.raises(UserError, match=r"more than one chosen coder: d01 \(ana, bo\)"):
            export_corpus(store, ["ana", "bo"], tmp_path / "b", codebook)
        (tmp_path / "c").mkdir()
        (tmp_path / "c" / "keep.txt").write_text("mine")
        with pytest.raises(UserError, match="not an empty folder"):
            export_corpus(store, ["ana"], tmp_path / "c", codebook)
        base = tmp_path / "base"
        (base / "texts").mkdir(parents=True)
        (base / "passages.jsonl").write_text('{"doc_id": "d09", "start": 0, "end": 5, "codes": []}\n')
        with pytest.raises(UserError, match="reviews with no text in texts/: d09"):
            export_corpus(store, ["ana"], tmp_path / "d", codebook, load_corpus(base))
    assert not any((tmp_path / name).exists() for name in "abd")
    assert [p.name for p in (tmp_path / "c").iterdir()] == ["keep.txt"]


def test_some_reviews_of_a_corpus_written_as_a_corpus_keep_their_texts_gold_rows_and_cases(tmp_path, corpus_dir):
    source = load_corpus(corpus_dir)
    part = load_corpus(source.write_reviews(["d07", "d03"], tmp_path / "part"))
    assert sorted(p.name for p in part.texts.iterdir()) == ["d03.txt", "d07.txt"]
    assert (part.texts / "d07.txt").read_bytes() == (corpus_dir / "texts" / "d07.txt").read_bytes()
    assert part.passages == [r for r in source.passages if r["doc_id"] in ("d03", "d07")]
    assert part.cases == [c for c in source.cases if c["doc_id"] in ("d03", "d07")]
    assert list(part.cases[0]) == list(source.cases[0])  # same columns, same order


def test_gold_and_coding_files_saved_with_a_bom_read_as_without(tmp_path, corpus_dir):
    # Excel's "CSV UTF-8" and some Windows editors start a file with a UTF-8 BOM; it must not join the first
    # column's name ("\ufeffdoc_id") or make the first JSON line invalid.
    from scr_text.coding.spans import read_jsonl

    source = load_corpus(corpus_dir)
    part = source.write_reviews(["d03"], tmp_path / "part")
    for name in ("passages.jsonl", "cases.csv"):
        (part / name).write_bytes(b"\xef\xbb\xbf" + (part / name).read_bytes())
    bommed = load_corpus(part)
    assert bommed.passages == [r for r in source.passages if r["doc_id"] == "d03"]
    assert bommed.cases == [c for c in source.cases if c["doc_id"] == "d03"]
    assert [s.start for s in read_jsonl(part / "passages.jsonl")] == [r["start"] for r in bommed.passages]
