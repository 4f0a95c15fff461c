"""Scoring a `tag` output file against gold paragraphs."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from scr_text.corpus import check_codes, read_gold_rows
from scr_text.errors import UserError
from scr_text.evaluation.metrics import f1_intervals, metrics


def score_tag_file(tags_path: Path, gold_path: Path, codes: list[str], resampling: dict | None = None) -> dict:
    """Score a `tag` output against gold paragraphs: a gold paragraph's predicted codes are the
    union of the codes of the predicted passages that overlap it. ``resampling``: as ``cross_validate``'s."""
    predicted: dict[str, list[dict]] = {}
    for row in read_gold_rows(tags_path):  # a tag row has the same doc_id/start/end/codes shape
        predicted.setdefault(row["doc_id"], []).append(row)
    gold = [g for g in read_gold_rows(gold_path) if g["doc_id"] in predicted]
    if not gold:
        raise UserError(f"{tags_path}: no document in common with {gold_path}")
    check_codes(gold, codes)
    index = {c: j for j, c in enumerate(codes)}
    Y = np.zeros((len(gold), len(codes)), dtype=int)
    P = np.zeros_like(Y)
    for i, g in enumerate(gold):
        for c in g["codes"]:
            Y[i, index[c]] = 1
        for row in predicted[g["doc_id"]]:
            if row["start"] < g["end"] and g["start"] < row["end"]:
                for c in row["codes"]:
                    if c in index:
                        P[i, index[c]] = 1
    result = {"n_paragraphs": len(gold), "documents": len(predicted), **metrics(Y, P, codes)}
    if resampling is not None:
        result["intervals"] = f1_intervals(Y, {"tagged": P}, [g["doc_id"] for g in gold], codes, **resampling)
    return result
