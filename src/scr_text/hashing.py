"""Content hashes used as identities: of passage texts (embedding cache keys) and of files."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@lru_cache(maxsize=8)
def weights_digest(model_dir: Path) -> str | None:
    """First 12 hex digits of a model folder's weights file, None without one. Hashing the weights
    (about 90 MB) once per process keeps warm re-runs fast."""
    for name in WEIGHT_FILES:
        if (model_dir / name).is_file():
            return file_sha256(model_dir / name)[:12]
    return None
