"""Experiment, not part of the pipeline: would fine-tuning the embedding model help the tagger?

For each review-grouped fold, the top ``--layers`` transformer layers of all-MiniLM-L6-v2 and a linear
multi-label head are fine-tuned on the training reviews' gold codes (the lower layers stay frozen, their
outputs computed once); every passage is then embedded with that fold's encoder (mean-pooled), and the
combined system of `scr-text evaluate` (same features, classifier, thresholds) is trained on the training
reviews with those embeddings in place of the stock ones. Prints macro and per-code F1 for both, same folds.
``--loss supcon`` trains the layers with a supervised contrastive loss instead of (``both``: as well as) the
head's binary cross-entropy: passages sharing codes drawn together (docs/tagging-experiments.md).

    .venv/bin/python experiments/exp_finetune_top_layers.py [--layers 2] [--epochs 4] [--folds 5]
        [--loss bce|supcon|both] [--seed N]
"""
from __future__ import annotations

import argparse
import copy

import numpy as np
from shipped_corpus import shipped_batch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--loss", choices=["bce", "supcon", "both"], default="bce",
                    help="bce: the multi-label head's loss; supcon: a supervised contrastive loss over the pooled "
                         "vectors, a pair's weight its codes' Jaccard similarity (SetFit's idea); both: their sum")
    ap.add_argument("--temperature", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=None, help="shuffle which reviews share a fold (as `evaluate --seed`)")
    args = ap.parse_args()

    import torch
    from transformers import AutoModel, AutoTokenizer

    from scr_text.codebook import load_codebook
    from scr_text.config import load_settings
    from scr_text.embed.encoder import resolve_model_path
    from scr_text.evaluation.cross_validation import subset
    from scr_text.evaluation.metrics import metrics
    from scr_text.evaluation.tables import format_table
    from scr_text.tagging.classify import grouped_folds
    from scr_text.tagging.features import Batch
    from scr_text.tagging.options import classifier_options
    from scr_text.tagging.tagger import Stages

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    settings, codebook = load_settings(), load_codebook()
    batch, Y, groups = shipped_batch(settings, codebook, progress=False)
    texts = [p.text for p in batch.passages]
    path = str(resolve_model_path(settings.embed.model))
    tokenizer, encoder = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
    cut = encoder.config.num_hidden_layers - args.layers
    states = []  # the frozen lower layers' output per passage, computed once
    with torch.no_grad():
        for i in range(0, len(texts), 32):
            enc = tokenizer(texts[i:i + 32], padding=True, truncation=True, max_length=256, return_tensors="pt")
            hidden = encoder(**enc, output_hidden_states=True).hidden_states[cut]
            states += [h[m == 1].clone() for h, m in zip(hidden, enc["attention_mask"])]

    def padded(idx):
        width = max(len(states[i]) for i in idx)
        H, M = torch.zeros(len(idx), width, encoder.config.hidden_size), torch.zeros(len(idx), width)
        for k, i in enumerate(idx):
            H[k, :len(states[i])], M[k, :len(states[i])] = states[i], 1
        return H, M

    class Top(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = copy.deepcopy(encoder.encoder.layer[cut:])
            self.head = torch.nn.Linear(encoder.config.hidden_size, Y.shape[1])

        def forward(self, H, M):
            mask = (1.0 - M[:, None, None, :]) * -1e4
            for layer in self.layers:
                out = layer(H, attention_mask=mask)
                H = out[0] if isinstance(out, tuple) else out
            pooled = (H * M[..., None]).sum(1) / M.sum(1, keepdim=True)
            return self.head(torch.nn.functional.dropout(pooled, 0.1, self.training)), pooled

    def fine_tune(idx):
        model = Top()
        opt = torch.optim.AdamW([{"params": model.layers.parameters(), "lr": 5e-5},
                                 {"params": model.head.parameters(), "lr": 2e-3}], weight_decay=0.01)
        y = torch.from_numpy(Y[idx]).float()
        bce = torch.nn.BCEWithLogitsLoss(pos_weight=((1 - y).sum(0) / y.sum(0).clamp(min=1)).clamp(max=5))

        def supcon(pooled, yb):
            # Each coded passage pulled towards the batch's passages sharing its codes, in proportion to their
            # Jaccard similarity, and pushed from the rest; uncoded passages are only negatives.
            z = torch.nn.functional.normalize(pooled, dim=1)
            logits = z @ z.T / args.temperature
            eye = torch.eye(len(z), dtype=torch.bool)
            logits = logits.masked_fill(eye, -1e4)
            inter, union = yb @ yb.T, (yb[:, None, :] + yb[None, :, :]).clamp(max=1).sum(-1)
            w = (inter / union.clamp(min=1)).masked_fill(eye, 0)
            keep = w.sum(1) > 0
            if not keep.any():
                return logits.sum() * 0
            logp = logits.log_softmax(1)
            return -((w * logp).sum(1)[keep] / w.sum(1)[keep]).mean()

        size = 16 if args.loss == "bce" else 32  # contrastive batches need more pairs
        order = idx[np.argsort([len(states[i]) for i in idx])]
        batches = [order[b:b + size] for b in range(0, len(order), size)]
        for _ in range(args.epochs):
            model.train()
            if args.loss != "bce":  # length-sorted batches would pair passages by length, not by code
                order = rng.permutation(idx)
                batches = [order[b:b + size] for b in range(0, len(order), size)]
            rng.shuffle(batches)
            for b in batches:
                opt.zero_grad()
                logits, pooled = model(*padded(b))
                yb = torch.from_numpy(Y[b]).float()
                loss = bce(logits, yb) if args.loss != "supcon" else 0
                if args.loss != "bce":
                    loss = loss + supcon(pooled, yb)
                loss.backward()
                opt.step()
        model.eval()
        with torch.no_grad():
            vecs = np.vstack([model(*padded(np.arange(i, min(i + 64, len(texts)))))[1].numpy()
                              for i in range(0, len(texts), 64)])
        return (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)

    preds = {"stock": np.zeros(Y.shape, dtype=int), "fine-tuned": np.zeros(Y.shape, dtype=int)}
    for n, (tr, te) in enumerate(grouped_folds(groups, args.folds, args.seed), 1):
        tuned = Batch(batch.passages, fine_tune(tr), batch.rules)
        for name, b in (("stock", batch), ("fine-tuned", tuned)):
            stages = Stages.fit(subset(b, tr), Y[tr], groups[tr], codebook.ids, classifier_options(settings.tagger, codebook))
            preds[name][te] = stages.predict(subset(b, te))
        print(f"fold {n} done", flush=True)
    print(f"combined system, {args.folds}-fold grouped CV; fine-tuned: top {args.layers} layers, "
          f"{args.epochs} epochs, loss {args.loss}, split seed {args.seed}")
    print(format_table({"systems": {name: metrics(Y, P, codebook.ids) for name, P in preds.items()}}))


if __name__ == "__main__":
    main()
