"""What the web app's pages show, built from the store with the library's own functions."""
from __future__ import annotations

import io
import json
import re
import tempfile
from pathlib import Path

from scr_text.codebook import Codebook
from scr_text.config import Settings
from scr_text.errors import UserError
from scr_text.report.render import highlight
from scr_text.store.database import Store
from scr_text.tagging.components import Components


def review_context(store: Store, doc_id: str, model_key: str, codebook: Codebook, settings: Settings,
                   model_name: str) -> dict:
    from scr_text.facts.extract import FACT_COLUMNS
    from scr_text.facts.sheet import facts_key

    rows = store.tag_rows(model_key, doc_id, codebook.ids)
    passages = []
    for r in rows:
        spans = [(e["start"], e["end"]) for items in r["evidence"].values() for e in items if e["type"] == "rule"]
        suggestions = []
        for code in r["codes"]:
            items = r["evidence"][code]
            suggestions.append({
                "code": code, "label": codebook.code(code).label, "definition": codebook.code(code).definition,
                "score": r["scores"][code],
                "rules": [e["text"] for e in items if e["type"] == "rule"],
                "exemplars": [e for e in items if e["type"] == "exemplar"],
                "review": next((e["probability"] for e in items if e["type"] == "review"), None),
            })
        passages.append({"index": r["passage"], "start": r["start"], "end": r["end"], "html": highlight(r["text"], spans, r["start"]),
                         "suggestions": suggestions, "scores": r["scores"]})
    cached = store.get_facts(facts_key(model_name, codebook), [doc_id]).get(doc_id)
    facts = []
    if cached:
        row, evidence = cached
        values = _fact_values()
        for name in FACT_COLUMNS:
            ev = evidence.get(name, {})
            facts.append({"name": name, "value": row[name], "confidence": ev.get("confidence"),
                          "passages": [p["passage"] for p in ev.get("passages", [])], "options": values.get(name, [])})
        facts.append({"name": "risks_present", "value": row["risks_present"], "confidence": None,
                      "passages": sorted({p["passage"] for ps in evidence.get("risks_present", {}).get("passages", {}).values()
                                          for p in ps}), "options": []})
    return {"doc_id": doc_id, "passages": passages, "facts": facts, "tagged": bool(rows),
            "similar": [{"doc_id": d, "share": share} for d, share in store.similar_reviews(doc_id, settings.intake.same_review_share)],
            "codes": [{"id": c.id, "label": c.label, "family": c.family, "definition": c.definition} for c in codebook.codes]}


def search_context(store: Store, query: str, limit: int = 200) -> dict:
    """Passages across the corpus that contain the query, each with the match marked and a link into its review."""
    query = query.strip()
    hits = []
    for doc_id, passage, text in (store.search_passages(query, limit + 1) if query else []):
        at = text.lower().find(query.lower())
        spans = [(at, at + len(query))] if at >= 0 else []
        hits.append({"doc_id": doc_id, "passage": passage, "html": highlight(text, spans, 0)})
    return {"query": query, "hits": hits[:limit], "more": len(hits) > limit}


def coded_review_csv(store: Store, doc_id: str, coder: str, model_key: str) -> bytes:
    """One review's passages with the model's codes and one coder's codes, decisions and memos, as CSV."""
    import pandas as pd

    if doc_id not in store.doc_ids():
        raise UserError(f"no review called '{doc_id}'")
    model = {p: codes for (d, p), codes in store.model_codings(model_key).items() if d == doc_id}
    mine = {p: codes for (d, p), codes in store.codings(coder).items() if d == doc_id} if coder else {}
    decided: dict[int, list[str]] = {}
    for (p, code), decision in sorted(store.decisions(coder, doc_id).items()) if coder else []:
        decided.setdefault(p, []).append(f"{code}:{decision}")
    memos = store.memos(coder, doc_id) if coder else {}
    rows = [{"doc_id": doc_id, "passage": p.index, "start": p.start, "end": p.end, "text": p.text,
             "model_codes": ";".join(model.get(p.index, [])),
             "coder": coder, "coder_codes": ";".join(mine.get(p.index, [])) if p.index in mine else "",
             "decisions": ";".join(decided.get(p.index, [])), "memo": memos.get(p.index, "")} for p in store.passages(doc_id)]
    buf = io.StringIO()
    pd.DataFrame(rows).to_csv(buf, index=False)
    return buf.getvalue().encode("utf-8")


