"""The self-contained cluster report: an interactive 2-D map per view (plotly, its script inlined so the
page works offline), coloured by cluster or by code, and a card per cluster whose exemplar passages link
to their place in the full review text further down the page."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from markupsafe import Markup, escape

from scr_text.report.render import render_template, write_html


def _figure(idx, result, passages, decided, codebook, include_js: bool) -> str:
    import plotly.graph_objects as go

    view_passages = [passages[i] for i in idx]
    hover = [f"{p.doc_id} ¶{p.index}<br>{escape(p.text[:180])}…" for p in view_passages]
    names = {c.id: f"{c.id}: {c.label}" for c in result.clusters}
    by_cluster = {}
    for k, lab in enumerate(result.labels):
        by_cluster.setdefault(int(lab), []).append(k)
    # The passage's first tagged code in the view (codebook order) colours it in the "by code" view.
    cols = [j for j, c in enumerate(codebook.ids) if result.view == "all" or codebook.code(c).family == result.view]
    by_code = {}
    for k, i in enumerate(idx):
        tagged = [codebook.ids[j] for j in cols if decided[i, j]]
        by_code.setdefault(tagged[0] if tagged else "(no code)", []).append(k)
    fig = go.Figure()
    groups = [("cluster", key, names.get(key, "outliers"), ks) for key, ks in sorted(by_cluster.items())]
    groups += [("code", key, key, ks) for key, ks in sorted(by_code.items())]
    for kind, key, name, ks in groups:
        ks = np.array(ks)
        fig.add_trace(go.Scattergl(
            x=result.coords[ks, 0], y=result.coords[ks, 1], mode="markers", name=name, visible=(kind == "cluster"),
            text=[hover[k] for k in ks], hoverinfo="text",
            customdata=[[view_passages[k].doc_id, view_passages[k].index] for k in ks],
            marker={"size": 6, "opacity": 0.8, **({"color": "#bbbbbb"} if key == -1 else {})}))
    n_cluster = sum(1 for g in groups if g[0] == "cluster")
    fig.update_layout(
        height=580, margin={"l": 10, "r": 10, "t": 80, "b": 10}, legend={"font": {"size": 10}},
        title={"text": f"{result.view}: {len(result.labels)} passages, {len(result.clusters)} clusters", "x": 0.01, "y": 0.98},
        updatemenus=[{"type": "buttons", "direction": "right", "x": 0, "xanchor": "left", "y": 1.1, "buttons": [
            {"label": "colour by cluster", "method": "update",
             "args": [{"visible": [i < n_cluster for i in range(len(groups))]}]},
            {"label": "colour by code", "method": "update",
             "args": [{"visible": [i >= n_cluster for i in range(len(groups))]}]},
        ]}])
    # A click on a point opens its passage: in the report, its copy below; in the web app (which defines
    # scrPassageHref), the review view.
    click = ("document.getElementById('{plot_id}').on('plotly_click', function (ev) {"
             " var d = ev.points[0].customdata, here = 'p-' + d[0] + '-' + d[1];"
             " if (window.scrPassageHref) location.href = window.scrPassageHref(d[0], d[1]);"
             " else if (document.getElementById(here)) location.hash = here; });")
    return fig.to_html(include_plotlyjs=include_js, full_html=False, div_id=f"map-{result.view}", post_script=click)


def _review_html(text: str, passages) -> Markup:
    """The review's full text, each passage an anchor target."""
    parts, pos = [], 0
    for p in passages:
        parts.append(escape(text[pos:p.start]))
        parts.append(Markup(f'<span class="psg" id="p-{escape(p.doc_id)}-{p.index}">') + escape(p.text) + Markup("</span>"))
        pos = p.end
    parts.append(escape(text[pos:]))
    return Markup("").join(parts)


def render_clusters(results, passages, decided, codebook, texts: dict[str, str], out: Path) -> Path:
    figures = [Markup(_figure(idx, r, passages, decided, codebook, include_js=(n == 0))) for n, (idx, r) in enumerate(results)]
    linked = sorted({e["doc_id"] for _, r in results for c in r.clusters for e in c.exemplars})
    by_doc = {}
    for p in passages:
        by_doc.setdefault(p.doc_id, []).append(p)
    reviews = [(d, _review_html(texts[d], by_doc.get(d, []))) for d in linked if d in texts]
    html = render_template("clusters.html.j2", results=[r for _, r in results], figures=figures, reviews=reviews,
                           codebook=codebook)
    return write_html(html, out)
