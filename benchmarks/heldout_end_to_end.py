"""Check, not part of the pipeline: do the commands a user runs score what `scr-text evaluate` says?

`evaluate` cross-validates inside one process on the stored analysis of the corpus. Here each fold of the
same review-grouped split is done the way a user would: `scr-text train` on a corpus folder holding only the
training reviews, then `scr-text tag` on the held-out reviews' text files (read afresh, with the tagging
pipeline's own spaCy settings), and the pooled tag files scored against gold with `scr-text evaluate --tags`.
A gap between the two figures would mean training and tagging see passages differently.

    .venv/bin/python benchmarks/heldout_end_to_end.py [--corpus corpora/dev] [--folds 5] [--work DIR]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=Path("corpora/dev"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--work", type=Path, default=None, help="Folder for the fold corpora, models and tag files.")
    args = ap.parse_args()

    import numpy as np

    from scr_text.corpus import load_corpus
    from scr_text.tagging.classify import grouped_folds

    corpus = load_corpus(args.corpus)
    # The same split as `scr-text evaluate` where every gold paragraph is one passage (true of the shipped
    # corpus: none is longer than segment.max_passage_chars): GroupKFold assigns reviews by their row counts.
    groups = np.array([r["doc_id"] for r in corpus.passages])
    work = args.work or Path(tempfile.mkdtemp(prefix="scr-heldout-"))
    work.mkdir(parents=True, exist_ok=True)
    cli = [str(Path(sys.executable).with_name("scr-text"))]
    pooled = work / "tags.jsonl"
    with open(pooled, "w", encoding="utf-8") as all_tags:
        for k, (train_rows, test_rows) in enumerate(grouped_folds(groups, args.folds)):
            fold = work / f"fold{k}"
            train_docs, test_docs = set(groups[train_rows]), set(groups[test_rows])
            corpus.write_reviews(train_docs, fold / "train")
            store_option = ["--store", str(fold / "store.sqlite")]
            subprocess.run(cli + store_option + ["train", "--corpus", str(fold / "train"), "--out", str(fold / "model")],
                           check=True)
            inputs = [str(args.corpus / "texts" / f"{d}.txt") for d in sorted(test_docs)]
            subprocess.run(cli + store_option + ["tag", *inputs, "--out", str(fold / "tags.jsonl"),
                                              "--model", str(fold / "model")], check=True)
            all_tags.write((fold / "tags.jsonl").read_text(encoding="utf-8"))
            print(f"fold {k + 1}/{args.folds}: held out {', '.join(sorted(test_docs))}", flush=True)
    subprocess.run(cli + ["evaluate", "--tags", str(pooled), "--gold", str(args.corpus / "passages.jsonl")], check=True)
    print(f"work folder: {work}")


if __name__ == "__main__":
    main()
