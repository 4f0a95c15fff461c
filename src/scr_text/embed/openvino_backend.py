"""The embedding model run by OpenVINO: exported on this machine from the bundled weights (no download),
optionally quantised to int8 with NNCF on passages of the shipped corpus, and kept under
<project>/.cache/openvino/<weights digest>/. Tagging a long review spends most of its time here, and int8 on
OpenVINO is about 2.8 times faster than PyTorch on this 2-core machine (`benchmarks/bench_tag.py`).

Why not sentence-transformers' own ``backend="openvino"``: it goes through optimum-intel, which pins
transformers below 5.6 and pulls a torchvision that does not load beside this machine's torch. The
runtime part needed here is small: tokenise, run the network, mean-pool, normalise.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Sequence

import numpy as np

from scr_text.errors import UserError
from scr_text.hashing import weights_digest
from scr_text.locations import SAMPLE_CORPUS, cache_dir

BACKENDS = {"openvino": "model.xml", "openvino-int8": "model-int8.xml"}


def _sentence_transformer_layout(model_dir: Path) -> tuple[int, bool]:
    """(max_seq_length, normalise) of a sentence-transformers folder; refuses what this runtime cannot copy."""
    modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k not in ("Transformer", "Pooling", "Normalize") for k in kinds):
        raise UserError(f"the OpenVINO backend runs Transformer + mean Pooling (+ Normalize) models; {model_dir} has {kinds}")
    pooling = json.loads((model_dir / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
    if not pooling.get("pooling_mode_mean_tokens") or any(
        v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens"
    ):
        raise UserError(f"the OpenVINO backend supports mean pooling only ({model_dir / modules[1]['path']})")
    config = model_dir / "sentence_bert_config.json"
    max_len = json.loads(config.read_text(encoding="utf-8")).get("max_seq_length", 256) if config.is_file() else 256
    return int(max_len), "Normalize" in kinds


# Each text is padded to its token count rounded up to this step. The int8 network's output for a text
# shifts (by up to 0.004) with the padded length of its batch, so padding to the batch's longest text made a
# passage's vector depend on which other texts were embedded with it; padded to a length set by the text
# alone, the same text always gets the same vector. Batches hold texts of one padded length.
_LENGTH_STEP = 16
# Names this way of running the network in the embedding cache's key (``Embedder.model_id``): vectors cached
# when batches set the padding are not these, and are not read back.
RUNTIME = f"pad{_LENGTH_STEP}"


def _tokenizer(model_dir: Path, max_length: int):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.enable_truncation(max_length=max_length)
    tok.no_padding()
    return tok


def _inputs(encodings, names: Sequence[str], length: int | None = None) -> dict[str, np.ndarray]:
    """The network's inputs for tokenised texts, padded to ``length`` (default: the longest)."""
    length = length or max(len(e.ids) for e in encodings)
    arrays = {n: np.zeros((len(encodings), length), dtype=np.int64)
              for n in ("input_ids", "attention_mask", "token_type_ids")}
    for row, e in enumerate(encodings):
        arrays["input_ids"][row, :len(e.ids)] = e.ids
        arrays["attention_mask"][row, :len(e.ids)] = e.attention_mask
        arrays["token_type_ids"][row, :len(e.ids)] = e.type_ids
    return {n: arrays[n] for n in names}


@contextmanager
def _telemetry_off():
    # OpenVINO's converter and NNCF send usage statistics to Google Analytics unless a consent file in
    # the user's home says no. With HOME pointing at a folder that does not exist they read "declined"
    # and send nothing, and nothing is written to the real home. (HOME is process-wide: this runs once per
    # machine, before any model is loaded.)
    old = os.environ.get("HOME")
    os.environ["HOME"] = str(cache_dir("openvino") / "no-such-home")
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = old


