"""Case facts per review (outcome, incident, proceedings, law, perpetrator, harm by the domestic-abuse
perpetrator, risks present), each with a confidence and the passages that support it.

Three kinds of evidence, as a reader uses them:
- explicit statements: lemma phrases per fact value from ``configs/facts.yaml``, negation-aware (the rule
  stage's machinery), counted more in the opening passages where reviews say what happened;
- the passage tags (which risks the review's passages carry);
- who is named in the sentences that say someone caused the harm, with named adults ("Mr X") resolved
  to the role they are introduced with ("Mr X, Mother's partner"): ``roles.py``.
A review-level logistic regression per fact, trained on gold case facts, weighs the first and third;
a value below the configured confidence is reported as ``unknown``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from scr_text.codebook import Code, Codebook, Family
from scr_text.errors import UserError
from scr_text.nlp.roles import RoleFinder
from scr_text.records import Passage
from scr_text.tagging.features import is_heading
from scr_text.tagging.rules import AFFIRMED, RuleTagger
from scr_text.tagging.trusted_files import load_trusted

CATEGORICAL = ("outcome", "incident", "proceedings", "law", "perpetrator")
FACT_COLUMNS = CATEGORICAL + ("harm_by_da_perpetrator",)
UNKNOWN = "unknown"


@dataclass
class Review:
    """One review as the facts stage sees it: passages in order, and the tagger's scores for them."""

    doc_id: str
    passages: list[Passage]
    scores: np.ndarray  # (n_passages, n_codes) calibrated probabilities
    decided: np.ndarray  # (n_passages, n_codes) bool


@dataclass
class FactValue:
    value: str
    confidence: float
    evidence: list[dict] = field(default_factory=list)  # {doc_id, passage, start, end, text}


@dataclass
class CaseFacts:
    doc_id: str
    facts: dict[str, FactValue]
    risks_present: list[str]
    risk_evidence: dict[str, list[dict]]

    def row(self) -> dict:
        out = {"doc_id": self.doc_id}
        for name in FACT_COLUMNS:
            out[name] = self.facts[name].value
        out["risks_present"] = ";".join(self.risks_present)
        for name in FACT_COLUMNS:
            out[f"{name}_confidence"] = round(self.facts[name].confidence, 3)
        return out


def _evidence(p: Passage) -> dict:
    return {"doc_id": p.doc_id, "passage": p.index, "start": p.start, "end": p.end, "text": p.text}


class FactMatcher:
    """Counts affirmed phrase mentions for every (fact, value), opening passages weighted up."""

    def __init__(self, cfg: dict, codebook: Codebook, nlp):
        self.cfg = cfg
        family = Family("fact", "Case facts", "", negatable=True)
        codes = []
        for fact in ("outcome", "incident", "proceedings", "law"):
            for value, phrases in cfg["facts"][fact].items():
                codes.append(Code(f"{fact}={value}", "fact", value, "", phrases=tuple(str(p) for p in phrases)))
        self.keys = [c.id for c in codes]
        self.rules = RuleTagger(Codebook("facts", 1, tuple(codes), {"fact": family}, codebook.negation), nlp)

    def counts(self, review: Review) -> tuple[np.ndarray, dict[str, list[int]]]:
        """Weighted counts per key, and for each key the passages that mention it."""
        x = np.zeros(len(self.keys))
        where: dict[str, list[int]] = {}
        opening = _opening(review.passages, int(self.cfg.get("opening_passages", 4)))
        weight = float(self.cfg.get("opening_weight", 3.0))
        index = {k: i for i, k in enumerate(self.keys)}
        for i, p in enumerate(review.passages):
            for h in self.rules.scoped_hits(p):
                if h.context != AFFIRMED:
                    continue
                x[index[h.hit.code]] += weight if i in opening else 1.0
                where.setdefault(h.hit.code, [])
                if i not in where[h.hit.code]:
                    where[h.hit.code].append(i)
        return x, where


def _risk_present(review: Review, j: int, min_passages: int, min_score: float) -> bool:
    """A risk factor is present when enough passages carry it, or one carries it with a high probability."""
    rows = np.flatnonzero(review.decided[:, j])
    return bool(len(rows) >= min_passages or (len(rows) and review.scores[rows, j].max() >= min_score))


