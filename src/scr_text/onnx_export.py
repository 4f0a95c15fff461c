"""A local ONNX copy of the embedding model, exported from the same weights on first use (no download)
and kept under .cache/onnx, with a dynamically quantised (int8) variant beside it."""
from __future__ import annotations

import shutil
from pathlib import Path

from .config import PROJECT_ROOT
from .hashing import file_sha256

CACHE = PROJECT_ROOT / ".cache" / "onnx"
QUANTISED = "onnx/model_quint8_avx2.onnx"


def ensure_onnx(model_dir: Path, quantised: bool) -> tuple[Path, str]:
    """(folder, file name) of the ONNX model for ``model_dir``, exporting it the first time."""
    weights = next((model_dir / n for n in ("model.safetensors", "pytorch_model.bin") if (model_dir / n).is_file()), None)
    digest = file_sha256(weights)[:12] if weights else model_dir.name
    target = CACHE / digest
    wanted = QUANTISED if quantised else "onnx/model.onnx"
    if not (target / wanted).is_file():
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.backend import export_dynamic_quantized_onnx_model

        tmp = target.with_name(target.name + ".part")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(model_dir, tmp)
        model = SentenceTransformer(str(tmp), backend="onnx", device="cpu", local_files_only=True)
        model.save_pretrained(str(tmp))
        export_dynamic_quantized_onnx_model(model, "avx2", str(tmp))
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)  # complete or absent: a killed export leaves only the .part folder
    return target, wanted
