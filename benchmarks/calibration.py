"""Calibration of the committed model's out-of-fold probabilities against gold, per code: expected
calibration error (10 equal-width bins), for the final scores and, where the review-level stage decides
a code, for the passage classifier's scores alone.

    .venv/bin/python benchmarks/calibration.py
"""
from __future__ import annotations

import numpy as np


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    which = np.minimum((p * bins).astype(int), bins - 1)
    return float(sum((which == b).mean() * abs(y[which == b].mean() - p[which == b].mean())
                     for b in range(bins) if (which == b).any()))


def main() -> None:
    from scr_text.tagging.tagger import TaggerModel

    model = TaggerModel.load("default")
    gold = model.exemplar_labels.astype(int)  # the training passages' gold codes, row-aligned with oof_proba_
    final, passage = model.stages.oof_proba, model.stages.classifier.passage_.oof_proba_
    print(f"{'code':<24}{'ECE final':>10}{'ECE passage only':>18}{'mean p':>8}{'rate':>7}")
    for j, code in enumerate(model.codes):
        only = f"{expected_calibration_error(gold[:, j], passage[:, j]):>18.3f}" if model.stages.classifier.gated_[j] else f"{'-':>18}"
        print(f"{code:<24}{expected_calibration_error(gold[:, j], final[:, j]):>10.3f}{only}"
              f"{final[:, j].mean():>8.3f}{gold[:, j].mean():>7.3f}")


if __name__ == "__main__":
    main()
