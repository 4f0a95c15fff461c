"""Case facts and the prevalence table, on real reviews with the committed model."""
from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from scr_text.config import load_fact_config
from scr_text.facts.prevalence import compare, cooccurrence, prevalence
from scr_text.nlp.roles import RoleFinder

RISKS = ["domestic_abuse", "neglect"]


def test_prevalence_counts_shares_and_the_da_harm_by_other_figure():
    rows = [
        {"outcome": "death", "incident": "other", "proceedings": "ongoing", "law": "public", "perpetrator": "father",
         "harm_by_da_perpetrator": "yes", "risks_present": "domestic_abuse;neglect"},
        {"outcome": "death", "incident": "other", "proceedings": "none", "law": "public", "perpetrator": "mother",
         "harm_by_da_perpetrator": "no", "risks_present": "domestic_abuse"},
        {"outcome": "serious_harm", "incident": "other", "proceedings": "none", "law": "private", "perpetrator": "mother",
         "harm_by_da_perpetrator": "no", "risks_present": "domestic_abuse"},
        {"outcome": "serious_harm", "incident": "other", "proceedings": "none", "law": "private", "perpetrator": "none",
         "harm_by_da_perpetrator": "na", "risks_present": ""},
    ]
    table = prevalence(rows, RISKS).set_index("key")
    assert table.loc["outcome=death", "percent"] == 50.0
    assert table.loc["proceedings=none", "count"] == 3 and table.loc["proceedings=none", "percent"] == 75.0
    assert table.loc["risk=domestic_abuse", "percent"] == 75.0 and table.loc["risk=neglect", "count"] == 1
    # Of the three domestic-abuse cases, two were harmed by someone other than the alleged abuser.
    assert table.loc["da_harm_by_other", "n"] == 3 and table.loc["da_harm_by_other", "percent"] == pytest.approx(66.7)
    co = cooccurrence(rows, RISKS)
    assert co.loc["domestic_abuse", "neglect"] == 1 and co.loc["domestic_abuse", "domestic_abuse"] == 3
    gold = prevalence(rows[:2] + rows[2:3] + [{**rows[3], "outcome": "death"}], RISKS)
    compared = compare(prevalence(rows, RISKS), gold, {"outcome=death": 60}).set_index("key")
    assert compared.loc["outcome=death", "abs_error_pp"] == 25.0
    assert compared.loc["outcome=death", "published_percent"] == 60


def test_named_adults_take_the_role_they_are_introduced_with():
    finder = RoleFinder(load_fact_config())
    text = ("Child D was fifteen weeks old when Mr X, Mother's partner, called an ambulance. "
            "Mother's partner at the time, Mr L, was convicted. Ms Y was a family friend.")
    aliases = finder.aliases(text)
    assert aliases["Mr X"] == "mother_partner" and aliases["Mr L"] == "mother_partner"
    counts = finder._role_counts("Mr X was convicted of murder", aliases)
    assert counts[finder.roles.index("mother_partner")] == 1 and counts.sum() == 1
    # "Mother's partner" is not also Mother.
    counts = finder._role_counts("Mother's partner was convicted", aliases)
    assert counts[finder.roles.index("mother")] == 0


def test_facts_command_on_shipped_reviews_matches_gold(tmp_path, corpus_dir):
    out = tmp_path / "facts.csv"
    files = [corpus_dir / "texts" / f"{d}.txt" for d in ("d01", "d05", "d20")]
    res = subprocess.run([sys.executable, "-m", "scr_text", "--store", str(tmp_path / "s.sqlite"), "facts",
                          *map(str, files), "--out", str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    frame = pd.read_csv(out, keep_default_na=False)
    columns = ["doc_id", "outcome", "incident", "proceedings", "law", "perpetrator", "harm_by_da_perpetrator",
               "risks_present"] + [f"{f}_confidence" for f in ("outcome", "incident", "proceedings", "law",
                                                                "perpetrator", "harm_by_da_perpetrator")]
    assert list(frame.columns) == columns
    gold = {r["doc_id"]: r for r in csv.DictReader(open(corpus_dir / "cases.csv"))}
    for row in frame.to_dict("records"):
        g = gold[row["doc_id"]]
        # Reviews the model was trained on: the explicit facts must come out right.
        for fact in ("outcome", "law"):
            assert row[fact] == g[fact], (row["doc_id"], fact)
        assert 0 <= row["outcome_confidence"] <= 1
    evidence = [json.loads(line) for line in out.with_suffix(".evidence.jsonl").read_text().splitlines()]
    assert [e["doc_id"] for e in evidence] == list(frame.doc_id)
    d01 = (corpus_dir / "texts" / "d01.txt").read_text(encoding="utf-8")
    for item in evidence[0]["facts"]["outcome"]["passages"]:
        assert d01[item["start"]:item["end"]] == item["text"]
    assert evidence[0]["facts"]["risks_present"]["passages"]


def test_prevalence_command_writes_csv_and_html_with_gold_and_published(tmp_path, small_corpus, corpus_dir):
    import shutil

    shutil.copy(corpus_dir / "cases.csv", small_corpus / "cases.csv")
    res = subprocess.run([sys.executable, "-m", "scr_text", "--store", str(tmp_path / "s.sqlite"), "prevalence",
                          str(small_corpus), "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(tmp_path / "out" / "prevalence.csv")
    assert {"key", "count", "n", "percent", "gold_percent", "abs_error_pp", "published_percent"} <= set(table.columns)
    assert (table["n"][table["key"].str.startswith("outcome=")] == 3).all()
    assert table.set_index("key").loc["risk=domestic_abuse", "published_percent"] == 71
    html = (tmp_path / "out" / "prevalence.html").read_text()
    assert "class=\"bar" in html and "Cafcass (2017)" in html and "<script" not in html
    co = pd.read_csv(tmp_path / "out" / "cooccurrence.csv", index_col=0)
    assert np.array_equal(co.values, co.values.T)


def test_risk_rule_takes_the_middle_of_tied_rules_not_the_most_permissive(segmenter):
    from scr_text.codebook import load_codebook
    from scr_text.facts.extract import FactExtractor, Review

    codebook = load_codebook()
    j = codebook.ids.index("neglect")

    def review(doc_id, tagged):
        decided = np.zeros((6, len(codebook.ids)), dtype=bool)
        decided[:tagged, j] = True
        return Review(doc_id, [], np.where(decided, 0.5, 0.0), decided)

    extractor = FactExtractor(load_fact_config(), codebook, segmenter.nlp)
    gold = {d: {"risks_present": "neglect" if d < "d" else ""} for d in "abcdef"}
    # Five tagged passages in each review with neglect, none elsewhere: every rule on the grid (1-5
    # passages, any score) reproduces gold, and the middle one is taken.
    rules = extractor._fit_risk_rules([review(d, 5 if d < "d" else 0) for d in "abcdef"], gold)
    assert rules["neglect"] == [3, 0.95]
    # Two tagged passages: only rules asking for one or two passages tie.
    rules = extractor._fit_risk_rules([review(d, 2 if d < "d" else 0) for d in "abcdef"], gold)
    assert rules["neglect"] == [2, 0.95]
    assert set(rules) == set(codebook.family_codes("risk_factor"))
