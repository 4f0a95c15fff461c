"""Agreement tables, disagreement lists and the REFI-QDA export, as the CLI and the web app show them."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from scr_text.codebook import Codebook
from scr_text.coding.agree import agreement, build_units
from scr_text.coding.agree import disagreements as differing
from scr_text.coding.coders import MODEL_CODER, export_sources, gather
from scr_text.config import Settings
from scr_text.errors import UserError
from scr_text.store.database import Store

UNIVERSES = ("all passages", "passages coded by at least one coder")


def agreement_tables(store: Store, coders: list[str] | None, include_model: bool, model_key: str | None,
                     codebook: Codebook, settings: Settings) -> tuple[list[tuple[str, list[dict]]], list[str]]:
    """Rows per universe: over every rated passage, and over those that at least one coder coded
    (long uncoded stretches inflate agreement; both are shown). Each pair counts the passages both rated."""
    cfg = settings.agreement
    codings = gather(store, coders, include_model, model_key)
    units = build_units(codings, codebook.ids)
    if not any((units.rated[a] & units.rated[b]).any() for i, a in enumerate(units.coders) for b in units.coders[i + 1:]):
        raise UserError("no two coders have rated the same passage yet")
    tables = []
    for universe, subset in zip(UNIVERSES, (units, units.subset(units.coded_by_any()))):
        rows = agreement(subset, cfg.bootstrap, cfg.seed)
        for r in rows:
            r["universe"] = universe
        tables.append((universe, rows))
    return tables, list(codings)


def _f(v, pattern="{:.3f}") -> str:
    return "n/a" if v is None or v != v else pattern.format(v)


def format_agreement(tables) -> str:
    lines = []
    for universe, rows in tables:
        lines.append(f"{universe}:")
        lines.append(f"{'code':<24}{'coder A':<12}{'coder B':<12}{'n':>6}{'% agr':>8}{'kappa':>8}{'AC1':>8}{'alpha':>8}")
        for r in rows:
            lines.append(f"{r['code']:<24}{r['coder_a'][:11]:<12}{r['coder_b'][:11]:<12}{r['n_passages']:>6}"
                         f"{_f(r['percent_agreement'], '{:.1f}'):>8}{_f(r['cohen_kappa']):>8}{_f(r['gwet_ac1']):>8}"
                         f"{_f(r['krippendorff_alpha']):>8}")
        lines.append("")
    return "\n".join(lines).rstrip()


COLUMNS = ["universe", "code", "coder_a", "coder_b", "n_passages", "percent_agreement", "cohen_kappa", "gwet_ac1",
           "krippendorff_alpha", "percent_agreement_ci_low", "percent_agreement_ci_high", "cohen_kappa_ci_low",
           "cohen_kappa_ci_high", "gwet_ac1_ci_low", "gwet_ac1_ci_high", "krippendorff_alpha_ci_low",
           "krippendorff_alpha_ci_high"]


def write_agreement_csv(tables, out: Path) -> Path:
    frame = pd.DataFrame([r for _, rows in tables for r in rows])[COLUMNS]
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.round(4).to_csv(out, index=False)
    return out


def write_agreement_html(tables, coders: list[str], settings: Settings, out: Path) -> Path:
    from scr_text.report.render import render_template, write_html

    min_kappa = settings.agreement.min_kappa
    shown = []
    for universe, rows in tables:
        view = []
        for r in rows:
            fmt = {k: f"{_f(r[k])} [{_f(r[k + '_ci_low'])}, {_f(r[k + '_ci_high'])}]"
                   for k in ("cohen_kappa", "gwet_ac1", "krippendorff_alpha")}
            fmt["percent_agreement"] = (f"{_f(r['percent_agreement'], '{:.1f}')} [{_f(r['percent_agreement_ci_low'], '{:.1f}')}, "
                                        f"{_f(r['percent_agreement_ci_high'], '{:.1f}')}]")
            k = r["cohen_kappa"]
            view.append({**r, "fmt": fmt, "low": k == k and k < min_kappa})
        shown.append((universe, view))
    return write_html(render_template("agreement.html.j2", tables=shown, coders=coders, min_kappa=min_kappa), out)


def _codings_for(store: Store, name: str, model_key: str | None) -> dict:
    if name == MODEL_CODER:
        if model_key is None:
            raise UserError("no trained model to compare with")
        return store.model_codings(model_key)
    if name not in store.coders():
        raise UserError(f"no coding in the store for '{name}' (known coders: {', '.join(store.coders()) or 'none'})")
    return store.codings(name)


def disagreement_items(store: Store, a: str, b: str, code: str, sort: str, model_key: str | None,
                       doc: str | None = None) -> tuple[list[dict], dict | None]:
    codings = {a: _codings_for(store, a, model_key), b: _codings_for(store, b, model_key)}
    units = build_units(codings, [code])
    keys = differing(units, a, b, code)
    scores = store.tag_scores(model_key, code) if model_key else {}
    texts = {}
    items = []
    for doc_id, passage in keys:
        if doc_id not in texts:
            texts[doc_id] = {p.index: p for p in store.passages(doc_id)}
        p = texts[doc_id][passage]
        score, evidence = scores.get((doc_id, passage), (None, "[]"))
        items.append({"doc_id": doc_id, "passage": passage, "start": p.start, "end": p.end, "text": p.text,
                      "codes_a": codings[a].get((doc_id, passage), []), "codes_b": codings[b].get((doc_id, passage), []),
                      "model_score": score, "evidence": json.loads(evidence)})
    if sort == "score":
        items.sort(key=lambda it: -(it["model_score"] if it["model_score"] is not None else -1))
    side = _side_by_side(store, codings, doc or (max({it["doc_id"] for it in items},
                                                     key=lambda d: sum(it["doc_id"] == d for it in items)) if items else None), code)
    return items, side


def _side_by_side(store: Store, codings: dict, doc_id: str | None, code: str) -> dict | None:
    if doc_id is None:
        return None
    rows = []
    for p in store.passages(doc_id):
        codes = [codings[c].get((doc_id, p.index), []) for c in codings]
        rows.append({"passage": p.index, "text": p.text, "codes": codes,
                     "differs": len({code in cs for cs in codes}) > 1})
    return {"doc_id": doc_id, "coders": list(codings), "rows": rows}


def write_disagreements(items, side, a: str, b: str, code: str, sort: str, out: Path) -> Path:
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".json":
        out.write_text(json.dumps(items, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    elif suffix == ".csv":
        pd.DataFrame([{**it, "codes_a": ";".join(it["codes_a"]), "codes_b": ";".join(it["codes_b"]),
                       "evidence": json.dumps(it["evidence"])} for it in items]).to_csv(out, index=False)
    elif suffix == ".html":
        from scr_text.report.render import highlight, render_template, write_html

        shown = [{**it, "html": highlight(it["text"], [(e["start"], e["end"]) for e in it["evidence"] if e["type"] == "rule"],
                                          it["start"])} for it in items]
        write_html(render_template("disagreements.html.j2", items=shown, side=side, a=a, b=b, code=code, sort=sort), out)
    else:
        raise UserError(f"{out}: use .csv, .json or .html")
    return out


def export_project(store: Store, corpus: Path | None, out: Path, coders: list[str] | None, codebook: Codebook,
                   model_key: str | None) -> tuple[int, int]:
    from scr_text.coding.qdpx_export import write_qdpx

    doc_ids = store.doc_ids()
    if corpus is not None:
        from scr_text.corpus import corpus_inputs
        from scr_text.ingest import expand_inputs

        wanted = {p.stem for p in expand_inputs([corpus_inputs(corpus)])}
        doc_ids = [d for d in doc_ids if d in wanted]
    if not doc_ids:
        raise UserError("no reviews to export (ingest or run them first)")
    names = coders or (store.coders() + ([MODEL_CODER] if model_key and store.model_codings(model_key) else []))
    codings = {n: _codings_for(store, n, model_key) for n in names}
    sources = export_sources(store, doc_ids, codings)
    if out.suffix.lower() != ".qdpx":
        raise UserError(f"{out}: use a .qdpx file name")
    write_qdpx(out, "scr-text export", codebook, sources, list(codings))
    return len(doc_ids), len(codings)
