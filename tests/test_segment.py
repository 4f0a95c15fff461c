"""Segmentation on the real spaCy pipeline: paragraphs, offsets, sentence splitting, stored analyses."""
from __future__ import annotations

import textwrap
from collections import defaultdict

from scr_text import ingest
from scr_text.config import SegmentSettings
from scr_text.nlp.segment import Segmenter, from_bytes, paragraph_spans, to_bytes
from scr_text.records import Document


def test_every_shipped_passage_round_trips_and_matches_the_gold_paragraphs(settings, segmenter, corpus_dir, gold_passages):
    gold = defaultdict(list)
    for row in gold_passages:
        gold[row["doc_id"]].append((row["start"], row["end"]))
    files = sorted((corpus_dir / "texts").glob("*.txt"))
    documents = [ingest.read(f, settings) for f in files]
    assert len(documents) == 66
    for document, passages in zip(documents, segmenter.transform(documents)):
        assert [(p.start, p.end) for p in passages] == gold[document.doc_id]
        for i, p in enumerate(passages):
            assert p.index == i
            assert document.text[p.start:p.end] == p.text
            assert p.analysis.text == p.text


def test_paragraph_spans_trim_whitespace_and_skip_blank_blocks():
    text = "  First para.\n \n\n\tSecond\nstill second.  \n\n\n   \n"
    assert [text[a:b] for a, b in paragraph_spans(text)] == ["First para.", "Second\nstill second."]


def test_one_paragraph_per_line_is_read_as_paragraphs_and_hard_wrapping_is_not():
    wrapped = "The health visitor saw Child A at home and noted\nthat the flat was cold and the cot was bare."
    text = "3. Background\nMother moved to the area in 2019 with Child A. " + "She told the GP she felt low. " * 4 + "\n" + wrapped
    assert [text[a:b] for a, b in paragraph_spans(text)] == [
        "3. Background", text.split("\n")[1].strip(), *wrapped.split("\n")]
    # Every line at most the wrap width: one paragraph, wrapped.
    assert [wrapped[a:b] for a, b in paragraph_spans(wrapped)] == [wrapped]
    assert len(paragraph_spans(text, wrap_width=1000)) == 1


def test_a_review_saved_one_paragraph_per_line_gives_the_same_passages(tmp_path, settings, segmenter, corpus_dir):
    # As Word's "plain text" export writes it: one line per paragraph, no blank lines, CRLF.
    source = (corpus_dir / "texts" / "d05.txt").read_text(encoding="utf-8")
    f = tmp_path / "d05.txt"
    f.write_bytes(source.replace("\n\n", "\r\n").encode("utf-8"))
    document = ingest.read(f, settings)
    (passages,) = segmenter.transform([document])
    (reference,) = segmenter.transform([ingest.read(corpus_dir / "texts" / "d05.txt", settings)])
    assert [p.text for p in passages] == [p.text for p in reference]
    assert all(f.read_text(encoding="utf-8")[p.start:p.end] == p.text for p in passages)


def test_a_review_with_first_line_indents_and_no_blank_lines_gives_the_same_passages(tmp_path, settings, segmenter,
                                                                                        corpus_dir):
    # A typewriter-style text file: hard-wrapped at 72 columns, each paragraph's first line indented, no
    # blank lines; before, the whole review was one block, cut only at the passage length limit.
    source = (corpus_dir / "texts" / "d02.txt").read_text(encoding="utf-8")
    f = tmp_path / "d02.txt"
    f.write_text("\n".join("    " + textwrap.fill(p, 72) for p in source.split("\n\n")), encoding="utf-8")
    (passages,) = segmenter.transform([ingest.read(f, settings)])
    (reference,) = segmenter.transform([ingest.read(corpus_dir / "texts" / "d02.txt", settings)])
    assert [" ".join(p.text.split()) for p in passages] == [p.text for p in reference]
    assert all(f.read_text(encoding="utf-8")[p.start:p.end] == p.text for p in passages)


def test_an_indented_quotation_or_an_indented_block_is_not_cut():
    quoted = "The nurse wrote:\n    'Baby settled, feeding well.'\nNo one asked who had been at home."
    assert [quoted[a:b] for a, b in paragraph_spans(quoted)] == [quoted]
    indented = "  Mother told the\n  social worker that\n  Mr X had left."
    assert [indented[a:b] for a, b in paragraph_spans(indented)] == [indented.strip()]
    two = "  Mother told the social worker\nthat Mr X had left.\n  The school was not told\nof the change."
    assert [two[a:b] for a, b in paragraph_spans(two)] == ["Mother told the social worker\nthat Mr X had left.",
                                                           "The school was not told\nof the change."]
    # Paragraphs marked by first-line indents, one of them quoting a note set in further over two lines: the
    # quotation stays in its paragraph.
    quoting = ("  The nurse wrote in the\nrecord:\n      'Baby settled, feeding\n      well, mother tired.'\n"
               "No one asked who was at home.\n  The school was not told\nof the change.")
    assert [quoting[a:b] for a, b in paragraph_spans(quoting)] == [
        "The nurse wrote in the\nrecord:\n      'Baby settled, feeding\n      well, mother tired.'\n"
        "No one asked who was at home.", "The school was not told\nof the change."]
    mixed = "    Mother told the social worker\nthat Mr X had left.\n\tThe school was not told\nof the change."
    assert [mixed[a:b] for a, b in paragraph_spans(mixed)] == ["Mother told the social worker\nthat Mr X had left.",
                                                               "The school was not told\nof the change."]