def _opening(passages: list[Passage], n: int) -> set[int]:
    out = []
    for i, p in enumerate(passages):
        if not is_heading(p.text):
            out.append(i)
        if len(out) >= n:
            break
    return set(out)


class FactExtractor:
    """``fit(reviews, gold_rows)``; ``predict(reviews) -> list[CaseFacts]``."""

    def __init__(self, cfg: dict, codebook: Codebook, nlp):
        self.cfg = cfg
        self.codebook = codebook
        self.matcher = FactMatcher(cfg, codebook, nlp)
        self.roles = RoleFinder(cfg)
        self.statement_weight = float(cfg.get("statement_weight", 0.5))

    # -- features --------------------------------------------------------------------
    def _review_features(self, review: Review) -> dict:
        counts, where = self.matcher.counts(review)
        harm_opening = _opening(review.passages, int(self.cfg["perpetrator"].get("opening_passages", 2)))
        da_code = self.cfg.get("domestic_abuse_code", "domestic_abuse")
        da = self.codebook.ids.index(da_code) if da_code in self.codebook.ids else None
        da_passages = review.decided[:, da] if da is not None else np.zeros(len(review.passages), dtype=bool)
        harm, agents, unknown, harm_where, named = self.roles.features(review.passages, harm_opening, da_passages)
        k = len(self.codebook.ids)
        tag_share = review.decided.mean(axis=0) if len(review.passages) else np.zeros(k)
        tag_max = review.scores.max(axis=0) if len(review.passages) else np.zeros(k)
        return {"counts": counts, "where": where, "harm": harm, "agents": agents, "unknown": unknown,
                "harm_where": harm_where, "named": named, "tag_share": tag_share, "tag_max": tag_max}

    def _matrix(self, fact: str, f: dict) -> np.ndarray:
        keys = [i for i, key in enumerate(self.matcher.keys) if key.startswith(fact + "=")]
        parts = [np.log1p(f["counts"][keys])]
        if fact == "incident":
            risk = [j for j, c in enumerate(self.codebook.ids) if self.codebook.code(c).family == "risk_factor"]
            parts += [f["tag_share"][risk]]
        if fact == "perpetrator":
            parts += [np.log1p(f["harm"]), [np.log1p(f["unknown"])], f["tag_max"]]
        return np.concatenate([np.asarray(p, dtype=float).ravel() for p in parts])

    # -- estimator -------------------------------------------------------------------
    def fit(self, reviews: list[Review], gold: dict[str, dict]) -> "FactExtractor":
        feats = [self._review_features(r) for r in reviews]
        self.models_ = {}
        for fact in CATEGORICAL:
            X = np.stack([self._matrix(fact, f) for f in feats])
            y = np.array([gold[r.doc_id][fact] for r in reviews])
            if len(set(y)) < 2:
                self.models_[fact] = ("constant", y[0])
                continue
            self.models_[fact] = ("model", LogisticRegression(C=1.0, max_iter=5000).fit(X, y))
        self.models_["risks"] = ("rules", self._fit_risk_rules(reviews, gold))
        return self

    def _fit_risk_rules(self, reviews: list[Review], gold: dict[str, dict]) -> dict:
        """Per risk factor, the (passages, score) rule that best reproduces the gold reviews: F1 minus the
        error in prevalence, so that the prevalence table is neither inflated nor deflated. Many rules often
        tie; like a decision threshold set midway between classes, the middle of the tied ones is taken (the
        median passage count, then the median score), not the most permissive."""
        grid_n = self.cfg.get("risk_grid_passages", [1, 2, 3, 4, 5])
        grid_s = self.cfg.get("risk_grid_score", [0.8, 0.9, 0.95, 1.01])
        out = {}
        for j, code in enumerate(self.codebook.ids):
            if self.codebook.code(code).family != "risk_factor":
                continue
            y = np.array([code in gold[r.doc_id]["risks_present"].split(";") for r in reviews])
            value = {}
            for n in grid_n:
                for score in grid_s:
                    p = np.array([_risk_present(r, j, n, score) for r in reviews])
                    tp = (p & y).sum()
                    f1 = 2 * tp / (p.sum() + y.sum()) if (p.sum() + y.sum()) else 1.0
                    value[(int(n), float(score))] = f1 - abs(p.mean() - y.mean())
            best = max(value.values())
            tied = [rule for rule, v in value.items() if v >= best - 1e-9]
            counts = sorted({n for n, _ in tied})
            n = counts[len(counts) // 2]
            scores = sorted(score for m, score in tied if m == n)
            out[code] = [n, scores[len(scores) // 2]]
        return out

    def predict(self, reviews: list[Review]) -> list[CaseFacts]:
        threshold = float(self.cfg.get("min_confidence", 0.45))
        out = []
        for review in reviews:
            f = self._review_features(review)
            facts: dict[str, FactValue] = {}
            for fact in CATEGORICAL:
                kind, model = self.models_[fact]
                if kind == "constant":
                    value, conf = model, 1.0
                else:
                    proba = model.predict_proba(self._matrix(fact, f).reshape(1, -1))[0]
                    proba = self._blend(fact, model.classes_, proba, f)
                    j = int(np.argmax(proba))
                    value, conf = str(model.classes_[j]), float(proba[j])
                if conf < threshold:
                    value = UNKNOWN
                facts[fact] = FactValue(value, conf, self._fact_evidence(fact, value, review, f))
            facts["perpetrator"] = self._perpetrator(facts, f, review, threshold)
            risks, risk_evidence = self._risks(review)
            facts["harm_by_da_perpetrator"] = self._harm_by_da(facts["perpetrator"], risks, f, review)
            out.append(CaseFacts(review.doc_id, facts, risks, risk_evidence))
        return out

    def _blend(self, fact: str, classes, proba: np.ndarray, f: dict) -> np.ndarray:
        """Average the model's probabilities with the shares of explicit statements for each value,
        so that a value the review states outright is not overruled by a model fitted on few reviews."""
        if fact == "perpetrator":
            return proba
        keys = {k.split("=", 1)[1]: i for i, k in enumerate(self.matcher.keys) if k.startswith(fact + "=")}
        counts = np.array([f["counts"][keys[c]] if c in keys else 0.0 for c in classes])
        if counts.sum() == 0:
            return proba
        return (1 - self.statement_weight) * proba + self.statement_weight * counts / counts.sum()

    def _perpetrator(self, facts: dict[str, FactValue], f: dict, review: Review, threshold: float) -> FactValue:
        """Explicit statements first: no one person for a suicide, "unknown" where the review says no one
        was identified, else the role most named in the sentences that say who caused the harm. The
        trained model decides only when none of these speaks."""
        roles = self.roles.roles
        none_incidents = self.cfg["perpetrator"].get("none_incidents", [])
        if facts["incident"].value in none_incidents:
            return FactValue("none", facts["incident"].confidence, facts["incident"].evidence)
        evidence = [_evidence(review.passages[i]) for i in f["harm_where"][:3]]
        if f["unknown"] > 0:
            return FactValue("unknown", min(1.0, 0.5 + 0.1 * f["unknown"]), evidence)
        for counts, scale in ((f["harm"], 1.0), (f["named"], 0.8)):
            if counts.sum() > 0:
                j = int(np.argmax(counts))
                conf = scale * float(counts[j] / counts.sum())
                return FactValue(roles[j] if conf >= threshold else UNKNOWN, conf, evidence)
        return facts["perpetrator"]

    # -- derived facts ------------------------------------------------------------------
    def _risks(self, review: Review) -> tuple[list[str], dict[str, list[dict]]]:
        default = (int(self.cfg.get("risk_min_passages", 3)), float(self.cfg.get("risk_min_score", 0.95)))
        tuned = self.models_.get("risks", ("rules", {}))[1]
        present, evidence = [], {}
        for j, code in enumerate(self.codebook.ids):
            if self.codebook.code(code).family != "risk_factor":
                continue
            min_n, min_score = tuned.get(code, default)
            rows = np.flatnonzero(review.decided[:, j])
            if _risk_present(review, j, min_n, min_score):
                present.append(code)
                best = rows[np.argsort(-review.scores[rows, j])][:3]
                evidence[code] = [{**_evidence(review.passages[i]), "score": round(float(review.scores[i, j]), 3)}
                                  for i in best]
        return present, evidence

    def _harm_by_da(self, perpetrator: FactValue, risks: list[str], f: dict, review: Review) -> FactValue:
        """yes: the person who harmed the child is the one named as the agent of the domestic abuse;
        no: someone else; na: no domestic abuse in the review, or no known single perpetrator."""
        da_code = self.cfg.get("domestic_abuse_code", "domestic_abuse")
        if da_code not in risks or perpetrator.value in ("none", "unknown", UNKNOWN):
            return FactValue("na", perpetrator.confidence if da_code in risks else 0.9)
        agents = f["agents"]
        if agents.sum() == 0:
            return FactValue(UNKNOWN, 0.0)
        roles = self.roles.roles
        mine = agents[roles.index(perpetrator.value)] if perpetrator.value in roles else 0.0
        value = "yes" if mine > 0 and mine >= agents.max() else "no"
        share = mine / agents.sum()
        conf = perpetrator.confidence * (0.5 + 0.5 * (share if value == "yes" else 1 - share))
        return FactValue(value, float(conf), perpetrator.evidence)

    def _fact_evidence(self, fact: str, value: str, review: Review, f: dict) -> list[dict]:
        if fact == "perpetrator":
            idx = f["harm_where"][:3]
        else:
            idx = f["where"].get(f"{fact}={value}", [])[:3]
        return [_evidence(review.passages[i]) for i in idx]


# -- building reviews, persistence, evaluation ---------------------------------------------

def reviews_from(passages: list[Passage], scores: np.ndarray, thresholds: np.ndarray) -> list[Review]:
    """Group row-aligned passages and tag scores into reviews, in order of first appearance."""
    decided = scores >= thresholds
    order: dict[str, list[int]] = {}
    for i, p in enumerate(passages):
        order.setdefault(p.doc_id, []).append(i)
    return [Review(d, [passages[i] for i in idx], scores[idx], decided[idx]) for d, idx in order.items()]


FACT_TRUSTED_TYPES = ["sklearn.linear_model._logistic.LogisticRegression", "numpy.float64", "numpy.int64", "numpy.str_"]


def save_fact_models(extractor: FactExtractor, path: Path) -> None:
    import skops.io as sio

    sio.dump({fact: {"kind": kind, "model": model} for fact, (kind, model) in extractor.models_.items()}, path)


def load_fact_models(extractor: FactExtractor, path: Path) -> FactExtractor:
    raw = load_trusted(path, FACT_TRUSTED_TYPES)
    extractor.models_ = {fact: (v["kind"], v["model"]) for fact, v in raw.items()}
    return extractor


def score_facts(predicted: list[dict], gold: dict[str, dict], risk_codes: list[str]) -> dict:
    """Per-fact accuracy (with macro-F1 over values), and per-review risk factors' F1 per code and macro."""
    from sklearn.metrics import f1_score

    rows = [p for p in predicted if p["doc_id"] in gold]
    if not rows:
        raise UserError("no review in common between the facts and the gold cases")
    out = {"n_reviews": len(rows), "facts": {}}
    for fact in FACT_COLUMNS:
        y = [gold[r["doc_id"]][fact] for r in rows]
        p = [r[fact] for r in rows]
        out["facts"][fact] = {"accuracy": float(np.mean([a == b for a, b in zip(y, p)])),
                              "macro_f1": float(f1_score(y, p, average="macro", zero_division=0)),
                              "errors": [(r["doc_id"], b, a) for r, a, b in zip(rows, y, p) if a != b]}
    Yg = np.array([[c in gold[r["doc_id"]]["risks_present"].split(";") for c in risk_codes] for r in rows])
    Yp = np.array([[c in r["risks_present"].split(";") for c in risk_codes] for r in rows])
    per = f1_score(Yg, Yp, average=None, zero_division=0)
    out["risks"] = {"per_code": dict(zip(risk_codes, map(float, per))), "macro_f1": float(per.mean())}
    return out


def cross_validate_facts(reviews: list[Review], gold: dict[str, dict], cfg: dict, codebook: Codebook, nlp,
                         folds: int = 5) -> list[dict]:
    """Out-of-fold fact rows: each review's facts come from a model fitted on other reviews only."""
    from scr_text.tagging.classify import grouped_folds

    groups = np.array([r.doc_id for r in reviews])
    rows: dict[str, dict] = {}
    for train, test in grouped_folds(groups, folds):
        extractor = FactExtractor(cfg, codebook, nlp).fit([reviews[i] for i in train], gold)
        for facts in extractor.predict([reviews[i] for i in test]):
            rows[facts.doc_id] = facts.row()
    return [rows[r.doc_id] for r in reviews]
