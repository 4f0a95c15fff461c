"""A faster stand-in for most of spaCy's attribute ruler, with the same output.

In en_core_web_sm the attribute ruler maps each token's fine-grained tag (and for some words its
lower-case form) to its coarse POS, morphology and lemma, through 179 Matcher patterns tried at every
token. That costs about a third of the time the whole pipeline spends on a review. Most of those
patterns are plain lookups ({TAG} or {TAG, LOWER} on one token), so they are answered here from two
dictionaries; the rest (multi-token, dependency or regex patterns) stay in the attribute ruler, which
then has a handful of patterns left. Later patterns win, as in the ruler: the dictionaries are built in
pattern order and the remaining ruler runs after them. ``tests/test_segment.py`` checks that every
token of the shipped corpus gets the same POS, morphology and lemma either way.
"""
from __future__ import annotations

from spacy.language import Language


def _lookup_keys(token_pattern: dict) -> list[tuple[str, str | None]] | None:
    """[(tag, lower or None)] when the one-token pattern is a plain lookup, else None."""
    if set(token_pattern) == {"TAG"} and isinstance(token_pattern["TAG"], str):
        return [(token_pattern["TAG"], None)]
    if set(token_pattern) == {"TAG", "LOWER"} and isinstance(token_pattern["TAG"], str):
        lower = token_pattern["LOWER"]
        if isinstance(lower, str):
            return [(token_pattern["TAG"], lower)]
        if isinstance(lower, dict) and set(lower) == {"IN"}:
            return [(token_pattern["TAG"], w) for w in lower["IN"]]
    return None


def _needs_dep(pattern: list[dict]) -> bool:
    """True when some token of the pattern can only match a non-empty dependency label."""
    for token in pattern:
        dep = token.get("DEP")
        if isinstance(dep, str) or (isinstance(dep, dict) and (
                ("IN" in dep and "" not in dep["IN"]) or ("NOT_IN" in dep and "" in dep["NOT_IN"]))):
            return True
    return False


class AttributeMap:
    """Pipeline component: sets POS, MORPH and LEMMA from (tag) and (tag, lower) tables."""

    def __init__(self):
        self.by_tag: dict[str, dict] = {}
        self.by_tag_lower: dict[tuple[str, str], dict] = {}

    def take_lookups(self, patterns: list[dict], parsed: bool) -> list[dict]:
        """Move the plain-lookup patterns into the tables; return the others, in order. Only the
        lookups that come before every other pattern move (the ruler, running after the tables, must
        not override a later rule), and a (tag) rule after a (tag, lower) rule for the same tag stays.
        Without a parser every token's DEP is empty, so patterns that need a dependency label never
        match and are dropped."""
        rest: list[dict] = []
        for entry in patterns:
            if not parsed and all(_needs_dep(p) for p in entry["patterns"]):
                continue
            keys = None
            if len(entry["patterns"]) == 1 and len(entry["patterns"][0]) == 1 and entry.get("index", 0) == 0:
                keys = _lookup_keys(entry["patterns"][0][0])
            if keys and set(entry["attrs"]) <= {"POS", "MORPH", "LEMMA"} and not rest:
                for tag, lower in keys:
                    if lower is None:
                        if any(t == tag for t, _ in self.by_tag_lower):
                            break
                        self.by_tag.setdefault(tag, {}).update(entry["attrs"])
                    else:
                        self.by_tag_lower.setdefault((tag, lower), {}).update(entry["attrs"])
                else:
                    continue
            rest.append(entry)
        return rest

    def __call__(self, doc):
        for token in doc:
            attrs = self.by_tag.get(token.tag_)
            special = self.by_tag_lower.get((token.tag_, token.lower_))
            for table in (attrs, special):
                if not table:
                    continue
                if "POS" in table:
                    token.pos_ = table["POS"]
                if "MORPH" in table:
                    token.set_morph(table["MORPH"])
                if "LEMMA" in table:
                    token.lemma_ = table["LEMMA"]
        return doc


@Language.factory("scr_text_attribute_map")
def make_attribute_map(nlp: Language, name: str) -> AttributeMap:
    return AttributeMap()


def install(nlp: Language) -> None:
    """Move the attribute ruler's plain lookups into an AttributeMap placed just before it."""
    if "attribute_ruler" not in nlp.pipe_names or "scr_text_attribute_map" in nlp.pipe_names:
        return
    ruler = nlp.get_pipe("attribute_ruler")
    amap = nlp.add_pipe("scr_text_attribute_map", before="attribute_ruler")
    rest = amap.take_lookups(ruler.patterns, parsed="parser" in nlp.pipe_names)
    ruler.clear()
    ruler.add_patterns(rest)
