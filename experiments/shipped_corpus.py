"""For the experiments beside it: the shipped corpus (corpora/dev) as the tagger's cross-validation sees it,
ingested into a throwaway store, so that no run touches the project store."""
from __future__ import annotations

import tempfile
from pathlib import Path


def shipped_batch(settings, codebook, progress: bool = True):
    """(batch, gold labels, review groups) of the shipped corpus, with the default segmenter."""
    from scr_text.corpus import load_corpus
    from scr_text.locations import SAMPLE_CORPUS
    from scr_text.nlp.segment import Segmenter
    from scr_text.store.database import Store
    from scr_text.tagging.batch import corpus_batch

    with tempfile.TemporaryDirectory() as tmp:
        batch, Y, groups, _ = corpus_batch(load_corpus(SAMPLE_CORPUS), Store(Path(tmp) / "shipped.sqlite"), settings,
                                           codebook, Segmenter(settings.segment), progress)
    return batch, Y, groups
