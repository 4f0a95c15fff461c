"""Case facts for files or stored reviews, and the prevalence outputs (CSV, HTML) built from them."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from scr_text.codebook import Codebook
from scr_text.config import load_fact_config
from scr_text.errors import UserError
from scr_text.facts.prevalence import compare, cooccurrence, prevalence
from scr_text.hashing import file_sha256
from scr_text.ingest import read_documents
from scr_text.locations import config_file
from scr_text.modeldir import model_key, resolve_model_dir
from scr_text.records import TagTable
from scr_text.tagging.apply import as_table
from scr_text.tagging.components import Components


def facts_key(model_name: str, codebook: Codebook, facts_path: Path | None = None) -> str:
    cfg_hash = file_sha256(facts_path or config_file("facts.yaml"))[:12]
    return f"{model_key(resolve_model_dir(model_name), codebook.hash)}/facts@{cfg_hash}"


def has_fact_model(model_name: str) -> bool:
    """Whether the model learnt case facts (it did not where its corpus had no cases.csv rows)."""
    return (resolve_model_dir(model_name) / "facts.skops").is_file()


def load_extractor(model_name: str, codebook: Codebook, nlp):
    from scr_text.facts.extract import FactExtractor, load_fact_models

    path = resolve_model_dir(model_name) / "facts.skops"
    if not path.is_file():
        raise UserError(f"model '{model_name}' has no case-facts model "
                        "(train it on a corpus whose cases.csv has rows for at least two of its reviews)")
    return load_fact_models(FactExtractor(load_fact_config(), codebook, nlp), path)


def facts_for_stored(parts: Components, doc_ids: list[str], tags: TagTable) -> list[tuple[dict, dict]]:
    """(fact row, evidence) per review, from the store's cache where the same model and settings made them."""
    store, codebook = parts.store, parts.codebook
    key = facts_key(parts.model, codebook)
    cached = store.get_facts(key, doc_ids)
    todo = [d for d in doc_ids if d not in cached]
    if todo:
        from scr_text.facts.extract import Review

        extractor = load_extractor(parts.model, codebook, parts.segmenter.nlp)
        reviews = []
        for d in todo:
            of_review = tags.of(d)
            reviews.append(Review(d, parts.stored_passages([d]), of_review.scores, of_review.decided))
        items = [(f.doc_id, f.row(), evidence_of(f)) for f in extractor.predict(reviews)]
        store.put_facts(key, items)
        cached.update({d: (row, ev) for d, row, ev in items})
    corrections = store.latest_fact_corrections(doc_ids)  # the analysts' word over the model's
    return [with_corrections(*cached[d], corrections.get(d, {})) for d in doc_ids]


def with_corrections(row: dict, evidence: dict, corrections: dict[str, tuple[str, str]]) -> tuple[dict, dict]:
    """An analyst's correction replaces the model's value in the row that tables and exports use; the model's
    value and confidence stay in the evidence, with who corrected it. ``corrected_by`` lists the facts set by hand."""
    if not corrections:
        return row, evidence
    row, evidence = dict(row), {k: dict(v) if isinstance(v, dict) else v for k, v in evidence.items()}
    for fact, (value, coder) in sorted(corrections.items()):
        if fact in row:
            evidence.setdefault(fact, {}).update({"model_value": row[fact], "corrected_by": coder})
            row[fact] = value
            if f"{fact}_confidence" in row:  # a confidence is the model's, and this value is not
                row[f"{fact}_confidence"] = None
    row["corrected_by"] = "; ".join(f"{f}: {c}" for f, (_, c) in sorted(corrections.items()) if f in row)
    return row, evidence


def evidence_of(facts) -> dict:
    out = {name: {"value": v.value, "confidence": round(v.confidence, 3), "passages": v.evidence}
           for name, v in facts.facts.items()}
    out["risks_present"] = {"value": facts.risks_present, "passages": facts.risk_evidence}
    return out


def write_facts(items: list[tuple[dict, dict]], out: Path) -> tuple[Path, Path]:
    """FILE.csv with one row per review, and FILE.evidence.jsonl beside it."""
    if out.suffix.lower() != ".csv":
        raise UserError(f"{out}: use a .csv file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame([row for row, _ in items])
    tmp = out.with_name(out.name + ".part")
    frame.to_csv(tmp, index=False)
    tmp.replace(out)
    evidence_path = out.with_suffix(".evidence.jsonl")
    with open(evidence_path, "w", encoding="utf-8") as fh:
        for row, ev in items:
            fh.write(json.dumps({"doc_id": row["doc_id"], "facts": ev}, ensure_ascii=False) + "\n")
    return out, evidence_path


def facts_for_files(inputs, out: Path, parts: Components) -> tuple[int, list[str]]:
    """Tag and extract case facts for files (not stored). Returns (reviews, failed lines)."""
    from scr_text.facts.extract import Review

    documents, failed = read_documents(inputs, parts.settings)
    segmenter, tagger = parts.segmenter, parts.tagger
    extractor = load_extractor(parts.model, parts.codebook, segmenter.nlp)
    items = []
    for document in documents:
        (passages,) = segmenter.transform([document])
        tags = as_table(tagger.tag(passages, parts.embed(passages)), parts.codebook.ids)
        (facts,) = extractor.predict([Review(document.doc_id, passages, tags.scores, tags.decided)])
        items.append((facts.row(), evidence_of(facts)))
    write_facts(items, out)
    return len(items), failed


def write_prevalence(rows: list[dict], codebook: Codebook, out_dir: Path, gold_rows: list[dict] | None = None) -> dict[str, Path]:
    """prevalence.csv, cooccurrence.csv and prevalence.html (table, bar chart, gold and published comparison)."""
    from scr_text.report.render import render_template, write_html

    out_dir.mkdir(parents=True, exist_ok=True)
    risk_codes = codebook.family_codes("risk_factor")
    cfg = load_fact_config()
    published = cfg.get("published", {})
    da_code = cfg.get("domestic_abuse_code", "domestic_abuse")
    table = compare(prevalence(rows, risk_codes, da_code), prevalence(gold_rows, risk_codes, da_code) if gold_rows else None,
                    published.get("figures", {}))
    co = cooccurrence(rows, risk_codes)
    paths = {"prevalence": out_dir / "prevalence.csv", "cooccurrence": out_dir / "cooccurrence.csv",
             "prevalence_html": out_dir / "prevalence.html"}
    table.to_csv(paths["prevalence"], index=False)
    co.to_csv(paths["cooccurrence"])
    html = render_template("prevalence.html.j2", table=table.to_dict("records"), co=co, n=len(rows),
                           has_gold=gold_rows is not None, source=published.get("source", ""),
                           max_error=table["abs_error_pp"].max() if "abs_error_pp" in table else None)
    write_html(html, paths["prevalence_html"])
    return paths
