"""Pretrain the base decoder on the domain corpus (full next-token loss).

The corpus is the rendered tool-use conversations plus the shared reference paper and tool
spec; embeddings start from MiniLM (see :mod:`finetune.modeling`) and learn at a lower rate so
the borrowed word knowledge is kept. Writes ``base/`` in HF format (bf16 weights) + meta.json.

``python -m finetune.pretrain --data train.jsonl --tokenizer DIR --out DIR [--steps N]``
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import torch
from transformers import AutoTokenizer, PreTrainedModel

from finetune.common import (
    batch_ce,
    batch_stream,
    encode_conversation,
    param_count,
    read_meta,
    save_tokenizer,
    setup,
    train_steps,
    write_meta,
)
from finetune.data import data_hash, read_jsonl
from finetune.modeling import new_model
from finetune.tokenizer import reference_texts

log = logging.getLogger(__name__)


def lm_examples(tok, rows: list[dict], extra: list[str], max_len: int) -> list[tuple[list[int], list[int]]]:
    """Full-loss examples: each conversation, and the reference paragraphs cut to ``max_len``."""
    out = [encode_conversation(tok, r["messages"], assistant_only=False) for r in rows]
    for text in extra:
        ids = tok.encode(text, add_special_tokens=False)
        for i in range(0, len(ids), max_len):
            piece = ids[i:i + max_len]
            if len(piece) > 8:
                out.append((piece, piece))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Pretrain the base decoder.")
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--tokenizer", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--size", default="teacher")
    ap.add_argument("--init", default="minilm", choices=["minilm", "random"])
    ap.add_argument("--resume", type=Path, default=None, help="continue pretraining this base model")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--emb-lr-scale", type=float, default=0.3)
    ap.add_argument("--tokens-per-batch", type=int, default=6144)
    ap.add_argument("--max-len", type=int, default=512)
    ap.add_argument("--max-seconds", type=float, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    setup(a.seed, a.threads)
    tok = AutoTokenizer.from_pretrained(a.tokenizer)
    rows = read_jsonl(a.data)
    examples = lm_examples(tok, rows, reference_texts(), a.max_len)
    model: PreTrainedModel
    if a.resume:
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(a.resume, dtype=torch.float32)
        prev = read_meta(a.resume)
        info = {"size": a.size, "init": f"resumed from {a.resume}", "previous_train": prev.get("train", {}).get("steps"),
                "previous_time_s": prev.get("train_time_s")}
        # the earlier stages' records travel with the model (config, data hash, curve of each)
        earlier = [*prev.get("previous_stages", []), {k: v for k, v in prev.items() if k != "previous_stages"}]
    else:
        model, info = new_model(a.size, tok, a.init)
        earlier = []
    emb = model.get_input_embeddings().weight
    rest = [p for p in model.parameters() if p is not emb]
    groups = [{"params": rest, "lr": a.lr}, {"params": [emb], "lr": a.lr * a.emb_lr_scale}]
    stream = batch_stream(examples, a.tokens_per_batch, a.seed, a.max_len, tok.pad_token_id)
    stats = train_steps(model, stream, a.steps, groups, batch_ce, max_seconds=a.max_seconds)
    # transformers wraps .to with functools.wraps, and mypy then reads the dtype as self
    model.to(torch.bfloat16).save_pretrained(a.out)  # type: ignore[arg-type]
    save_tokenizer(tok, a.out)
    write_meta(a.out, kind="base", config={**model.config.to_dict(), **info, "lr": a.lr, "emb_lr_scale": a.emb_lr_scale,
                                           "tokens_per_batch": a.tokens_per_batch, "seed": a.seed},
               params=param_count(model), data_hash=data_hash(rows), train=stats,
               train_time_s=round(stats["seconds"] + (info.get("previous_time_s") or 0), 1),
               examples=len(examples), previous_stages=earlier)
    log.info("base model (%d params) -> %s in %.0f s", param_count(model), a.out, stats["seconds"])


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
