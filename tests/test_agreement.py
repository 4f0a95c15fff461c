"""Agreement statistics against hand-computed values, coding import and REFI-QDA exchange."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scr_text.coding.agree import agreement, alpha_nominal, build_units, pair_stats

SHARED = Path(__file__).resolve().parents[2] / "shared" / "refi-qda"


def test_rare_code_kappa_and_ac1_differ_as_computed_by_hand():
    # 10 passages; each coder marks one passage, not the same one.
    s = pair_stats(np.array([[0, 1], [1, 8]]))
    assert s["percent_agreement"] == pytest.approx(80.0)
    # kappa: po 0.8, pe = 0.1*0.1 + 0.9*0.9 = 0.82 -> (0.8 - 0.82) / 0.18
    assert s["cohen_kappa"] == pytest.approx(-0.02 / 0.18)
    # AC1: pi = 0.1, pe = 2*0.1*0.9 = 0.18 -> (0.8 - 0.18) / 0.82
    assert s["gwet_ac1"] == pytest.approx(0.62 / 0.82)


def test_common_case_by_hand():
    s = pair_stats(np.array([[20, 5], [10, 15]]))  # n = 50
    po, pa, pb = 35 / 50, 25 / 50, 30 / 50
    pe = pa * pb + (1 - pa) * (1 - pb)
    assert s["cohen_kappa"] == pytest.approx((po - pe) / (1 - pe))
    pi = (pa + pb) / 2
    assert s["gwet_ac1"] == pytest.approx((po - 2 * pi * (1 - pi)) / (1 - 2 * pi * (1 - pi)))


def test_alpha_matches_the_krippendorff_package():
    import krippendorff

    rng = np.random.default_rng(3)
    for n_coders in (2, 3, 4):
        data = (rng.random((n_coders, 60)) < 0.3).astype(float)
        data[1] = np.where(rng.random(60) < 0.7, data[0], data[1])
        ours = alpha_nominal(np.stack([(data == 0).sum(axis=0), (data == 1).sum(axis=0)], axis=1))
        assert ours == pytest.approx(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def test_agreement_rows_units_and_intervals():
    codings = {
        "ann": {("d1", 0): ["a"], ("d1", 1): [], ("d2", 0): ["a", "b"], ("d2", 1): ["b"], ("d3", 0): []},
        "bob": {("d1", 0): ["a"], ("d1", 1): ["a"], ("d2", 0): ["a"], ("d2", 1): ["b"], ("d3", 0): []},
        "cy": {("d1", 0): ["a"], ("d1", 1): [], ("d2", 0): ["a", "b"], ("d2", 1): [], ("d3", 0): []},
    }
    units = build_units(codings, ["a", "b"])
    assert len(units.keys) == 5 and units.coded_by_any().sum() == 4
    rows = agreement(units, n_boot=200)
    pairs = {(r["code"], r["coder_a"], r["coder_b"]): r for r in rows}
    assert set(pairs) == {(c, a, b) for c in ("a", "b", "ALL", "ALL (passage x code)")
                          for a, b in (("ann", "bob"), ("ann", "cy"), ("bob", "cy"))}
    # code a, ann vs bob: they differ only on (d1, 1): 4 of 5 agree.
    assert pairs[("a", "ann", "bob")]["percent_agreement"] == pytest.approx(80.0)
    r = pairs[("a", "ann", "bob")]
    assert r["percent_agreement_ci_low"] <= r["percent_agreement"] <= r["percent_agreement_ci_high"]
    # The same coder at two times is just another pair.
    same = build_units({"ann": codings["ann"], "ann@t2": codings["ann"]}, ["a", "b"])
    assert all(x["percent_agreement"] == 100.0 for x in agreement(same, n_boot=50))


# Published worked examples, to their published decimals.
KRIPPENDORFF_2011 = [  # Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 observers, 12 units
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def _codings_from_table(table: list[list[int]]) -> dict:
    """Two coders' one-code-per-passage codings from a contingency table, passages spread over 7 reviews."""
    a, b, u = {}, {}, 0
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            for _ in range(count):
                a[(f"r{u % 7}", u)], b[(f"r{u % 7}", u)] = [f"k{i}"], [f"k{j}"]
                u += 1
    return {"a": a, "b": b}


