"""Experiment, not part of the pipeline: variants of the combined tagger that were measured and not kept (or,
``ngram-weighting``, kept as a setting that is off by default), and ablations of blocks that were.

Each variant runs the same grouped K-fold cross-validation as `scr-text evaluate` (same folds, features,
review-level classifier, thresholds chosen on the training reviews only) and prints macro and per-code F1
beside the shipped system's. The variants change the feature blocks, so they build the features and
classifier themselves, without the rule fallback (`Stages`); on the default split the fallback hands no code
to the rules, so the shipped row is the shipped tagger's (on the ``--seed`` splits it may not be).

- ``sentence-max``: the element-wise maximum of the passage's sentence embeddings as an extra block, so that
  one telling sentence is not averaged away in a long paragraph;
- ``prototypes``: the highest cosine, over the passage's sentences, to each code's definition and to each
  item of its include notes (codebook text embedded with the same model);
- ``rule-patterns``: one feature per rule pattern (affirmed, and negated or hypothetical) instead of the
  rule stage's per-code counts alone, so the classifier can down-weight broad phrases;
- ``no-char-ngrams``: the shipped tagger without its character n-gram TF-IDF block (an ablation: the block was
  measured as a variant here and then shipped);
- ``ngram-weighting``: each code's n-gram columns weighted by naive Bayes log-count ratios before its
  regression (``tagger.ngram_weighting: true``; off by default, see docs/tagging-experiments.md);
  ``ngram-weighting-practice``: the same for the practice-learning codes only
  (``tagger.ngram_weighting: [practice_learning]``), so the risk codes, which the case facts read, are as shipped;
- ``layer-mix``: the mean of the encoder's token vectors at each of its middle layers (2 to 5), each scaled to
  unit length, as an extra block beside the final layer's embedding (linear probes often read more from
  middle layers than from the last);
- ``stacking``: every code's out-of-fold passage probability (the first model's, on the training reviews;
  its predictions on the test reviews) appended to the features of a second, otherwise identical model, so
  that each code can read the others (analysis with masked risk, recording with information sharing);
- ``sentence-mil``: a sentence-level classifier (lemma TF-IDF + sentence embedding, trained on sentences that
  inherit their passage's codes, then refitted on the half of each coded passage's sentences it ranks
  highest) whose best sentence scores the passage; its calibrated score is averaged with the shipped one;
- ``neighbour-ngrams``: the lemma TF-IDF of the passages either side (their mean, weight 0.5), beside the
  neighbours' mean embedding the tagger already has: the words around a passage, not only their gist;
- ``section-context``: the mean embedding of the passage's section (the passages from its heading to the next,
  weight 0.5) and the section's share of passages with rule hits per code (weight 0.5): a context between the
  neighbours and the whole review, which the tagger already has;
- ``review-propagation``: per code, the highest of (cosine to another passage of the same review) x (that
  passage's score for the code from a first model: out-of-fold on the training reviews, its predictions on
  the test reviews), added to a second, otherwise identical model: a passage like one the review itself
  flags for a code (the learning section's "Child T was not seen" and the visit it points at);
- ``no-context``: an ablation: the shipped tagger without its context blocks (section heading words, the
  neighbours' and the review's mean embeddings, position, the review's share of rule hits per code); the
  review-level stage is kept.

    .venv/bin/python experiments/exp_tagger_variants.py [--variants sentence-max,...] [--folds 5] [--seed N]
"""
from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

import numpy as np
from scipy import sparse

VARIANTS = ("sentence-max", "prototypes", "rule-patterns", "no-char-ngrams", "ngram-weighting", "ngram-weighting-practice",
            "layer-mix", "stacking", "sentence-mil", "neighbour-ngrams", "section-context",
            "review-propagation", "no-context")
# Settings changed instead of an extra block: a feature block weighted to nothing, the context blocks left out
# (``PassageFeatures(use_context=False)``), or the families whose codes' n-grams are weighted
# (``tagger.ngram_weighting``).
OVERRIDES = {"no-char-ngrams": {"weights": {"chars": 0.0}},
             "no-context": {"use_context": False},
             "ngram-weighting": {"ngram_weighting": ["risk_factor", "practice_learning"]},
             "ngram-weighting-practice": {"ngram_weighting": ["practice_learning"]}}


