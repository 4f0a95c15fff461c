"""Loading trained objects saved with skops (no pickle), trusting only the types the caller lists.

skops trusts much of scikit-learn by default; a model file here may name only the types its loader lists
(and plain containers), checked in the file's schema before anything is built. Files saved before the
package was split into stages name the old module paths; ``RENAMED`` maps them to today's, so models
trained then (the shipped one among them) still load."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from scr_text.errors import UserError

_CONTAINERS = {"builtins.dict", "builtins.list", "builtins.tuple", "builtins.str", "builtins.int", "builtins.float",
               "builtins.bool", "builtins.NoneType", "numpy.ndarray", "numpy.int64", "numpy.float64", "numpy.float32"}

# module of a saved type before the stage sub-packages -> its module now
RENAMED = {
    "scr_text.features": "scr_text.tagging.features",
    "scr_text.classify": "scr_text.tagging.classify",
    "scr_text.review_gate": "scr_text.tagging.review_gate",
    "scr_text.rule_fallback": "scr_text.tagging.rule_fallback",
}


def load_trusted(skops_file: Path, trusted: list[str]):
    """The object in ``skops_file``, refused (``UserError``) if the file names any type outside ``trusted``."""
    import skops.io as sio

    data, schema = _renamed(Path(skops_file))
    named = {f"{node.get('__module__')}.{node['__class__']}" for node in _objects(schema)}
    untrusted = (named | set(sio.get_untrusted_types(data=data))) - set(trusted) - _CONTAINERS
    if untrusted:
        raise UserError(f"{skops_file}: model file contains types that are not trusted: {', '.join(sorted(untrusted))}")
    return sio.loads(data, trusted=trusted)


def _schema(skops_file: Path, archive: zipfile.ZipFile) -> dict:
    info = archive.getinfo("schema.json")
    if info.file_size > 50 * 2**20:
        raise UserError(f"{skops_file}: model schema is implausibly large")
    return json.loads(archive.read(info))


def _renamed(skops_file: Path) -> tuple[bytes, dict]:
    """The file's bytes and schema, with old module paths in the schema replaced by today's (the file on disk
    is left as is)."""
    data = skops_file.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        schema = _schema(skops_file, archive)
        old = [node for node in _objects(schema) if node.get("__module__") in RENAMED]
        if not old:
            return data, schema
        for node in old:
            node["__module__"] = RENAMED[node["__module__"]]
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as copy:
            for item in archive.infolist():
                body = json.dumps(schema).encode("utf-8") if item.filename == "schema.json" else archive.read(item)
                copy.writestr(item, body)
    return out.getvalue(), schema


def _objects(node):
    """Every object entry (a mapping naming a ``__class__``) in a skops schema: the types a file names, read
    without building anything."""
    if isinstance(node, dict):
        if "__class__" in node:
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)
