"""Where scr-text finds its files: the defaults shipped inside the package, and the user's project folder.

The package carries its default settings, codebook, trained model and sample corpus as package data
(``scr_text/defaults/``), read through ``importlib.resources`` so that an installed wheel works from any
folder. A user works in a *project folder*: ``$SCR_TEXT_HOME`` if set, else the current folder. Its own
``configs/``, ``models/`` and ``corpora/`` override the packaged ones file by file (``scr-text init``
writes editable copies), and the store, caches and outputs go there, never into the installation.

Lookup order, first found wins:
- settings: ``--config``, ``$SCR_TEXT_CONFIG``, ``<project>/configs/pipeline.yaml``, the packaged file;
- codebook, case-facts and guard settings: ``<project>/configs/<name>.yaml``, the packaged file;
- a model named NAME: a folder at that path, ``<project>/models/NAME``, the packaged ``models/NAME``;
- the default corpus: ``<project>/corpora/dev``, the packaged sample corpus;
- the store: ``--store``, ``$SCR_TEXT_STORE``, ``store.path`` in the settings (relative to the project);
- caches (the OpenVINO export, numba's compiled kernels): ``<project>/.cache/``.
"""
from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

# The packaged defaults. In a source checkout these are symlinks to the repository's configs/, models/ and
# corpora/; in a wheel, copies of them.
PACKAGED = Path(str(files("scr_text") / "defaults"))
PACKAGED_CONFIGS = PACKAGED / "configs"
PACKAGED_MODELS = PACKAGED / "models"
SAMPLE_CORPUS = PACKAGED / "corpora" / "dev"
GUARD_SET = PACKAGED / "corpora" / "guard_set.jsonl"
CONFIG_NAMES = ("pipeline.yaml", "codebook.yaml", "facts.yaml", "guard.yaml")


def project_dir() -> Path:
    """The folder the user works in: ``$SCR_TEXT_HOME``, else the current folder."""
    home = os.environ.get("SCR_TEXT_HOME")
    return Path(home).expanduser().resolve() if home else Path.cwd()


def config_file(name: str) -> Path:
    """``<project>/configs/<name>`` where the user has one, else the packaged default."""
    own = project_dir() / "configs" / name
    return own if own.is_file() else PACKAGED_CONFIGS / name


def model_search_dirs() -> list[Path]:
    """Folders a model name is looked up in, in order."""
    return [project_dir() / "models", PACKAGED_MODELS]


def default_corpus() -> Path:
    own = project_dir() / "corpora" / "dev"
    return own if own.is_dir() else SAMPLE_CORPUS


def cache_dir(kind: str) -> Path:
    """``<project>/.cache/<kind>`` (not created here)."""
    return project_dir() / ".cache" / kind