def sentences(passages) -> tuple[list[str], np.ndarray]:
    """Every sentence of every passage, and the passage row each belongs to."""
    texts, owner = [], []
    for i, p in enumerate(passages):
        found = [s.text.strip() for s in p.analysis.sents if s.text.strip()] or [p.text]
        texts += found
        owner += [i] * len(found)
    return texts, np.array(owner)


def max_by_owner(values: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    out = np.full((n,) + values.shape[1:], -np.inf, dtype=float)
    np.maximum.at(out, owner, values)
    return out


def neighbour_ngrams(feats, batch, weight: float = 0.5) -> sparse.csr_matrix:
    """The mean lemma TF-IDF row of each passage's neighbours in its review (the fold's fitted vectorizer)."""
    from scr_text.tagging.features import lemma_text

    X = feats.tfidf_.transform([lemma_text(p) for p in batch.passages])
    rows, cols, vals = [], [], []
    docs = [p.doc_id for p in batch.passages]
    for m in range(len(docs)):
        near = [x for x in (m - 1, m + 1) if 0 <= x < len(docs) and docs[x] == docs[m]]
        rows += [m] * len(near)
        cols += near
        vals += [weight / len(near)] * len(near)
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(docs), len(docs))) @ X


def review_propagation(batch, scores: np.ndarray) -> np.ndarray:
    """(n, codes): per passage and code, max over the other passages q of its review of cos(p, q) * score(q)."""
    out = np.zeros_like(scores)
    docs = np.array([p.doc_id for p in batch.passages])
    for doc in np.unique(docs):
        rows = np.flatnonzero(docs == doc)
        if len(rows) < 2:
            continue
        sim = batch.embeddings[rows] @ batch.embeddings[rows].T
        np.fill_diagonal(sim, -np.inf)  # the passage itself is not its own evidence
        out[rows] = (sim[:, :, None] * scores[rows][None, :, :]).max(axis=1)
    return out


def section_context(batch, weight: float = 0.5) -> np.ndarray:
    """Per passage: its section's mean embedding and share of passages with rule hits per code, a section
    running from a heading (or the review's start) to the next heading."""
    from scr_text.tagging.features import is_heading

    section, current = [], -1
    for m, p in enumerate(batch.passages):
        if m == 0 or p.doc_id != batch.passages[m - 1].doc_id or is_heading(p.text):
            current += 1
        section.append(current)
    section = np.array(section)
    hits = batch.rule_hits.astype(np.float32)
    out = np.zeros((len(section), batch.embeddings.shape[1] + hits.shape[1]), dtype=np.float32)
    for s in np.unique(section):
        rows = section == s
        out[rows] = np.concatenate([batch.embeddings[rows].mean(axis=0), hits[rows].mean(axis=0)])
    return weight * out


def middle_layers(model_dir, texts, layers=range(2, 6), batch_size=32) -> np.ndarray:
    """Mean-pooled token vectors of the given hidden layers, each scaled to unit length, concatenated and
    scaled so that the block has unit length too."""
    import torch
    from sentence_transformers import SentenceTransformer

    encoder = SentenceTransformer(str(model_dir), device="cpu")
    tokenizer, transformer = encoder.tokenizer, encoder[0].auto_model
    out = []
    with torch.no_grad():
        for i in range(0, len(texts), batch_size):
            enc = tokenizer(texts[i:i + batch_size], padding=True, truncation=True,
                            max_length=encoder.max_seq_length, return_tensors="pt")
            hidden = transformer(**enc, output_hidden_states=True).hidden_states
            mask = enc["attention_mask"].unsqueeze(-1).float()
            pooled = [((hidden[k] * mask).sum(1) / mask.sum(1)).numpy() for k in layers]
            out.append(np.hstack([v / np.linalg.norm(v, axis=1, keepdims=True) for v in pooled]))
    return np.vstack(out) / np.sqrt(len(layers))


