"""The identifier guard's recall and false alarms on the planted-identifier set."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from scr_text.nlp.segment import Segmenter
from scr_text.privacy.guard import IdentifierGuard, load_guard_config
from scr_text.records import Document


def evaluate_guard(set_path: Path, settings, corpus: Path | None = None) -> tuple[dict, str]:
    """Recall per identifier type over planted identifiers, and the share of clean paragraphs flagged.
    A planted identifier counts as found when a finding of the same type overlaps it. With ``corpus``, also
    the reviews of that (redacted) corpus with any finding: each one is a false alarm that would refuse it."""
    rows = [json.loads(line) for line in Path(set_path).read_text(encoding="utf-8").splitlines() if line.strip()]
    segmenter = Segmenter.from_settings(settings)
    guard = IdentifierGuard(load_guard_config(), segmenter.nlp)
    documents = [Document(f"p{i}", str(set_path), "txt", str(i), row["text"]) for i, row in enumerate(rows)]
    found, planted, missed = Counter(), Counter(), []
    clean = flagged = 0
    for row, passages in zip(rows, segmenter.transform(documents)):
        findings = guard.check_passages(passages)
        if not row["identifiers"]:
            clean += 1
            flagged += bool(findings)
            if findings:
                missed.append(("false flag", row["text"], [(f.type, f.text) for f in findings]))
        for ident in row["identifiers"]:
            start = row["text"].index(ident["text"])
            end = start + len(ident["text"])
            planted[ident["type"]] += 1
            if any(f.type == ident["type"] and f.start < end and start < f.end for f in findings):
                found[ident["type"]] += 1
            else:
                missed.append(("missed", ident["type"], ident["text"]))
    per_type = {t: found[t] / planted[t] for t in sorted(planted)}
    result = {"recall_overall": sum(found.values()) / max(1, sum(planted.values())), "recall_per_type": per_type,
              "planted": dict(planted), "clean_paragraphs": clean, "clean_flagged_share": flagged / max(1, clean),
              "misses": missed}
    lines = [f"identifier guard on {set_path}: {sum(planted.values())} planted identifiers, {clean} clean paragraphs",
             f"{'type':<28}{'planted':>8}{'recall':>8}"]
    lines += [f"{t:<28}{planted[t]:>8}{per_type[t]:>8.3f}" for t in per_type]
    lines += [f"{'overall':<28}{sum(planted.values()):>8}{result['recall_overall']:>8.3f}",
              f"clean paragraphs wrongly flagged: {flagged}/{clean} ({100 * result['clean_flagged_share']:.1f}%)"]
    if corpus is not None:
        from scr_text.corpus import corpus_inputs
        from scr_text.ingest import read_documents

        reviews, _ = read_documents([corpus_inputs(corpus)], settings)
        alarms = {d.doc_id: [(f.type, f.text) for f in guard.check_passages(passages)]
                  for d, passages in zip(reviews, segmenter.transform(reviews))}
        alarms = {d: f for d, f in alarms.items() if f}
        result["corpus_reviews"], result["corpus_reviews_flagged"] = len(reviews), sorted(alarms)
        lines.append(f"redacted reviews of {corpus} refused for a finding: {len(alarms)}/{len(reviews)}")
        missed += [("false alarm", d, f) for d, f in sorted(alarms.items())]
    lines += [f"  {m}" for m in missed]
    return result, "\n".join(lines)
