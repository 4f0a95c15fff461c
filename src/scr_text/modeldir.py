"""Where trained models live (``models/<name>/``) and the key that identifies one model's output.
Kept free of heavy imports: a warm re-run only needs the key to find its cached tags."""
from __future__ import annotations

from pathlib import Path

from scr_text.errors import UserError
from scr_text.hashing import file_sha256
from scr_text.locations import model_search_dirs


def resolve_model_dir(name_or_path: str | Path) -> Path:
    """A model folder as given, else by name in the project's ``models/``, else among the packaged ones."""
    p = Path(name_or_path)
    dirs = model_search_dirs()
    for candidate in (p, *(d / p for d in dirs)):
        if (candidate / "model.skops").is_file():
            return candidate
    raise UserError(f"no trained model at '{name_or_path}' (looked in {', '.join(map(str, dirs))}); "
                    "run `scr-text train`")


def model_key(model_dir: Path, codebook_hash: str) -> str:
    """Identifies tags made by one trained model under one codebook (the store's tag cache key)."""
    return f"{model_dir.name}@{file_sha256(model_dir / 'card.json')[:12]}/{codebook_hash}"
