"""Tagging end to end with the committed default model: the output contract, evidence, evaluation."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from scipy import sparse

from docmaker import make_docx
from scr_text.codebook import load_codebook
from scr_text.evaluation.metrics import f1_intervals, metrics
from scr_text.evaluation.tag_file import score_tag_file
from scr_text.formatting import format_number
from scr_text.locations import PACKAGED_CONFIGS
from scr_text.tagging.tagger import TaggerModel


@pytest.fixture(scope="module")
def codebook():
    return load_codebook()


def test_committed_default_model_matches_the_current_codebook(codebook):
    model = TaggerModel.load("default")
    model.check_codebook(codebook)  # raises if the codebook changed since training
    assert model.codes == codebook.ids
    assert len(model.stages.thresholds) == len(codebook.ids)
    card = model.card
    for key in ("corpus_hash", "codebook_hash", "libraries", "cv", "thresholds"):
        assert key in card
    assert {row["code"] for row in card["cv"]["per_code"]} == set(codebook.ids)


# A one-page briefing of our own writing (not from any real report), a paragraph per failure class of issue #37:
# (paragraph, codes it must carry, codes it must not).
BRIEFING = [
    ("Learning briefing: Child Q", [], []),
    ("Child Q, aged four, died in hospital from head injuries inflicted by Mr Y, Mother's partner, who was later "
     "convicted of her murder.", ["physical_abuse"], []),  # 1: a short document keeps its risk codes
    ("Mr Y was a registered sex offender: he had been convicted of the sexual assault of a girl he met online, and "
     "police had found indecent images of children on his phone.", ["sexual_exploitation"], ["domestic_abuse"]),  # 2
    ("Some weeks earlier Mr Y had stabbed Child Q's older brother in the arm with a kitchen knife.",
     ["physical_abuse"], []),  # 3
    ("Mother told her GP that she wanted to die and had thought about ending her life.", ["parental_mental_health"], []),
    ("The review was commissioned because abuse or neglect is known or suspected and the child has died. The local "
     "authority notified Ofsted within five working days.", [], ["neglect", "physical_abuse"]),  # 4
    ("There were no concerns about the care of the children.", [], ["neglect"]),  # 5
]


def test_a_short_briefing_gets_the_codes_its_paragraphs_state(tmp_path):
    """The failure classes seen on real review text, end to end through `tag` and the committed model."""
    path = tmp_path / "briefing.txt"
    path.write_text("\n\n".join(text for text, _, _ in BRIEFING) + "\n", encoding="utf-8")
    out = tmp_path / "tags.jsonl"
    res = subprocess.run([sys.executable, "-m", "scr_text", "--store", str(tmp_path / "s.sqlite"), "tag", str(path),
                          "--out", str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["text"] for r in rows] == [text for text, _, _ in BRIEFING]
    for row, (text, must, must_not) in zip(rows, BRIEFING):
        assert set(must) <= set(row["codes"]), (text, row["scores"])
        assert not set(must_not) & set(row["codes"]), (text, row["scores"])


def test_model_file_with_untrusted_types_is_refused(tmp_path):
    import shutil

    import skops.io as sio
    from sklearn.ensemble import RandomForestClassifier

    from scr_text.errors import UserError
    from scr_text.locations import PACKAGED_MODELS

    bad = tmp_path / "bad"
    shutil.copytree(PACKAGED_MODELS / "default", bad)
    sio.dump({"features": RandomForestClassifier(), "classifier": None}, bad / "model.skops")
    with pytest.raises(UserError, match="not trusted"):
        TaggerModel.load(bad)


def test_a_model_file_saved_under_the_old_flat_module_names_loads_as_todays_types(tmp_path):
    # Models trained before the stage sub-packages name e.g. scr_text.rule_fallback.RuleFallback in their schema.
    import io
    import zipfile

    import numpy as np
    import skops.io as sio

    from scr_text.errors import UserError
    from scr_text.tagging.rule_fallback import RuleFallback
    from scr_text.tagging.trusted_files import load_trusted

    fallback = RuleFallback().fit(np.array([[1], [0], [1], [0]]), np.array([[1], [0], [1], [0]]),
                                  np.array([[0.1], [0.1], [0.2], [0.1]]), np.array([0.5]))
    saved = io.BytesIO(sio.dumps({"fallback": fallback}))
    old = tmp_path / "old.skops"
    with zipfile.ZipFile(saved) as src, zipfile.ZipFile(old, "w") as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename == "schema.json":
                body = body.replace(b'"scr_text.tagging.rule_fallback"', b'"scr_text.rule_fallback"')
                assert b'"scr_text.rule_fallback"' in body
            dst.writestr(item, body)
    loaded = load_trusted(old, ["scr_text.tagging.rule_fallback.RuleFallback"])["fallback"]
    assert isinstance(loaded, RuleFallback) and loaded.rules_decide_.tolist() == fallback.rules_decide_.tolist()
    assert old.read_bytes().count(b"scr_text.rule_fallback")  # the file itself is left as it was
    with pytest.raises(UserError, match="not trusted"):  # the renamed type is still held to the trust list
        load_trusted(old, [])


def test_model_trained_on_another_embedding_model_is_refused(tmp_path, settings, segmenter, codebook):
    import json
    import shutil

    from scr_text.embed.encoder import Embedder
    from scr_text.errors import UserError
    from scr_text.locations import PACKAGED_MODELS
    from scr_text.tagging.components import load_tagger

    embedder = Embedder(settings.embed)
    other = tmp_path / "other"
    shutil.copytree(PACKAGED_MODELS / "default", other)
    card = json.loads((other / "card.json").read_text())
    assert card["embedding_model"].split("/")[0] == embedder.model_id.split("/")[0]
    load_tagger(str(other), codebook, segmenter, embedder=embedder)  # the committed model fits the config
    card["embedding_model"] = "some-other-model@0123456789ab/torch"
    (other / "card.json").write_text(json.dumps(card))
    with pytest.raises(UserError, match="trained on embeddings of some-other-model"):
        load_tagger(str(other), codebook, segmenter, embedder=embedder)


def test_tag_command_writes_the_contract_for_txt_and_docx(tmp_path, corpus_dir, codebook):
    out = tmp_path / "tags.jsonl"
    docx = make_docx(tmp_path / "submission.docx")
    gated = set(TaggerModel.load("default").card["review_gated"])
    res = subprocess.run([sys.executable, "-m", "scr_text", "--store", str(tmp_path / "s.sqlite"), "tag",
                          str(corpus_dir / "texts" / "d01.txt"), str(docx), "--out", str(out)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    source = (corpus_dir / "texts" / "d01.txt").read_text(encoding="utf-8")
    assert {r["doc_id"] for r in rows} == {"d01", "submission"}
    for r in rows:
        assert list(r) == ["doc_id", "passage", "start", "end", "text", "codes", "scores", "evidence"]
        assert set(r["scores"]) == set(codebook.ids)
        assert all(0.0 <= v <= 1.0 for v in r["scores"].values())
        assert set(r["evidence"]) == set(r["codes"])
        if r["doc_id"] == "d01":
            assert source[r["start"]:r["end"]] == r["text"]
        for code, items in r["evidence"].items():
            kinds = [i["type"] for i in items]
            assert "classifier" in kinds and kinds.count("exemplar") == 2
            # Codes the review-level stage decides say how likely the review as a whole carries them.
            assert ("review" in kinds) == (code in gated)
            for item in items:
                if item["type"] in ("classifier", "review"):
                    assert 0.0 <= item["probability"] <= 1.0
            for item in items:
                if item["type"] == "rule":
                    assert item["pattern"].startswith(code + "#")
                    if r["doc_id"] == "d01":
                        assert source[item["start"]:item["end"]] == item["text"]
                if item["type"] == "exemplar":
                    ex = (corpus_dir / "texts" / f"{item['doc_id']}.txt").read_text(encoding="utf-8")
                    assert ex[item["start"]:item["end"]] == item["text"]
    # The opening paragraph of d01 describes a baby's fatal injuries: physical abuse, with the rule evidence.
    first = next(r for r in rows if r["doc_id"] == "d01" and r["passage"] == 1)
    assert "physical_abuse" in first["codes"]
    assert any(i["type"] == "rule" for i in first["evidence"]["physical_abuse"])
    # Headings carry no codes.
    assert next(r for r in rows if r["doc_id"] == "d01" and r["passage"] == 0)["codes"] == []
    # Scoring the file against gold works on the overlapping documents.
    scored = score_tag_file(out, corpus_dir / "passages.jsonl", codebook.ids, {"n_boot": 200, "seed": 0})
    assert scored["documents"] == 2 and scored["n_paragraphs"] == 28
    assert scored["intervals"] is None  # gold covers one of the two: no interval from resampling one review


def test_train_command_writes_a_model_that_tag_uses(tmp_path, corpus_dir, corpus_subset, codebook):
    """`train` on ten shipped reviews (the corpus layout: texts/, passages.jsonl, cases.csv), then `tag` with it."""
    from scr_text.corpus import load_corpus

    docs = [f"d{i:02d}" for i in range(1, 11)]
    corpus = corpus_subset(tmp_path / "corpus", docs)
    model_dir = tmp_path / "models" / "small"
    cli = [sys.executable, "-m", "scr_text", "--store", str(tmp_path / "s.sqlite")]
    res = subprocess.run(cli + ["train", "--corpus", str(corpus), "--out", str(model_dir), "--folds", "3"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "cross-validated macro-F1" in res.stdout
    model = TaggerModel.load(model_dir)
    model.check_codebook(codebook)
    card = model.card
    assert card["n_documents"] == 10 and card["cv"]["folds"] == 3
    assert {row["code"] for row in card["cv"]["per_code"]} == set(codebook.ids)
    assert set(card["review_gated"]) <= set(codebook.ids)
    gold = load_corpus(corpus).passages
    assert card["coded_reviews"] == {c: len({g["doc_id"] for g in gold if c in g["codes"]}) for c in codebook.ids}
    assert (model_dir / "MODEL_CARD.md").read_text().startswith("# Model card: small")
    assert "| code | reviews coded |" in (model_dir / "MODEL_CARD.md").read_text()
    assert {m["doc_id"] for m in model.exemplar_meta} == set(docs)
    out = tmp_path / "tags.jsonl"
    res = subprocess.run(cli + ["tag", str(corpus_dir / "texts" / "d11.txt"), "--out", str(out), "--model", str(model_dir)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    tagged = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(tagged) == 28 and any(r["codes"] for r in tagged)
    for r in tagged:  # exemplars come from the ten training reviews
        assert all(i["doc_id"] in docs for items in r["evidence"].values() for i in items if i["type"] == "exemplar")


@pytest.mark.parametrize("row, message", [
    ('{"doc_id": "d01", "start": "0", "end": 15, "codes": []}', "a row needs"),
    ('{"doc_id": "d01", "start": 20, "end": 15, "codes": []}', "a row needs"),
    ('{"doc_id": "d01", "start": 0, "end": 15}', "a row needs"),
    ('["d01", 0, 15]', "a row needs"),
])
def test_malformed_gold_rows_are_refused_with_their_line(tmp_path, row, message):
    from scr_text.corpus import load_corpus
    from scr_text.errors import UserError

    (tmp_path / "texts").mkdir()
    (tmp_path / "passages.jsonl").write_text('{"doc_id": "d01", "start": 0, "end": 15, "codes": []}\n' + row + "\n")
    with pytest.raises(UserError, match=rf"passages.jsonl:2: {message}"):
        load_corpus(tmp_path)


def test_gold_codes_outside_the_codebook_and_unlabelled_reviews_are_errors(codebook):
    from scr_text.corpus import gold_labels
    from scr_text.errors import UserError
    from scr_text.records import Passage

    passages = [Passage("d01", 0, 0, 10, "x" * 10), Passage("d02", 0, 0, 10, "y" * 10)]
    rows = [{"doc_id": "d01", "start": 0, "end": 10, "codes": ["neglect"]},
            {"doc_id": "d02", "start": 0, "end": 10, "codes": []}]
    assert gold_labels(passages, rows, codebook.ids)[:, codebook.ids.index("neglect")].tolist() == [1, 0]
    with pytest.raises(UserError, match="not in the codebook: made_up"):
        gold_labels(passages, rows + [{"doc_id": "d02", "start": 0, "end": 10, "codes": ["made_up"]}], codebook.ids)
    with pytest.raises(UserError, match="no gold rows in passages.jsonl: d02"):
        gold_labels(passages, rows[:1], codebook.ids)


def test_scoring_a_tag_file_checks_the_gold_file(tmp_path, codebook):
    from scr_text.errors import UserError

    tags = tmp_path / "tags.jsonl"
    tags.write_text('{"doc_id": "d01", "passage": 0, "start": 0, "end": 10, "codes": ["neglect"]}\n')
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"doc_id": "d01", "start": 0, "end": 10, "codes": ["neglect"]}\n')
    assert score_tag_file(tags, gold, codebook.ids)["macro"]["f1"] == 1.0
    gold.write_text('{"doc_id": "d01", "start": 0, "end": 10, "codes": ["neglekt"]}\n')
    with pytest.raises(UserError, match="not in the codebook: neglekt"):
        score_tag_file(tags, gold, codebook.ids)
    gold.write_text('{"doc_id": "d01", "start": 0, "codes": []}\n')
    with pytest.raises(UserError, match="gold.jsonl:1: a row needs"):
        score_tag_file(tags, gold, codebook.ids)
    tags.write_text('{"doc_id": "d01", "passage": 0, "start": 0, "end": 10}\n')  # a tag row without its codes
    with pytest.raises(UserError, match="tags.jsonl:1: a row needs"):
        score_tag_file(tags, gold, codebook.ids)


def test_training_on_one_review_is_a_clear_error(tmp_path, corpus_dir):
    import shutil

    corpus = tmp_path / "corpus"
    (corpus / "texts").mkdir(parents=True)
    shutil.copy(corpus_dir / "texts" / "d01.txt", corpus / "texts")
    rows = [line for line in (corpus_dir / "passages.jsonl").read_text().splitlines() if '"d01"' in line]
    (corpus / "passages.jsonl").write_text("\n".join(rows) + "\n")
    res = subprocess.run([sys.executable, "-m", "scr_text", "--store", str(tmp_path / "s.sqlite"), "train",
                          "--corpus", str(corpus), "--out", str(tmp_path / "m")], capture_output=True, text=True)
    assert res.returncode != 0
    assert "at least two labelled reviews" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "m").exists()


def review_level_code(n_reviews: int, seed: int):
    """(X, Y, groups) of reviews of twenty passages: in every other review three passages state a code outright
    (feature 0), and there the code also colours ten passages (feature 1) that read like half of every review."""
    rng = np.random.default_rng(seed)
    X, y, groups = [], [], []
    for r in range(n_reviews):
        carries = r % 2 == 0
        for i in range(20):
            outright = carries and i < 3
            coloured = i < 10  # half of every review reads the same way...
            X.append(rng.normal(0, 1, 4) + [5.0 * outright, 1.5 * coloured, 0, 0])
            y.append(int(outright or (carries and coloured)))  # ...but carries the code only in these reviews
            groups.append(f"r{r}")
    return np.array(X), np.array(y)[:, None], np.array(groups)


def test_review_stage_learns_a_code_that_belongs_to_the_review():
    """A code whose paragraphs look like ordinary ones unless the review is known to carry it: in half
    of the reviews a few paragraphs state the theme outright (feature 0), and there the theme also
    colours paragraphs that, word for word, look like paragraphs of the other reviews (feature 1).
    One paragraph alone cannot tell those apart; the review can."""
    from sklearn.metrics import f1_score, roc_auc_score

    from scr_text.tagging.classify import ThemeClassifier
    from scr_text.tagging.review_gate import ReviewGatedClassifier

    X, Y, groups = review_level_code(60, seed=0)
    train, test = groups < "r4", groups >= "r4"  # reviews r0..r39 train, r40..r59 test (string order)
    plain = ThemeClassifier(["c"]).fit(X[train], Y[train], groups[train])
    gated = ReviewGatedClassifier(["c"]).fit(X[train], Y[train], groups[train])
    assert gated.gated_[0]
    proba, review = gated.scores(X[test], groups[test])
    carries = np.array([int(g[1:]) % 2 == 0 for g in groups[test]])
    first = np.unique(groups[test], return_index=True)[1]
    assert roc_auc_score(carries[first], review[first, 0]) > 0.9  # reviews that carry the code rank first
    f_plain = f1_score(Y[test, 0], plain.predict(X[test])[:, 0])
    f_gated = f1_score(Y[test, 0], gated.predict(X[test], groups[test])[:, 0])
    assert f_gated > f_plain + 0.05, (f_plain, f_gated)


def test_a_short_review_is_not_penalised_for_being_short():
    """Issue #37, class 1. Reviews of twenty paragraphs that carry the code state it in three; a briefing of four
    paragraphs states it once. Its review summaries (top-3 mean, mean) look like those of a review without the
    code, so the review-level model alone scores it near zero; floored at the passage's own score (it is
    shorter than any training review), the clear statement keeps its code and the other paragraphs stay below
    the threshold. A review as long as the training ones keeps the gate."""
    from scr_text.tagging.review_gate import ReviewGatedClassifier, review_summaries

    gated = ReviewGatedClassifier(["c"]).fit(*review_level_code(40, seed=1))
    assert gated.gated_[0]
    briefing = np.array([[7.0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    passage = gated.passage_.predict_proba(briefing)[:, 0]
    unfloored = gated.review_models_[0].predict_proba(review_summaries(passage, ["b"] * 4))[:, 1]
    assert unfloored[0] < 0.1  # what the review-level model alone makes of it
    proba, review = gated.scores(briefing, ["b"] * 4)
    assert (review[:, 0] >= passage).all() and review[0, 0] > 0.5
    assert (proba[:, 0] >= gated.thresholds_[0]).tolist() == [True, False, False, False]
    assert gated.shortest_review_ == 20
    long = np.vstack([briefing[:1]] + [briefing[1:2]] * 19)  # as long as the training reviews: not floored
    proba, review = gated.scores(long, ["l"] * 20)
    assert review[0, 0] < 0.1 and not (proba[:, 0] >= gated.thresholds_[0]).any()


def test_a_code_found_in_two_reviews_held_out_together_is_still_learnt():
    """Two reviews carry a rare code and the grouped folds hold both out together, leaving that fold's training
    part with none: the classifier must still learn the code, the right way up."""
    from scr_text.tagging.classify import ThemeClassifier, grouped_folds

    rng = np.random.default_rng(0)
    groups = np.repeat(np.array([f"r{i:02d}" for i in range(30)]), 10)
    _, held_out = grouped_folds(groups, 5)[0]
    carriers = list(dict.fromkeys(groups[held_out]))[:2]  # two reviews that share a fold
    y = np.array([g in carriers and i % 10 < 4 for i, g in enumerate(groups)], dtype=int)
    X = rng.normal(0, 1, (len(y), 5)) + 4.0 * y[:, None] * np.eye(5)[0]
    model = ThemeClassifier(["rare"]).fit(X, y[:, None], groups)
    new = rng.normal(0, 1, (40, 5)) + 4.0 * (np.arange(40) < 20)[:, None] * np.eye(5)[0]
    decided = model.predict(new)[:, 0]
    assert decided[:20].mean() > 0.8 and decided[20:].mean() < 0.2


def test_ngram_weighting_favours_columns_that_lean_to_a_side_and_is_folded_into_the_model():
    """Per code, an n-gram column found only in the code's passages (or only outside them) weighs more than one
    spread evenly; columns outside the n-gram range keep weight 1; and the saved model, a plain logistic
    regression, scores unweighted features exactly as it was trained to score the weighted ones."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    from scr_text.tagging.classify import ThemeClassifier, ngram_weights

    rng = np.random.default_rng(0)
    y = np.repeat([1, 0], 100)
    X = np.zeros((200, 6))
    X[:100, 0] = rng.uniform(0.1, 1, 100)  # only in coded passages
    X[100:, 1] = rng.uniform(0.1, 1, 100)  # only in the others
    X[:, 2] = rng.uniform(0.1, 1, 200)  # everywhere alike
    X[:, 3:] = rng.normal(0, 1, (200, 3))  # dense features, outside the n-gram range
    X = sparse.csr_matrix(X)
    scale = ngram_weights(X, y, (0, 3))
    assert scale[0] > 2 and scale[1] > 2 and scale[2] == pytest.approx(1, abs=0.05)
    assert (scale[3:] == 1).all()
    groups = np.array([f"r{i % 10}" for i in range(200)])
    model = ThemeClassifier(["c"], weighted_columns=(0, 3)).fit(X, y[:, None], groups).models_[0]
    reference = LogisticRegression(C=4.0, class_weight="balanced", solver="liblinear", max_iter=2000)
    reference.fit(sparse.csr_matrix(X.multiply(scale)), y)
    assert type(model) is LogisticRegression
    np.testing.assert_allclose(model.decision_function(X), reference.decision_function(X.multiply(scale)),
                               rtol=1e-6, atol=1e-8)


