"""The pipeline's heavy parts, assembled here and only here from the settings.

One ``Components`` serves every stage of a job (tagging, facts, clusters): spaCy, the embedding model and
the tagger are each loaded once, and only on first use, so that a re-run answered by the store loads none.
"""
from __future__ import annotations

from functools import cached_property

from scr_text.codebook import Codebook, load_codebook
from scr_text.config import Settings
from scr_text.embed.encoder import Embedder
from scr_text.errors import UserError
from scr_text.modeldir import model_key, resolve_model_dir
from scr_text.nlp.restore import stored_passages
from scr_text.nlp.segment import Segmenter
from scr_text.records import Passage
from scr_text.store.database import Store


class Components:
    def __init__(self, settings: Settings, store: Store | None = None, codebook: Codebook | None = None,
                 model: str | None = None, progress: bool = False):
        self.settings = settings
        self.progress = progress  # progress bars while embedding
        self.store = store  # the embedding cache and the stored reviews; None: files only, nothing cached
        self.codebook = codebook or load_codebook()
        self.model = model or settings.tagger.model

    @cached_property
    def model_key(self) -> str:
        """The key stored tags are kept under: the model's files and the codebook."""
        return model_key(resolve_model_dir(self.model), self.codebook.hash)

    @cached_property
    def segmenter(self) -> Segmenter:
        return Segmenter.from_settings(self.settings)

    @cached_property
    def file_segmenter(self) -> Segmenter:
        """For files tagged without storing them: no stored analysis to match, so spaCy runs only what tagging
        needs (``tagger.disable``)."""
        return Segmenter.from_settings(self.settings, self.settings.tagger.disable)

    @cached_property
    def embedder(self) -> Embedder:
        return Embedder(self.settings.embed, cache=self.store, progress=self.progress)

    @cached_property
    def tagger(self):
        return load_tagger(self.model, self.codebook, self.segmenter, self.settings.tagger.exemplars, self.embedder)

    def stored_passages(self, doc_ids: list[str]) -> list[Passage]:
        return stored_passages(self.store, doc_ids, self.segmenter)

    def embed(self, passages: list[Passage]):
        return self.embedder.transform([p.text for p in passages])


def load_tagger(model_name: str, codebook: Codebook, segmenter: Segmenter, n_exemplars: int = 2,
                embedder: Embedder | None = None):
    """The tagger of a trained model. With ``embedder``, refuse a model trained on another embedding
    model's vectors (its classifier would read noise); another backend of the same weights is fine."""
    # Imported here: scikit-learn and the rules' spaCy matchers load only when something needs tagging.
    from scr_text.tagging.rules import RuleTagger
    from scr_text.tagging.tagger import Tagger, TaggerModel

    model = TaggerModel.load(model_name)
    if embedder is not None:
        check_embeddings(model, model_name, embedder)
    return Tagger(model, RuleTagger(codebook, segmenter.nlp), n_exemplars)


def check_embeddings(model, model_name: str, embedder: Embedder) -> None:
    """Refuse a model trained on another embedding model's vectors (its classifier would read noise)."""
    trained = str(model.card.get("embedding_model") or "").split("/")[0]
    if trained and trained != embedder.weights_id:
        raise UserError(f"model '{model_name}' was trained on embeddings of {trained}, but the configured embedding "
                        f"model is {embedder.weights_id}: retrain it (`scr-text train`) or set embed.model back")