def calibration_texts(n: int) -> list[str]:
    """The first ``n`` paragraphs of the shipped corpus, in a fixed order: int8 ranges are set on text like ours."""
    from scr_text.nlp.segment import paragraph_spans

    out: list[str] = []
    for path in sorted((SAMPLE_CORPUS / "texts").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        out += [text[a:b] for a, b in paragraph_spans(text)]
        if len(out) >= n:
            break
    if not out:
        raise UserError(f"no paragraphs in {SAMPLE_CORPUS / 'texts'} to calibrate the int8 embedding model on")
    return out[:n]


def export(model_dir: Path, backend: str, calibration: int = 300) -> Path:
    """The IR file for ``backend``, exported (and quantised) the first time. Complete or absent: the
    files are written to a private folder and moved into place, so a killed export leaves nothing half-made."""
    digest = weights_digest(model_dir)
    if digest is None:
        raise UserError(f"no PyTorch weights in {model_dir} to export to OpenVINO")
    target = cache_dir("openvino") / digest
    xml = target / BACKENDS[backend]
    if xml.is_file():
        return xml
    import nncf
    import openvino as ov
    import torch
    from sentence_transformers import SentenceTransformer

    print(f"exporting the embedding model to OpenVINO ({backend}) in {target} (once)", file=sys.stderr)
    max_len, _ = _sentence_transformer_layout(model_dir)
    tok = _tokenizer(model_dir, max_len)
    network = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)[0].auto_model.eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = _inputs(tok.encode_batch(["An example passage.", "Another."]), names)
    example = {k: torch.from_numpy(v) for k, v in example.items()}
    with _telemetry_off(), torch.no_grad():
        model = ov.convert_model(network, example_input=example)
        if backend == "openvino-int8":
            texts = calibration_texts(calibration)
            names = [i.get_any_name() for i in model.inputs]
            dataset = nncf.Dataset(texts, lambda t: _inputs([tok.encode(t)], names))
            model = nncf.quantize(model, dataset, model_type=nncf.ModelType.TRANSFORMER, subset_size=len(texts))
        part = target / f".part-{os.getpid()}"
        shutil.rmtree(part, ignore_errors=True)
        part.mkdir(parents=True)
        ov.save_model(model, str(part / xml.name), compress_to_fp16=False)
    os.replace(part / xml.with_suffix(".bin").name, xml.with_suffix(".bin"))
    os.replace(part / xml.name, xml)  # the .xml last: its presence means the pair is complete
    shutil.rmtree(part, ignore_errors=True)
    return xml


class OpenVINOEncoder:
    """The subset of SentenceTransformer's interface the Embedder uses, run by OpenVINO."""

    def __init__(self, model_dir: Path, xml: Path):
        import openvino as ov

        self.max_length, self.normalise = _sentence_transformer_layout(model_dir)
        self.tokenizer = _tokenizer(model_dir, self.max_length)
        self.compiled = ov.Core().compile_model(str(xml), "CPU", {"PERFORMANCE_HINT": "LATENCY"})
        self.names = [i.get_any_name() for i in self.compiled.inputs]
        self.dimension = int(self.compiled.outputs[0].get_partial_shape()[-1].get_length())

    def get_sentence_embedding_dimension(self) -> int:
        return self.dimension

    def encode(self, texts: Sequence[str], batch_size: int = 32, normalize_embeddings: bool = True,
               show_progress_bar: bool = False, **_ignored) -> np.ndarray:
        from tqdm import tqdm

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        padded = np.array([min(-(-len(e.ids) // _LENGTH_STEP) * _LENGTH_STEP, self.max_length) for e in encodings])
        batches = [(length, rows[s:s + batch_size]) for length in np.unique(padded)
                   for rows in [np.flatnonzero(padded == length)] for s in range(0, len(rows), batch_size)]
        for length, idx in tqdm(batches, desc="embedding", unit="batch", disable=not show_progress_bar):
            feeds = _inputs([encodings[i] for i in idx], self.names, int(length))
            hidden = self.compiled(feeds)[0]
            mask = feeds["attention_mask"][..., None].astype(np.float32)
            out[idx] = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        if normalize_embeddings or self.normalise:  # the model's own Normalize layer is not in the network
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out
