"""The identifier guard: unredacted personal data in a review (names, dates of birth, NHS and National
Insurance numbers, postcodes, phone numbers, e-mail and street addresses) found with Microsoft Presidio
before anything is stored or exported, and typed placeholders for `redact`.

Presidio runs on the project's own spaCy pipeline and on the analyses the segmenter already made, so the
guard adds no second parse and no model download. Its e-mail recogniser is given tldextract's bundled
public-suffix snapshot, so that it never fetches the list from the network.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from functools import cached_property
from pathlib import Path

from scr_text.config import Settings, load_stage_config
from scr_text.locations import config_file
from scr_text.records import Passage
from scr_text.store.database import Store

# Presidio's entity names -> ours.
_ENTITY_TYPES = {
    "PERSON": "PERSON",
    "UK_NHS": "NHS_NUMBER",
    "UK_POSTCODE": "UK_POSTCODE",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "UK_NINO": "NATIONAL_INSURANCE_NUMBER",
    "DATE_OF_BIRTH": "DATE_OF_BIRTH",
    "STREET_ADDRESS": "STREET_ADDRESS",
}

# Words that may open a PERSON span the NER made without being part of a name.
_OPENERS = {"the", "child", "baby"}
_MONTHS = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
           r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_DATE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS},?\s+\d{{4}}"
    rf"|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2})"
)
# One or two capitalised words (O'Connor, Smith-Jones): the name a naming cue points at.
_NAME_WORD = r"[A-Z][a-z]+(?:['’-][A-Z]?[a-z]+)?"
_NAME = rf"(?-i:{_NAME_WORD}(?:[ \t]+{_NAME_WORD})?)"
# A National Insurance number by shape alone: two letters, six digits in pairs or not, an optional letter.
_NI_SHAPE = r"(?-i:\b[A-Z]{2}[ \t]?\d{2}[ \t]?\d{2}[ \t]?\d{2}(?:[ \t]?[A-Z])?\b)"


@dataclass
class Finding:
    doc_id: str
    start: int
    end: int
    type: str
    text: str
    score: float

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, row: dict) -> "Finding":
        """The finding ``to_json`` wrote; keys it did not write (a context added for display) are ignored."""
        return cls(**{f.name: row[f.name] for f in fields(cls)})


def load_guard_config(path: str | Path | None = None) -> dict:
    return load_stage_config(path or config_file("guard.yaml"), "identifier-guard", "types")


class IdentifierGuard:
    def __init__(self, cfg: dict, nlp):
        self.cfg = cfg
        self.nlp = nlp
        self.min_score = float(cfg.get("min_score", 0.5))
        self.conventions = [re.compile(rf"^(?:{p})$", re.IGNORECASE) for p in cfg.get("redaction_conventions", [])]
        self.not_names = {w.lower() for w in cfg.get("not_names", [])}
        self.given_names = set(cfg.get("given_names", []))
        self.titles = {t.lower() for t in cfg.get("titles", [])}

    @cached_property
    def analyzer(self):
        from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
        from presidio_analyzer.predefined_recognizers import (
            EmailRecognizer,
            NhsRecognizer,
            PhoneRecognizer,
            SpacyRecognizer,
            UkNinoRecognizer,
            UkPostcodeRecognizer,
        )

        engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": "project-pipeline"}])
        engine.nlp = {"en": self.nlp}  # the project's own pipeline, already loaded: nothing else is loaded

        class OfflineEmailRecognizer(EmailRecognizer):
            """Presidio's e-mail recogniser with tldextract's bundled suffix list: no fetch at run time."""

            _extract = None

            def validate_result(self, pattern_text: str):
                import tldextract

                if OfflineEmailRecognizer._extract is None:
                    OfflineEmailRecognizer._extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
                return OfflineEmailRecognizer._extract(pattern_text).fqdn != ""

        dob = self.cfg.get("date_of_birth", {})
        cues = "|".join(re.escape(c) for c in sorted(dob.get("cues", []), key=len, reverse=True))
        window = int(dob.get("window", 25))
        suffixes = "|".join(re.escape(s) for s in self.cfg.get("street_suffixes", []))
        titles = "|".join(re.escape(t) for t in self.cfg.get("titles", []))
        ni_cues = "|".join(re.escape(c).replace(r"\ ", r"\s+") for c in
                           sorted(self.cfg.get("ni_number_cues", []), key=len, reverse=True))
        registry = RecognizerRegistry(supported_languages=["en"])
        for recognizer in (
            SpacyRecognizer(supported_entities=["PERSON"]),
            NhsRecognizer(),
            # Presidio scores bare postcodes and NI numbers low (0.1, 0.5) for want of context; in a
            # review any such string is a slip, so the same patterns count in full.
            UkNinoRecognizer(patterns=[Pattern(p.name, p.regex, 0.75) for p in UkNinoRecognizer.PATTERNS]),
            UkPostcodeRecognizer(patterns=[Pattern(p.name, p.regex, 0.75) for p in UkPostcodeRecognizer.PATTERNS]),
            PhoneRecognizer(supported_regions=tuple(self.cfg.get("phone_regions", ["GB"]))),
            OfflineEmailRecognizer(),
            # The date only, when a birth cue stands just before it (lookbehind cannot vary, so the
            # cue is matched and the span trimmed to the date in `_date_only`).
            PatternRecognizer(supported_entity="DATE_OF_BIRTH", name="DateOfBirth", patterns=[
                Pattern("dob", rf"(?i:\b(?:{cues}))[^\n\d]{{0,{window}}}?{_DATE}", 0.9)]),
            # UK numbers in the usual written forms, including ranges the phonenumbers library rejects.
            PatternRecognizer(supported_entity="PHONE_NUMBER", name="UkPhone", patterns=[
                Pattern("uk phone", r"(?<![\d+])(?:\+44\s?\(?0?\)?\s?|\(?0)(?:\d{2,4}\)?[\s-]?\d{3,4}[\s-]?\d{3,4})(?!\d)", 0.7)]),
            PatternRecognizer(supported_entity="PERSON", name="GivenNames", patterns=[
                Pattern("given name", r"(?-i:\b(?:" + "|".join(re.escape(n) for n in self.cfg.get("given_names", []))
                        + r")\b)", 0.7)]) if self.cfg.get("given_names") else None,
            # Where the NI-number cue stands a few words before, the shape alone is enough: HMRC's example
            # prefix (QQ) and prefixes it never allocates are rejected by Presidio's pattern but are a slip all the same.
            PatternRecognizer(supported_entity="UK_NINO", name="NinoInContext", patterns=[
                Pattern("ni in context", rf"(?<=(?i:\b(?:{ni_cues}))[^\n\d]{{0,20}}){_NI_SHAPE}", 0.85)]) if ni_cues else None,
            *(PatternRecognizer(supported_entity="PERSON", name=f"NameAfter_{kind}", patterns=[
                Pattern(f"name after {kind}", rf"(?<=(?i:{cue})){_NAME}", 0.8)])
              for kind, cue in self.cfg.get("naming_contexts", {}).items()),
            PatternRecognizer(supported_entity="PERSON", name="NameAfterTitle", patterns=[
                Pattern("name after title", rf"(?-i:\b(?:{titles}))\.?\s+{_NAME}", 0.8)]) if titles else None,
            PatternRecognizer(supported_entity="STREET_ADDRESS", name="StreetAddress", patterns=[
                Pattern("address", rf"(?<![\d.])\b(?:(?:Flat|Apartment|Unit)\s+\d+[A-Za-z]?,?\s+)?\d{{1,4}}[A-Za-z]?,?\s+"
                                   rf"(?-i:(?!The\b|A\b|An\b)(?:[A-Z][a-z]+\s+){{1,3}}(?:{suffixes}))\b", 0.75)]),
        ):
            if recognizer is not None:
                registry.add_recognizer(recognizer)
        return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])

    def check_passages(self, passages: list[Passage]) -> list[Finding]:
        """Findings in the passages, with offsets into their document's text."""
        out: list[Finding] = []
        engine = self.analyzer.nlp_engine
        for p in passages:
            doc = p.analysis if p.analysis is not None else self.nlp(p.text)
            artifacts = engine._doc_to_nlp_artifact(doc, "en")
            for r in self.analyzer.analyze(text=p.text, language="en", nlp_artifacts=artifacts,
                                           entities=list(_ENTITY_TYPES), score_threshold=self.min_score):
                kind = _ENTITY_TYPES.get(r.entity_type)
                start, end = r.start, r.end
                if kind == "DATE_OF_BIRTH":
                    start, end = _date_only(p.text, start, end)
                text = p.text[start:end]
                if kind is None or (kind == "PERSON" and self._is_convention(text)):
                    continue
                out.append(Finding(p.doc_id, p.start + start, p.start + end, kind, text, round(float(r.score), 3)))
        return _dedupe(out)

    def _is_convention(self, text: str) -> bool:
        """A redaction convention ("Child D", "Mr X", "the maternal grandmother", "[name redacted]"), or a
        span the NER over-reached with ("Child J. The", "2.2 Mr W"): nothing in it that could be a name.
        After a title ("Mrs Foster") a word is a surname even where it is a role word elsewhere."""
        t = re.sub(r"['’]s$", "", text.strip().strip(".,;:'\"()"))
        if not t or any(c.match(t) for c in self.conventions):
            return True
        if re.match(r"\d+(?:\.\d+)*\.?\s", t):  # a numbered heading ("2.2 Midwifery"), not a person
            return True
        previous = ""
        for word in t.split():
            w = word.strip(".,;:'\"()’").removesuffix("'s").removesuffix("’s")
            titled = previous.strip(".").lower() in self.titles
            after_stop = previous.endswith(".") and not titled and previous.strip(".").lower() not in _OPENERS
            previous = word
            if not w or w.lower() in self.titles or w.lower() in _OPENERS or re.fullmatch(r"[\d.]+|[A-Z]\d?", w):
                continue
            if self._role_word(w) and not titled:
                continue
            if w[0].islower() or w.lower() in self.nlp.Defaults.stop_words:
                continue
            # After a full stop a capital is the sentence's ("Mr Y. Late one evening"): a name there is one the
            # given-names list knows.
            if after_stop and w not in self.given_names:
                continue
            return False
        return True

    def _role_word(self, word: str) -> bool:
        """One of ``not_names``, or its plural ("Guardians")."""
        w = word.lower()
        return w in self.not_names or (w.endswith("s") and w[:-1] in self.not_names)

    def placeholder(self, kind: str) -> str:
        return self.cfg["types"].get(kind, f"[{kind}]")

    def redact(self, text: str, findings: list[Finding]) -> str:
        """``text`` with every finding replaced by its typed placeholder (findings' offsets index ``text``)."""
        out, pos = [], 0
        for f in sorted(findings, key=lambda f: f.start):
            if f.start < pos:
                continue
            out += [text[pos:f.start], self.placeholder(f.type)]
            pos = f.end
        out.append(text[pos:])
        return "".join(out)


