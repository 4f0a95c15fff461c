"""Honest evaluation of the tagger: K-fold cross-validation grouped by review, for the rule stage
alone, the classifier alone, the combined tagger and a TF-IDF + logistic regression baseline;
and scoring of a `tag` output file against gold paragraphs. Macro-F1, the combined tagger's F1 per code
and its lead over each other system come with 95% intervals from resampling the reviews: a lead whose
interval holds 0, or a target inside the interval, is not settled by this corpus."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score, precision_recall_fscore_support

from scr_text.errors import UserError
from scr_text.formatting import format_number
from scr_text.tagging.classify import grouped_folds
from scr_text.tagging.features import Batch
from scr_text.tagging.tagger import Stages

SYSTEMS = ("rules", "classifier", "combined", "baseline")


def metrics(Y: np.ndarray, P: np.ndarray, codes: list[str]) -> dict:
    """Per code and macro-averaged precision, recall, F1 and Cohen's kappa."""
    p, r, f, _ = precision_recall_fscore_support(Y, P, average=None, zero_division=0)
    rows = []
    for j, code in enumerate(codes):
        if Y[:, j].sum() == 0 and P[:, j].sum() == 0:
            # Nothing to find and nothing found: undefined, and left out of the macro average.
            rows.append({"code": code, "precision": None, "recall": None, "f1": None, "kappa": None, "support": 0})
            continue
        same = (Y[:, j] == P[:, j]).all()
        kappa = 1.0 if same else float(cohen_kappa_score(Y[:, j], P[:, j]))
        rows.append({"code": code, "precision": float(p[j]), "recall": float(r[j]), "f1": float(f[j]), "kappa": kappa,
                     "support": int(Y[:, j].sum())})
    macro = {k: float(np.mean([row[k] for row in rows if row[k] is not None] or [np.nan]))
             for k in ("precision", "recall", "f1", "kappa")}
    return {"per_code": rows, "macro": macro}


