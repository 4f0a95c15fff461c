"""What to code next: the passages whose decision would teach the model most, for one coder.

Uncertainty: a passage's most uncertain code is the one whose score lies nearest its decision threshold.
Diversity: ten passages that say the same thing teach the model little more than one does, so the queue
is picked greedily from the most uncertain candidates (``pool`` times its size, each review's ``per_review``
most uncertain at most), each next passage the one
that best trades its uncertainty against its cosine distance from those already picked (maximal marginal
relevance over the passage embeddings; ``diversity`` 0 is uncertainty alone). At most ``per_review`` come
from one review, so that a coder's session is not one review's borderline cases.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from scr_text.store.database import Store


@dataclass
class Candidate:
    doc_id: str
    passage: int
    code: str  # the code it is least sure of
    score: float
    threshold: float
    text: str = ""

    @property
    def margin(self) -> float:
        return abs(self.score - self.threshold)


def uncertain_passages(store: Store, coder: str, model_key: str, thresholds: dict[str, float]) -> list[Candidate]:
    """Every tagged passage the coder has made no decision on, by its least certain code, most uncertain first."""
    decided = store.decided_passages(coder)
    best: dict[tuple[str, int], Candidate] = {}
    for code, threshold in thresholds.items():
        for (doc_id, passage), (score, _) in store.tag_scores(model_key, code).items():
            if (doc_id, passage) in decided:
                continue
            c = Candidate(doc_id, passage, code, score, threshold)
            held = best.get((doc_id, passage))
            if held is None or c.margin < held.margin:
                best[(doc_id, passage)] = c
    return sorted(best.values(), key=lambda c: (c.margin, c.doc_id, c.passage))


def pick_diverse(candidates: list[Candidate], embeddings: np.ndarray, size: int, per_review: int,
                 diversity: float) -> list[Candidate]:
    """Greedy maximal marginal relevance: ``(1 - diversity) * uncertainty + diversity * distance`` to the
    nearest passage already picked, uncertainty scaled to [0, 1] over the candidates (1 = on the threshold)."""
    if not candidates:
        return []
    margins = np.array([c.margin for c in candidates])
    spread = margins.max() - margins.min()
    uncertainty = 1.0 - (margins - margins.min()) / spread if spread > 0 else np.ones(len(candidates))
    E = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    nearest = np.ones(len(candidates))  # cosine distance to the nearest picked passage (1 before any pick)
    open_ = np.ones(len(candidates), dtype=bool)
    by_review: dict[str, int] = {}
    picked: list[Candidate] = []
    while len(picked) < size and open_.any():
        value = np.where(open_, (1 - diversity) * uncertainty + diversity * nearest, -np.inf)
        i = int(np.argmax(value))  # ties go to the earlier, i.e. more uncertain, candidate
        c = candidates[i]
        picked.append(c)
        by_review[c.doc_id] = by_review.get(c.doc_id, 0) + 1
        open_[i] = False
        if by_review[c.doc_id] >= per_review:
            open_ &= np.array([d.doc_id != c.doc_id for d in candidates])
        nearest = np.minimum(nearest, 1.0 - E @ E[i])
    return picked


def next_to_code(store: Store, coder: str, model_key: str, thresholds: dict[str, float], size: int,
                 per_review: int, embed: Callable[[list[str]], np.ndarray], diversity: float = 0.5,
                 pool: int = 5) -> list[Candidate]:
    """Up to ``size`` passages for this coder to decide next, in the order picked; ``embed`` maps texts to
    their embeddings (the project's embedder, whose cache holds every tagged passage's)."""
    candidates = uncertain_passages(store, coder, model_key, thresholds)
    # The pool holds each review's ``per_review`` most uncertain passages, so that one review's many
    # borderline passages cannot crowd the others out of it.
    pooled, reviews = [], {}
    for c in candidates:
        if reviews.get(c.doc_id, 0) >= per_review:
            continue
        reviews[c.doc_id] = reviews.get(c.doc_id, 0) + 1
        pooled.append(c)
        if len(pooled) >= size * pool:
            break
    texts: dict[str, dict[int, str]] = {}
    for c in pooled:
        if c.doc_id not in texts:
            texts[c.doc_id] = {p.index: p.text for p in store.passages(c.doc_id)}
        c.text = texts[c.doc_id][c.passage]
    if not pooled:
        return []
    return pick_diverse(pooled, embed([c.text for c in pooled]), size, per_review, diversity)
