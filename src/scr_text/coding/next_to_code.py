"""What to code next: the passages whose decision would teach the model most, for one coder.

Uncertainty: a passage's most uncertain code is the one whose score lies nearest its decision threshold.
Diversity: the queue takes passages from the most uncertain down, but no more than ``per_review`` from one
review and no more than its share from one code, so that it does not fill up with one review's or one
code's borderline cases (a cheap stand-in for picking far-apart embeddings, which it roughly tracks here:
passages of one review and one code sit close together).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from scr_text.store.database import Store


@dataclass
class Candidate:
    doc_id: str
    passage: int
    code: str  # the code it is least sure of
    score: float
    threshold: float

    @property
    def margin(self) -> float:
        return abs(self.score - self.threshold)


def next_to_code(store: Store, coder: str, model_key: str, thresholds: dict[str, float], size: int,
                 per_review: int) -> list[Candidate]:
    """Up to ``size`` passages of tagged reviews this coder has made no decision on, most uncertain first."""
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
    per_code = max(1, math.ceil(size / max(len(thresholds), 1)) + 1)
    by_review: dict[str, int] = {}
    by_code: dict[str, int] = {}
    queue = []
    for c in sorted(best.values(), key=lambda c: (c.margin, c.doc_id, c.passage)):
        if by_review.get(c.doc_id, 0) >= per_review or by_code.get(c.code, 0) >= per_code:
            continue
        queue.append(c)
        by_review[c.doc_id] = by_review.get(c.doc_id, 0) + 1
        by_code[c.code] = by_code.get(c.code, 0) + 1
        if len(queue) == size:
            break
    return queue