def _fact_values() -> dict[str, list[str]]:
    """The allowed values of each case fact, as the facts settings name them."""
    from scr_text.config import load_fact_config

    cfg = load_fact_config()
    out = {fact: list(values) for fact, values in cfg["facts"].items()}
    out["perpetrator"] = list(cfg["perpetrator"]["roles"]) + ["unknown", "none"]
    out["harm_by_da_perpetrator"] = ["yes", "no", "na"]
    return {k: v + (["unknown"] if "unknown" not in v else []) for k, v in out.items()}


def _tagged_docs(store: Store, model_key: str) -> list[str]:
    return [d for d in store.doc_ids() if store.has_tags(model_key, d)]


def cluster_page(store: Store, settings: Settings, codebook: Codebook, model_key: str, model_name: str,
                 refresh=None) -> str:
    """The cluster report over the tagged reviews, its exemplars linked into the review view. The last map
    made is shown at once; when reviews were added since, ``refresh()`` makes a new one in the background."""
    from scr_text.clusters.stored import LATEST_CLUSTERS

    docs = _tagged_docs(store, model_key)
    latest = store.get_artifacts(LATEST_CLUSTERS)
    if latest:
        html = latest["clusters_html"].decode("utf-8")
        covered = json.loads(latest["doc_ids"])
        if sorted(covered) != docs and refresh is not None:
            refresh()
            html = html.replace("<h1>Recurring patterns</h1>", f"<h1>Recurring patterns</h1><p class=\"muted\">This map covers "
                                f"{len(covered)} of {len(docs)} reviews; a new one is being made: reload in a minute.</p>", 1)
    else:
        html = make_cluster_map(store, settings, codebook, model_key, model_name)
    # Exemplar links and map points open the passage in the review view rather than the report's own copy.
    html = re.sub(r'href="#p-([^"]+?)-(\d+)"', lambda m: f'href="/review/{m.group(1)}#p-{m.group(2)}"', html)
    return with_app_nav(html, "<script>window.scrPassageHref = (doc, i) => '/review/' + encodeURIComponent(doc) + '#p-' + i;</script>")


# The corpus reports are standalone pages; in the app they get its navigation bar.
_APP_NAV = ('<nav style="display:flex;gap:1rem;border-bottom:1px solid #ddd;padding:.3rem 0 .5rem;margin-bottom:1rem">'
            '<strong>scr-text</strong><a href="/">Reviews</a><a href="/clusters">Cluster map</a>'
            '<a href="/prevalence">Prevalence</a><a href="/agreement">Agreement</a><a href="/search">Search</a></nav>')


def with_app_nav(html: str, extra: str = "") -> str:
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + _APP_NAV + extra, html, count=1)


def make_cluster_map(store: Store, settings: Settings, codebook: Codebook, model_key: str, model_name: str) -> str:
    from scr_text.clusters.stored import cluster_stored
    from scr_text.tagging.apply import tag_stored

    docs = _tagged_docs(store, model_key)
    if len(docs) < 2:
        raise UserError("the cluster map needs at least two tagged reviews")
    parts = Components(settings, store, codebook, model_name)
    _, tags = tag_stored(parts, docs, progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        paths, _ = cluster_stored(parts, docs, tags, Path(tmp))
        return paths["clusters_html"].read_text(encoding="utf-8")


def prevalence_html(store: Store, settings: Settings, codebook: Codebook, model_name: str) -> str:
    from scr_text.facts.sheet import facts_for_stored, write_prevalence
    from scr_text.modeldir import model_key, resolve_model_dir
    from scr_text.tagging.apply import tag_stored

    key = model_key(resolve_model_dir(model_name), codebook.hash)
    docs = _tagged_docs(store, key)
    if not docs:
        raise UserError("no tagged reviews yet")
    parts = Components(settings, store, codebook, model_name)
    _, tags = tag_stored(parts, docs, progress=False)
    items = facts_for_stored(parts, docs, tags)
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_prevalence([row for row, _ in items], codebook, Path(tmp))
        return with_app_nav(paths["prevalence_html"].read_text(encoding="utf-8"))


def agreement_context(store: Store, settings: Settings, codebook: Codebook, model_key: str, code: str | None,
                      a: str | None, b: str | None) -> dict:
    from scr_text.coding.agreement_report import agreement_tables, disagreement_items
    from scr_text.coding.coders import MODEL_CODER

    coders = store.coders()
    context = {"coders": coders + [MODEL_CODER], "tables": [], "items": [], "code": code, "a": a, "b": b, "message": ""}
    if not coders:
        context["message"] = "No coder's coding yet: review some passages, or import coding with `scr-text import-coding`."
        return context
    try:
        tables, names = agreement_tables(store, coders, True, model_key, codebook, settings)
    except UserError as exc:
        context["message"] = str(exc)
        return context
    context["tables"] = tables
    min_kappa = settings.agreement.min_kappa
    context["min_kappa"] = min_kappa
    if code and a and b:
        context["items"], _ = disagreement_items(store, a, b, code, "score", model_key)
    return context


def export_bytes(store: Store, name: str, settings: Settings, codebook: Codebook, model_key: str,
                 model_name: str) -> tuple[bytes, str]:
    from scr_text.tagging.apply import tag_stored

    docs = _tagged_docs(store, model_key)
    parts = Components(settings, store, codebook, model_name)
    if name == "tags.jsonl":
        _, tags = tag_stored(parts, docs, progress=False)
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in tags.rows()).encode("utf-8"), "application/x-ndjson"
    if name == "facts.csv":
        import pandas as pd

        from scr_text.facts.sheet import facts_for_stored

        _, tags = tag_stored(parts, docs, progress=False)
        items = facts_for_stored(parts, docs, tags)
        buf = io.StringIO()
        pd.DataFrame([row for row, _ in items]).to_csv(buf, index=False)
        return buf.getvalue().encode("utf-8"), "text/csv"
    if name == "project.qdpx":
        from scr_text.coding.agreement_report import export_project

        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "project.qdpx"
            export_project(store, None, out, None, codebook, model_key)
            return out.read_bytes(), "application/zip"
    raise UserError(f"unknown export '{name}' (tags.jsonl, facts.csv, project.qdpx)")


