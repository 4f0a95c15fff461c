"""Embeddings from the bundled all-MiniLM-L6-v2 on the CPU, with the store as cache."""
from __future__ import annotations

import numpy as np
import pytest

from scr_text.embed import Embedder, resolve_model_path


@pytest.fixture(scope="module")
def embedder_settings(settings):
    return settings.embed


def test_bundled_model_is_the_expected_weights(embedder_settings):
    from scr_text.hashing import file_sha256

    path = resolve_model_path(embedder_settings.model)
    assert file_sha256(path / "model.safetensors").startswith("53aa5117")


def test_vectors_are_normalised_and_meaningful(embedder_settings):
    emb = Embedder(embedder_settings)
    v = emb.transform([
        "The father hit the mother in front of the children.",
        "Police attended after a violent incident between the parents.",
        "The minutes of the meeting were typed up and filed.",
    ])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]


def test_a_rerun_embeds_nothing_already_cached(embedder_settings, store, monkeypatch):
    texts = ["Child A was seen alone.", "The plan was not reviewed.", "Child A was seen alone."]
    first = Embedder(embedder_settings, cache=store).transform(texts)
    assert store.counts()["embeddings"] == 2  # duplicates are embedded once

    second = Embedder(embedder_settings, cache=store)

    def refuse(_texts):
        raise AssertionError("re-embedded a cached text")

    monkeypatch.setattr(second, "encode", refuse)
    again = second.transform(texts)
    assert np.array_equal(first, again)


def test_missing_local_model_is_a_clear_error(tmp_path, embedder_settings):
    from dataclasses import replace

    from scr_text.errors import UserError

    with pytest.raises(UserError, match="no sentence-transformers model"):
        Embedder(replace(embedder_settings, model=str(tmp_path)))
