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
    rows = []
    for n, line in enumerate(gold.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise UserError(f"{gold}:{n}: not valid JSON") from exc
    cases = []
    if (root / "cases.csv").is_file():
        with open(root / "cases.csv", newline="", encoding="utf-8") as fh:
            cases = list(csv.DictReader(fh))
    return GoldCorpus(root, rows, cases)


def gold_labels(passages: list[Passage], gold_rows: list[dict], codes: list[str]) -> np.ndarray:
    """(n_passages, n_codes) 0/1: a passage carries the codes of every gold paragraph it overlaps."""
    index = {c: j for j, c in enumerate(codes)}
    by_doc: dict[str, list[dict]] = {}
    for row in gold_rows:
        by_doc.setdefault(row["doc_id"], []).append(row)
    Y = np.zeros((len(passages), len(codes)), dtype=int)
    for i, p in enumerate(passages):
        for row in by_doc.get(p.doc_id, ()):
            if row["start"] < p.end and p.start < row["end"]:
                for code in row["codes"]:
                    if code in index:
                        Y[i, index[code]] = 1
    return Y