def test_review_stage_leaves_a_code_alone_when_the_review_tells_nothing():
    from scr_text.tagging.review_gate import ReviewGatedClassifier

    rng = np.random.default_rng(1)
    groups = np.repeat([f"r{i:02d}" for i in range(30)], 10)
    X = rng.normal(0, 1, (300, 3))
    Y = (X[:, :1] + rng.normal(0, 0.3, (300, 1)) > 1.0).astype(int)  # a paragraph-level code, in every review
    Y[::10] = 1  # every review has at least one
    model = ReviewGatedClassifier(["c"]).fit(X, Y, groups)
    assert not model.gated_[0]
    proba, review = model.scores(X, groups)
    assert np.isnan(review).all()
    np.testing.assert_allclose(proba, model.passage_.predict_proba(X))


def test_metrics_match_hand_computed_values():
    Y = np.array([[1, 0], [1, 0], [0, 0], [0, 1]])
    P = np.array([[1, 0], [0, 0], [1, 0], [0, 1]])
    m = metrics(Y, P, ["a", "b"])
    a, b = m["per_code"]
    assert a["precision"] == pytest.approx(0.5) and a["recall"] == pytest.approx(0.5) and a["f1"] == pytest.approx(0.5)
    # kappa for a: po = 0.5, pe = 0.5*0.5 + 0.5*0.5 = 0.5 -> 0
    assert a["kappa"] == pytest.approx(0.0)
    assert b["f1"] == 1.0 and b["kappa"] == 1.0
    assert m["macro"]["f1"] == pytest.approx(0.75)


