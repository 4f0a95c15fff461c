"""The case facts' cross-validated scores and the prevalence table against gold."""
from __future__ import annotations

from scr_text.config import load_fact_config
from scr_text.errors import UserError
from scr_text.facts.extract import cross_validate_facts, reviews_from, score_facts
from scr_text.facts.prevalence import compare, prevalence
from scr_text.nlp.segment import Segmenter
from scr_text.tagging.batch import corpus_batch
from scr_text.tagging.options import classifier_options
from scr_text.tagging.tagger import Stages


def evaluate_facts(corpus, store, settings, codebook, folds: int = 5) -> tuple[dict, str]:
    """Case facts against gold cases.csv: each review's facts come from fact models fitted on other
    reviews, over tags out-of-fold for it too; and each prevalence figure's error in percentage points."""
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
