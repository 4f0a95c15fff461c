"""How spread out the "what to code next" queue is: for a coder with no decisions yet, the queue at several
``app.queue.diversity`` weights, each with the mean and largest pairwise cosine similarity of its passages'
embeddings (lower: more varied), how many codes and reviews it covers, and the mean and largest distance of
its passages' scores from their thresholds (lower: more uncertain).
    .venv/bin/python benchmarks/bench_queue.py STORE [--size 20]
STORE: a store the default model has tagged, e.g. from `scr-text --store s.sqlite run corpora/dev --out out`.
"""
from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("--size", type=int, default=20)
    args = ap.parse_args()

    from scr_text.codebook import load_codebook
    from scr_text.coding.next_to_code import next_to_code
    from scr_text.config import load_settings
    from scr_text.embed.encoder import Embedder
    from scr_text.modeldir import model_key, resolve_model_dir
    from scr_text.store.database import Store
    from scr_text.tagging.tagger import TaggerModel

    settings = load_settings()
    codebook = load_codebook()
    queue = settings.app.queue
    model = TaggerModel.load(settings.tagger.model)
    thresholds = {c: float(t) for c, t in zip(model.codes, model.stages.thresholds)}
    with Store(args.store) as store:
        key = model_key(resolve_model_dir(settings.tagger.model), codebook.hash)
        embed = Embedder(settings.embed, cache=store).transform
        print("diversity | mean cos | max cos | codes | reviews | mean margin | max margin")
        for diversity in (0.0, 0.25, 0.5, 0.75):
            items = next_to_code(store, "\0no decisions", key, thresholds, args.size, queue.per_review, embed,
                                 diversity, queue.pool)
            E = embed([c.text for c in items])
            pairs = (E @ E.T)[np.triu_indices(len(items), 1)]
            margins = [c.margin for c in items]
            print(f"{diversity:9.2f} | {pairs.mean():8.3f} | {pairs.max():7.3f} | {len({c.code for c in items}):5d} | "
                  f"{len({c.doc_id for c in items}):7d} | {np.mean(margins):11.3f} | {max(margins):10.3f}")


if __name__ == "__main__":
    main()