def test_krippendorff_2011_example_with_missing_ratings():
    codings = {f"obs{i}": {("review", u): [f"k{v}"] for u, v in enumerate(row) if v is not None}
               for i, row in enumerate(KRIPPENDORFF_2011)}
    # Codes 6-14 are in the codebook but nobody used them: they must not change ALL.
    units = build_units(codings, [f"k{v}" for v in range(1, 15)])
    rows = [r for r in agreement(units, n_boot=20) if r["code"] == "ALL"]
    assert rows[0]["krippendorff_alpha"] == pytest.approx(0.743, abs=5e-4)
    # Each pair on the units both rated: observers 1 and 3 share 8 units, 2 and 4 share 10.
    n = {(r["coder_a"], r["coder_b"]): r["n_passages"] for r in rows}
    assert n[("obs0", "obs2")] == 8 and n[("obs1", "obs3")] == 10
    values, q = units.values(list(range(14)))
    counts = np.stack([(values == k).sum(axis=0) for k in range(q)], axis=1)
    assert alpha_nominal(counts) == pytest.approx(rows[0]["krippendorff_alpha"])  # the bootstrap's form agrees


def test_cohen_1960_three_category_example():
    # Cohen (1960), Table 1: proportions of 200 decisions; po .70, pc .41, kappa .492.
    rows = agreement(build_units(_codings_from_table([[88, 14, 18], [10, 40, 10], [2, 6, 12]]), ["k0", "k1", "k2"]), n_boot=20)
    r = next(r for r in rows if r["code"] == "ALL")
    assert r["percent_agreement"] == pytest.approx(70.0) and r["cohen_kappa"] == pytest.approx(0.492, abs=5e-4)


def test_textbook_two_by_two_kappa():
    # The common textbook table (50 items: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no): po 0.7, pe 0.5, kappa 0.4.
    s = pair_stats(np.array([[20, 5], [10, 15]]))
    assert s["percent_agreement"] == pytest.approx(70.0) and s["cohen_kappa"] == pytest.approx(0.4)


def test_gwet_2014_three_by_three_abstractors_example():
    # Gwet (2014) / irrCAC's cont3x3abstractors: kappa 0.7964094, AC1 0.8493305, alpha 0.7972585, agreement 0.89.
    rows = agreement(build_units(_codings_from_table([[13, 0, 0], [0, 20, 7], [0, 4, 56]]), ["k0", "k1", "k2", "k3"]), n_boot=20)
    r = next(r for r in rows if r["code"] == "ALL")
    assert r["n_passages"] == 100 and r["percent_agreement"] == pytest.approx(89.0)
    assert r["cohen_kappa"] == pytest.approx(0.7964094, abs=5e-8)
    assert r["gwet_ac1"] == pytest.approx(0.8493305, abs=5e-8)
    assert r["krippendorff_alpha"] == pytest.approx(0.7972585, abs=5e-8)


def test_pairs_use_their_own_overlap():
    # ann and bob coded d1 and d2; cy coded only d2. ann-bob compares 4 passages, the pairs with cy 2.
    both = {("d1", 0): ["a"], ("d1", 1): [], ("d2", 0): ["a"], ("d2", 1): []}
    codings = {"ann": both, "bob": dict(both), "cy": {("d2", 0): ["a"], ("d2", 1): ["a"]}}
    rows = agreement(build_units(codings, ["a"]), n_boot=20)
    n = {(r["code"], r["coder_a"], r["coder_b"]): (r["n_passages"], r["percent_agreement"]) for r in rows}
    assert n[("a", "ann", "bob")] == (4, 100.0) and n[("a", "ann", "cy")] == (2, 50.0)


