"""The model card: what a trained tagger is, what it was trained on, and how well it did under review-grouped
cross-validation. ``train`` writes it as ``card.json`` and renders it as ``MODEL_CARD.md``."""
from __future__ import annotations

import platform

import numpy as np


def library_versions() -> dict[str, str]:
    import sentence_transformers
    import sklearn
    import spacy

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "spacy": spacy.__version__,
            "sentence-transformers": sentence_transformers.__version__, "numpy": np.__version__}


def _weighted_codes(value) -> str:
    # A list of code ids; cards written before the setting took families say ``true``.
    return ", ".join(value) if isinstance(value, list) else "every code"


def render_card(card: dict) -> str:
    from scr_text.formatting import format_number  # here, not at the top: evaluate imports tagger, which imports this

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
        f"- Training data: `{card.get('corpus')}` ({card.get('n_documents')} reviews, {card.get('n_passages')} passages), "
        f"hash `{card.get('corpus_hash')}`",
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
    origin = card.get("retrained_from")
    if origin:
        lines += ["", "## Retrained from analysts' coding", "",
                  f"The coding of {', '.join(origin['coders'])} on {len(origin['reviews'])} reviews ({origin['passages']} passages), "
                  f"added to `{origin['base_corpus']}`. Macro-F1 on those reviews against their codes: {origin['current']} "
                  f"{origin['macro_f1_before']:.3f} (before), this model's fits out of fold {origin['macro_f1_after']:.3f} "
                  f"(after); per code in `retrain.json`."]
    lines += ["", f"Reproduce: `scr-text train --corpus {card.get('corpus', 'corpora/dev')} --out models/{card.get('name', 'default')}` "
              "(metrics: `scr-text evaluate`).", ""]
    return "\n".join(lines)
