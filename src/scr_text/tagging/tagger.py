"""Rules + classifier -> tags with evidence.

A ``TaggerModel`` is what ``train`` fits and ``models/<name>/`` holds: its ``Stages`` (the feature
transformer, the per-code classifier with its thresholds, and the rule fallback for codes the classifier
could not learn), and the coded training passages used as exemplars.
It is saved with skops (no pickle) and loaded against an explicit list of trusted types.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from scr_text.codebook import Codebook
from scr_text.errors import UserError
from scr_text.modeldir import resolve_model_dir
from scr_text.records import Exemplar, Passage, Tag, contract_row
from scr_text.tagging.features import Batch, PassageFeatures
from scr_text.tagging.model_card import render_card
from scr_text.tagging.review_gate import ReviewGatedClassifier
from scr_text.tagging.rule_fallback import RuleFallback
from scr_text.tagging.rules import RuleTagger
from scr_text.tagging.trusted_files import load_trusted

# Every object type a saved model may contain; a file naming any other is refused (``skops_files``).
TRUSTED_TYPES = [
    "scr_text.tagging.features.PassageFeatures",
    "scr_text.tagging.classify.ThemeClassifier",
    "scr_text.tagging.review_gate.ReviewGatedClassifier",
    "scr_text.tagging.rule_fallback.RuleFallback",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "numpy.float32",
    "numpy.float64",
    "numpy.int64",
]


@dataclass
class PassageTags:
    """The tagger's output for one passage."""

    passage: Passage
    scores: dict[str, float]
    tags: list[Tag] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [t.code for t in self.tags if t.decided]

    def evidence(self) -> dict[str, list[dict]]:
        out = {}
        for t in self.tags:
            if t.decided:
                items = [{"type": "rule", "pattern": h.pattern_id, "start": h.start, "end": h.end, "text": h.text}
                         for h in t.rule_hits]
                items.append({"type": t.decided_by, "probability": round(t.score, 4)})
                if t.review_score is not None:
                    items.append({"type": "review", "probability": round(t.review_score, 4)})
                items += [{"type": "exemplar", **asdict(e)} for e in t.exemplars]
                out[t.code] = items
        return out

    def to_json(self) -> dict:
        """The `tag` output contract: exactly these keys (see README)."""
        return contract_row(self.passage, self.codes, self.scores, self.evidence())

    def store_rows(self) -> list[tuple]:
        """(doc_id, passage, code, score, decided, evidence JSON) for every code, for Store.put_tags (scores at
        full precision: only the `tag` contract rounds them)."""
        evidence = self.evidence()
        return [(self.passage.doc_id, self.passage.index, code, float(score), code in evidence,
                 json.dumps(evidence.get(code, []), ensure_ascii=False)) for code, score in self.scores.items()]


