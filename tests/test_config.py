"""Every section of pipeline.yaml is a typed settings object, checked when the file is read."""
from __future__ import annotations

import pytest

from scr_text.config import ClusterSettings, QueueSettings, TaggerSettings, load_settings
from scr_text.errors import UserError


def _settings(tmp_path, text: str):
    path = tmp_path / "pipeline.yaml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def test_the_shipped_settings_are_typed_sections():
    settings = load_settings()
    assert isinstance(settings.tagger, TaggerSettings) and settings.tagger.model == "default"
    assert isinstance(settings.cluster, ClusterSettings) and settings.cluster.labels.top_terms == 5
    assert isinstance(settings.app.queue, QueueSettings) and settings.app.queue.per_review == 2
    assert settings.coding.qdpx_units["nvivo"] == "utf16"
    assert settings.evaluate.targets["folds_macro_f1"] == 0.82


def test_sections_and_entries_left_out_or_empty_take_their_defaults(tmp_path):
    settings = _settings(tmp_path, "app:\n  port: 9000\n  queue:\ntagger:\n  feature_weights:\n  exemplars: 3\n")
    assert settings.app.port == 9000 and settings.app.queue.size == 20 and settings.agreement.min_kappa == 0.6
    assert settings.tagger.feature_weights == {} and settings.tagger.exemplars == 3


@pytest.mark.parametrize("text, message", [
    ("taggr:\n  C: 2\n", "unknown section(s) taggr"),
    ("app:\n  queue:\n    sise: 3\n", "[app.queue]: unknown setting(s) sise"),
    ("cluster:\n  labels:\n    top_term: 3\n", "[cluster.labels]: unknown setting(s) top_term"),
    ("tagger:\n  ngram_weighting: 3\n", "[tagger]: ngram_weighting must be true, false or a list"),
    ("tagger:\n  feature_weights: [tfidf]\n", "[tagger]: feature_weights must map feature blocks to weights"),
    ("coding: [min_share]\n", "[coding]: expected a mapping of settings"),
])
def test_a_mistake_in_any_section_is_one_clear_error_when_the_file_is_read(tmp_path, text, message):
    with pytest.raises(UserError) as exc:
        _settings(tmp_path, text)
    assert message in str(exc.value)
