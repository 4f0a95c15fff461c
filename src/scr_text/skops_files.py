"""Loading trained objects saved with skops (no pickle), trusting only the types the caller lists.

skops trusts much of scikit-learn by default; a model file here may name only the types its loader lists
(and plain containers), checked in the file's schema before anything is built."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

from .errors import UserError

_CONTAINERS = {"builtins.dict", "builtins.list", "builtins.tuple", "builtins.str", "builtins.int", "builtins.float",
               "builtins.bool", "builtins.NoneType", "numpy.ndarray", "numpy.int64", "numpy.float64", "numpy.float32"}


def load_trusted(skops_file: Path, trusted: list[str]):
    """The object in ``skops_file``, refused (``UserError``) if the file names any type outside ``trusted``."""
    import skops.io as sio

    untrusted = (_types_in(skops_file) | set(sio.get_untrusted_types(file=skops_file))) - set(trusted) - _CONTAINERS
    if untrusted:
        raise UserError(f"{skops_file}: model file contains types that are not trusted: {', '.join(sorted(untrusted))}")
    return sio.load(skops_file, trusted=trusted)


def _types_in(skops_file: Path) -> set[str]:
    """The object types a .skops file names, read from its schema without building anything."""
    with zipfile.ZipFile(skops_file) as archive:
        info = archive.getinfo("schema.json")
        if info.file_size > 50 * 2**20:
            raise UserError(f"{skops_file}: model schema is implausibly large")
        schema = json.loads(archive.read(info))
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            if "__class__" in node:
                found.add(f"{node.get('__module__')}.{node['__class__']}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return found
