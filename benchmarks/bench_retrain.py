"""What a retrain from analysts' coding buys on reviews of a style the model has not seen.

Holds one block of reviews out of the shipped corpus (default d79-d84, one style), trains a model on the
rest, stores and tags the held-out reviews with it as a project would, lets a coder "code" them with their
gold codes, and runs the web app's retrain (`training/retrain.py`) on the rest plus that coding. Prints its
per-code F1 on the held-out reviews before (the model that never saw them) and after (the new model's
fits, each review tagged by a fit that did not see it). About 7 minutes on 2 cores.
    .venv/bin/python benchmarks/bench_retrain.py [--hold d79,d80,...] [--folds 5]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import tempfile
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hold", default=",".join(f"d{i}" for i in range(79, 85)))
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()
    hold = set(args.hold.split(","))

    home = Path(tempfile.mkdtemp(prefix="bench-retrain-"))
    os.environ["SCR_TEXT_HOME"] = str(home)  # the new models and corpora go here, not into the checkout
    from scr_text.codebook import load_codebook
    from scr_text.config import load_settings
    from scr_text.corpus import load_corpus
    from scr_text.formatting import format_number
    from scr_text.ingest.intake import ingest_files
    from scr_text.locations import SAMPLE_CORPUS
    from scr_text.store.database import Store
    from scr_text.tagging.apply import tag_stored
    from scr_text.tagging.components import Components
    from scr_text.training.retrain import per_code_rows, retrain
    from scr_text.training.train import train

    try:
        base, new = home / "base", home / "new"
        for d in (base / "texts", new):
            d.mkdir(parents=True)
        gold = [json.loads(line) for line in (SAMPLE_CORPUS / "passages.jsonl").read_text().splitlines()]
        for text in (SAMPLE_CORPUS / "texts").glob("*.txt"):
            shutil.copy(text, (new if text.stem in hold else base / "texts") / text.name)
        (base / "passages.jsonl").write_text("".join(json.dumps(r) + "\n" for r in gold if r["doc_id"] not in hold))
        with open(SAMPLE_CORPUS / "cases.csv", newline="", encoding="utf-8") as fh:
            cases = list(csv.DictReader(fh))
        with open(base / "cases.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(cases[0]))
            w.writeheader()
            w.writerows(c for c in cases if c["doc_id"] not in hold)

        settings, codebook = load_settings(), load_codebook()
        print(f"training on {len(list((base / 'texts').iterdir()))} reviews, holding out {len(hold)}", flush=True)
        with Store(home / "train.sqlite") as work:
            train(load_corpus(base), work, settings, codebook, home / "models" / "without", "without", progress=False)
        settings.tagger.model, settings.app.retrain.base_corpus = "without", str(base)
        settings.app.retrain.folds = args.folds
        with Store(home / "project.sqlite") as store, Store(home / "train.sqlite") as work:
            ingest_files([new], store, settings, progress=False)
            tag_stored(Components(settings, store), store.doc_ids(), progress=False)
            where = {(r["doc_id"], r["start"], r["end"]): r["codes"] for r in gold}
            for doc_id in store.doc_ids():
                for p in store.passages(doc_id):
                    for code in where[(doc_id, p.start, p.end)]:
                        store.decide("bench", doc_id, p.index, code, "add")
            result = retrain(store, ["bench"], settings, codebook, work, "with",
                             step=lambda text, _share: print("...", text, flush=True))
        print(f"\n{'code':<24} {'coded':>5} {'before':>7} {'after':>7}")
        for code, n, before, after in per_code_rows(result):
            print(f"{code:<24} {n:>5} {format_number(before):>7} {format_number(after):>7}")
        print(f"{'macro-F1':<24} {'':>5} {result.before['macro']['f1']:>7.3f} {result.after['macro']['f1']:>7.3f}"
              f"   ({len(result.reviews)} reviews, {result.passages} passages)")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
