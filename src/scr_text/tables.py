"""Tabular exports of what the store holds (CSV or Parquet, chosen by the file extension)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from scr_text.errors import UserError
from scr_text.records import Passage


def passages_frame(passages: list[Passage]) -> pd.DataFrame:
    return pd.DataFrame(
        [(p.doc_id, p.index, p.start, p.end, p.text) for p in passages],
        columns=["doc_id", "passage", "start", "end", "text"],
    )


def write_table(frame: pd.DataFrame, out: str | Path) -> Path:
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise UserError(f"{out}: use a .csv or .parquet file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    if suffix == ".csv":
        frame.to_csv(tmp, index=False)
    else:
        frame.to_parquet(tmp, index=False)
    tmp.replace(out)  # never leave a half-written export under the real name
    return out


def write_jsonl(rows, out: Path) -> int:
    """Write rows atomically (a .part file renamed at the end); returns the number written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    n = 0
    with open(tmp, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(out)
    return n
