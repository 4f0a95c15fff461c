"""Safety checks for zip containers (DOCX, QDPX) before anything unpacks them."""
from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

from scr_text.config import Limits
from scr_text.errors import IngestError


def check_zip(data: bytes, path: str, limits: Limits) -> None:
    """Refuse archives that would unpack too large, hold too many entries, or write outside their root."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise IngestError(path, "is a damaged zip archive") from exc
    if len(infos) > limits.max_zip_entries:
        raise IngestError(path, f"archive holds {len(infos)} entries (limit {limits.max_zip_entries})")
    total = sum(info.file_size for info in infos)
    if total > limits.max_decompressed_bytes:
        raise IngestError(
            path,
            f"archive would unpack to {total} bytes (limit {limits.max_decompressed_bytes}): possible decompression bomb",
        )
    for info in infos:
        name = PurePosixPath(info.filename.replace("\\", "/"))
        if name.is_absolute() or ".." in name.parts:
            raise IngestError(path, f"archive entry '{info.filename}' points outside the archive")
