"""Recurring patterns: clustering on the real embeddings, labels, exemplars, outputs, the offline map."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd

from scr_text.clusters.density import PassageClusterer, assign_outliers, ctfidf_terms


def test_ctfidf_picks_distinctive_terms_and_ignores_placeholders():
    docs = ["child d sofa sleep baby sofa", "sleep sofa cot mother", "police assault mother violence", "assault police refuge"]
    labels = np.array([0, 0, 1, 1])
    terms = ctfidf_terms(docs, labels, {"child", "mother", "d"}, 2)
    assert set(terms[0]) <= {"sofa", "sleep", "cot", "sofa sleep", "baby"} and "sofa" in " ".join(terms[0])
    assert "assault" in " ".join(terms[1]) or "police" in " ".join(terms[1])
    assert not any("mother" in t or "child" in t for ts in terms.values() for t in ts)


def test_outliers_join_only_a_cluster_they_resemble():
    X = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [0.95, 0.05], [-1, 0]], dtype=float)
    labels = np.array([0, 0, 1, 1, -1, -1])
    out = assign_outliers(X, labels, min_similarity=0.5)
    assert out[4] == 0 and out[5] == -1
    assert list(out[:4]) == [0, 0, 1, 1]


def test_clustering_is_seeded_and_reproducible(settings):
    rng = np.random.default_rng(0)
    centres = np.eye(8)[:3]  # three directions: the map uses cosine distance
    X = np.vstack([rng.normal(c, 0.05, size=(30, 8)) for c in centres])
    cfg = replace(settings.cluster, hdbscan={"min_cluster_size": 8, "min_samples": 3, "copy": True})
    a = PassageClusterer(cfg).fit_predict(X)
    b = PassageClusterer(cfg).fit_predict(X)
    assert np.array_equal(a, b) and len(set(a) - {-1}) == 3


def test_cluster_outputs_round_trip_and_report_outliers_and_stability(corpus_run, corpus_dir):
    _, out = corpus_run
    data = json.loads((out / "clusters.json").read_text())
    views = {v["view"]: v for v in data["views"]}
    assert set(views) == {"all", "practice_learning", "risk_factor"}
    texts = {}
    for view in views.values():
        assert view["clusters"] > 1 and 0 <= view["outlier_share"] < 0.5
        assert view["outliers"] == round(view["outlier_share"] * view["passages"])
        assert 0 <= view["stability_ari"] <= 1
        for c in view["items"]:
            assert c["label"] and c["size"] >= 1 and 1 <= c["reviews"] <= c["size"]
            assert len(c["exemplars"]) == min(3, c["size"])
            if c["reviews"] >= 3:  # exemplars from different reviews where possible
                assert len({e["doc_id"] for e in c["exemplars"]}) == 3
            for e in c["exemplars"]:
                text = texts.setdefault(e["doc_id"], (corpus_dir / "texts" / f"{e['doc_id']}.txt").read_text(encoding="utf-8"))
                assert text[e["start"]:e["end"]] == e["text"]
    # Practice-learning clusters are mostly about practice: each one's leading code is a practice code.
    practice = {"front_loading", "planning", "recording", "child_focus", "analysis", "information_sharing", "masked_risk"}
    leading = [next(iter(c["code_shares"])) for c in views["practice_learning"]["items"]]
    assert sum(code in practice for code in leading) / len(leading) >= 0.8
    csv = pd.read_csv(out / "clusters.csv")
    assert list(csv.columns) == ["view", "cluster", "label", "size", "reviews", "code_shares", "exemplars"]
    pc = pd.read_csv(out / "passages_clusters.csv")
    assert {"view", "doc_id", "passage", "start", "end", "cluster", "x", "y"} <= set(pc.columns)
    assert len(pc[pc.view == "all"]) == views["all"]["passages"]
    summary = (out / "summary.html").read_text()
    assert "stability ARI across seeds" in summary and "clusters.html" in summary


def test_cluster_report_opens_offline_and_its_map_renders(corpus_run, browser, artifacts):
    _, out = corpus_run
    html = (out / "clusters.html").read_text()
    assert "cdn.plot.ly" not in html.split("<script")[0] and 'src="http' not in html
    page = browser.new_page(viewport={"width": 1300, "height": 1400})
    requests = []
    page.route("**/*", lambda route: (requests.append(route.request.url),
                                      route.continue_() if route.request.url.startswith("file:") else route.abort()))
    page.goto((out / "clusters.html").as_uri())
    page.wait_for_selector("#map-all .main-svg", timeout=30000)
    points = page.locator("#map-all canvas, #map-all .scatterlayer .point").count()
    assert points > 0
    assert [u for u in requests if not u.startswith("file:")] == []
    page.click("text=colour by code")
    page.screenshot(path=str(artifacts / "clusters.png"))
    # An exemplar link jumps to its passage in the full review text.
    link = page.locator(".card .ex a").first
    target = link.get_attribute("href")
    link.click()
    assert page.locator(target).count() == 1
    page.close()
