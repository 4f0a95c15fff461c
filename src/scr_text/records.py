"""Plain data passed between the pipeline's stages. No behaviour beyond validation."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

# A UTF-8 text file's byte-order mark: Document.text keeps it at offset 0 (as Python reads the file), and
# passages and checks for empty text pass over it.
BYTE_ORDER_MARK = "\ufeff"


@dataclass
class Document:
    """One review as extracted from its source file."""

    doc_id: str
    source_path: str
    format: str  # txt | md | docx | pdf
    sha256: str  # of the source file's bytes
    text: str  # a .txt/.md file's text as Python reads it (newlines as \n, a UTF-8 BOM kept)
    pages: int = 1
    warnings: list[str] = field(default_factory=list)  # stored anyway, but worth a look (garbled extraction)


@dataclass
class Passage:
    """A paragraph (or a sentence-aligned piece of a long one) of a document.

    Invariant: ``document.text[start:end] == text``.
    ``analysis`` is the passage's spaCy ``Doc`` when it was segmented in this process
    or restored from the store; it is never serialised with the passage itself.
    """

    doc_id: str
    index: int
    start: int
    end: int
    text: str
    analysis: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad passage span {self.start}:{self.end}")
        if self.end - self.start != len(self.text):
            raise ValueError("passage text does not match its span")


@dataclass
class RuleHit:
    code: str
    pattern_id: str
    start: int  # character offsets into the document text
    end: int
    text: str


@dataclass
class Exemplar:
    doc_id: str
    start: int
    end: int
    text: str
    similarity: float


@dataclass
class Tag:
    """The decision for one code on one passage, with what supports it."""

    doc_id: str
    passage: int
    code: str
    score: float
    decided: bool
    rule_hits: list[RuleHit] = field(default_factory=list)
    exemplars: list[Exemplar] = field(default_factory=list)
    # For codes the review-level stage decides: the probability that the passage's review has the code.
    review_score: float | None = None
    # "classifier", or "rules" for a code the rule stage alone decides (``rule_fallback.py``).
    decided_by: str = "classifier"


@dataclass
class TagTable:
    """The tags of some passages as data, passed between stages: a row per passage, a column per code, scores at
    full precision. The `tag` JSON contract (``rows``) is made from it only where tags leave the program."""

    codes: list[str]
    passages: list[Passage]
    scores: np.ndarray  # (passages, codes) float
    decided: np.ndarray  # (passages, codes) bool
    evidence: list[dict[str, list]]  # per passage: code -> its evidence, for the codes decided

    @classmethod
    def empty(cls, codes: list[str]) -> TagTable:
        return cls(list(codes), [], np.zeros((0, len(codes))), np.zeros((0, len(codes)), dtype=bool), [])

    @classmethod
    def concat(cls, codes: list[str], tables: list[TagTable]) -> TagTable:
        if not tables:
            return cls.empty(codes)
        return cls(list(codes), [p for t in tables for p in t.passages], np.vstack([t.scores for t in tables]),
                   np.vstack([t.decided for t in tables]), [e for t in tables for e in t.evidence])

    def __len__(self) -> int:
        return len(self.passages)

    def of(self, doc_id: str) -> TagTable:
        """The rows of one review."""
        rows = [i for i, p in enumerate(self.passages) if p.doc_id == doc_id]
        return TagTable(self.codes, [self.passages[i] for i in rows], self.scores[rows], self.decided[rows],
                        [self.evidence[i] for i in rows])

    def rows(self) -> Iterator[dict]:
        """The `tag` contract, one dict per passage."""
        for passage, scores, decided, evidence in zip(self.passages, self.scores, self.decided, self.evidence):
            yield contract_row(passage, [c for c, d in zip(self.codes, decided) if d],
                               dict(zip(self.codes, map(float, scores))), evidence)


def contract_row(passage: Passage, codes: list[str], scores: dict[str, float], evidence: dict) -> dict:
    """One line of the `tag` output contract (documented in the README): exactly these keys."""
    return {"doc_id": passage.doc_id, "passage": passage.index, "start": passage.start, "end": passage.end,
            "text": passage.text, "codes": list(codes), "scores": {c: round(s, 4) for c, s in scores.items()},
            "evidence": evidence}
