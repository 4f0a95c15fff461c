"""Rules + classifier -> tags with evidence.

A ``TaggerModel`` is what ``train`` fits and ``models/<name>/`` holds: its ``Stages`` (the feature
transformer, the per-code classifier with its thresholds, and the rule fallback for codes the classifier
could not learn), and the coded training passages used as exemplars.
It is saved with skops (no pickle) and loaded against an explicit list of trusted types.
"""
from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .codebook import Codebook
from .errors import UserError
from .modeldir import resolve_model_dir
from .features import Batch, PassageFeatures
from .records import Exemplar, Passage, Tag, contract_row
from .review_gate import ReviewGatedClassifier
from .rule_fallback import RuleFallback
from .rules import RuleTagger

# Every object type a saved model may contain. skops trusts much of scikit-learn by default; we
# trust only these, and refuse a file that names any other (checked in its schema before loading).
TRUSTED_TYPES = [
    "scr_text.features.PassageFeatures",
    "scr_text.classify.ThemeClassifier",
    "scr_text.review_gate.ReviewGatedClassifier",
    "scr_text.rule_fallback.RuleFallback",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "numpy.float32",
    "numpy.float64",
    "numpy.int64",
]
_CONTAINERS = {"builtins.dict", "builtins.list", "builtins.tuple", "builtins.str", "builtins.int", "builtins.float",
               "builtins.bool", "builtins.NoneType", "numpy.ndarray", "numpy.int64", "numpy.float64", "numpy.float32"}


def check_types(skops_file: Path, trusted: list[str]) -> None:
    """Refuse a .skops file that names any type outside ``trusted`` (and plain containers)."""
    import skops.io as sio

    untrusted = (_types_in(skops_file) | set(sio.get_untrusted_types(file=skops_file))) - set(trusted) - _CONTAINERS
    if untrusted:
        raise UserError(f"{skops_file}: model file contains types that are not trusted: {', '.join(sorted(untrusted))}")


def _types_in(skops_file: Path) -> set[str]:
    """The object types a .skops file names, read from its schema without building anything."""
    import zipfile

    with zipfile.ZipFile(skops_file) as archive:
        info = archive.getinfo("schema.json")
        if info.file_size > 50 * 2**20:
            raise UserError(f"{skops_file}: model schema is implausibly large")
        schema = json.loads(archive.read(info))
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            if "__class__" in node:
                found.add(f"{node.get('__module__')}.{node['__class__']}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return found


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
        """(doc_id, passage, code, score, decided, evidence JSON) for every code, for Store.put_tags."""
        evidence = self.evidence()
        return [(self.passage.doc_id, self.passage.index, code, round(score, 4), code in evidence,
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
        import skops.io as sio

        path = resolve_model_dir(name_or_path)
        check_types(path / "model.skops", TRUSTED_TYPES)
        parts = sio.load(path / "model.skops", trusted=TRUSTED_TYPES)
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


def library_versions() -> dict[str, str]:
    import sklearn
    import spacy

    import sentence_transformers

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "spacy": spacy.__version__,
            "sentence-transformers": sentence_transformers.__version__, "numpy": np.__version__}


def _weighted_codes(value) -> str:
    # A list of code ids; cards written before the setting took families say ``true``.
    return ", ".join(value) if isinstance(value, list) else "every code"


def render_card(card: dict) -> str:
    from .evaluate import format_number

    lines = [
        f"# Model card: {card.get('name', 'scr-text tagger')}",
        "",
        "Multi-label theme tagger for safeguarding case-review passages: the rule stage's hits, lemma and character",
        "n-gram TF-IDF, the passage embedding (all-MiniLM-L6-v2) and its context (section heading, neighbours,",
        "position) feed one logistic regression per code; probabilities are Platt-calibrated on review-grouped",
        "out-of-fold scores and each code's threshold maximises out-of-fold F1. For the codes listed under",
        "\"review-level stage\" the score is P(review has the code) x P(passage has it | review has it): a",
        "review-level logistic regression over summaries of the review's passage scores, times a passage model",
        "trained on reviews that have the code.",
        "",
        f"- Review-level stage: {', '.join(card.get('review_gated', [])) or 'no code'}",
        f"- Decided by the rule stage alone (the classifier's out-of-fold F1 on the training reviews was lower): "
        f"{', '.join(card.get('rules_decide', [])) or 'no code'}",
        *([f"- N-gram columns weighted per code by naive Bayes log-count ratios (`tagger.ngram_weighting`): "
           f"{_weighted_codes(card['ngram_weighting'])}"] if card.get("ngram_weighting") else []),
        *([f"- Feature block weights (`tagger.feature_weights`): "
           f"{', '.join(f'{k} {v:g}' for k, v in card['feature_weights'].items())}"]
          if card.get("feature_weights") else []),
        f"- Trained: {card.get('trained_at')}",
        f"- Training data: `{card.get('corpus')}` ({card.get('n_documents')} reviews, {card.get('n_passages')} passages), hash `{card.get('corpus_hash')}`",
        f"- Codebook hash: `{card.get('codebook_hash')}`",
        f"- Embedding model: `{card.get('embedding_model')}`; spaCy pipeline: `{card.get('spacy_model')}`",
        f"- Libraries: {', '.join(f'{k} {v}' for k, v in card.get('libraries', {}).items())}",
        "",
        f"## Cross-validated metrics ({card.get('cv', {}).get('folds')}-fold, grouped by review)",
        "",
        "| code | reviews coded | precision | recall | F1 | kappa | threshold |",
        "|---|---|---|---|---|---|---|",
    ]
    thresholds, reviews = card.get("thresholds", {}), card.get("coded_reviews", {})
    for row in card.get("cv", {}).get("per_code", []):
        cells = " | ".join(format_number(row[k]) for k in ("precision", "recall", "f1", "kappa"))
        lines.append(f"| {row['code']} | {reviews.get(row['code'], 'n/a')} | {cells} | "
                     f"{thresholds.get(row['code'], float('nan')):.3f} |")
    macro = card.get("cv", {}).get("macro")
    if macro:
        lines.append(f"| **macro** | | {macro['precision']:.3f} | {macro['recall']:.3f} | {macro['f1']:.3f} | {macro['kappa']:.3f} | |")
    facts = card.get("facts_cv")
    if facts:
        lines += ["", f"## Case facts ({facts['folds']}-fold, grouped by review, from out-of-fold tags; "
                  f"{facts['n_reviews']} reviews with gold facts)", "",
                  "| fact | accuracy | macro-F1 |", "|---|---|---|"]
        for name, m in facts["facts"].items():
            lines.append(f"| {name} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} |")
        lines.append(f"| risks_present (per code F1, macro) | | {facts['risks']['macro_f1']:.3f} |")
    lines += ["", "Reproduce: `scr-text train --corpus corpora/dev --out models/default` (metrics: `scr-text evaluate`).", ""]
    return "\n".join(lines)