def queue_context(store: Store, coder: str, model_key: str, model_name: str, codebook: Codebook, settings: Settings) -> dict:
    """The "what to code next" page: the passages whose decision would teach the model most (``next_to_code``)."""
    from scr_text.coding.next_to_code import next_to_code
    from scr_text.embed.encoder import Embedder
    from scr_text.tagging.tagger import TaggerModel

    queue = settings.app.queue
    model = TaggerModel.load(model_name)
    thresholds = {c: float(t) for c, t in zip(model.codes, model.stages.thresholds)}
    items = []
    if coder:
        embed = Embedder(settings.embed, cache=store).transform  # tagged passages' embeddings are in its cache
        for c in next_to_code(store, coder, model_key, thresholds, queue.size, queue.per_review, embed,
                              queue.diversity, queue.pool):
            items.append({"doc_id": c.doc_id, "passage": c.passage, "code": c.code, "label": codebook.code(c.code).label,
                          "score": c.score, "threshold": c.threshold, "text": c.text})
    return {"coder": coder, "items": items, "per_review": queue.per_review}


def models_context(store: Store, settings: Settings, codebook: Codebook, retrain_job, retag_job) -> dict:
    """The Model page: the model in use, the coders whose coding can train the next one, every model that
    can be switched to, and each retrained model's before/after figures on the analysts' reviews."""
    from scr_text.locations import default_corpus, model_search_dirs
    from scr_text.modeldir import resolve_model_dir
    from scr_text.training.retrain import RetrainResult, per_code_rows

    def card(path: Path) -> dict:
        return json.loads((path / "card.json").read_text(encoding="utf-8"))

    active = resolve_model_dir(settings.tagger.model)
    models, seen = [], set()
    for folder in model_search_dirs():
        for path in sorted(folder.glob("*/model.skops")) if folder.is_dir() else []:
            path = path.parent
            if path.name in seen:  # a project model hides a packaged one of the same name, as lookup does
                continue
            seen.add(path.name)
            c = card(path)
            result = RetrainResult.read(path)
            rows = [{"code": code, "label": codebook.code(code).label if code in codebook.ids else code, "support": n,
                     "before": before, "after": after} for code, n, before, after in (per_code_rows(result) if result else [])]
            models.append({"name": path.name, "active": path.resolve() == active.resolve(),
                           "trained_at": c.get("trained_at"), "reviews": c.get("n_documents"),
                           "macro_f1": (c.get("cv") or {}).get("macro", {}).get("f1"),
                           "fits_codebook": c.get("codebook_hash") == codebook.hash, "retrain": result, "rows": rows})
    # Newest first (cards' trained_at is one UTC ISO format, which sorts as text), then the one in use and the retrained on top.
    models.sort(key=lambda m: m["trained_at"] or "", reverse=True)
    models.sort(key=lambda m: (not m["active"], m["retrain"] is None))
    coded: dict[str, int] = {c: len({d for d, _ in store.codings(c)}) for c in store.coders()}
    return {"active": active.name, "models": models, "coders": coded,
            "base_corpus": settings.app.retrain.base_corpus or str(default_corpus()), "folds": settings.app.retrain.folds,
            "jobs": [{"id": j.id, "kind": j.kind} for j in (retrain_job, retag_job)
                     if j is not None and j.status in ("queued", "running")]}

