"""Train only the embedding rows a vocabulary extension added (session 25).

After :mod:`finetune.extend` each new token's row is the mean of the rows it replaces, and a LoRA round
that also trains the embeddings moves them little: with tied embeddings a rare token's row is pushed down
at every position where it is not the answer and pulled up only where it is, so after the round the new
characters were still mostly wrong (the extended teacher garbled all 20 places holding one). Here
everything else is frozen and only the new rows train, on conversations dense in them (``finetune.data
--names han --zh-searches F``): every other weight and every old row stays as it was, and the new rows get
the whole update. ``--embeddings-into BASE`` writes the rows into the base the adapter sits on as well, so
base + adapter is still the model. Measured in session 25 (finetune/README.md): on 300 Chinese searches
the right new token came first at 42 % of the places it was due after 2000 steps (0 % before), not enough
to copy names; not shipped.

``python -m finetune.warm_rows --model DIR --data F --out DIR [--steps 600] [--lr 2e-3] [--embeddings-into BASE]``
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from finetune.common import (
    batch_ce,
    batch_stream,
    encode_rows,
    read_meta,
    run_cli,
    save_tokenizer,
    setup,
    train_steps,
    write_meta,
    written_beside,
)
from finetune.data import data_hash, read_jsonl
from finetune.sft import check_embeddings_target, replace_embeddings

log = logging.getLogger(__name__)


def first_new_row(model_dir: Path) -> int:
    """The first row :mod:`finetune.extend` added to ``model_dir`` (its ``meta.json`` records the old size)."""
    extended = read_meta(model_dir).get("extended") or {}
    if "vocab_from" not in extended:
        raise ValueError(f"--model {model_dir}: its meta.json records no vocabulary extension "
                         "(run python -m finetune.extend on it first, or give --from-row)")
    return int(extended["vocab_from"])


def warm_rows(model_dir: Path, data: list[Path], out: Path, steps: int, lr: float, seed: int, threads: int,
              tokens_per_batch: int, max_len: int, from_row: int | None = None,
              embeddings_into: Path | None = None) -> dict[str, Any]:
    """Train rows ``from_row``.. of ``model_dir``'s tied embeddings on ``data``; save the model to ``out``."""
    if steps < 1 or lr <= 0:
        raise ValueError(f"--steps {steps} --lr {lr}: give at least one step and a positive rate")
    start = first_new_row(model_dir) if from_row is None else from_row
    if embeddings_into is not None:
        check_embeddings_target(embeddings_into)
    setup(seed, threads)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model: Any = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    n_rows = model.config.vocab_size
    if not 0 < start < n_rows:
        raise ValueError(f"--from-row {start}: the model has {n_rows} rows; give a row in 1..{n_rows - 1}")
    rows = [r for path in data for r in read_jsonl(path)]
    examples = encode_rows(tok, rows)
    for p in model.parameters():
        p.requires_grad_(False)
    weight = model.get_input_embeddings().weight
    weight.requires_grad_(True)
    keep = torch.zeros(n_rows, 1)
    keep[start:] = 1.0
    weight.register_hook(lambda g: g * keep)  # the old rows get no gradient, so AdamW leaves them as they are
    before = weight.detach()[:start].clone()
    stream = batch_stream(examples, tokens_per_batch, seed + 3, max_len, tok.pad_token_id)
    stats = train_steps(model, stream, steps, [{"params": [weight], "lr": lr}], batch_ce)
    if not torch.equal(weight.detach()[:start], before):  # what the hook is there for
        raise RuntimeError("an old embedding row moved while only the new ones were to train")
    config = {"from_row": start, "rows": n_rows - start, "steps": steps, "lr": lr, "seed": seed,
              "tokens_per_batch": tokens_per_batch, "max_len": max_len, "source": str(model_dir)}
    info = {**config, "data_hash": data_hash(rows), "train": stats}
    with written_beside(out, seed_from=model_dir) as tmp:
        model.to(torch.bfloat16).save_pretrained(tmp)
        save_tokenizer(tok, tmp)
        write_meta(tmp, **{**read_meta(model_dir), "warm_rows": info})
    if embeddings_into is not None:
        replace_embeddings(embeddings_into, weight)
    log.info("trained rows %d..%d of %s in %.0f s -> %s", start, n_rows - 1, model_dir, stats["seconds"], out)
    return info


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Train only the embedding rows a vocabulary extension added.")
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--data", type=Path, nargs="+", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens-per-batch", type=int, default=2048)
    ap.add_argument("--max-len", type=int, default=384)
    ap.add_argument("--from-row", type=int, default=None,
                    help="the first row to train (default: where finetune.extend started adding)")
    ap.add_argument("--embeddings-into", type=Path, default=None,
                    help="also write the rows into this model folder (the base the adapter sits on)")
    ap.add_argument("--json", action="store_true", help="print what was trained as one JSON document")
    a = ap.parse_args(argv)
    run_cli(lambda: warm_rows(a.model, a.data, a.out, a.steps, a.lr, a.seed, a.threads, a.tokens_per_batch,
                              a.max_len, a.from_row, a.embeddings_into), a.json,
            lambda info: {k: v for k, v in info.items() if k != "train"} | {"out": str(a.out),
                                                                           "final_loss": info["train"]["final_loss"]})


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
