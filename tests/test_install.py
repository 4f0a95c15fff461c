"""scr-text as a user installs it: a wheel in a fresh venv, used from an empty folder outside the checkout.

The fresh venv gets the wheel alone (``--no-deps``); the libraries it needs come from the test's own
environment through a path file, so the test checks the package (its data, its lookups, its entry point)
without reinstalling torch and spaCy. Nothing may be written inside the installation or the checkout.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


# What other tests and the test run itself write in the checkout.
_NOT_WATCHED = {".git", ".venv", "__pycache__", "test-artifacts", ".pytest_cache", ".hypothesis"}


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` with its size and modification time."""
    out = {}
    for here, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in _NOT_WATCHED]
        for name in names:
            path = Path(here) / name
            stat = path.lstat()
            out[str(path.relative_to(folder))] = (stat.st_size, stat.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(scr-text executable, its package folder) in a fresh venv holding only the built wheel."""
    base = tmp_path_factory.mktemp("install")
    dist = base / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
                    str(ROOT)], check=True, capture_output=True, text=True)
    wheel = next(dist.glob("scr_text-*.whl"))
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    # The dependencies, not scr-text: a plain path line (no .pth processing), so the checkout's editable
    # install does not come along.
    (purelib / "_scr_text_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps",
                    "--no-index", "-q", str(wheel)], check=True, capture_output=True, text=True)
    return venv / "bin" / "scr-text", purelib / "scr_text"


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCR_TEXT_")}
    env.update(extra)
    return env


def test_wheel_carries_its_defaults_and_imports_from_the_install(installed):
    exe, package = installed
    for part in ("defaults/configs/pipeline.yaml", "defaults/configs/codebook.yaml", "defaults/models/default/model.skops",
                 "defaults/corpora/dev/passages.jsonl", "defaults/corpora/guard_set.jsonl", "report/templates"):
        assert (package / part).exists(), part
    assert not (package / "defaults" / "configs").is_symlink()
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("scr-text ") and out.split()[1][0].isdigit()


def test_init_tag_run_from_an_empty_folder_write_nothing_into_the_install_or_checkout(installed, tmp_path):
    exe, package = installed
    before_install, before_checkout = _snapshot(package), _snapshot(ROOT)
    work = tmp_path / "work"
    work.mkdir()
    env = _env()

    def scr(*args, cwd=work, **kw):
        done = subprocess.run([str(exe), *args], cwd=cwd, env={**env, **kw}, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done

    scr("init", "project")
    project = work / "project"
    assert sorted(p.name for p in (project / "configs").iterdir()) == ["codebook.yaml", "facts.yaml", "guard.yaml",
                                                                       "pipeline.yaml"]
    refused = subprocess.run([str(exe), "init", "project"], cwd=work, env=env, capture_output=True, text=True)
    assert refused.returncode == 2 and "already holds" in refused.stderr

    review = project / "a.txt"
    review.write_text("Review of Child A\n\nMother's partner had a history of domestic abuse, and the police were "
                      "called to the home twice.\n\nThe plan was not recorded.\n", encoding="utf-8")
    scr("tag", "a.txt", "--out", "t.jsonl", cwd=project)
    rows = [json.loads(line) for line in (project / "t.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 3 and "domestic_abuse" in rows[1]["codes"]

    # A project's own settings are read: a store path set in its pipeline.yaml is where the store goes.
    cfg = project / "configs" / "pipeline.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("path: scr-text.sqlite", "path: mine.sqlite", 1),
                   encoding="utf-8")
    # From another folder, with SCR_TEXT_HOME naming the project: the sample corpus, every stage.
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    done = scr("run", cwd=elsewhere, SCR_TEXT_HOME=str(project))
    assert "reviews" in done.stdout
    assert (project / "mine.sqlite").is_file() and (project / "out" / "summary.html").is_file()
    assert (project / ".cache" / "openvino").is_dir()
    assert not list(elsewhere.iterdir())

    # Options after the command name, as users type them: --store names another store than the project's.
    coding = project / "coding.jsonl"
    coding.write_text(json.dumps({"doc_id": "a", "start": rows[1]["start"], "end": rows[1]["end"],
                                  "codes": ["planning"], "coder": "ann"}) + "\n", encoding="utf-8")
    other = tmp_path / "other.sqlite"
    scr("ingest", "a.txt", "--store", str(other), cwd=project)
    done = scr("import-coding", str(coding), "--store", str(other), cwd=project)
    assert "coder 'ann': 1 span(s) in 1 review(s) -> 1 coded passage(s)" in done.stdout
    assert "3 passages" in scr("passages", "--out", "p.csv", "--store", str(other), cwd=project).stdout

    assert _snapshot(package) == before_install
    assert _snapshot(ROOT) == before_checkout
