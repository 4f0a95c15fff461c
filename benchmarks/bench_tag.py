"""Tagging speed: a 20,000-word review (shipped reviews joined) tagged with a warm model, in process.

Warm means: models loaded and first-call costs paid on *other* reviews (the last ten of the corpus),
so caches keyed on words (spaCy's lemmatizer) are not warmed on the measured text itself. Prints
segmentation, embedding and rules + classifier + evidence times and their total, for the spaCy
components `tag` uses and the configured (or given) embedding backend.
    .venv/bin/python benchmarks/bench_tag.py [--backend torch|openvino|openvino-int8]
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default=None, help="embedding backend (default: the config's)")
    ap.add_argument("--words", type=int, default=20000)
    args = ap.parse_args()

    from scr_text.codebook import load_codebook
    from scr_text.config import load_settings
    from scr_text.embed.encoder import Embedder
    from scr_text.locations import SAMPLE_CORPUS
    from scr_text.nlp.segment import Segmenter
    from scr_text.records import Document
    from scr_text.tagging.components import load_tagger

    settings = load_settings()
    embed_settings = replace(settings.embed, backend=args.backend) if args.backend else settings.embed
    files = sorted((SAMPLE_CORPUS / "texts").glob("*.txt"))
    parts, words = [], 0
    for p in files:
        text = p.read_text(encoding="utf-8")
        parts.append(text)
        words += len(text.split())
        if words >= args.words:
            break
    if len(parts) + 10 > len(files):
        raise SystemExit("not enough reviews for a warm-up on other text")
    document = Document("bench", "bench.txt", "txt", "x", "\n\n".join(parts))
    warm = Document("warm", "warm.txt", "txt", "w", "\n\n".join(p.read_text(encoding="utf-8") for p in files[-10:]))
    seg_cfg = replace(settings.segment, disable=settings.tagger.disable or settings.segment.disable)
    segmenter = Segmenter(seg_cfg)
    tagger = load_tagger("default", load_codebook(), segmenter)
    embedder = Embedder(embed_settings)  # no cache: every passage is embedded
    (warm_passages,) = segmenter.transform([warm])
    tagger.tag(warm_passages, embedder.encode([p.text for p in warm_passages]))

    t0 = time.perf_counter()
    (passages,) = segmenter.transform([document])
    t1 = time.perf_counter()
    vectors = embedder.encode([p.text for p in passages])
    t2 = time.perf_counter()
    tagger.tag(passages, vectors)
    t3 = time.perf_counter()
    print(f"{words} words, {len(passages)} passages; spaCy components: {', '.join(segmenter.nlp.pipe_names)}; "
          f"embedding backend: {embed_settings.backend}")
    print(f"segment {t1 - t0:.2f} s · embed {t2 - t1:.2f} s · rules + classifier + evidence {t3 - t2:.2f} s · "
          f"total {t3 - t0:.2f} s (target <= 3 s)")


if __name__ == "__main__":
    main()