def test_a_code_with_nothing_to_find_and_nothing_found_is_left_out_of_the_macro():
    m = metrics(np.array([[1, 0], [0, 0]]), np.array([[1, 0], [0, 0]]), ["a", "b"])
    assert m["per_code"][1]["f1"] is None and m["macro"]["f1"] == 1.0


def test_f1_intervals_resample_reviews_and_pair_the_systems():
    codes = ["a", "b", "c"]
    rng = np.random.default_rng(0)
    Y = (rng.random((400, 3)) < 0.3).astype(int)
    reviews = np.repeat(np.arange(20), 20)
    # The weaker system's errors are bunched: it misses every code in six of the twenty reviews.
    weak = Y.copy()
    weak[reviews < 6] = 0
    strong = Y.copy()
    strong[rng.random(Y.shape) < 0.01] ^= 1  # a few errors spread over the reviews
    result = f1_intervals(Y, {"combined": strong, "weak": weak}, reviews, codes, n_boot=500, seed=1)
    for name, P in (("combined", strong), ("weak", weak)):
        m = result["macro_f1"][name]
        assert m["point"] == pytest.approx(metrics(Y, P, codes)["macro"]["f1"])
        assert m["interval"][0] < m["point"] < m["interval"][1]
    # Each code's F1 with its interval, for the combined tagger.
    assert result["per_code"]["system"] == "combined"
    for row in metrics(Y, strong, codes)["per_code"]:
        m = result["per_code"]["codes"][row["code"]]
        assert m["point"] == pytest.approx(row["f1"]) and m["interval"][0] < m["point"] <= m["interval"][1]
    lead = result["combined_lead"]["weak"]
    assert lead["interval"][0] > 0 and lead["share_ahead"] > 0.95
    assert result["reviews"] == 20 and result["resamples"] == 500
    # Resampling by review: the same passages, each counted as a review of its own, look far surer of the
    # weak system than they should, since its errors come in whole reviews.
    as_passages = f1_intervals(Y, {"weak": weak}, np.arange(400), codes, n_boot=500, seed=1)["macro_f1"]["weak"]["interval"]
    by_review = result["macro_f1"]["weak"]["interval"]
    assert by_review[1] - by_review[0] > 2 * (as_passages[1] - as_passages[0])
    assert f1_intervals(Y, {"weak": weak}, reviews, codes, n_boot=500, seed=1)["macro_f1"] == \
        {"weak": result["macro_f1"]["weak"]}  # the same seed, the same resamples
    assert f1_intervals(Y, {"weak": weak}, ["one review"] * 400, codes) is None  # nothing to resample
    # A system right on every passage scores 1.0 on every resample: its intervals are that value, not n/a.
    perfect = f1_intervals(Y, {"tagged": Y}, reviews, codes, n_boot=200)
    assert perfect["macro_f1"]["tagged"]["interval"] == [1.0, 1.0]
    assert all(m["interval"] == [1.0, 1.0] for m in perfect["per_code"]["codes"].values())
    assert {m["method"] for m in perfect["per_code"]["codes"].values()} == {"BCa"}
    # A rare code, in two reviews, tagged there only: a resample holding neither leaves its F1 undefined,
    # so BCa has no interval, and the percentile interval over the other resamples stands in, said as such.
    rare = np.zeros((400, 1), dtype=int)
    rare[reviews == 3] = 1
    rare[(reviews == 11) & (np.arange(400) % 2 == 0)] = 1
    tagged = rare.copy()
    tagged[reviews == 11] = 1  # half of review 11's tags are false
    m = f1_intervals(rare, {"combined": tagged}, reviews, ["rare"], n_boot=500, seed=1)["per_code"]["codes"]["rare"]
    n_defined = int(m["method"].split()[2])
    assert m["method"] == f"percentile of {n_defined} resamples" and 400 < n_defined < 500
    assert m["interval"][0] < m["point"] < m["interval"][1] <= 1.0