def scr(store, *args):
    return subprocess.run([sys.executable, "-m", "scr_text", "--store", str(store), *map(str, args)],
                          capture_output=True, text=True)


@pytest.fixture
def coded_store(tmp_path, small_corpus, corpus_dir):
    """Three shipped reviews in a store, with the gold coding imported as coder 'gold'."""
    store = tmp_path / "s.sqlite"
    assert scr(store, "ingest", small_corpus / "texts").returncode == 0
    gold = [json.loads(line) for line in (corpus_dir / "passages.jsonl").read_text().splitlines()]
    rows = [{"doc_id": g["doc_id"], "start": g["start"], "end": g["end"], "codes": g["codes"]}
            for g in gold if g["doc_id"] in ("d01", "d02", "d03") and g["codes"]]
    f = tmp_path / "gold.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    res = scr(store, "import-coding", f, "--coder", "gold")
    assert res.returncode == 0, res.stderr
    return store, rows


def _validate(xml: bytes, xsd: str):
    import xmlschema

    xmlschema.XMLSchema(str(SHARED / xsd)).validate(io.BytesIO(xml))


def test_qdpx_export_is_schema_valid_and_round_trips(tmp_path, coded_store):
    store, rows = coded_store
    out = tmp_path / "project.qdpx"
    res = scr(store, "export-qdpx", "--out", out)
    assert res.returncode == 0, res.stderr
    with zipfile.ZipFile(out) as z:
        _validate(z.read("project.qde"), "Project.xsd")
        assert sum(n.startswith("sources/") for n in z.namelist()) == 3
    qdc = tmp_path / "codebook.qdc"
    assert scr(store, "export-qdc", "--out", qdc).returncode == 0
    _validate(qdc.read_bytes(), "Codebook.xsd")
    # Import into a fresh store: the sources come from the archive, and the codings come back the same.
    fresh = tmp_path / "fresh.sqlite"
    res = scr(fresh, "import-coding", out)
    assert res.returncode == 0, res.stderr
    import sqlite3

    def codings(path, coder):
        return sorted(sqlite3.connect(path).execute(
            "SELECT doc_id, passage, codes FROM codings WHERE coder=? AND codes != '[]'", (coder,)).fetchall())

    assert codings(fresh, "gold") == codings(store, "gold") and len(codings(store, "gold")) == len(rows)


HAND_WRITTEN = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Hand made" origin="Another QDA package">
  <Users><User guid="11111111-1111-1111-1111-111111111111" name="Alex"/></Users>
  <CodeBook><Codes>
    <Code guid="22222222-2222-2222-2222-222222222222" name="Domestic abuse" isCodable="true"/>
    <Code guid="33333333-3333-3333-3333-333333333333" name="Information sharing" isCodable="true"/>
    <Code guid="44444444-4444-4444-4444-444444444444" name="Housing" isCodable="true"/>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="55555555-5555-5555-5555-555555555555" name="handmade.txt" plainTextPath="internal://55555555-5555-5555-5555-555555555555.txt">
      <PlainTextSelection guid="66666666-6666-6666-6666-666666666666" startPosition="{s1}" endPosition="{e1}" creatingUser="11111111-1111-1111-1111-111111111111">
        <Coding guid="77777777-7777-7777-7777-777777777777" creatingUser="11111111-1111-1111-1111-111111111111"><CodeRef targetGUID="22222222-2222-2222-2222-222222222222"/></Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="88888888-8888-8888-8888-888888888888" startPosition="{s2}" endPosition="{e2}" creatingUser="11111111-1111-1111-1111-111111111111">
        <Coding guid="99999999-9999-9999-9999-999999999999" creatingUser="11111111-1111-1111-1111-111111111111"><CodeRef targetGUID="33333333-3333-3333-3333-333333333333"/></Coding>
        <Coding guid="aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa" creatingUser="11111111-1111-1111-1111-111111111111"><CodeRef targetGUID="44444444-4444-4444-4444-444444444444"/></Coding>
      </PlainTextSelection>
    </TextSource>
  </Sources>