def _date_only(text: str, start: int, end: int) -> tuple[int, int]:
    m = re.search(_DATE, text[start:end])
    return (start + m.start(), start + m.end()) if m else (start, end)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """One finding per span: where spans overlap, a pattern-based type beats a name found by the statistical
    NER ("Leeds LS6 2AB" is a postcode, not a person), then the higher score, then the longer span."""
    findings = sorted(findings, key=lambda f: (f.type == "PERSON", -f.score, -(f.end - f.start)))
    kept: list[Finding] = []
    for f in findings:
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: (f.doc_id, f.start))


def summarise(findings: list[Finding]) -> str:
    from collections import Counter

    counts = Counter(f.type for f in findings)
    return ", ".join(f"{k} x{v}" for k, v in sorted(counts.items()))


def settle(findings: list[Finding], dismissals: list[dict]) -> tuple[list[Finding], list[Finding]]:
    """(open, dismissed): a finding is dismissed when the project's allow-list holds its type and text."""
    allowed = {(d["type"], d["text"]) for d in dismissals}
    dismissed = [f for f in findings if (f.type, " ".join(f.text.split())) in allowed]
    return [f for f in findings if f not in dismissed], dismissed


def refusal(findings: list[Finding]) -> str:
    """The one line every command that stores text gives for a document it refused."""
    return (f"has {len(findings)} possible unredacted identifier(s) ({summarise(findings)}); not stored. "
            "See them with `scr-text check`, fix them with `scr-text redact`, dismiss a false alarm with "
            "`scr-text dismiss`, or pass --allow-identifiers")


def ingest_check(settings, store):
    """The check `ingest` and `run` apply before storing a document (see intake.PassageCheck): findings the
    project dismissed (``store``) do not count. The guard is built on first use: a re-run whose files are
    all stored already never loads Presidio."""
    guards: list[IdentifierGuard] = []

    def check(passages: list[Passage]) -> list[str]:
        if not guards:
            guards.append(guard_for(settings))
        findings, _ = settle(guards[0].check_passages(passages), store.dismissals())
        return [refusal(findings)] if findings else []

    return check


def guard_for(settings) -> IdentifierGuard:
    from scr_text.nlp.segment import load_pipeline

    s = settings.segment
    return IdentifierGuard(load_guard_config(), load_pipeline(s.model, tuple(s.disable), tuple(s.enable)))


def intake_check(settings: Settings, allow_identifiers: bool, store: Store):
    """The identifier guard's check for intake (with the store's dismissals), unless the user allowed identifiers."""
    if allow_identifiers:
        return None
    return ingest_check(settings, store)
