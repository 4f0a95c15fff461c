"""The coding frame from ``configs/codebook.yaml``: codes, families, rule phrases, and the hash
that identifies this version of the frame wherever it is used (models, outputs, exports)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scr_text.errors import UserError
from scr_text.locations import config_file


@dataclass(frozen=True)
class Code:
    id: str
    family: str
    label: str
    definition: str
    include: str = ""
    exclude: str = ""
    phrases: tuple[str, ...] = ()
    patterns: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Family:
    id: str
    label: str
    description: str
    negatable: bool


@dataclass(frozen=True)
class Codebook:
    name: str
    version: int
    codes: tuple[Code, ...]
    families: dict[str, Family]
    negation: dict[str, Any] = field(default_factory=dict)
    hash: str = ""
    boilerplate: tuple[str, ...] = ()  # phrases of a review's standard wording; no hit inside one counts

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.codes]

    def code(self, code_id: str) -> Code:
        for c in self.codes:
            if c.id == code_id:
                return c
        raise KeyError(code_id)

    def family_codes(self, family: str) -> list[str]:
        return [c.id for c in self.codes if c.family == family]

    def negatable(self, code_id: str) -> bool:
        return self.families[self.code(code_id).family].negatable


def _strings(values, where: str) -> tuple[str, ...]:
    """A list of phrases; YAML turns unquoted no/yes/on/off/null into booleans or None, which must not slip through."""
    out = []
    for v in values or ():
        if not isinstance(v, (str, int, float)) or isinstance(v, bool):
            raise UserError(f"{where}: {v!r} is not text; quote it in the YAML (e.g. \"no\")")
        out.append(str(v))
    return tuple(out)


def load_codebook(path: str | Path | None = None) -> Codebook:
    path = Path(path or config_file("codebook.yaml"))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UserError(f"{path}: codebook not found") from exc
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: codebook is not valid YAML") from exc
    if not isinstance(raw, dict) or not raw.get("codes"):
        raise UserError(f"{path}: codebook has no codes")
    families = {
        fid: Family(fid, f.get("label", fid), f.get("description", ""), bool(f.get("negatable", False)))
        for fid, f in (raw.get("families") or {}).items()
    }
    codes, seen = [], set()
    for entry in raw["codes"]:
        cid = entry.get("id")
        if not cid or cid in seen:
            raise UserError(f"{path}: every code needs a unique id (problem at {cid!r})")
        if entry.get("family") not in families:
            raise UserError(f"{path}: code {cid!r} names unknown family {entry.get('family')!r}")
        seen.add(cid)
        codes.append(Code(
            id=cid, family=entry["family"], label=entry.get("label", cid), definition=entry.get("definition", ""),
            include=entry.get("include", ""), exclude=entry.get("exclude", ""),
            phrases=_strings(entry.get("phrases"), f"{path}: code {cid!r} phrases"),
            patterns=tuple(entry.get("patterns") or ()),
        ))
    negation = dict(raw.get("negation") or {})
    for kind in ("pre_cues", "post_cues", "hypothetical_cues", "terminators"):
        negation[kind] = list(_strings(negation.get(kind), f"{path}: negation {kind}"))
    boilerplate = _strings(raw.get("boilerplate"), f"{path}: boilerplate")
    # The hash is over the parsed content, so comments and layout do not change the version.
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]
    return Codebook(raw.get("name", path.stem), int(raw.get("version", 1)), tuple(codes), families,
                    negation, digest, boilerplate)
