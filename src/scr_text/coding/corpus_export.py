"""Coders' work in the store written out as a labelled corpus (the layout `train` reads), so that the
codes analysts accept, reject and add in the web app, or import from other tools, can train the next model.

A review goes out when one of the chosen coders has coded it. Its passages carry that coder's codes;
a passage the coder never touched counts as carrying none, as it does for agreement (the web app records
a review as seen, every passage of it, at the first decision). Its ``cases.csv`` row is written only when
the coder has set every case fact (web app corrections); ``risks_present`` follows from the passage
codes, as in the shipped corpus. A base corpus can be copied in first; where a coder has coded
one of its reviews, the coder's coding replaces the base's for it.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from scr_text.codebook import Codebook
from scr_text.corpus import GoldCorpus, write_gold
from scr_text.errors import UserError
from scr_text.facts.extract import FACT_COLUMNS
from scr_text.store.database import Store

CASE_COLUMNS = ("doc_id",) + FACT_COLUMNS + ("risks_present",)  # what training reads; a base corpus may add more


@dataclass
class ExportReport:
    reviews: list[str] = field(default_factory=list)  # reviews written from coders' coding
    replaced: list[str] = field(default_factory=list)  # ...of which the base corpus also had
    base_reviews: int = 0  # reviews copied from the base corpus unchanged
    with_facts: list[str] = field(default_factory=list)  # coded reviews given a cases.csv row


def coded_reviews(codings: dict[str, dict[tuple[str, int], list[str]]]) -> dict[str, str]:
    """review -> the one coder (of ``codings``: coder -> their codings) who coded it. Two of them on one
    review is an error: which coding should train the model is the user's call, not ours."""
    owner: dict[str, str] = {}
    clashes = []
    for coder, coding in codings.items():
        for doc_id in sorted({d for d, _ in coding}):
            if doc_id in owner and owner[doc_id] != coder:
                clashes.append(f"{doc_id} ({owner[doc_id]}, {coder})")
            owner.setdefault(doc_id, coder)
    if clashes:
        raise UserError("reviews coded by more than one chosen coder: " + "; ".join(clashes) + "; choose one coder for each")
    return owner


def export_corpus(store: Store, coders: list[str], out: Path, codebook: Codebook,
                  base: GoldCorpus | None = None) -> ExportReport:
    """Write ``out/texts/*.txt``, ``out/passages.jsonl`` and ``out/cases.csv``; ``out`` must be new or empty."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out}: exists and is not an empty folder (nothing is overwritten)")
    known = set(store.coders())
    unknown = [c for c in coders if c not in known]
    if unknown:
        raise UserError(f"no coding by {', '.join(unknown)} in {store.path}; coders: {', '.join(sorted(known)) or 'none'}")
    codings = {c: store.codings(c) for c in dict.fromkeys(coders)}
    owner = coded_reviews(codings)
    missing = [d for d in (base.doc_ids if base else []) if d not in owner and not (base.texts / f"{d}.txt").is_file()]
    if missing:
        raise UserError(f"{base.root}: gold rows for reviews with no text in texts/: {', '.join(missing)}")
    report = ExportReport(reviews=sorted(owner))
    rows: list[dict] = []
    cases: list[dict] = []
    (out / "texts").mkdir(parents=True, exist_ok=True)
    if base is not None:
        report.replaced = sorted(set(owner) & set(base.doc_ids))
        kept = set(base.doc_ids) - set(owner)
        report.base_reviews = len(kept)
        for doc_id in sorted(kept):
            shutil.copyfile(base.texts / f"{doc_id}.txt", out / "texts" / f"{doc_id}.txt")
        rows += [r for r in base.passages if r["doc_id"] in kept]
        cases += [c for c in base.cases if c["doc_id"] in kept]
    order = {c: j for j, c in enumerate(codebook.ids)}
    risk_codes = set(codebook.family_codes("risk_factor"))
    for doc_id, coder in sorted(owner.items()):
        # The stored extracted text: passage offsets index it, and `train` reads it back as the same text.
        (out / "texts" / f"{doc_id}.txt").write_text(store.document(doc_id).text, encoding="utf-8", newline="\n")
        present: set[str] = set()
        for p in store.passages(doc_id):
            codes = sorted(codings[coder].get((doc_id, p.index), []), key=lambda c: order.get(c, len(order)))
            present.update(codes)
            rows.append({"doc_id": doc_id, "para": p.index, "start": p.start, "end": p.end, "codes": codes})
        facts = store.fact_corrections(coder, doc_id)
        if all(facts.get(f) for f in FACT_COLUMNS):
            report.with_facts.append(doc_id)
            cases.append({"doc_id": doc_id, **{f: facts[f] for f in FACT_COLUMNS},
                          "risks_present": ";".join(c for c in codebook.ids if c in present & risk_codes)})
    write_gold(out, rows, cases, list(CASE_COLUMNS))
    return report