def f1_intervals(Y: np.ndarray, preds: dict[str, np.ndarray], groups, codes: list[str], n_boot: int = 1000,
                 seed: int = 0) -> dict | None:
    """Per system, macro-F1 and its 95% interval from ``n_boot`` resamples of the reviews (``groups``): the
    review is what is resampled, since one review's passages are not independent. For the main system (the
    combined tagger, or the only one), each code's F1 and its interval. Where there is a combined tagger,
    also its lead over each other system, paired (both scored on the same resample), with the share of
    resamples in which it leads.

    The intervals are BCa (scipy.stats.bootstrap), not plain percentiles: a code found in a few reviews only
    scores 0 in a resample that leaves them all out while keeping a false positive, which gives macro-F1 a long
    lower tail that the percentile interval would carry whole. F1 per code is summed from per-review counts;
    a code absent from a resample and never predicted there is left out, as ``metrics`` does. Where that
    leaves a code's F1 undefined on some resamples, BCa cannot be computed, and its interval is the
    percentile one over the resamples where it is defined (each interval says its ``method``). None where
    there are fewer than two reviews to resample."""
    from scipy.stats import bootstrap

    _, g = np.unique(np.asarray(groups), return_inverse=True)
    n_reviews = int(g.max()) + 1 if len(g) else 0
    if n_reviews < 2:
        return None

    gold = Y.astype(bool)

    def per_review(P: np.ndarray) -> np.ndarray:
        """(reviews, tp/fp/fn, codes) counts."""
        P1 = P.astype(bool)
        out = np.zeros((n_reviews, 3, Y.shape[1]))
        np.add.at(out, g, np.stack([gold & P1, ~gold & P1, gold & ~P1], axis=1).astype(float))
        return out

    counts = {name: per_review(P) for name, P in preds.items()}

    def f1(name: str, reviews: np.ndarray) -> np.ndarray:
        """Each code's F1 (last axis) on the resamples in ``reviews`` (..., n_reviews) of review indices."""
        tp, fp, fn = np.moveaxis(counts[name][reviews].sum(axis=-3), -2, 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)

    def macro(name: str, reviews: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings():  # a resample where no code is defined: NaN, left out of the interval
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(f1(name, reviews), axis=-1)

    def resampled(statistic) -> tuple[dict, np.ndarray]:
        """The statistic on the corpus with its interval (and how that was found), and its value on each
        resample. JSON has no NaN: an undefined figure is None, as in ``metrics``."""
        with warnings.catch_warnings():  # BCa has no interval where every resample gives the same value
            warnings.simplefilter("ignore")
            res = bootstrap((np.arange(n_reviews),), lambda r, axis=-1: statistic(r), n_resamples=n_boot,
                            method="BCa", random_state=seed)
        bounds, method = list(res.confidence_interval), "BCa"
        values = res.bootstrap_distribution[np.isfinite(res.bootstrap_distribution)]
        if len(values) and values.min() == values.max():
            bounds = [values[0], values[0]]  # e.g. a code every resample scores 1.0: the interval is that value
        elif 0 < len(values) < n_boot and np.isnan(bounds).any():
            # BCa needs the statistic on every resample; a code that some resamples leave undefined (they
            # hold none of its reviews and no false tag) gets the percentile interval of the others.
            bounds, method = list(np.percentile(values, [2.5, 97.5])), f"percentile of {len(values)} resamples"
        point, lo, hi = (float(v) if v == v else None for v in (statistic(np.arange(n_reviews)), *bounds))
        return {"point": point, "interval": [lo, hi], "method": method}, res.bootstrap_distribution

    out = {"resamples": n_boot, "reviews": n_reviews, "seed": seed, "macro_f1": {}}
    for name in preds:
        out["macro_f1"][name] = resampled(lambda r, name=name: macro(name, r))[0]
    main = "combined" if "combined" in preds else next(iter(preds))
    out["per_code"] = {"system": main, "codes": {}}
    for j, code in enumerate(codes):
        out["per_code"]["codes"][code] = resampled(lambda r, j=j: f1(main, r)[..., j])[0]
    if "combined" in preds and len(preds) > 1:
        out["combined_lead"] = {}
        for name in preds:
            if name != "combined":
                lead, dist = resampled(lambda r, name=name: macro("combined", r) - macro(name, r))
                out["combined_lead"][name] = lead | {"share_ahead": float(np.mean(dist > 0))}
    return out


def format_intervals(result: dict) -> str:
    """The intervals of ``f1_intervals`` as plain-text tables."""
    def fmt(value, spec=".3f"):
        return "n/a" if value is None else format(value, spec)

    def span(bounds, spec=".3f"):
        return f"{fmt(bounds[0], spec)} to {fmt(bounds[1], spec)}"

    def how(m):  # said only where an interval is not BCa
        return "" if m.get("method", "BCa") == "BCa" else f"  ({m['method']})"

    leads = result.get("combined_lead", {})
    lines = [f"macro-F1 with 95% intervals over {result['resamples']} resamples of the {result['reviews']} reviews:",
             f"{'system':<22}{'macro-F1':>10}{'interval':>18}"
             + (f"{'combined lead':>16}{'interval':>20}{'ahead in':>10}" if leads else "")]
    for name, m in result["macro_f1"].items():
        line = f"{name:<22}{format_number(m['point'], 10)}{span(m['interval']):>18}"
        if name in leads:
            lead = leads[name]
            line += f"{fmt(lead['point'], '+.3f'):>16}{span(lead['interval'], '+.3f'):>20}{fmt(lead['share_ahead'], '.1%'):>10}"
        lines.append(line + how(m) + how(leads.get(name, {})))
    per_code = result["per_code"]
    lines += ["", f"{per_code['system']} F1 per code with 95% intervals:", f"{'code':<22}{'F1':>10}{'interval':>18}"]
    lines += [f"{code:<22}{format_number(m['point'], 10)}{span(m['interval']):>18}{how(m)}"
              for code, m in per_code["codes"].items()]
    return "\n".join(lines)


def subset(batch: Batch, idx) -> Batch:
    return Batch([batch.passages[i] for i in idx], batch.embeddings[idx], batch.rules[idx])


def _baseline(train: Batch, Ytr: np.ndarray, test: Batch) -> np.ndarray:
    """Word TF-IDF + one logistic regression per code, classes balanced, default 0.5 cut-off:
    the standard quick baseline, with no rules, embeddings, context or tuned thresholds."""
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    Xtr = vec.fit_transform([p.text for p in train.passages])
    Xte = vec.transform([p.text for p in test.passages])
    out = np.zeros((len(test.passages), Ytr.shape[1]), dtype=bool)
    for j in range(Ytr.shape[1]):
        if 0 < Ytr[:, j].sum() < len(Ytr):
            model = LogisticRegression(max_iter=2000, class_weight="balanced")
            out[:, j] = model.fit(Xtr, Ytr[:, j]).predict(Xte).astype(bool)
    return out


def style_splits(groups, styles: dict[str, str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Leave one style out: per style, (rows of every other style's reviews, rows of its own)."""
    labels = np.array([styles[g] for g in groups])
    return {s: (np.flatnonzero(labels != s), np.flatnonzero(labels == s)) for s in sorted(set(labels))}


def cross_validate(batch: Batch, Y: np.ndarray, groups, codes: list[str], folds: int = 5, systems=SYSTEMS,
                   options: dict | None = None, progress=None, seed: int | None = None,
                   resampling: dict | None = None, splits: dict | None = None) -> dict:
    """Out-of-fold predictions for each system; every fit sees only its training folds.
    ``options``: keyword arguments of the classifier (``config.classifier_options``); ``seed``: shuffle
    which reviews share a fold (``grouped_folds``); ``resampling``: keyword arguments of
    ``f1_intervals`` (``n_boot``, ``seed``), to add the intervals to the result; ``splits``: named
    (train rows, test rows) to use instead of K folds (``style_splits``), each scored on its own too."""
    groups = np.asarray(groups)
    preds = {s: np.zeros(Y.shape, dtype=bool) for s in systems}
    handed = np.zeros(len(codes), dtype=int)  # per code: in how many folds the combined tagger's rules decided it
    named = splits or {}
    splits = list(named.values()) if named else grouped_folds(groups, folds, seed)
    for n, (tr, te) in enumerate(splits, 1):
        train, test = subset(batch, tr), subset(batch, te)
        if "rules" in systems:
            preds["rules"][te] = test.rule_hits
        for name, use_rules in (("classifier", False), ("combined", True)):
            if name in systems:
                stages = Stages.fit(train, Y[tr], groups[tr], codes, options, use_rules=use_rules)
                preds[name][te] = stages.predict(test)
                handed += stages.rules_decide if use_rules else 0
        if "baseline" in systems:
            preds["baseline"][te] = _baseline(train, Y[tr], test)
        if progress:
            progress(n, len(splits))
    result = {"folds": len(splits), "seed": seed, "systems": {s: metrics(Y, preds[s].astype(int), codes) for s in systems},
              "rules_decide": {c: int(n) for c, n in zip(codes, handed) if n}}
    if named:  # each held-out part alone: macro-F1 over the codes it holds or was given
        result["splits"] = {name: {"reviews": len(set(groups[te])), "passages": len(te),
                                   "macro_f1": {s: metrics(Y[te], preds[s][te].astype(int), codes)["macro"]["f1"]
                                                for s in systems}}
                            for name, (_, te) in named.items()}
    if resampling is not None:
        result["intervals"] = f1_intervals(Y, preds, groups, codes, **resampling)
    return result


def format_splits(result: dict, systems=("combined", "rules", "baseline")) -> str:
    """The held-out parts of a ``splits`` cross-validation, a row each."""
    systems = [s for s in systems if s in result["systems"]]
    lines = [f"{'held out':<26}{'reviews':>8}{'passages':>9}" + "".join(f"{s:>12}" for s in systems)]
    for name, part in result["splits"].items():
        lines.append(f"{name:<26}{part['reviews']:>8}{part['passages']:>9}"
                     + "".join(format_number(part["macro_f1"][s], 12) for s in systems))
    return "\n".join(lines)


def target_lines(result: dict, targets: dict, kind: str) -> list[str]:
    """The combined tagger against the targets (settings ``evaluate.targets``): ``kind`` is "folds" (grouped
    K-fold) or "styles" (leave one style out)."""
    combined = result["systems"]["combined"]
    lines = []
    goal = targets.get("styles_macro_f1" if kind == "styles" else "folds_macro_f1")
    if goal is not None:
        f1 = combined["macro"]["f1"]
        what = "leave-one-style-out" if kind == "styles" else f"grouped {result['folds']}-fold"
        lines.append(f"target: {what} macro-F1 >= {goal}: {f1:.3f} {'met' if f1 >= goal else 'NOT met'}")
    floor = targets.get("code_f1")
    if floor is not None:
        low = [f"{r['code']} {r['f1']:.3f}" for r in combined["per_code"] if r["f1"] is not None and r["f1"] < floor]
        lines.append(f"target: every code's F1 >= {floor}: " + ("met" if not low else "NOT met (" + ", ".join(low) + ")"))
    return lines


def score_tag_file(tags_path: Path, gold_path: Path, codes: list[str], resampling: dict | None = None) -> dict:
    """Score a `tag` output against gold paragraphs: a gold paragraph's predicted codes are the
    union of the codes of the predicted passages that overlap it. ``resampling``: as ``cross_validate``'s."""
    from scr_text.corpus import check_codes, read_gold_rows

    predicted: dict[str, list[dict]] = {}
    for row in read_gold_rows(tags_path):  # a tag row has the same doc_id/start/end/codes shape
        predicted.setdefault(row["doc_id"], []).append(row)
    gold = [g for g in read_gold_rows(gold_path) if g["doc_id"] in predicted]
    if not gold:
        raise UserError(f"{tags_path}: no document in common with {gold_path}")
    check_codes(gold, codes)
    index = {c: j for j, c in enumerate(codes)}
    Y = np.zeros((len(gold), len(codes)), dtype=int)
    P = np.zeros_like(Y)
    for i, g in enumerate(gold):
        for c in g["codes"]:
            Y[i, index[c]] = 1
        for row in predicted[g["doc_id"]]:
            if row["start"] < g["end"] and g["start"] < row["end"]:
                for c in row["codes"]:
                    if c in index:
                        P[i, index[c]] = 1
    result = {"n_paragraphs": len(gold), "documents": len(predicted), **metrics(Y, P, codes)}
    if resampling is not None:
        result["intervals"] = f1_intervals(Y, {"tagged": P}, [g["doc_id"] for g in gold], codes, **resampling)
    return result


def format_table(result: dict, systems=None) -> str:
    """A plain-text table: one row per code, F1 for each system (and P/R/kappa of the combined tagger)."""
    systems = systems or list(result["systems"])
    first = result["systems"][systems[0]]
    lines = []
    width = {s: max(15, len(s) + 5) for s in systems}  # a long system name still leaves a gap
    header = f"{'code':<22}" + "".join(f"{s + ' F1':>{width[s]}}" for s in systems)
    main = "combined" if "combined" in systems else systems[0]
    header += f"{main + ' P':>13}{main + ' R':>13}{main + ' kappa':>17}"
    lines.append(header)
    for j, row in enumerate(first["per_code"]):
        line = f"{row['code']:<22}" + "".join(format_number(result["systems"][s]["per_code"][j]["f1"], width[s]) for s in systems)
        m = result["systems"][main]["per_code"][j]
        line += format_number(m["precision"], 13) + format_number(m["recall"], 13) + format_number(m["kappa"], 17)
        lines.append(line)
    line = f"{'macro':<22}" + "".join(f"{result['systems'][s]['macro']['f1']:>{width[s]}.3f}" for s in systems)
    m = result["systems"][main]["macro"]
    lines.append(line + f"{m['precision']:>13.3f}{m['recall']:>13.3f}{m['kappa']:>17.3f}")
    return "\n".join(lines)


def evaluate_facts(corpus, store, settings, codebook, folds: int = 5) -> tuple[dict, str]:
    """Case facts against gold cases.csv: each review's facts come from fact models fitted on other
    reviews, over tags out-of-fold for it too; and each prevalence figure's error in percentage points."""
    from scr_text.config import load_fact_config
    from scr_text.facts.extract import cross_validate_facts, reviews_from, score_facts
    from scr_text.facts.prevalence import compare, prevalence
    from scr_text.nlp.segment import Segmenter
    from scr_text.tagging.batch import corpus_batch
    from scr_text.tagging.options import classifier_options

    if not corpus.cases:
        raise UserError(f"{corpus.root}: no cases.csv to evaluate case facts against")
    segmenter = Segmenter.from_settings(settings)
    batch, Y, groups, _ = corpus_batch(corpus, store, settings, codebook, segmenter)
    stages = Stages.fit(batch, Y, groups, codebook.ids, {"n_splits": folds, **classifier_options(settings.tagger, codebook)})
    gold = {row["doc_id"]: row for row in corpus.cases}
    reviews = reviews_from(batch.passages, stages.oof_proba, stages.thresholds)
    rows = cross_validate_facts(reviews, gold, load_fact_config(), codebook, segmenter.nlp, folds)
    risk_codes = codebook.family_codes("risk_factor")
    result = score_facts(rows, gold, risk_codes)
    table = compare(prevalence(rows, risk_codes), prevalence(list(gold.values()), risk_codes), {})
    result["prevalence"] = table.to_dict("records")
    lines = [f"case facts, {folds}-fold cross-validation grouped by review: {result['n_reviews']} reviews",
             f"{'fact':<26}{'accuracy':>10}{'macro-F1':>10}"]
    for name, m in result["facts"].items():
        lines.append(f"{name:<26}{m['accuracy']:>10.3f}{m['macro_f1']:>10.3f}")
    lines.append(f"{'risks_present (macro-F1)':<26}{'':>10}{result['risks']['macro_f1']:>10.3f}")
    lines += ["", "prevalence (percent of reviews)", f"{'figure':<52}{'extracted':>10}{'gold':>8}{'error pp':>10}"]
    def pct(value, width):
        return f"{'-':>{width}}" if value != value else f"{value:>{width}.1f}"  # NaN: a value gold never has

    for r in result["prevalence"]:
        lines.append(f"{r['key']:<52}{pct(r['percent'], 10)}{pct(r['gold_percent'], 8)}{pct(r['abs_error_pp'], 10)}")
    lines.append(f"largest error: {table['abs_error_pp'].max():.1f} percentage points")
    return result, "\n".join(lines)


def evaluate_guard(set_path: Path, settings, corpus: Path | None = None) -> tuple[dict, str]:
    """Recall per identifier type over planted identifiers, and the share of clean paragraphs flagged.
    A planted identifier counts as found when a finding of the same type overlaps it. With ``corpus``, also
    the reviews of that (redacted) corpus with any finding: each one is a false alarm that would refuse it."""
    from collections import Counter

    from scr_text.nlp.segment import Segmenter
    from scr_text.privacy.guard import IdentifierGuard, load_guard_config
    from scr_text.records import Document

    rows = [json.loads(line) for line in Path(set_path).read_text(encoding="utf-8").splitlines() if line.strip()]
    segmenter = Segmenter.from_settings(settings)
    guard = IdentifierGuard(load_guard_config(), segmenter.nlp)
    documents = [Document(f"p{i}", str(set_path), "txt", str(i), row["text"]) for i, row in enumerate(rows)]
    found, planted, missed = Counter(), Counter(), []
    clean = flagged = 0
    for row, passages in zip(rows, segmenter.transform(documents)):
        findings = guard.check_passages(passages)
        if not row["identifiers"]:
            clean += 1
            flagged += bool(findings)
            if findings:
                missed.append(("false flag", row["text"], [(f.type, f.text) for f in findings]))
        for ident in row["identifiers"]:
            start = row["text"].index(ident["text"])
            end = start + len(ident["text"])
            planted[ident["type"]] += 1
            if any(f.type == ident["type"] and f.start < end and start < f.end for f in findings):
                found[ident["type"]] += 1
            else:
                missed.append(("missed", ident["type"], ident["text"]))
    per_type = {t: found[t] / planted[t] for t in sorted(planted)}
    result = {"recall_overall": sum(found.values()) / max(1, sum(planted.values())), "recall_per_type": per_type,
              "planted": dict(planted), "clean_paragraphs": clean, "clean_flagged_share": flagged / max(1, clean),
              "misses": missed}
    lines = [f"identifier guard on {set_path}: {sum(planted.values())} planted identifiers, {clean} clean paragraphs",
             f"{'type':<28}{'planted':>8}{'recall':>8}"]
    lines += [f"{t:<28}{planted[t]:>8}{per_type[t]:>8.3f}" for t in per_type]
    lines += [f"{'overall':<28}{sum(planted.values()):>8}{result['recall_overall']:>8.3f}",
              f"clean paragraphs wrongly flagged: {flagged}/{clean} ({100 * result['clean_flagged_share']:.1f}%)"]
    if corpus is not None:
        from scr_text.corpus import corpus_inputs
        from scr_text.ingest import read_documents

        reviews, _ = read_documents([corpus_inputs(corpus)], settings)
        alarms = {d.doc_id: [(f.type, f.text) for f in guard.check_passages(passages)]
                  for d, passages in zip(reviews, segmenter.transform(reviews))}
        alarms = {d: f for d, f in alarms.items() if f}
        result["corpus_reviews"], result["corpus_reviews_flagged"] = len(reviews), sorted(alarms)
        lines.append(f"redacted reviews of {corpus} refused for a finding: {len(alarms)}/{len(reviews)}")
        missed += [("false alarm", d, f) for d, f in sorted(alarms.items())]
    lines += [f"  {m}" for m in missed]
    return result, "\n".join(lines)
