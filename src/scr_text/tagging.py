"""Tag review files or stored documents and produce the `tag` JSONL contract (one object per passage).

Tags of stored documents are kept in the store under the model's key, so that a re-run with the
same model and codebook tags nothing again.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from .codebook import Codebook
from .config import Settings
from .embed import Embedder
from .errors import UserError
from .modeldir import model_key, resolve_model_dir
from .store import Store

# spaCy, scikit-learn and the model are imported only when something needs tagging: a re-run
# whose tags are all in the store pays for none of them.


def load_tagger(model_name: str, codebook: Codebook, segmenter, n_exemplars: int = 2, embedder: Embedder | None = None):
    """The tagger of a trained model. With ``embedder``, refuse a model trained on another embedding
    model's vectors (its classifier would read noise); another backend of the same weights is fine."""
    from .rules import RuleTagger
    from .tagger import Tagger, TaggerModel

    model = TaggerModel.load(model_name)
    trained = str(model.card.get("embedding_model") or "").split("/")[0]
    if embedder is not None and trained and trained != embedder.weights_id:
        raise UserError(f"model '{model_name}' was trained on embeddings of {trained}, but the configured embedding "
                        f"model is {embedder.weights_id}: retrain it (`scr-text train`) or set embed.model back")
    return Tagger(model, RuleTagger(codebook, segmenter.nlp), n_exemplars)


def write_jsonl(rows, out: Path) -> int:
    """Write rows atomically (a .part file renamed at the end); returns the number written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    n = 0
    with open(tmp, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(out)
    return n


def tag_files(inputs, out: Path, settings: Settings, codebook: Codebook, model_name: str, store: Store | None,
              progress: bool = True) -> tuple[int, int, list[str]]:
    """Tag files without storing them. Returns (documents tagged, passages written, one line per failed file)."""
    from .segment import Segmenter
    from .train import read_documents

    documents, failed = read_documents(inputs, settings)
    disable = settings.extra.get("tagger", {}).get("disable", settings.segment.disable)
    segmenter = Segmenter(replace(settings.segment, disable=list(disable)), settings.limits.max_passages_per_document)
    embedder = Embedder(settings.embed, cache=store, progress=False)
    tagger = load_tagger(model_name, codebook, segmenter, n_exemplars(settings), embedder)

    def rows():
        for document in tqdm(documents, desc="tag", unit="doc", disable=not progress or len(documents) < 2):
            (passages,) = segmenter.transform([document])
            for result in tagger.tag(passages, embedder.transform([p.text for p in passages])):
                yield result.to_json()

    return len(documents), write_jsonl(rows(), out), failed


def tag_stored(store: Store, doc_ids: list[str], settings: Settings, codebook: Codebook, model_name: str,
               run_id: int | None = None, progress: bool = True) -> tuple[str, list[dict]]:
    """Tag stored documents that have no tags from this model yet; return (model key, contract rows)."""
    key = model_key(resolve_model_dir(model_name), codebook.hash)
    todo = [d for d in doc_ids if not store.has_tags(key, d)]
    if todo:
        from .segment import Segmenter
        from .train import stored_passages

        segmenter = Segmenter(settings.segment, settings.limits.max_passages_per_document)
        embedder = Embedder(settings.embed, cache=store, progress=False)
        tagger = load_tagger(model_name, codebook, segmenter, n_exemplars(settings), embedder)
        for doc_id in tqdm(todo, desc="tag", unit="doc", disable=not progress or len(todo) < 2):
            passages = stored_passages(store, [doc_id], segmenter)
            results = tagger.tag(passages, embedder.transform([p.text for p in passages]))
            store.put_tags(key, run_id, [row for r in results for row in r.store_rows()])
    return key, [row for d in doc_ids for row in store.tag_rows(key, d)]


def n_exemplars(settings: Settings) -> int:
    return int(settings.extra.get("tagger", {}).get("exemplars", 2))
