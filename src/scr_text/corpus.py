"""A labelled corpus in the shipped layout: ``texts/*.txt``, ``passages.jsonl`` (gold codes per
paragraph with offsets), ``cases.csv`` (gold case facts) and, optionally, ``styles.csv`` (each review's
style of writing: its structure, headings and voice, for leave-one-style-out evaluation)."""
from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scr_text.errors import UserError
from scr_text.hashing import file_sha256
from scr_text.records import Passage


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
        from scr_text.hashing import text_key

        return text_key("".join(parts))[:16]

    def styles(self) -> dict[str, str]:
        """doc_id -> style, from ``styles.csv``; every review of the corpus must have one."""
        path = self.root / "styles.csv"
        if not path.is_file():
            raise UserError(f"{path}: not found (one row per review: doc_id,style)")
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        if not rows or not {"doc_id", "style"} <= set(rows[0]):
            raise UserError(f"{path}: needs the columns doc_id and style")
        styles = {r["doc_id"].strip(): r["style"].strip() for r in rows if r["doc_id"].strip()}
        missing = [d for d in self.doc_ids if not styles.get(d)]
        if missing:
            raise UserError(f"{path}: no style for {len(missing)} review(s): {', '.join(missing[:5])}")
        return styles

    def write_reviews(self, doc_ids, out: str | Path) -> Path:
        """Some of its reviews (text, gold rows, case rows) as a corpus of their own at ``out``: a training
        or held-out part of a review-grouped split."""
        out, keep = Path(out), set(doc_ids)
        (out / "texts").mkdir(parents=True, exist_ok=True)
        for doc_id in sorted(keep):
            shutil.copyfile(self.texts / f"{doc_id}.txt", out / "texts" / f"{doc_id}.txt")
        write_gold(out, [r for r in self.passages if r["doc_id"] in keep], [c for c in self.cases if c["doc_id"] in keep],
                   list(self.cases[0]) if self.cases else ["doc_id"])
        if (self.root / "styles.csv").is_file():
            with open(out / "styles.csv", "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(["doc_id", "style"])
                writer.writerows(sorted((d, s) for d, s in self.styles().items() if d in keep))
        return out


def load_corpus(root: str | Path) -> GoldCorpus:
    root = Path(root)
    gold = root / "passages.jsonl"
    if not (root / "texts").is_dir() or not gold.is_file():
        raise UserError(f"{root}: not a labelled corpus (needs texts/ and passages.jsonl)")
    return GoldCorpus(root, read_gold_rows(gold), read_cases(root / "cases.csv"))


def read_cases(path: Path) -> list[dict]:
    """Gold case facts, one row per review, from ``cases.csv`` (none if the file is absent)."""
    if not path.is_file():
        return []
    # utf-8-sig: Excel's "CSV UTF-8" starts the file with a BOM, which would otherwise join the first column's name.
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def write_gold(out: Path, rows: list[dict], cases: list[dict], columns: list[str]) -> None:
    """``out/passages.jsonl`` (gold rows, in the order given) and ``out/cases.csv`` (case rows by doc_id;
    ``columns`` first, then any other column a row has)."""
    with open(out / "passages.jsonl", "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    with open(out / "cases.csv", "w", newline="", encoding="utf-8") as fh:
        columns = list(dict.fromkeys(list(columns) + [k for c in cases for k in c]))
        writer = csv.DictWriter(fh, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(sorted(cases, key=lambda c: c["doc_id"]))


def read_gold_rows(path: Path) -> list[dict]:
    """Gold paragraphs from a ``passages.jsonl`` file, each row checked (errors name the line)."""
    rows = []
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()  # a BOM, if any, is no part of line 1
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
    """A gold (or tag) row must say which review, where in it, and which codes."""
    if not (isinstance(row, dict) and isinstance(row.get("doc_id"), str) and isinstance(row.get("codes"), list)
            and all(isinstance(row.get(k), int) and not isinstance(row.get(k), bool) for k in ("start", "end"))
            and 0 <= row["start"] <= row["end"]):
        raise UserError(f"{where}: a row needs doc_id (text), start <= end (whole numbers) and codes (a list)")
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


def corpus_inputs(corpus: Path) -> Path:
    """A corpus folder in the shipped layout has its reviews under texts/; any other folder is read as is."""
    if not corpus.exists():
        raise UserError(f"{corpus}: corpus folder not found")
    return corpus / "texts" if (corpus / "texts").is_dir() else corpus
