"""The code passes the project's ruff configuration (pyproject.toml: pycodestyle, pyflakes, import order, bugbear)
and keeps its layers: import-linter's contract in pyproject.toml, which fails on any upward import."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_ruff_passes():
    res = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "src", "tests", "benchmarks", "experiments"],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-1000:]


def _lint_imports(src: Path) -> subprocess.CompletedProcess:
    # The package is read from ``src`` (PYTHONPATH first), the contract from the project's pyproject.toml.
    return subprocess.run([str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=src,
                          capture_output=True, text=True, env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"})


def test_the_layers_contract_is_kept():
    res = _lint_imports(ROOT / "src")
    assert res.returncode == 0 and "1 kept, 0 broken" in res.stdout, res.stdout[-3000:] + res.stderr[-1000:]


def test_an_upward_import_breaks_the_contract(tmp_path):
    # Lazy (function-level) imports count too: the contract is on the module graph, not on import time.
    shutil.copytree(ROOT / "src" / "scr_text", tmp_path / "scr_text", ignore=shutil.ignore_patterns("defaults"))
    store = tmp_path / "scr_text" / "store" / "database.py"
    store.write_text(store.read_text() + "\n\ndef _planted():\n    from scr_text.tagging.apply import tag_stored\n")
    res = _lint_imports(tmp_path)
    assert res.returncode == 1 and "scr_text.store is not allowed to import scr_text.tagging" in res.stdout, res.stdout
