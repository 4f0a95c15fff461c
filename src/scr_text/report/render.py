"""Render the HTML reports from plain results. Autoescaping is on: document text is never trusted."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

_env = Environment(
    loader=PackageLoader("scr_text.report", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_template(name: str, **context: Any) -> str:
    return _env.get_template(name).render(**context)


def write_html(html: str, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out


def highlight(text: str, spans: list[tuple[int, int]], offset: int = 0) -> Markup:
    """``text`` escaped, with each (start, end) span (document offsets; ``offset`` is the text's own start) in <mark>."""
    out, pos = [], 0
    for start, end in sorted({(max(0, s - offset), min(len(text), e - offset)) for s, e in spans}):
        if start < pos or start >= end:
            continue
        out += [escape(text[pos:start]), Markup("<mark>"), escape(text[start:end]), Markup("</mark>")]
        pos = end
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def tag_overview(rows: list[dict], codebook, examples: int = 3) -> list[dict]:
    """Per code: how many passages and reviews carry it, and its best-scoring passages with evidence marked."""
    overview = []
    n_docs = len({r["doc_id"] for r in rows}) or 1
    for code in codebook.codes:
        tagged = [r for r in rows if code.id in r["codes"]]
        tagged.sort(key=lambda r: -r["scores"].get(code.id, 0))
        shown = []
        for r in tagged[:examples]:
            spans = [(e["start"], e["end"]) for e in r["evidence"][code.id] if e["type"] == "rule"]
            shown.append({"row": r, "html": highlight(r["text"], spans, r["start"]), "score": r["scores"][code.id],
                          "rules": [e["text"] for e in r["evidence"][code.id] if e["type"] == "rule"]})
        overview.append({"code": code, "passages": len(tagged), "share": len(tagged) / max(1, len(rows)),
                         "reviews": len({r["doc_id"] for r in tagged}), "review_share": len({r["doc_id"] for r in tagged}) / n_docs,
                         "examples": shown})
    return overview


def write_summary(result, out: Path) -> Path:
    rows = list(result.tags.rows()) if result.tags is not None else []
    overview = tag_overview(rows, result.codebook) if result.codebook is not None else []
    return write_html(render_template("summary.html.j2", r=result, overview=overview), out)
