"""Embeddings from the bundled all-MiniLM-L6-v2 on the CPU, with the store as cache."""
from __future__ import annotations

import numpy as np
import pytest

from scr_text.embed.encoder import Embedder, resolve_model_path


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


def test_openvino_int8_vectors_match_torch(embedder_settings, gold_passages, corpus_dir):
    """The faster backend must embed like the model it was exported from: it is what `tag` runs."""
    from dataclasses import replace

    docs = {d: (corpus_dir / "texts" / f"{d}.txt").read_text(encoding="utf-8") for d in {p["doc_id"] for p in gold_passages}}
    texts = [docs[p["doc_id"]][p["start"]:p["end"]] for p in gold_passages[-200:]]
    torch_vectors = Embedder(replace(embedder_settings, backend="torch")).encode(texts)
    fast = Embedder(replace(embedder_settings, backend="openvino-int8"))
    assert fast.model_id.split("/")[0] == Embedder(replace(embedder_settings, backend="torch")).model_id.split("/")[0]
    cosine = (torch_vectors * fast.encode(texts)).sum(axis=1)
    # The last 200 paragraphs are the 2010-era overview reports' (120 words on average), where int8 strays most:
    # min 0.9896, against 0.996 on the first reviews' paragraphs, the ones it is calibrated on.
    assert cosine.min() > 0.985 and cosine.mean() > 0.995


def test_a_text_gets_the_same_vector_whatever_is_embedded_with_it(embedder_settings, gold_passages, corpus_dir):
    """The cache keys a vector by its text alone, and `tag a.pdf b.pdf` must score a.pdf as `tag a.pdf` does:
    the int8 network's output moves with its batch's padded length, so batches must not set it."""
    from dataclasses import replace

    docs = {d: (corpus_dir / "texts" / f"{d}.txt").read_text(encoding="utf-8") for d in {p["doc_id"] for p in gold_passages}}
    texts = [docs[p["doc_id"]][p["start"]:p["end"]] for p in gold_passages[:120]]
    fast = Embedder(replace(embedder_settings, backend="openvino-int8"))
    together = fast.encode(texts)
    assert np.array_equal(fast.encode(texts[::-1])[::-1], together)  # other batch mates
    assert np.array_equal(fast.encode(texts[:7]), together[:7])
    assert np.array_equal(np.vstack([fast.encode([t]) for t in texts[:40]]), together[:40])


def test_openvino_export_sends_no_telemetry_and_leaves_home_alone(embedder_settings, tmp_path, monkeypatch):
    """OpenVINO's converter and NNCF report usage to Google Analytics unless told no: the export must
    not open a single connection, nor write a consent file into the user's home."""
    import os
    import socket

    from scr_text.embed import openvino_backend

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setenv("SCR_TEXT_HOME", str(tmp_path / "project"))  # the export cache goes under the project
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    xml = openvino_backend.export(resolve_model_path(embedder_settings.model), "openvino-int8", calibration=20)
    assert xml.is_file() and xml.with_suffix(".bin").is_file()
    assert attempts == []
    assert os.environ["HOME"] == str(home) and list(home.iterdir()) == []
    assert [p.name for p in xml.parent.iterdir() if p.name.startswith(".part")] == []
    assert xml.is_relative_to(tmp_path / "project" / ".cache" / "openvino")


def test_openvino_backend_refuses_a_pooling_it_does_not_copy(embedder_settings, tmp_path):
    import json
    import shutil
    from dataclasses import replace

    from scr_text.errors import UserError

    src = resolve_model_path(embedder_settings.model)
    model = tmp_path / "cls-model"
    shutil.copytree(src, model, ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))
    (model / "model.safetensors").symlink_to(src / "model.safetensors")
    config = json.loads((model / "1_Pooling" / "config.json").read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    (model / "1_Pooling" / "config.json").write_text(json.dumps(config))
    with pytest.raises(UserError, match="mean pooling only"):
        Embedder(replace(embedder_settings, model=str(model), backend="openvino")).encode(["x"])
