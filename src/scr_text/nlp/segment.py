"""Segmentation: a document's paragraphs become passages with exact character offsets,
each carrying its spaCy analysis (sentences, tokens, lemmas, entities)."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from functools import lru_cache
from itertools import accumulate
from typing import Iterable

from scr_text.config import SegmentSettings, Settings
from scr_text.errors import UserError
from scr_text.records import BYTE_ORDER_MARK, Document, Passage

# A paragraph break is a line that holds nothing but whitespace.
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")
_CLOSES_SENTENCE = re.compile(r"[.!?]['\"’”)]?\s*$")


def paragraph_spans(text: str, wrap_width: int = 120) -> list[tuple[int, int]]:
    """(start, end) of each paragraph, trimmed of surrounding whitespace.

    Paragraphs are separated by blank lines. Inside a block, single line breaks are hard wrapping
    while every line is at most ``wrap_width`` characters; a longer line means the block holds one
    paragraph per line, as Word's plain-text export and many other tools write them. A hard-wrapped
    block whose paragraphs are marked by indenting their first line, not by blank lines, is cut before
    each indented line (``_first_line_starts``)."""
    spans = []
    pos = 1 if text.startswith(BYTE_ORDER_MARK) else 0  # a text file's BOM opens the text but is no part of it
    for brk in _PARAGRAPH_BREAK.finditer(text):
        spans.append((pos, brk.start()))
        pos = brk.end()
    spans.append((pos, len(text)))
    out = []
    for start, end in spans:
        lines = text[start:end].split("\n")
        if len(lines) > 1 and max(len(line) for line in lines) > wrap_width:
            firsts = range(len(lines))  # one paragraph per line
        else:
            firsts = _first_line_starts(lines)
        offsets = list(accumulate((len(line) + 1 for line in lines), initial=start))  # where each line starts
        bounds = [*firsts, len(lines)]
        for i, j in zip(bounds, bounds[1:]):
            a, b = offsets[i], offsets[j] - 1
            piece = text[a:b]
            stripped = piece.strip()
            if stripped:
                lead = len(piece) - len(piece.lstrip())
                out.append((a + lead, a + lead + len(stripped)))
    return out


def _first_line_starts(lines: list[str]) -> list[int]:
    """Indices of the lines that open a paragraph in a hard-wrapped block: the first line, and each line
    indented further than the block's least-indented text where at least two lines are (paragraphs told
    apart by first-line indents alone). One indented line is as likely a quotation or a list item; and a line
    indented by another depth than most such lines (a quotation set in further) goes on the paragraph it sits
    in, unless the line before it closes a sentence (a paragraph indented with a tab among ones indented with
    spaces)."""
    indents = [len(line) - len(line.lstrip(" \t")) for line in lines]
    texted = [k for k, line in enumerate(lines) if line.strip()]
    if not texted:
        return [0]
    base = min(indents[k] for k in texted)
    indented = [k for k in texted if indents[k] > base]
    if len(indented) < 2:
        return [0]
    first_line = Counter(indents[k] for k in indented).most_common(1)[0][0]
    return sorted({0, *(k for k in indented if indents[k] == first_line or _CLOSES_SENTENCE.search(lines[k - 1]))})


@lru_cache(maxsize=4)
def load_pipeline(model: str, disable: tuple[str, ...], enable: tuple[str, ...]):
    """The spaCy pipeline with only the components the pipeline needs switched on."""
    import spacy
    from thinc.api import use_ops

    from scr_text.nlp import attribute_map  # imports spaCy: only when a pipeline is loaded

    try:
        # The models' matrix products go to numpy's multi-threaded OpenBLAS rather than thinc's default
        # single-threaded BLIS: the same annotations (tests/test_segment.py), 2.6 times faster tok2vec here.
        with use_ops("numpy", use_blis=False):
            nlp = spacy.load(model)
    except OSError as exc:
        raise UserError(f"spaCy pipeline '{model}' is not installed or not found (see configs/pipeline.yaml)") from exc
    for name in disable:
        if name in nlp.pipe_names:
            nlp.disable_pipe(name)
    for name in enable:
        if name in nlp.disabled:
            nlp.enable_pipe(name)
    attribute_map.install(nlp)  # same annotations, a third less time (see attribute_map.py)
    if not ({"parser", "senter", "sentencizer"} & set(nlp.pipe_names)):
        nlp.add_pipe("sentencizer")  # sentence boundaries are needed to split long paragraphs
    nlp.max_length = max(nlp.max_length, 2_000_000)
    return nlp


class Segmenter:
    """Documents -> passages. ``transform`` is the one entry point; it keeps the spaCy Doc of
    each passage on ``Passage.analysis`` so that later stages never parse the text again."""

    def __init__(self, settings: SegmentSettings, max_passages: int | None = None):
        self.settings = settings
        self.max_passages = max_passages
        self.nlp = load_pipeline(settings.model, tuple(settings.disable), tuple(settings.enable))

    @classmethod
    def from_settings(cls, settings: Settings, disable: list[str] | None = None) -> Segmenter:
        """The segmenter the settings describe (``segment``, ``limits``); ``disable`` overrides the
        components switched off (``tag`` on files needs less of spaCy than stored analyses keep)."""
        segment = settings.segment if disable is None else replace(settings.segment, disable=list(disable))
        return cls(segment, settings.limits.max_passages_per_document)

    @property
    def model_id(self) -> str:
        meta = self.nlp.meta
        return f"{meta.get('lang')}_{meta.get('name')}-{meta.get('version')}"

    def _blocks(self, document: Document) -> list[tuple[int, int]]:
        """Paragraph spans, with any paragraph too long to parse in one go cut at whitespace."""
        hard = max(self.settings.max_passage_chars * 20, 20_000)
        blocks = []
        for start, end in paragraph_spans(document.text, self.settings.wrap_width):
            while end - start > hard:
                cut = document.text.rfind(" ", start + hard // 2, start + hard)
                cut = cut if cut > start else start + hard
                blocks.append((start, cut))
                start = cut
                while start < end and document.text[start].isspace():
                    start += 1
            if start < end:
                blocks.append((start, end))
        return blocks

    def transform(self, documents: Iterable[Document]) -> list[list[Passage]]:
        """One list of passages per document, in order."""
        documents = list(documents)
        blocks = [(doc, span) for doc in documents for span in self._blocks(doc)]
        texts = (doc.text[s:e] for doc, (s, e) in blocks)
        passages: dict[str, list[Passage]] = {d.doc_id: [] for d in documents}
        for (document, (start, _end)), parsed in zip(
            blocks, self.nlp.pipe(texts, batch_size=self.settings.batch_size)
        ):
            out = passages[document.doc_id]
            for a, b, analysis in self._split(parsed):
                out.append(
                    Passage(document.doc_id, len(out), start + a, start + b, parsed.text[a:b], analysis)
                )
            if self.max_passages and len(out) > self.max_passages:
                raise UserError(
                    f"{document.source_path}: more than {self.max_passages} passages (limit max_passages_per_document)"
                )
        return [passages[d.doc_id] for d in documents]

    def _split(self, parsed):
        """Yield (start, end, Doc) pieces of a paragraph no longer than the limit where the
        sentences allow; a single over-long sentence stays whole."""
        limit = self.settings.max_passage_chars
        if len(parsed.text) <= limit:
            yield 0, len(parsed.text), parsed
            return
        chunk = None
        for sent in parsed.sents:
            if chunk is not None and sent.end_char - chunk[0] > limit:
                yield self._piece(parsed, *chunk)
                chunk = None
            chunk = (sent.start_char if chunk is None else chunk[0], sent.end_char)
        if chunk is not None:
            yield self._piece(parsed, *chunk)

    @staticmethod
    def _piece(parsed, a: int, b: int):
        text = parsed.text[a:b]
        lead = len(text) - len(text.lstrip())
        a, b = a + lead, a + lead + len(text.strip())
        span = parsed.char_span(a, b, alignment_mode="expand")
        return a, b, span.as_doc()


def to_bytes(passages: list[Passage], nlp) -> bytes:
    """Serialise the passages' analyses (DocBin) for the store."""
    from spacy.tokens import DocBin

    attrs = ["ORTH", "LEMMA", "POS", "TAG", "MORPH", "ENT_IOB", "ENT_TYPE", "SPACY"]
    attrs += ["HEAD", "DEP"] if "parser" in nlp.pipe_names else ["SENT_START"]
    bin_ = DocBin(attrs=attrs, store_user_data=False)
    for p in passages:
        bin_.add(p.analysis)
    return bin_.to_bytes()


def from_bytes(data: bytes, passages: list[Passage], nlp) -> None:
    """Restore the analyses saved by ``to_bytes`` onto the passages, in order."""
    from spacy.tokens import DocBin

    docs = list(DocBin().from_bytes(data).get_docs(nlp.vocab))
    if len(docs) != len(passages):
        raise ValueError("stored analysis does not match the passages")
    for p, d in zip(passages, docs):
        p.analysis = d
