"""The classifier's options from ``tagger`` in pipeline.yaml, checked against the codebook and the feature blocks."""
from __future__ import annotations

from scr_text.codebook import Codebook
from scr_text.config import TaggerSettings
from scr_text.errors import UserError
from scr_text.tagging.features import BLOCK_WEIGHTS


def classifier_options(tagger: TaggerSettings, codebook: Codebook) -> dict:
    """``C``, ``review_C``, ``ngram_weighting`` as the ids of the codes whose n-grams are weighted, and every
    feature block's weight (those not given at their defaults)."""
    weighting = tagger.ngram_weighting
    if isinstance(weighting, bool):
        families = set(codebook.families) if weighting else set()
    else:
        families = set(weighting)
        unknown = sorted(families - set(codebook.families))
        if unknown:
            raise UserError(f"tagger.ngram_weighting names {', '.join(unknown)}, not a family of the codebook "
                            f"({', '.join(codebook.families)})")
    return {"C": float(tagger.C), "review_C": float(tagger.review_C),
            "ngram_weighting": [c.id for c in codebook.codes if c.family in families],
            "feature_weights": _feature_weights(tagger.feature_weights)}


def _feature_weights(given: dict) -> dict[str, float]:
    unknown = sorted(set(given) - set(BLOCK_WEIGHTS))
    if unknown:
        raise UserError(f"tagger.feature_weights names {', '.join(map(str, unknown))}, not a feature block "
                        f"({', '.join(BLOCK_WEIGHTS)})")
    bad = [k for k, v in given.items() if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0]
    if bad:
        raise UserError(f"tagger.feature_weights: the weight of {', '.join(bad)} must be a number of 0 or more")
    return {k: float(given.get(k, v)) for k, v in BLOCK_WEIGHTS.items()}