</Project>
"""


def test_a_hand_written_qdpx_imports_with_users_codes_and_a_report_of_unmapped_codes(tmp_path):
    # Windows line ends in the source: positions are in that text; scr-text reads \r\n as \n.
    text = "Mother's partner assaulted her twice.\r\n\r\nThe police did not tell the school about it.\r\n"
    s1, e1 = 0, text.index("\r\n")
    s2 = text.index("The police")
    e2 = text.rindex("\r\n")
    project = HAND_WRITTEN.format(s1=s1, e1=e1, s2=s2 + 5, e2=e2)  # second span starts mid-sentence
    _validate(project.encode(), "Project.xsd")
    qdpx = tmp_path / "hand.qdpx"
    with zipfile.ZipFile(qdpx, "w") as z:
        z.writestr("project.qde", project)
        z.writestr("sources/55555555-5555-5555-5555-555555555555.txt", text.encode("utf-8"))
    store = tmp_path / "s.sqlite"
    res = scr(store, "import-coding", qdpx)
    assert res.returncode == 0, res.stderr
    assert "coder 'Alex'" in res.stdout and "'Housing' x1" in res.stdout
    import sqlite3

    rows = sqlite3.connect(store).execute("SELECT passage, codes FROM codings WHERE coder='Alex' ORDER BY passage").fetchall()
    assert rows == [(0, '["domestic_abuse"]'), (1, '["information_sharing"]')]


@pytest.mark.parametrize("entries,reason", [
    ({"../../evil.qde": b"<Project/>"}, "outside the archive"),
    ({"project.qde": b"\0" * (3 * 2**20)}, "decompression bomb"),
    ({"project.qde": b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
                     b'<Project name="x">&b;</Project>'}, "entity or DTD"),
    ({"notes.txt": b"hello"}, "no project.qde"),
])
def test_malicious_archives_are_refused_with_a_clear_error(tmp_path, entries, reason):
    f = tmp_path / "bad.qdpx"
    with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text((Path(__file__).resolve().parents[1] / "configs" / "pipeline.yaml").read_text()
                   .replace("max_decompressed_bytes: 209715200", "max_decompressed_bytes: 2097152"))
    res = subprocess.run([sys.executable, "-m", "scr_text", "--config", str(cfg), "--store", str(tmp_path / "s.sqlite"),
                          "import-coding", str(f), "--coder", "x"], capture_output=True, text=True)
    assert res.returncode == 2 and reason in res.stderr and "Traceback" not in res.stderr


def test_agree_and_disagreements_commands(tmp_path, coded_store):
    store, _ = coded_store
    # A second coder: the gold coding with domestic_abuse dropped from d01's paragraphs.
    gold = [json.loads(line) for line in open(Path(__file__).resolve().parents[1] / "corpora/dev/passages.jsonl")]
    rows = [{"doc_id": g["doc_id"], "start": g["start"], "end": g["end"],
             "codes": [c for c in g["codes"] if not (g["doc_id"] == "d01" and c == "domestic_abuse")]}
            for g in gold if g["doc_id"] in ("d01", "d02", "d03")]
    f = tmp_path / "sam.csv"
    pd.DataFrame([{**r, "codes": ";".join(r["codes"])} for r in rows]).to_csv(f, index=False)
    assert scr(store, "import-coding", f, "--coder", "sam").returncode == 0
    out = tmp_path / "agree.csv"
    res = scr(store, "agree", "--coders", "gold", "--coders", "sam", "--out", out, "--html", tmp_path / "a.html")
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(out)
    for col in ("code", "coder_a", "coder_b", "n_passages", "percent_agreement", "cohen_kappa", "gwet_ac1", "krippendorff_alpha"):
        assert col in table.columns
    da = table[(table.code == "domestic_abuse") & (table.universe == "all passages")].iloc[0]
    n_da_d01 = sum("domestic_abuse" in g["codes"] for g in gold if g["doc_id"] == "d01")
    assert da.n_passages == sum(1 for g in gold if g["doc_id"] in ("d01", "d02", "d03"))
    assert da.percent_agreement == pytest.approx(100 * (1 - n_da_d01 / da.n_passages), abs=0.01)
    others = table[(table.code == "planning")]
    assert (others.percent_agreement == 100).all()
    assert "below" in (tmp_path / "a.html").read_text() or da.cohen_kappa >= 0.6
    res = scr(store, "disagreements", "--coders", "gold", "--coders", "sam", "--code", "domestic_abuse",
              "--out", tmp_path / "d.html")
    assert res.returncode == 0, res.stderr
    assert len([ln for ln in res.stdout.splitlines() if ln.startswith("d01")]) == n_da_d01
    html = (tmp_path / "d.html").read_text()
    assert "Side by side: d01" in html


def test_spans_with_impossible_offsets_are_refused_or_reported(tmp_path, coded_store):
    store, rows = coded_store
    backwards = tmp_path / "backwards.jsonl"
    backwards.write_text(json.dumps({**rows[0], "start": rows[0]["end"], "end": rows[0]["start"]}) + "\n")
    res = scr(store, "import-coding", backwards, "--coder", "kim")
    assert res.returncode == 2 and "backwards.jsonl:1: start must be 0 or more and before end" in res.stderr
    # A span past the end of its review's text was measured on another version of it: reported, not placed
    # (it would otherwise cover every passage from its start on). The span beside it still counts.
    length = len((Path(__file__).resolve().parents[1] / "corpora/dev/texts/d01.txt").read_text())
    first = next(r for r in rows if r["doc_id"] == "d01")
    f = tmp_path / "kim.csv"
    pd.DataFrame([{**first, "codes": ";".join(first["codes"])},
                  {"doc_id": "d01", "start": 0, "end": length + 50, "codes": "neglect"}]).to_csv(f, index=False)
    res = scr(store, "import-coding", f, "--coder", "kim")
    assert res.returncode == 0, res.stderr
    assert "-> 1 coded passage(s)" in res.stdout and "ending past their review's text, not imported" in res.stdout
    assert "d01 x1" in res.stdout


def test_agree_command_reproduces_krippendorff_2011_with_missing_ratings(tmp_path):
    # One review of 12 short paragraphs; each observer's file lists only the paragraphs they rated.
    codes = ["domestic_abuse", "neglect", "planning", "recording", "analysis"]
    paragraphs = [f"Paragraph {i + 1} of the practice review records one further meeting of the core group."
                  for i in range(12)]
    review = tmp_path / "k2011.txt"
    review.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    store = tmp_path / "s.sqlite"
    assert scr(store, "ingest", review).returncode == 0
    starts = [sum(len(p) + 2 for p in paragraphs[:i]) for i in range(12)]
    for i, row in enumerate(KRIPPENDORFF_2011):
        f = tmp_path / f"obs{i}.jsonl"
        f.write_text("".join(json.dumps({"doc_id": "k2011", "start": starts[u], "end": starts[u] + len(paragraphs[u]),
                                         "codes": [codes[v - 1]]}) + "\n" for u, v in enumerate(row) if v is not None))
        res = scr(store, "import-coding", f, "--coder", f"obs{i}", "--uncoded", "missing")
        assert res.returncode == 0, res.stderr
    out = tmp_path / "agree.csv"
    assert scr(store, "agree", "--out", out).returncode == 0
    table = pd.read_csv(out)
    overall = table[(table.code == "ALL") & (table.universe == "all passages")]
    assert overall.krippendorff_alpha.round(3).unique().tolist() == [0.743]
    # Without --uncoded missing the gaps would count as "no code" and the figure would drop.
    f = tmp_path / "obs0.jsonl"
    assert scr(store, "import-coding", f, "--coder", "obs0").returncode == 0
    assert scr(store, "agree", "--out", out).returncode == 0
    table = pd.read_csv(out)
    assert table[(table.code == "ALL") & (table.universe == "all passages")].krippendorff_alpha.iloc[0] < 0.74