def rule_pattern_block(rules, passages) -> np.ndarray:
    from scr_text.tagging.rules import AFFIRMED

    keys: dict[str, int] = {}
    rows, cols = [], []
    for i, p in enumerate(passages):
        for h in rules.scoped_hits(p):
            rows.append(i)
            cols.append(keys.setdefault(h.hit.pattern_id + ("" if h.context == AFFIRMED else ":not"), len(keys)))
    counts = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(passages), len(keys)))
    counts.sum_duplicates()
    return np.log1p(counts.toarray())


class SentenceMIL:
    """Per code: a sentence classifier; a passage's score is its best sentence's."""

    def __init__(self, C: float = 4.0):
        self.C = C

    def _features(self, idx):
        return sparse.hstack([self.tfidf_.transform([self.texts[i] for i in idx]),
                              sparse.csr_matrix(self.S[idx])], format="csr")

    def fit_score(self, texts, S, owner, Y, train_rows, test_rows):
        """Fit on the sentences of ``train_rows`` passages; decision scores for ``test_rows`` passages."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.texts, self.S = texts, S
        tr = np.flatnonzero(np.isin(owner, train_rows))
        te = np.flatnonzero(np.isin(owner, test_rows))
        self.tfidf_ = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit([texts[i] for i in tr])
        Xtr, Xte = self._features(tr), self._features(te)
        out = np.zeros((len(Y), Y.shape[1]))
        model = lambda: LogisticRegression(C=self.C, class_weight="balanced", solver="liblinear")  # noqa: E731
        for j in range(Y.shape[1]):
            y = Y[owner[tr], j]
            if y.min() == y.max():
                continue
            s = model().fit(Xtr, y).decision_function(Xtr)
            y2 = y.copy()  # keep the better half of each coded passage's sentences as positives
            for b in np.unique(owner[tr][y == 1]):
                rows = np.flatnonzero(owner[tr] == b)
                y2[rows] = 0
                y2[rows[np.argsort(-s[rows])[:max(1, len(rows) // 2)]]] = 1
            d = model().fit(Xtr, y2).decision_function(Xte)
            out[:, j] = max_by_owner(d, owner[te], len(Y))
        return out[test_rows]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=None, help="shuffle which reviews share a fold, as evaluate --seed")
    args = ap.parse_args()

    from sklearn.linear_model import LogisticRegression

    from scr_text.codebook import load_codebook
    from scr_text.config import load_settings
    from scr_text.corpus import load_corpus
    from scr_text.evaluation.cross_validation import subset
    from scr_text.evaluation.metrics import metrics
    from scr_text.evaluation.tables import format_table
    from scr_text.locations import SAMPLE_CORPUS
    from scr_text.nlp.segment import Segmenter
    from scr_text.store.database import Store
    from scr_text.tagging.batch import corpus_batch
    from scr_text.tagging.classify import best_threshold, grouped_folds
    from scr_text.tagging.features import PassageFeatures
    from scr_text.tagging.options import classifier_options
    from scr_text.tagging.review_gate import ReviewGatedClassifier
    from scr_text.tagging.rules import RuleTagger

    settings, codebook = load_settings(), load_codebook()
    options = classifier_options(settings.tagger, codebook)
    with tempfile.TemporaryDirectory() as tmp:
        segmenter = Segmenter(settings.segment)
        batch, Y, groups, embedder = corpus_batch(load_corpus(SAMPLE_CORPUS), Store(Path(tmp) / "exp.sqlite"),
                                                  settings, codebook, segmenter, progress=False)
        texts, owner = sentences(batch.passages)
        S = embedder.encode(texts)
        n = len(Y)
        blocks: dict[str, np.ndarray | None] = {"shipped": None}
        wanted = args.variants.split(",")
        if "sentence-max" in wanted:
            blocks["sentence-max"] = max_by_owner(S, owner, n)
        if "prototypes" in wanted:
            protos = [x for c in codebook.codes
                      for x in [c.definition] + [i.strip() for i in re.split(r"[,;]", c.include) if len(i.strip()) > 3]]
            blocks["prototypes"] = max_by_owner(S @ embedder.encode(protos).T, owner, n)
        if "rule-patterns" in wanted:
            blocks["rule-patterns"] = 0.3 * rule_pattern_block(RuleTagger(codebook, segmenter.nlp), batch.passages)
        if "layer-mix" in wanted:
            from scr_text.embed.encoder import resolve_model_path

            blocks["layer-mix"] = middle_layers(resolve_model_path(settings.embed.model), [p.text for p in batch.passages])
        if "section-context" in wanted:
            blocks["section-context"] = section_context(batch)
        blocks.update({name: None for name in OVERRIDES if name in wanted})
        for name in ("stacking", "neighbour-ngrams", "review-propagation"):  # built per fold, from the fold's fitted features
            if name in wanted:
                blocks[name] = None

    def scores(tr, te, name, extra):
        override = OVERRIDES.get(name, {})
        feats = PassageFeatures(use_context=override.get("use_context", True),
                                weights={**options["feature_weights"], **override.get("weights", {})})
        Xtr, Xte = feats.fit_transform(subset(batch, tr)), feats.transform(subset(batch, te))
        if extra is not None:
            Xtr = sparse.hstack([Xtr, sparse.csr_matrix(extra[tr])], format="csr")
            Xte = sparse.hstack([Xte, sparse.csr_matrix(extra[te])], format="csr")
        if name == "neighbour-ngrams":
            Xtr = sparse.hstack([Xtr, neighbour_ngrams(feats, subset(batch, tr))], format="csr")
            Xte = sparse.hstack([Xte, neighbour_ngrams(feats, subset(batch, te))], format="csr")
        weighted = options["ngram_weighting"]
        if "ngram_weighting" in override:
            weighted = [c.id for c in codebook.codes if c.family in override["ngram_weighting"]]

        def fit(X):
            return ReviewGatedClassifier(codebook.ids, C=options["C"], review_C=options["review_C"],
                                         weighted_columns=feats.ngram_columns_ if weighted else None,
                                         weighted_codes=weighted).fit(X, Y[tr], groups[tr])

        model = fit(Xtr)
        if name == "stacking":
            first = model.passage_
            Xtr = sparse.hstack([Xtr, sparse.csr_matrix(first.oof_proba_)], format="csr")
            Xte = sparse.hstack([Xte, sparse.csr_matrix(first.predict_proba(Xte))], format="csr")
            model = fit(Xtr)
        if name == "review-propagation":
            first = model.passage_
            Xtr = sparse.hstack([Xtr, review_propagation(subset(batch, tr), first.oof_proba_)], format="csr")
            Xte = sparse.hstack([Xte, review_propagation(subset(batch, te), first.predict_proba(Xte))], format="csr")
            model = fit(Xtr)
        return model, model.predict_proba(Xte, groups[te])

    preds = {name: np.zeros(Y.shape, dtype=int) for name in list(blocks) + (["sentence-mil"] if "sentence-mil" in wanted else [])}
    for k, (tr, te) in enumerate(grouped_folds(groups, args.folds, args.seed), 1):
        for name, extra in blocks.items():
            model, p = scores(tr, te, name, extra)
            preds[name][te] = p >= model.thresholds_
            if name == "shipped" and "sentence-mil" in preds:
                # The sentence model's out-of-fold scores on the training reviews (inner folds), calibrated
                # and averaged with the shipped model's; the threshold is chosen on those, as the tagger's is.
                inner = np.zeros((len(tr), Y.shape[1]))
                for itr, ite in grouped_folds(groups[tr], args.folds):
                    inner[ite] = SentenceMIL().fit_score(texts, S, owner, Y, tr[itr], tr[ite])
                outer = SentenceMIL().fit_score(texts, S, owner, Y, tr, te)
                for j in range(Y.shape[1]):
                    y = Y[tr, j]
                    if y.min() == y.max():
                        continue
                    platt = LogisticRegression(C=1e4).fit(inner[:, [j]], y)
                    mix_tr = (model.oof_proba_[:, j] + platt.predict_proba(inner[:, [j]])[:, 1]) / 2
                    mix_te = (p[:, j] + platt.predict_proba(outer[:, [j]])[:, 1]) / 2
                    preds["sentence-mil"][te, j] = mix_te >= best_threshold(y, mix_tr)
        print(f"fold {k} done", flush=True)
    print(f"combined system, {args.folds}-fold CV grouped by review; F1 per variant, P/R/kappa of the shipped one")
    print(format_table({"systems": {name: metrics(Y, P, codebook.ids) for name, P in preds.items()}}))


if __name__ == "__main__":
    main()
