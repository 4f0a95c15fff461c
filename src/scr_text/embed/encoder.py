"""Sentence embeddings (all-MiniLM-L6-v2 from an installed package, or a local sentence-transformers
model), run by PyTorch or by OpenVINO (`openvino_backend.py`), cached by (model, backend, text hash) so
that nothing is embedded twice."""
from __future__ import annotations

import importlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from scr_text.config import EmbedSettings
from scr_text.embed.openvino_backend import BACKENDS, RUNTIME, OpenVINOEncoder, export
from scr_text.errors import UserError
from scr_text.hashing import text_key, weights_digest
from scr_text.locations import project_dir

# Nothing here may reach a model hub: every model loads from disk.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


class EmbeddingCache(Protocol):
    def get_embeddings(self, model_id: str, keys: Sequence[str]) -> dict[str, np.ndarray]: ...
    def put_embeddings(self, model_id: str, items: dict[str, np.ndarray]) -> None: ...


def resolve_model_path(spec: str) -> Path:
    """``package:NAME`` -> the model directory bundled in that installed package; else a local path."""
    if spec.startswith("package:"):
        name = spec.split(":", 1)[1]
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise UserError(f"embedding model package '{name}' is not installed") from exc
        path = Path(module.get_model_path()) if hasattr(module, "get_model_path") else Path(module.__file__).parent / "model"
    else:
        path = Path(spec).expanduser()
        path = path if path.is_absolute() else project_dir() / path
    if not (path / "config.json").is_file():
        raise UserError(f"no sentence-transformers model at {path} (set embed.model in configs/pipeline.yaml)")
    return path


@lru_cache(maxsize=4)
def _load(path: str, backend: str, calibration: int):
    if backend in BACKENDS:
        return OpenVINOEncoder(Path(path), export(Path(path), backend, calibration))
    if backend != "torch":
        raise UserError(f"unknown embedding backend '{backend}' (use torch, {' or '.join(BACKENDS)})")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu", local_files_only=True)


class Embedder:
    """``transform(texts) -> (n, d) float32`` with L2-normalised rows (when configured)."""

    def __init__(self, settings: EmbedSettings, cache: EmbeddingCache | None = None, progress: bool = False):
        self.settings = settings
        self.cache = cache
        self.progress = progress
        self.path = resolve_model_path(settings.model)
        # Which weights (the same for every backend) and, after the slash, which backend runs them (for OpenVINO,
        # also how: see openvino_backend.RUNTIME).
        name = self.path.name if self.path.name != "model" else self.path.parent.name
        self.weights_id = f"{name}@{weights_digest(self.path) or 'unknown'}"
        self.model_id = f"{self.weights_id}/{settings.backend}" + (f"+{RUNTIME}" if settings.backend in BACKENDS else "")
        self._model = None

    @property
    def model(self):
        if self._model is None:
            self._model = _load(str(self.path), self.settings.backend, self.settings.calibration_passages)
        return self._model

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed without the cache."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.settings.batch_size,
            normalize_embeddings=self.settings.normalize,
            show_progress_bar=self.progress and len(texts) > self.settings.batch_size,
            convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Embed, reading what the cache holds and writing back what it lacked."""
        if not texts:
            return self.encode([])
        keys = [text_key(t) for t in texts]
        known = self.cache.get_embeddings(self.model_id, keys) if self.cache else {}
        missing = {k: t for k, t in zip(keys, texts) if k not in known}
        if missing:
            fresh = self.encode(list(missing.values()))
            new = dict(zip(missing.keys(), fresh))
            if self.cache:
                self.cache.put_embeddings(self.model_id, new)
            known = {**known, **new}
        return np.stack([known[k] for k in keys]).astype(np.float32)
