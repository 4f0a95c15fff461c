"""The rule stage on the real spaCy pipeline: lemma matching, spans, negation and hypotheticals."""
from __future__ import annotations

from pathlib import Path

import pytest

from scr_text.codebook import load_codebook
from scr_text.records import Document
from scr_text.tagging.rules import AFFIRMED, RuleTagger

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
    # Sexual offending and child sexual abuse beyond grooming (issue #37, class 2).
    ("He had been convicted of sexual assault on a girl he met online.", "sexual_exploitation", "sexual assault"),
    ("The lodger was a registered sex offender.", "sexual_exploitation", "sex offender"),
    ("Police seized indecent images of children from his phone.", "sexual_exploitation", "indecent images of children"),
    ("The report describes the child sexual abuse she suffered.", "sexual_exploitation", "child sexual abuse"),
    # Common words of reports (class 3).
    ("Mr Y stabbed the boy in the hallway.", "physical_abuse", "stabbed"),
    ("The pathologist found signs that the baby had been smothered.", "physical_abuse", "smothered"),
    ("The coroner gave a finding of sudden unexplained death in infancy.", "unsafe_sleep",
     "sudden unexplained death in infancy"),
    ("Her death was treated as a sudden unexpected death in childhood.", "unsafe_sleep",
     "sudden unexpected death in childhood"),
    ("Father told his GP that he wanted to die.", "parental_mental_health", "wanted to die"),
    ("Mother said she had thought about ending her life.", "parental_mental_health", "ending her life"),
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


def test_a_hit_inside_another_codes_longer_hit_gives_way(rules, segmenter):
    """'assault' is a domestic-abuse phrase; inside 'sexual assault' it is the sexual-abuse reading only."""
    (passage,) = passages_of(segmenter, ["The man was later convicted of the sexual assault of a neighbour's daughter."])
    assert {h.code for h in rules.hits(passage)} == {"sexual_exploitation"}
    (passage,) = passages_of(segmenter, ["Mr X was charged with assault after the incident."])
    assert "domestic_abuse" in {h.code for h in rules.hits(passage)}


@pytest.mark.parametrize("text", [
    "The review was commissioned because abuse or neglect is known or suspected and the child has died.",
    "As abuse or neglect was not known or suspected, the criteria for a review were not met.",
    "The local authority notified Ofsted of the serious incident the next day.",
    "The panel agreed the terms of reference in the spring.",
])
def test_standard_review_wording_is_no_evidence(rules, segmenter, text):
    (passage,) = passages_of(segmenter, [text])
    assert [(h.code, h.text) for h in rules.hits(passage) if h.code in ("neglect", "information_sharing", "physical_abuse")] == []


def test_the_same_words_outside_the_boilerplate_still_count(rules, segmenter):
    (passage,) = passages_of(segmenter, ["The health visitor suspected neglect and referred the family to children's social care."])
    assert {"neglect", "information_sharing"} <= {h.code for h in rules.hits(passage)}
