"""A labelled corpus in the shipped layout: ``texts/*.txt``, ``passages.jsonl`` (gold codes per
paragraph with offsets) and ``cases.csv`` (gold case facts)."""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import UserError
from .hashing import file_sha256
from .records import Passage


@dataclass
class GoldCorpus:
    root: Path
    passages: list[dict]  # doc_id, para, start, end, codes
    cases: list[dict]

    @property
    def texts(self) -> Path:
        return self.root / "texts"

    @property
    def doc_ids(self) -> list[str]:
        return sorted({row["doc_id"] for row in self.passages})

    def fingerprint(self) -> str:
        """A hash of the gold files and texts: identifies the training data in model cards."""
        parts = [file_sha256(self.root / "passages.jsonl")]
        parts += [file_sha256(p) for p in sorted(self.texts.glob("*.txt"))]
        from .hashing import text_key

        return text_key("".join(parts))[:16]


def load_corpus(root: str | Path) -> GoldCorpus:
    root = Path(root)
    gold = root / "passages.jsonl"
    if not (root / "texts").is_dir() or not gold.is_file():
        raise UserError(f"{root}: not a labelled corpus (needs texts/ and passages.jsonl)")
    rows = read_gold_rows(gold)
    cases = []
    if (root / "cases.csv").is_file():
        with open(root / "cases.csv", newline="", encoding="utf-8") as fh:
            cases = list(csv.DictReader(fh))
    return GoldCorpus(root, rows, cases)


def read_gold_rows(path: Path) -> list[dict]:
    """Gold paragraphs from a ``passages.jsonl`` file, each row checked (errors name the line)."""
    rows = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read ({exc.__class__.__name__})") from exc
    for n, line in enumerate(lines, 1):
        if line.strip():
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(f"{path}:{n}: not valid JSON") from exc
            rows.append(_checked(row, f"{path}:{n}"))
    return rows


def check_codes(gold_rows: list[dict], codes: list[str]) -> None:
    unknown = sorted({c for row in gold_rows for c in row["codes"]} - set(codes))
    if unknown:
        raise UserError(f"gold codes not in the codebook: {', '.join(unknown)} (fix the gold file or the codebook)")


def _checked(row, where: str) -> dict:
    """A gold row must say which review, where in it, and which codes."""
    if not (isinstance(row, dict) and isinstance(row.get("doc_id"), str) and isinstance(row.get("codes"), list)
            and all(isinstance(row.get(k), int) and not isinstance(row.get(k), bool) for k in ("start", "end"))
            and 0 <= row["start"] <= row["end"]):
        raise UserError(f"{where}: a gold row needs doc_id (text), start <= end (whole numbers) and codes (a list)")
    return row


def gold_labels(passages: list[Passage], gold_rows: list[dict], codes: list[str]) -> np.ndarray:
    """(n_passages, n_codes) 0/1: a passage carries the codes of every gold paragraph it overlaps.
    Gold codes outside the codebook, and passages of reviews with no gold rows at all, are errors: either
    would silently teach or score the wrong thing."""
    check_codes(gold_rows, codes)
    index = {c: j for j, c in enumerate(codes)}
    unlabelled = sorted({p.doc_id for p in passages} - {row["doc_id"] for row in gold_rows})
    if unlabelled:
        raise UserError(f"reviews in texts/ with no gold rows in passages.jsonl: {', '.join(unlabelled)}")
    by_doc: dict[str, list[dict]] = {}
    for row in gold_rows:
        by_doc.setdefault(row["doc_id"], []).append(row)
    Y = np.zeros((len(passages), len(codes)), dtype=int)
    for i, p in enumerate(passages):
        for row in by_doc.get(p.doc_id, ()):
            if row["start"] < p.end and p.start < row["end"]:
                for code in row["codes"]:
                    Y[i, index[code]] = 1
    return Y
