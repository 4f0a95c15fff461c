"""The rule stage on the real spaCy pipeline: lemma matching, spans, negation and hypotheticals."""
from __future__ import annotations

from pathlib import Path

import pytest

from scr_text.codebook import load_codebook
from scr_text.records import Document
from scr_text.rules import AFFIRMED, RuleTagger

NEGATED = [ln for ln in (Path(__file__).parent / "data" / "negated_sentences.txt").read_text().splitlines()
           if ln.strip() and not ln.startswith("#")]


@pytest.fixture(scope="module")
def rules(segmenter):
    return RuleTagger(load_codebook(), segmenter.nlp)


def passages_of(segmenter, texts):
    docs = [Document(f"t{i}", "t.txt", "txt", str(i), t) for i, t in enumerate(texts)]
    return [ps[0] for ps in segmenter.transform(docs)]


def test_no_rule_fires_on_negated_ruled_out_or_hypothetical_sentences(rules, segmenter):
    assert len(NEGATED) >= 25
    fired = {}
    for passage in passages_of(segmenter, NEGATED):
        hits = rules.hits(passage)
        if hits:
            fired[passage.text] = [(h.code, h.text) for h in hits]
    assert fired == {}
    # ...and each of them does mention a risk factor that the negation handling suppressed.
    for passage in passages_of(segmenter, NEGATED):
        assert any(h.context != AFFIRMED for h in rules.scoped_hits(passage)), passage.text


@pytest.mark.parametrize("text,code,span", [
    ("Mr X assaulted Mother in the kitchen and the police attended.", "domestic_abuse", "assaulted Mother"),
    ("The health visitor saw a small bruise in front of the baby's ear.", "physical_abuse", "bruise"),
    ("Mother was drinking heavily while caring for the children.", "substance_misuse", "drinking"),
    ("The baby had been sleeping on the sofa with Father.", "unsafe_sleep", "sleeping on the sofa"),
    ("The bruise was not explained by either parent.", "physical_abuse", "bruise"),
    ("Mother denied the drug use, but the hair strand test was positive.", "substance_misuse", "hair strand test"),
])
def test_affirmed_mentions_fire_with_exact_spans(rules, segmenter, text, code, span):
    (passage,) = passages_of(segmenter, [text])
    hits = [h for h in rules.hits(passage) if h.code == code]
    assert hits, rules.scoped_hits(passage)
    assert span in [h.text for h in hits]
    for h in hits:
        assert text[h.start:h.end] == h.text


def test_lemmas_not_surface_strings(rules, segmenter):
    (passage,) = passages_of(segmenter, ["The records were incomplete and the plans were never reviewed."])
    codes = {h.code for h in rules.hits(passage)}
    assert {"recording", "planning"} <= codes


def test_practice_codes_are_not_negatable(rules, segmenter):
    (passage,) = passages_of(segmenter, ["There was no safety plan for the children."])
    assert "planning" in {h.code for h in rules.hits(passage)}


def test_rule_features_count_affirmed_and_negated_hits(rules, segmenter):
    passages = passages_of(segmenter, ["There were no concerns about domestic abuse.", "Mr X assaulted Mother."])
    x = rules.transform(passages)
    k = len(rules.codebook.ids)
    j = rules.codebook.ids.index("domestic_abuse")
    assert x[0, j] == 0 and x[0, k + j] > 0
    assert x[1, j] > 0 and x[1, k + j] == 0
