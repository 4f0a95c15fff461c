"""Passage features for the classifier: what the passage says (lemma and character n-gram TF-IDF,
its embedding, the rule stage's hits) and where it sits (its section heading, its neighbours, its position),
the context a careful coder also reads."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from scr_text.records import Passage

# A heading: short, one line, capitalised, no sentence end; numbered ("5.2 Analysis") or not, and in a
# Markdown review marked as one ("## Analysis").
_HEADING = re.compile(r"^(?:#{1,6}\s+)?(?:\d+(?:\.\d+)*\.?\s+)?[A-Z][^.!?]{0,80}$")


@dataclass
class Batch:
    """Passages (in document order) with their embeddings and rule features, row-aligned."""

    passages: list[Passage]
    embeddings: np.ndarray
    rules: np.ndarray

    @property
    def rule_hits(self) -> np.ndarray:
        """(n, k) bool: whether the rule stage found an affirmed mention of each code (``rules`` holds the
        affirmed counts, then the negated or hypothetical ones)."""
        return self.rules[:, : self.rules.shape[1] // 2] > 0


def is_heading(text: str) -> bool:
    return len(text) <= 90 and "\n" not in text and bool(_HEADING.match(text.strip()))


def lemma_text(passage: Passage) -> str:
    doc = passage.analysis
    if doc is None:
        return passage.text.lower()
    return " ".join(t.lemma_.lower() for t in doc if not (t.is_punct or t.is_space or t.like_num))


@dataclass
class Context:
    """Where each passage sits, row-aligned with the batch."""

    headings: list[str]  # the text of the section heading above the passage
    neighbours: np.ndarray  # mean embedding of the passages just before and after it
    position: np.ndarray  # relative position in its document, 0..1
    document: np.ndarray  # mean embedding of its whole document
    document_rules: np.ndarray  # share of its document's passages with affirmed rule hits, per code


def context(batch: Batch) -> Context:
    n = len(batch.passages)
    hits = batch.rule_hits
    ctx = Context([""] * n, np.zeros_like(batch.embeddings), np.zeros((n, 1), dtype=np.float32),
                  np.zeros_like(batch.embeddings), np.zeros(hits.shape, dtype=np.float32))
    i = 0
    while i < n:
        j = i
        while j < n and batch.passages[j].doc_id == batch.passages[i].doc_id:
            j += 1
        ctx.document[i:j] = batch.embeddings[i:j].mean(axis=0)
        ctx.document_rules[i:j] = hits[i:j].mean(axis=0)
        heading = ""
        for m in range(i, j):
            text = batch.passages[m].text
            if is_heading(text):
                heading = re.sub(r"^[#\d.\s]+", "", text).lower()
            ctx.headings[m] = heading
            # A passage alone in its document is its own nearest context (zeros would be unlike any training passage).
            near = [x for x in (m - 1, m + 1) if i <= x < j] or [m]
            ctx.neighbours[m] = batch.embeddings[near].mean(axis=0)
            ctx.position[m] = (m - i) / max(1, j - i - 1)
        i = j
    return ctx


# Each block's weight in the feature matrix, so that no one block dominates the linear model's regularisation.
# configs/pipeline.yaml (tagger.feature_weights) sets them; these are the values when a caller passes none.
BLOCK_WEIGHTS = {"tfidf": 1.0, "chars": 1.0, "embedding": 1.0, "is_heading": 1.0, "rules": 0.5, "heading": 0.5,
                 "neighbours": 0.5, "position": 0.3, "document": 0.5, "document_rules": 0.5}


class PassageFeatures:
    """sklearn-style transformer: Batch -> sparse feature matrix, its blocks weighted by ``weights`` (block name ->
    weight; a block not named keeps its ``BLOCK_WEIGHTS`` value)."""

    def __init__(self, use_rules: bool = True, use_context: bool = True, weights: dict | None = None):
        unknown = sorted(set(weights or {}) - set(BLOCK_WEIGHTS))
        if unknown:
            raise ValueError(f"no feature block named {', '.join(unknown)} (blocks: {', '.join(BLOCK_WEIGHTS)})")
        self.use_rules = use_rules
        self.use_context = use_context
        self.weights = {**BLOCK_WEIGHTS, **(weights or {})}

    def fit(self, batch: Batch, y=None) -> "PassageFeatures":
        return self._fit(batch, context(batch) if self.use_context else None)

    def _fit(self, batch: Batch, ctx: Context | None) -> "PassageFeatures":
        self.tfidf_ = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_df=0.5, sublinear_tf=True, max_features=30000)
        self.tfidf_.fit([lemma_text(p) for p in batch.passages])
        # Character 3- to 5-grams within words: word parts that lemmas keep apart (compounds, hyphenated and
        # derived forms: "co-sleeping"/"sleep", "neglectful"/"neglect"); +0.010 macro-F1 over four splits (README).
        self.chars_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, max_df=0.5, sublinear_tf=True,
                                      lowercase=True, max_features=50000, dtype=np.float32)
        self.chars_.fit([p.text for p in batch.passages])
        # The two n-gram blocks lead the feature matrix (``transform``): the classifier may weight them per code.
        self.ngram_columns_ = (0, len(self.tfidf_.vocabulary_) + len(self.chars_.vocabulary_))
        vectorizers = [self.tfidf_, self.chars_]
        if self.use_context:
            self.heading_tfidf_ = TfidfVectorizer(min_df=2)
            self.heading_tfidf_.fit([h or "none" for h in ctx.headings])
            vectorizers.append(self.heading_tfidf_)
        for vectorizer in vectorizers:
            # Plain ints, not numpy ones: skops writes each numpy scalar as a file of its own, one per term.
            vectorizer.vocabulary_ = {term: int(i) for term, i in vectorizer.vocabulary_.items()}
        return self

    def transform(self, batch: Batch) -> sparse.csr_matrix:
        return self._transform(batch, context(batch) if self.use_context else None)

    def _transform(self, batch: Batch, ctx: Context | None) -> sparse.csr_matrix:
        w = self.weights
        blocks = [
            w["tfidf"] * self.tfidf_.transform([lemma_text(p) for p in batch.passages]),
            w["chars"] * self.chars_.transform([p.text for p in batch.passages]),
            sparse.csr_matrix(w["embedding"] * batch.embeddings),
            sparse.csr_matrix(w["is_heading"] * np.array([[is_heading(p.text)] for p in batch.passages], dtype=np.float32)),
        ]
        if self.use_rules:
            blocks.append(sparse.csr_matrix(w["rules"] * batch.rules))
        if self.use_context:
            blocks += [
                w["heading"] * self.heading_tfidf_.transform([h or "none" for h in ctx.headings]),
                sparse.csr_matrix(w["neighbours"] * ctx.neighbours),
                sparse.csr_matrix(w["position"] * ctx.position),
                sparse.csr_matrix(w["document"] * ctx.document),
            ]
            if self.use_rules:
                blocks.append(sparse.csr_matrix(w["document_rules"] * ctx.document_rules))
        return sparse.hstack(blocks, format="csr").astype(np.float32)

    def fit_transform(self, batch: Batch, y=None) -> sparse.csr_matrix:
        ctx = context(batch) if self.use_context else None  # computed once for both steps
        return self._fit(batch, ctx)._transform(batch, ctx)