def test_long_paragraph_is_split_at_sentence_boundaries():
    sentence = "The social worker visited the family and recorded what Child A said about home. "
    text = "Heading\n\n" + sentence * 12
    seg = Segmenter(SegmentSettings(max_passage_chars=300))
    document = Document("long", "long.txt", "txt", "x", text)
    (passages,) = seg.transform([document])
    assert passages[0].text == "Heading"
    pieces = passages[1:]
    assert len(pieces) > 1
    for p in pieces:
        assert len(p.text) <= 300
        assert p.text.startswith("The social worker") and p.text.endswith("home.")
        assert text[p.start:p.end] == p.text
    assert " ".join(p.text for p in pieces) == text[9:].strip()


def test_analysis_has_lemmas_sentences_entities_and_survives_the_store(segmenter):
    text = "Mother was seen by the health visitor in London on 3 May. The children were not brought to appointments."
    (passages,) = segmenter.transform([Document("a", "a.txt", "txt", "x", text)])
    doc = passages[0].analysis
    assert [t.lemma_ for t in doc if t.text == "were"] == ["be"]
    assert len(list(doc.sents)) == 2
    assert "GPE" in {e.label_ for e in doc.ents}
    data = to_bytes(passages, segmenter.nlp)
    copies = [type(p)(p.doc_id, p.index, p.start, p.end, p.text) for p in passages]
    from_bytes(data, copies, segmenter.nlp)
    restored = copies[0].analysis
    assert [t.lemma_ for t in restored] == [t.lemma_ for t in doc]
    assert [s.text for s in restored.sents] == [s.text for s in doc.sents]
    assert [(e.text, e.label_) for e in restored.ents] == [(e.text, e.label_) for e in doc.ents]


def test_faster_pipeline_annotates_every_corpus_token_as_stock_spacy_does(settings, corpus_dir):
    """load_pipeline speeds spaCy up (numpy's BLAS for the models, attribute_map.py for most of the
    attribute ruler); on the whole shipped corpus every token must get the very same tag, POS,
    morphology, lemma, sentence start and entity as in the stock pipeline."""
    import spacy

    from scr_text.nlp.segment import load_pipeline

    cfg = settings.segment
    paragraphs = [b for p in sorted((corpus_dir / "texts").glob("*.txt"))
                  for b in p.read_text(encoding="utf-8").split("\n\n") if b.strip()]
    paragraphs.append("I ain't gonna say it wasn't him: y'all know there's nothin' in 'em, and she'd've gone.")
    stock = spacy.load(cfg.model, disable=list(cfg.disable))
    for name in cfg.enable:
        stock.enable_pipe(name)
    fast = load_pipeline(cfg.model, tuple(cfg.disable), tuple(cfg.enable))
    assert "scr_text_attribute_map" in fast.pipe_names and "ner" in fast.pipe_names
    assert len(fast.get_pipe("attribute_ruler").patterns) < len(stock.get_pipe("attribute_ruler").patterns) / 4

    def annotations(doc):
        return [(t.tag_, t.pos_, str(t.morph), t.lemma_, t.is_sent_start, t.ent_iob_, t.ent_type_) for t in doc]

    tokens = 0
    for a, b in zip(stock.pipe(paragraphs), fast.pipe(paragraphs)):
        assert annotations(a) == annotations(b), a.text
        tokens += len(a)
    assert tokens > 60000


def test_a_markdown_review_has_the_same_headings_as_its_text_twin(tmp_path, settings, segmenter, corpus_dir):
    import re

    import numpy as np

    from scr_text.tagging.features import Batch, context, is_heading

    text = (corpus_dir / "texts" / "d05.txt").read_text()
    # The same review written in Markdown: each numbered heading ("5. Analysis") marked "## ".
    (tmp_path / "d05.md").write_text(re.sub(r"(?m)^(\d+\. [A-Z][^.\n]*)$", r"## \1", text))
    (tmp_path / "d05.txt").write_text(text)

    def headings(path):
        (passages,) = segmenter.transform([ingest.read(path, settings)])
        n = len(passages)
        batch = Batch(passages, np.zeros((n, 4), dtype=np.float32), np.zeros((n, 2), dtype=np.float32))
        return [is_heading(p.text) for p in passages], context(batch).headings

    flags, names = headings(tmp_path / "d05.md")
    assert sum(flags) == 6 and "analysis" in names
    assert (flags, names) == headings(tmp_path / "d05.txt")