@dataclass
class Stages:
    """The trained decision: passage features, the review-gated classifier over them, and (with the rule
    features) the rule fallback for codes the classifier could not learn."""

    features: PassageFeatures
    classifier: ReviewGatedClassifier
    fallback: RuleFallback | None = None

    @classmethod
    def fit(cls, batch: Batch, Y: np.ndarray, groups, codes: list[str], options: dict | None = None,
            use_rules: bool = True) -> "Stages":
        options = dict(options or {})
        features = PassageFeatures(use_rules=use_rules, weights=options.pop("feature_weights", None))
        X = features.fit_transform(batch)
        weighted = options.pop("ngram_weighting", [])  # the codes whose n-gram columns are weighted
        classifier = ReviewGatedClassifier(codes, weighted_columns=features.ngram_columns_ if weighted else None,
                                           weighted_codes=weighted, **options).fit(X, Y, groups)
        fallback = RuleFallback().fit(batch.rule_hits, Y, classifier.oof_proba_, classifier.thresholds_) if use_rules else None
        return cls(features, classifier, fallback)

    @property
    def thresholds(self) -> np.ndarray:
        return self.classifier.thresholds_ if self.fallback is None else self.fallback.thresholds_

    @property
    def oof_proba(self) -> np.ndarray:
        """Out-of-fold probabilities on the training passages (what case facts learn from)."""
        return self.classifier.oof_proba_ if self.fallback is None else self.fallback.oof_proba_

    @property
    def rules_decide(self) -> np.ndarray:
        return np.zeros(len(self.classifier.codes), dtype=bool) if self.fallback is None else self.fallback.rules_decide_

    def scores(self, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities, review probabilities) for whole reviews, both (n, k); see ``ReviewGatedClassifier``."""
        proba, review = self.classifier.scores(self.features.transform(batch), [p.doc_id for p in batch.passages])
        if self.fallback is not None:
            proba = self.fallback.transform(proba, batch.rule_hits)
            review[:, self.fallback.rules_decide_] = np.nan
        return proba, review

    def predict(self, batch: Batch) -> np.ndarray:
        return self.scores(batch)[0] >= self.thresholds


class TaggerModel:
    def __init__(self, codebook_hash: str, codes: list[str], stages: Stages,
                 exemplar_embeddings: np.ndarray, exemplar_labels: np.ndarray, exemplar_meta: list[dict], card: dict):
        self.codebook_hash = codebook_hash
        self.codes = codes
        self.stages = stages
        self.exemplar_embeddings = exemplar_embeddings
        self.exemplar_labels = exemplar_labels
        self.exemplar_meta = exemplar_meta
        self.card = card

    # -- persistence ------------------------------------------------------------------
    def save(self, out: Path) -> Path:
        import zipfile

        import skops.io as sio

        out.mkdir(parents=True, exist_ok=True)
        # Compressed: a fifth of the size, the load a fraction of a second slower.
        sio.dump({"features": self.stages.features, "classifier": self.stages.classifier,
                  "fallback": self.stages.fallback}, out / "model.skops", compression=zipfile.ZIP_DEFLATED)
        np.savez_compressed(out / "exemplars.npz", embeddings=self.exemplar_embeddings.astype(np.float16),
                            labels=self.exemplar_labels.astype(np.int8))
        with open(out / "exemplars.jsonl", "w", encoding="utf-8") as fh:
            for row in self.exemplar_meta:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        card = {**self.card, "codebook_hash": self.codebook_hash, "codes": self.codes}
        (out / "card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (out / "MODEL_CARD.md").write_text(render_card(card), encoding="utf-8")
        return out

    @classmethod
    def load(cls, name_or_path: str | Path) -> "TaggerModel":
        path = resolve_model_dir(name_or_path)
        parts = load_trusted(path / "model.skops", TRUSTED_TYPES)
        card = json.loads((path / "card.json").read_text(encoding="utf-8"))
        arrays = np.load(path / "exemplars.npz", allow_pickle=False)
        meta = [json.loads(line) for line in (path / "exemplars.jsonl").read_text(encoding="utf-8").splitlines() if line]
        # A model saved before the rule fallback existed has none: the classifier decides every code.
        stages = Stages(parts["features"], parts["classifier"], parts.get("fallback"))
        return cls(card["codebook_hash"], card["codes"], stages,
                   arrays["embeddings"].astype(np.float32), arrays["labels"].astype(bool), meta, card)

    def check_codebook(self, codebook: Codebook) -> None:
        if codebook.hash != self.codebook_hash or codebook.ids != self.codes:
            raise UserError(
                f"the model was trained with codebook {self.codebook_hash}, the current codebook is {codebook.hash}; "
                "retrain with `scr-text train`"
            )


class Tagger:
    """Tags passages with every code of the codebook, and the evidence for each tag."""

    def __init__(self, model: TaggerModel, rules: RuleTagger, n_exemplars: int = 2):
        self.model = model
        self.rules = rules
        self.n_exemplars = n_exemplars
        model.check_codebook(rules.codebook)

    def tag(self, passages: list[Passage], embeddings: np.ndarray) -> list[PassageTags]:
        """Tags for ``passages``: all passages of one or more whole reviews (the review-level stage
        summarises each review from all of its passages, grouped by ``doc_id``)."""
        if not passages:
            return []
        scoped = [self.rules.scoped_hits(p) for p in passages]
        batch = Batch(passages, embeddings, self.rules.features_from(scoped))
        stages = self.model.stages
        proba, review = stages.scores(batch)
        decided = proba >= stages.thresholds
        sims = embeddings @ self.model.exemplar_embeddings.T
        out = []
        codes = self.model.codes
        decided_by = ["rules" if r else "classifier" for r in stages.rules_decide]
        for i, p in enumerate(passages):
            result = PassageTags(p, {c: float(proba[i, j]) for j, c in enumerate(codes)})
            hits = [h.hit for h in scoped[i] if h.context == "affirmed"]
            for j, code in enumerate(codes):
                if not decided[i, j]:
                    continue
                result.tags.append(Tag(p.doc_id, p.index, code, float(proba[i, j]), True,
                                       [h for h in hits if h.code == code], self._exemplars(sims[i], j),
                                       None if np.isnan(review[i, j]) else float(review[i, j]),
                                       decided_by[j]))
            out.append(result)
        return out

    def _exemplars(self, sims: np.ndarray, j: int) -> list[Exemplar]:
        candidates = np.flatnonzero(self.model.exemplar_labels[:, j])
        best = candidates[np.argsort(-sims[candidates])[: self.n_exemplars]]
        meta = self.model.exemplar_meta
        return [Exemplar(meta[k]["doc_id"], meta[k]["start"], meta[k]["end"], meta[k]["text"], round(float(sims[k]), 4))
                for k in best]