def test_folds_never_split_a_review_and_a_seed_reshuffles_them():
    from scr_text.tagging.classify import grouped_folds

    groups = np.repeat(np.array([f"d{i}" for i in range(10)]), 7)

    def reviews_per_fold(folds):
        return sorted(tuple(sorted(set(groups[test]))) for _, test in folds)

    for seed in (None, 1, 2):
        folds = grouped_folds(groups, 5, seed)
        assert len(folds) == 5
        seen = []
        for train, test in folds:
            assert not set(groups[train]) & set(groups[test])
            seen += list(test)
        assert sorted(seen) == list(range(len(groups)))
    splits = [reviews_per_fold(grouped_folds(groups, 5, seed)) for seed in (None, 1, 2)]
    assert len(set(map(tuple, splits))) == 3  # each seed groups the reviews differently...
    assert reviews_per_fold(grouped_folds(groups, 5, 1)) == splits[1]  # ...and the same seed the same way
    assert reviews_per_fold(grouped_folds(groups, 5)) == splits[0]


def test_evaluate_command_prints_every_system_and_code(tmp_path, corpus_subset, codebook):
    small = corpus_subset(tmp_path / "corpus", [f"d{i:02d}" for i in range(1, 13)])
    out = tmp_path / "eval.json"
    res = subprocess.run([sys.executable, "-m", "scr_text", "--store", str(tmp_path / "s.sqlite"), "evaluate",
                          "--corpus", str(small), "--folds", "3", "--out", str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert "3-fold cross-validation grouped by review: 12 reviews" in lines[0]
    for system in ("rules F1", "classifier F1", "combined F1", "baseline F1"):
        assert system in lines[1]
    macro = next(i for i, ln in enumerate(lines) if ln.startswith("macro"))
    assert [ln.split()[0] for ln in lines[2:macro]] == codebook.ids
    result = json.loads(out.read_text())
    assert set(result["systems"]) == {"rules", "classifier", "combined", "baseline"}
    # Sexual exploitation is coded in two of these twelve reviews (d06, d09), which the folds keep apart: a
    # training fold holds one of them at most, too few to learn the code from.
    assert result["rules_decide"].get("sexual_exploitation", 0) >= 1
    note = lines[macro + 1]
    assert note.startswith("combined: decided by the rule stage alone")
    for code, n in result["rules_decide"].items():
        assert f"{code} ({n} of 3)" in note
    # Each system's macro-F1 again, with its interval over resampled reviews and the combined tagger's lead.
    start = lines.index("macro-F1 with 95% intervals over 1000 resamples of the 12 reviews:") + 2
    table = lines[start:start + 4]
    assert [ln.split()[0] for ln in table] == ["rules", "classifier", "combined", "baseline"]
    intervals = result["intervals"]["macro_f1"]
    for system, m in intervals.items():
        assert m["point"] == pytest.approx(result["systems"][system]["macro"]["f1"])
        assert m["interval"][0] <= m["interval"][1]
        row = next(ln for ln in table if ln.split()[0] == system)
        assert f"{m['point']:.3f}" in row and f"{m['interval'][0]:.3f} to {m['interval'][1]:.3f}" in row
    lead = result["intervals"]["combined_lead"]["baseline"]
    assert lead["point"] == pytest.approx(intervals["combined"]["point"] - intervals["baseline"]["point"])
    # ...and the combined tagger's F1 per code with its interval.
    per_code = lines[lines.index("combined F1 per code with 95% intervals:") + 2:]
    assert [ln.split()[0] for ln in per_code] == codebook.ids
    for row, line in zip(result["systems"]["combined"]["per_code"], per_code):
        assert line.split()[1] == format_number(row["f1"]).strip()


def test_evaluate_by_style_holds_out_each_style_in_turn(tmp_path, corpus_subset):
    """Leave one style out: three styles of four reviews each; each is scored when held out, and the
    targets are printed beside the figures."""
    small = corpus_subset(tmp_path / "corpus", ["d01", "d02", "d03", "d04", "d09", "d10", "d11", "d12",
                                                 "d17", "d18", "d19", "d20"])
    out = tmp_path / "eval.json"
    cmd = [sys.executable, "-m", "scr_text", "evaluate", "--corpus", str(small), "--by-style", "--out", str(out),
           "--store", str(tmp_path / "s.sqlite")]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "leave-one-style-out: 3 styles, 12 reviews, " + lines[0].split(", ")[-1]
    result = json.loads(out.read_text())
    assert result["folds"] == 3
    assert set(result["splits"]) == {"numbered_review", "cafcass_submission", "executive_summary"}
    table = lines[lines.index("macro-F1 on each style when it is held out:") + 1:][:4]
    for style, part in result["splits"].items():
        assert part["reviews"] == 4
        row = next(ln for ln in table if ln.startswith(style))
        assert row.split()[1] == "4" and row.split()[3] == format_number(part["macro_f1"]["combined"]).strip()
    f1 = result["systems"]["combined"]["macro"]["f1"]
    assert f"target: leave-one-style-out macro-F1 >= 0.78: {f1:.3f}" in res.stdout
    assert "target: every code's F1 >= 0.65: " in res.stdout
    # A review with no style is named before any work is done.
    styles = (small / "styles.csv").read_text().splitlines()
    (small / "styles.csv").write_text("\n".join(ln for ln in styles if not ln.startswith("d10")) + "\n")
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode != 0 and "no style for 1 review(s): d10" in res.stderr


def test_rule_fallback_hands_only_a_code_the_classifier_could_not_learn_to_the_rules():
    from scr_text.tagging.rule_fallback import RuleFallback

    rng = np.random.default_rng(2)
    Y = np.zeros((200, 2), dtype=int)
    Y[:20, 0] = 1  # a rare code: its out-of-fold scores found none of it, the rules 18 of 20 and 2 others
    Y[:, 1] = rng.random(200) < 0.3  # a common code the classifier learnt perfectly; its rules hit at random
    hits = np.zeros_like(Y, dtype=bool)
    hits[2:22, 0] = True
    hits[:, 1] = rng.random(200) < 0.3
    oof = np.column_stack([np.full(200, 0.01), np.where(Y[:, 1], 0.9, 0.1)])
    fallback = RuleFallback().fit(hits, Y, oof, np.array([0.5, 0.5]))
    assert fallback.rules_decide_.tolist() == [True, False]
    assert fallback.p_hit_[0] == pytest.approx(19 / 22) and fallback.p_miss_[0] == pytest.approx(3 / 182)
    new_hits = np.array([[True, True], [False, False]])
    proba = fallback.transform(np.array([[0.2, 0.7], [0.3, 0.1]]), new_hits)
    np.testing.assert_allclose(proba[:, 1], [0.7, 0.1])  # the learnt code keeps the classifier's probability
    assert ((proba >= fallback.thresholds_)[:, 0] == new_hits[:, 0]).all()  # the rare one is the rules' decision
    assert fallback.thresholds_[1] == 0.5
    np.testing.assert_allclose(fallback.oof_proba_[:, 0], np.where(hits[:, 0], 19 / 22, 3 / 182))


def test_a_code_in_one_training_review_is_decided_by_its_rules_on_a_new_review(tmp_path, settings, segmenter,
                                                                                codebook, corpus_dir, corpus_subset):
    """Sexual exploitation is coded in d06, d09 and d28 only. Trained with d06 the one review that has it,
    the classifier has no out-of-fold evidence for the code; the rule stage decides it on d28, a real review."""
    from sklearn.metrics import f1_score

    from scr_text.corpus import load_corpus
    from scr_text.evaluation.cross_validation import subset
    from scr_text.store.database import Store
    from scr_text.tagging.batch import corpus_batch
    from scr_text.tagging.tagger import Stages

    corpus = load_corpus(corpus_subset(tmp_path / "c", ["d01", "d02", "d03", "d04", "d05", "d06", "d07", "d28"]))
    with Store(tmp_path / "s.sqlite") as store:
        batch, Y, groups, _ = corpus_batch(corpus, store, settings, codebook, segmenter, progress=False)
    se = codebook.ids.index("sexual_exploitation")
    train, test = np.flatnonzero(groups != "d28"), np.flatnonzero(groups == "d28")
    stages = Stages.fit(subset(batch, train), Y[train], groups[train], codebook.ids)
    assert stages.rules_decide[se]
    # Only where the rules did better on the training reviews; the practice codes the classifier learns.
    assert not stages.rules_decide[[codebook.ids.index(c) for c in codebook.family_codes("practice_learning")]].any()
    proba, review = stages.scores(subset(batch, test))
    decided = proba >= stages.thresholds
    hits = batch.rule_hits[test, se]
    assert (decided[:, se] == hits).all() and hits.any()
    assert np.isnan(review[:, se]).all()
    assert f1_score(Y[test, se], decided[:, se]) > 0.5  # the rules find d28's exploitation passages
    # Its tags say so: rule hits and the rules' probability as evidence, no classifier or review item.
    from scr_text.tagging.rules import RuleTagger
    from scr_text.tagging.tagger import Tagger, TaggerModel

    model = TaggerModel(codebook.hash, codebook.ids, stages, batch.embeddings[train], Y[train].astype(bool),
                        [{"doc_id": p.doc_id, "start": p.start, "end": p.end, "text": p.text}
                         for p in subset(batch, train).passages], {})
    tagged = Tagger(model, RuleTagger(codebook, segmenter.nlp)).tag(subset(batch, test).passages, batch.embeddings[test])
    evidence = [t.evidence()["sexual_exploitation"] for t in tagged if "sexual_exploitation" in t.codes]
    assert len(evidence) == hits.sum()
    for items in evidence:
        kinds = [e["type"] for e in items]
        assert "rule" in kinds and "rules" in kinds and "classifier" not in kinds and "review" not in kinds


def test_passage_features_read_each_passage_in_its_review(tmp_path, settings, segmenter, codebook, corpus_subset):
    """Context follows the review a passage sits in (heading above it, position 0..1 within its review), and
    fitting and transforming in one step (training) gives the features tagging computes afresh."""
    from scr_text.corpus import load_corpus
    from scr_text.evaluation.cross_validation import subset
    from scr_text.store.database import Store
    from scr_text.tagging.batch import corpus_batch
    from scr_text.tagging.features import PassageFeatures, context

    corpus = load_corpus(corpus_subset(tmp_path / "c", ["d01", "d02"]))
    with Store(tmp_path / "s.sqlite") as store:
        batch, _, groups, _ = corpus_batch(corpus, store, settings, codebook, segmenter, progress=False)
    ctx = context(batch)
    for doc in ("d01", "d02"):
        rows = np.flatnonzero(groups == doc)
        assert ctx.position[rows[0], 0] == 0 and ctx.position[rows[-1], 0] == 1
        assert batch.passages[rows[0]].text == "1. Introduction" and ctx.headings[rows[1]] == "introduction"
        np.testing.assert_allclose(ctx.document[rows[0]], batch.embeddings[rows].mean(axis=0), rtol=1e-5)
    once = PassageFeatures().fit_transform(batch)
    fitted = PassageFeatures().fit(batch)
    assert (abs(once - fitted.transform(batch)) > 1e-6).nnz == 0
    # Block weights (tagger.feature_weights) scale their block and nothing else; 0 leaves it out.
    embedding = slice(fitted.ngram_columns_[1], fitted.ngram_columns_[1] + batch.embeddings.shape[1])
    for weight in (0.0, 2.0):
        weighted = PassageFeatures(weights={"embedding": weight}).fit_transform(batch).toarray()
        np.testing.assert_allclose(weighted[:, embedding], weight * batch.embeddings, rtol=1e-5, atol=1e-7)
        rest = np.ones(once.shape[1], dtype=bool)
        rest[embedding] = False
        np.testing.assert_array_equal(weighted[:, rest], once.toarray()[:, rest])
    with pytest.raises(ValueError, match="no feature block named embeddings"):
        PassageFeatures(weights={"embeddings": 1.0})
    # One review alone reads the same as within the batch: nothing leaks across reviews.
    d02 = np.flatnonzero(groups == "d02")
    assert (abs(fitted.transform(subset(batch, d02)) - once[d02]) > 1e-6).nnz == 0
    # A paragraph tagged alone is its own neighbour, not a zero vector no training passage has; inside a
    # review the neighbours are the passages either side.
    alone = context(subset(batch, d02[3:4]))
    np.testing.assert_allclose(alone.neighbours[0], batch.embeddings[d02[3]], rtol=1e-6)
    np.testing.assert_allclose(ctx.neighbours[d02[3]], batch.embeddings[d02[[2, 4]]].mean(axis=0), rtol=1e-5)


def test_ngram_weighting_setting_is_read_from_the_config_and_checked(tmp_path):
    from scr_text.codebook import load_codebook
    from scr_text.config import load_settings
    from scr_text.errors import UserError
    from scr_text.tagging.options import classifier_options

    codebook = load_codebook()
    assert classifier_options(load_settings().tagger, codebook)["ngram_weighting"] == []  # the committed model's setting
    text = (PACKAGED_CONFIGS / "pipeline.yaml").read_text(encoding="utf-8")
    assert "ngram_weighting: false" in text
    practice = codebook.family_codes("practice_learning")
    for value, expected in (("true", codebook.ids), ("[practice_learning]", practice),
                            ("'yes'", "must be true, false or a list of the codebook's families"),
                            ("[practice]", "names practice, not a family of the codebook")):
        path = tmp_path / f"p{len(value)}.yaml"
        path.write_text(text.replace("ngram_weighting: false", f"ngram_weighting: {value}"), encoding="utf-8")
        if isinstance(expected, str):
            with pytest.raises(UserError, match=re.escape(expected)):
                classifier_options(load_settings(path).tagger, codebook)
        else:
            assert classifier_options(load_settings(path).tagger, codebook)["ngram_weighting"] == expected


def test_feature_weights_setting_is_read_from_the_config_and_checked(tmp_path):
    from scr_text.codebook import load_codebook
    from scr_text.config import load_settings
    from scr_text.errors import UserError
    from scr_text.tagging.features import BLOCK_WEIGHTS
    from scr_text.tagging.options import classifier_options

    codebook = load_codebook()
    text = (PACKAGED_CONFIGS / "pipeline.yaml").read_text(encoding="utf-8")
    start = text.index("  feature_weights:")
    end = text.index("}", start) + 1
    for value, expected in (("{embedding: 0, rules: 1.5}", {**BLOCK_WEIGHTS, "embedding": 0.0, "rules": 1.5}),
                            ("{}", BLOCK_WEIGHTS), ("", BLOCK_WEIGHTS),  # an empty entry: the defaults
                            ("{embeddings: 1}", "names embeddings, not a feature block (tfidf, chars,"),
                            ("{rules: -1}", "the weight of rules must be a number of 0 or more"),
                            ("{rules: high}", "the weight of rules must be a number of 0 or more"),
                            ("[rules]", "must map feature blocks to weights, not ['rules']")):
        path = tmp_path / "p.yaml"
        path.write_text(text[:start] + f"  feature_weights: {value}" + text[end:], encoding="utf-8")
        if isinstance(expected, str):
            with pytest.raises(UserError, match=re.escape(expected)):
                classifier_options(load_settings(path).tagger, codebook)
        else:
            assert classifier_options(load_settings(path).tagger, codebook)["feature_weights"] == expected


def test_committed_default_model_was_trained_with_the_shipped_tagger_settings():
    """The figures in the README and the model card describe the model users get: trained with the
    classifier settings configs/pipeline.yaml ships (retrain after changing them)."""
    from scr_text.codebook import load_codebook
    from scr_text.config import load_settings
    from scr_text.tagging.options import classifier_options

    model = TaggerModel.load("default")
    options = classifier_options(load_settings().tagger, load_codebook())
    assert {key: model.card.get(key) for key in options} == options
    assert model.stages.features.weights == options["feature_weights"]
    assert model.stages.classifier.C == options["C"] and model.stages.classifier.review_C == options["review_C"]


def test_model_card_names_the_codes_whose_ngrams_are_weighted():
    from scr_text.locations import PACKAGED_MODELS
    from scr_text.tagging.model_card import render_card

    card = json.loads((PACKAGED_MODELS / "default" / "card.json").read_text(encoding="utf-8"))
    assert "N-gram columns weighted" not in render_card(card)  # the committed model: off
    line = "N-gram columns weighted per code by naive Bayes log-count ratios (`tagger.ngram_weighting`): "
    assert line + "front_loading, planning" in render_card({**card, "ngram_weighting": ["front_loading", "planning"]})
    assert line + "every code" in render_card({**card, "ngram_weighting": True})  # a card from before families


def test_ngram_weighting_for_some_codes_leaves_the_others_as_they_were():
    from scr_text.tagging.classify import ThemeClassifier

    rng = np.random.default_rng(0)
    X = sparse.csr_matrix(rng.random((80, 30)) * (rng.random((80, 30)) < 0.3))
    Y = np.column_stack([np.asarray(X[:, 0].todense()).ravel() > 0, np.asarray(X[:, 1].todense()).ravel() > 0.2])
    groups = np.repeat(np.arange(16), 5)
    plain = ThemeClassifier(["a", "b"]).fit(X, Y, groups)
    some = ThemeClassifier(["a", "b"], weighted_columns=(0, 20), weighted_codes=["b"]).fit(X, Y, groups)
    every = ThemeClassifier(["a", "b"], weighted_columns=(0, 20)).fit(X, Y, groups)
    assert np.array_equal(some.models_[0].coef_, plain.models_[0].coef_)  # code a: not weighted
    assert np.array_equal(some.models_[1].coef_, every.models_[1].coef_)  # code b: weighted
    assert not np.allclose(some.models_[1].coef_, plain.models_[1].coef_)
