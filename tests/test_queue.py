"""The "what to code next" queue on the tagged shipped corpus, with the real embedder's vectors."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import copy_store
from scr_text.codebook import load_codebook
from scr_text.coding.next_to_code import next_to_code
from scr_text.config import load_settings
from scr_text.embed.encoder import Embedder
from scr_text.modeldir import model_key, resolve_model_dir
from scr_text.store.database import Store
from scr_text.tagging.tagger import TaggerModel


@pytest.fixture(scope="module")
def tagged(corpus_run, tmp_path_factory):
    dst = copy_store(corpus_run[0], tmp_path_factory.mktemp("queue") / "store.sqlite")
    settings, codebook = load_settings(), load_codebook()
    model = TaggerModel.load(settings.tagger.model)
    with Store(dst) as store:
        yield (store, model_key(resolve_model_dir(settings.tagger.model), codebook.hash),
               {c: float(t) for c, t in zip(model.codes, model.stages.thresholds)},
               Embedder(settings.embed, cache=store).transform)


def mean_similarity(embed, items) -> float:
    E = embed([c.text for c in items])
    return float((E @ E.T)[np.triu_indices(len(items), 1)].mean())


def test_without_diversity_the_queue_is_uncertainty_order_within_the_review_cap(tagged):
    store, key, thresholds, embed = tagged
    items = next_to_code(store, "q1", key, thresholds, 20, 2, embed, diversity=0.0)
    assert len(items) == 20
    margins = [c.margin for c in items]
    assert margins == sorted(margins)
    reviews = [c.doc_id for c in items]
    assert max(reviews.count(r) for r in reviews) <= 2
    # Each item's code is its passage's least certain one.
    for c in items[:5]:
        scores = {code: store.tag_scores(key, code)[(c.doc_id, c.passage)][0] for code in thresholds}
        assert c.margin == pytest.approx(min(abs(scores[k] - thresholds[k]) for k in thresholds))


def test_diversity_spreads_the_queue_over_unlike_passages_and_keeps_the_most_uncertain_first(tagged):
    store, key, thresholds, embed = tagged
    plain = next_to_code(store, "q2", key, thresholds, 20, 2, embed, diversity=0.0)
    spread = next_to_code(store, "q2", key, thresholds, 20, 2, embed, diversity=0.75)
    assert (spread[0].doc_id, spread[0].passage) == (plain[0].doc_id, plain[0].passage)
    assert mean_similarity(embed, spread) < mean_similarity(embed, plain) - 0.03
    assert len({(c.doc_id, c.passage) for c in spread}) == 20
    reviews = [c.doc_id for c in spread]
    assert max(reviews.count(r) for r in reviews) <= 2


def test_a_decided_passage_leaves_the_coders_queue_only(tagged):
    store, key, thresholds, embed = tagged
    first = next_to_code(store, "q3", key, thresholds, 5, 2, embed)[0]
    store.decide("q3", first.doc_id, first.passage, first.code, "accept")
    assert (first.doc_id, first.passage) not in {(c.doc_id, c.passage) for c in next_to_code(store, "q3", key, thresholds, 5, 2, embed)}
    assert (first.doc_id, first.passage) in {(c.doc_id, c.passage) for c in next_to_code(store, "q4", key, thresholds, 5, 2, embed)}
