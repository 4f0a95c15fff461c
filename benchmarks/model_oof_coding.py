"""Write the default model's out-of-fold decisions on the shipped corpus as a coder's coding (JSONL), so
that `scr-text agree` can compare gold with a model that never saw the review it codes.

    .venv/bin/python benchmarks/model_oof_coding.py out/model_cv.jsonl
    .venv/bin/scr-text import-coding out/model_cv.jsonl --coder model_cv
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> None:
    from scr_text.codebook import load_codebook
    from scr_text.tagging.tagger import TaggerModel

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "out/model_cv.jsonl")
    model = TaggerModel.load("default")
    codes = load_codebook().ids
    decided = model.stages.oof_proba >= model.stages.thresholds
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        for meta, row in zip(model.exemplar_meta, decided):
            fh.write(json.dumps({"doc_id": meta["doc_id"], "start": meta["start"], "end": meta["end"],
                                 "codes": [c for c, d in zip(codes, row) if d]}) + "\n")
    print(f"{len(decided)} passages -> {out}")


if __name__ == "__main__":
    main()
