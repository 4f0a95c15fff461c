"""The rule stage: lemma phrase and token patterns from the codebook, with NegEx-style handling
of negated, ruled-out and hypothetical mentions for the codes whose family is negatable.

Two readings of the same words do not both count: a hit inside a longer hit of another code gives
way to it ("assault" is not domestic abuse inside "sexual assault"), and a hit inside the codebook's
``boilerplate`` (the standard wording of every review: the statutory criterion "abuse or neglect is
known or suspected", notifying Ofsted, the review's own terms of reference) is no hit at all.

``RuleTagger.hits`` gives the evidence (pattern id and character span of each hit);
``transform`` turns those hits into features for the classifier, sklearn-style.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from scr_text.codebook import Codebook
from scr_text.records import Passage, RuleHit

AFFIRMED, NEGATED, HYPOTHETICAL = "affirmed", "negated", "hypothetical"


@dataclass
class ScopedHit:
    hit: RuleHit
    context: str  # affirmed | negated | hypothetical


class RuleTagger:
    def __init__(self, codebook: Codebook, nlp):
        self.codebook = codebook
        self.nlp = nlp
        self.phrases = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self.patterns = Matcher(nlp.vocab)
        # Phrases are written as plain text in the codebook; their lemmas are what we match. A word
        # parsed alone can get another lemma than in a sentence ("grooming" -> "groom"), so the
        # phrase's own words also count as lemmas.
        parse = nlp.pipe
        self.pattern_ids: list[str] = []  # every phrase's and token pattern's id, as hits carry them
        for code in codebook.codes:
            docs = list(parse(code.phrases)) if code.phrases else []
            for i, doc in enumerate(docs):
                pid = f"{code.id}#p{i}"
                self.pattern_ids.append(pid)
                self.phrases.add(pid, [_lower_lemmas(doc), _lower_lemmas(doc, surface=True)])
            for i, pattern in enumerate(code.patterns):
                pid = f"{code.id}#t{i}"
                self.pattern_ids.append(pid)
                self.patterns.add(pid, [pattern])
        neg = codebook.negation
        self.window = int(neg.get("window", 8))
        self.cues = PhraseMatcher(nlp.vocab, attr="LEMMA")
        for kind in ("pre_cues", "post_cues", "hypothetical_cues"):
            for doc in parse([str(c) for c in neg.get(kind, [])]):
                self.cues.add(kind, [_lower_lemmas(doc)])
        self.terminators = {str(t).lower() for t in neg.get("terminators", [])}
        self.boilerplate = PhraseMatcher(nlp.vocab, attr="LEMMA")
        for doc in parse(list(codebook.boilerplate)):
            self.boilerplate.add("boilerplate", [_lower_lemmas(doc), _lower_lemmas(doc, surface=True)])

    # -- evidence -------------------------------------------------------------------
    def scoped_hits(self, passage: Passage) -> list[ScopedHit]:
        doc = passage.analysis
        lemmas = _lower_lemmas(doc)
        matches = self.phrases(lemmas) + (self.patterns(doc) if len(self.patterns) else [])
        by_code: dict[str, list] = {}
        for match_id, start, end in matches:
            key = self.nlp.vocab.strings[match_id]
            by_code.setdefault(key.split("#")[0], []).append((key, start, end))
        cues = [(self.nlp.vocab.strings[m], s, e) for m, s, e in self.cues(lemmas)]
        standard = {i for _, s, e in self.boilerplate(lemmas) for i in range(s, e)}
        kept = {code: [m for m in _longest(spans) if standard.isdisjoint(range(m[1], m[2]))] for code, spans in by_code.items()}
        out = []
        for code, spans in kept.items():
            for key, start, end in spans:
                if _inside_another(start, end, code, kept):
                    continue
                span = doc[start:end]
                hit = RuleHit(code, key, passage.start + span.start_char, passage.start + span.end_char, span.text)
                context = self._context(doc, start, end, cues) if self.codebook.negatable(code) else AFFIRMED
                out.append(ScopedHit(hit, context))
        out.sort(key=lambda h: (h.hit.start, h.hit.code))
        return out

    def hits(self, passage: Passage) -> list[RuleHit]:
        """The hits that count: affirmed mentions only."""
        return [h.hit for h in self.scoped_hits(passage) if h.context == AFFIRMED]

    def _context(self, doc, start: int, end: int, cues) -> str:
        sent = doc[start].sent
        for kind, cs, ce in cues:
            if cs < sent.start or ce > sent.end:
                continue
            if kind in ("pre_cues", "hypothetical_cues") and ce <= start and start - ce <= self.window:
                if not self._terminated(doc, ce, start):
                    return NEGATED if kind == "pre_cues" else HYPOTHETICAL
            if kind == "post_cues" and cs >= end and cs - end <= self.window:
                if not self._terminated(doc, end, cs):
                    return NEGATED
        return AFFIRMED

    def _terminated(self, doc, a: int, b: int) -> bool:
        return any(t.lower_ in self.terminators for t in doc[a:b])

    # -- features (sklearn-style) ------------------------------------------------------
    def fit(self, passages=None, y=None) -> "RuleTagger":
        return self

    def transform(self, passages: list[Passage]) -> np.ndarray:
        """Per passage: log(1 + affirmed hits) and log(1 + negated/hypothetical hits) for each code."""
        return self.features_from([self.scoped_hits(p) for p in passages])

    def features_from(self, scoped: list[list[ScopedHit]]) -> np.ndarray:
        """``transform`` for hits already found (the tagger needs both the hits and the features)."""
        index = {c: i for i, c in enumerate(self.codebook.ids)}
        k = len(index)
        x = np.zeros((len(scoped), 2 * k), dtype=np.float32)
        for row, hits in enumerate(scoped):
            for h in hits:
                x[row, index[h.hit.code] + (0 if h.context == AFFIRMED else k)] += 1
        return np.log1p(x)


def _lower_lemmas(doc, surface: bool = False):
    """A token-aligned copy of ``doc`` whose lemmas are lower-cased (or, with ``surface``, are the
    lower-cased words themselves), so that matching ignores case."""
    out = Doc(doc.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])
    for t, src in zip(out, doc):
        t.lemma_ = (src.text if surface else (src.lemma_ or src.text)).lower()
    return out


def _inside_another(start: int, end: int, code: str, kept: dict) -> bool:
    """Whether tokens ``start:end`` lie within a longer hit of another code."""
    return any(s <= start and end <= e and e - s > end - start
               for other, spans in kept.items() if other != code for _, s, e in spans)


def _longest(spans):
    """Keep the longest non-overlapping matches of one code."""
    spans = sorted(spans, key=lambda s: (-(s[2] - s[1]), s[1]))
    taken: set[int] = set()
    out = []
    for key, start, end in spans:
        if taken.isdisjoint(range(start, end)):
            taken.update(range(start, end))
            out.append((key, start, end))
    return sorted(out, key=lambda s: s[1])
