"""LoRA supervised fine-tuning of the base model on tool-use conversations, then merge.

Loss on assistant tokens only (tool-call lines, answers, their ``<|im_end|>``). LoRA sits on the
attention and MLP projections only (no ``modules_to_save``), so vLLM can serve the adapter with
``--enable-lora --lora-modules diaodu=finetune/artifacts/adapter --max-lora-rank 256`` (the shipped
adapter stacks nine rounds on the grown 8-layer base: rank 192). Writes
``adapter/`` (PEFT format) and ``teacher/`` (merged, HF format), each with meta.json.

A later round trains on the merged teacher of the earlier ones (``--base`` that teacher,
``--stack-on`` their adapter); ``adapter/`` then holds the stacked adapter on the original base
(:mod:`finetune.adapters`), so base + adapter still equals the merged teacher.

``--embed-lr R --embeddings-into BASE`` also trains the tied token embeddings (session 22: the output
layer is where a miscopied name is finally chosen, and every earlier round left it as pretraining made
it). An adapter cannot carry them (vLLM serves no ``modules_to_save``), so they are written into
``BASE``, the folder the adapter sits on: base + adapter is still the merged teacher.

``python -m finetune.sft --data sft.jsonl --base DIR --adapter-out DIR --merged-out DIR [--steps N] [--stack-on DIR]``
"""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

from finetune.adapters import stack_adapters
from finetune.common import (
    batch_ce,
    batch_stream,
    encode_rows,
    param_count,
    read_meta,
    save_tokenizer,
    setup,
    train_steps,
    write_meta,
    written_beside,
)
from finetune.data import data_hash, read_jsonl

log = logging.getLogger(__name__)

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="LoRA SFT of the base model, then merge.")
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--base", type=Path, required=True)
    ap.add_argument("--adapter-out", type=Path, required=True)
    ap.add_argument("--merged-out", type=Path, required=True)
    ap.add_argument("--rank", type=int, default=32)
    ap.add_argument("--alpha", type=int, default=64)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--tokens-per-batch", type=int, default=4096)
    ap.add_argument("--max-len", type=int, default=512)
    ap.add_argument("--max-seconds", type=float, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--value-weight", type=float, default=1.0,
                    help="loss weight on the tool-call argument values (1 = plain mean over assistant tokens)")
    ap.add_argument("--embed-lr", type=float, default=0.0,
                    help="also train the (tied) token embeddings at this peak rate (0: frozen, the adapter alone)")
    ap.add_argument("--embeddings-into", type=Path, default=None,
                    help="with --embed-lr: the model folder the adapter sits on, which takes the trained embeddings")
    ap.add_argument("--stack-on", type=Path, default=None,
                    help="the adapter that made --base from its own base: write the stacked adapter")
    a = ap.parse_args(argv)
    if a.embed_lr < 0:
        ap.error(f"--embed-lr {a.embed_lr}: a learning rate is >= 0 (0 keeps the embeddings frozen)")
    if (a.embed_lr > 0) != (a.embeddings_into is not None):
        # a LoRA adapter cannot carry the embeddings (vLLM serves no modules_to_save), so the folder the
        # adapter sits on must take them, or base + adapter would no longer be the merged teacher
        ap.error("--embed-lr > 0 and --embeddings-into DIR go together: trained embeddings must be written into "
                 "the model the adapter sits on")
    if a.embeddings_into is not None:
        try:  # before training, not after it
            check_embeddings_target(a.embeddings_into)
        except ValueError as e:
            ap.error(str(e))
    setup(a.seed, a.threads)
    tok = AutoTokenizer.from_pretrained(a.base)
    base = AutoModelForCausalLM.from_pretrained(a.base, dtype=torch.float32)
    rows = read_jsonl(a.data)
    examples = encode_rows(tok, rows, a.value_weight)
    lcfg = LoraConfig(r=a.rank, lora_alpha=a.alpha, lora_dropout=0.0, target_modules=TARGETS, bias="none",
                      task_type="CAUSAL_LM")
    # Any: peft forwards merge_and_unload to the LoRA model through __getattr__, which mypy cannot follow
    model: Any = get_peft_model(base, lcfg)
    trainable = [p for p in model.parameters() if p.requires_grad]
    groups: list[dict[str, Any]] = [{"params": trainable, "lr": a.lr}]
    if a.embed_lr > 0:
        embed = model.get_input_embeddings().weight
        embed.requires_grad_(True)
        groups.append({"params": [embed], "lr": a.embed_lr})
    stream = batch_stream(examples, a.tokens_per_batch, a.seed + 1, a.max_len, tok.pad_token_id)
    stats = train_steps(model, stream, a.steps, groups, batch_ce, max_seconds=a.max_seconds)
    config = {"rank": a.rank, "alpha": a.alpha, "targets": TARGETS, "lr": a.lr, "steps": a.steps,
              "tokens_per_batch": a.tokens_per_batch, "seed": a.seed, "base": str(a.base),
              "value_weight": a.value_weight, "embed_lr": a.embed_lr}
    round_dir = a.adapter_out.with_name(a.adapter_out.name + ".round") if a.stack_on else a.adapter_out
    model.save_pretrained(round_dir)
    save_tokenizer(tok, round_dir)
    n_lora = sum(p.numel() for p in trainable)
    write_meta(round_dir, kind="adapter", config=config, lora_params=n_lora, data_hash=data_hash(rows), train=stats,
               train_time_s=stats["seconds"])
    lora_meta: dict = config
    if a.stack_on:
        lora_meta = {**stack_adapters(a.stack_on, round_dir, a.adapter_out),
                     "rounds": read_meta(a.adapter_out)["config"]["rounds"]}
        shutil.rmtree(round_dir)  # its config and data hash live on in the stacked adapter's meta.json
    merged = model.merge_and_unload()
    if a.embeddings_into is not None:
        replace_embeddings(a.embeddings_into, merged.get_input_embeddings().weight)
    (a.merged_out / "meta.json").unlink(missing_ok=True)  # a later round overwrites the earlier teacher
    merged.to(torch.bfloat16).save_pretrained(a.merged_out)
    save_tokenizer(tok, a.merged_out)
    before = read_meta(a.base)
    base_time = before.get("train_time_s", 0) or 0
    # a later round's base is already a teacher: its SFT time adds up, its pretraining time carries over
    sft_before = (before.get("sft_time_s") or 0) if a.stack_on else 0
    pretrain_time = (before.get("pretrain_time_s") or 0) if a.stack_on else base_time
    write_meta(a.merged_out, kind="teacher", config={**merged.config.to_dict(), "lora": lora_meta},
               params=param_count(merged), data_hash=data_hash(rows), train=stats,
               train_time_s=round(base_time + stats["seconds"], 1), sft_time_s=round(sft_before + stats["seconds"], 1),
               pretrain_time_s=pretrain_time)
    log.info("adapter (%d LoRA params) -> %s; merged teacher -> %s", n_lora, a.adapter_out, a.merged_out)


def check_embeddings_target(model_dir: Path) -> None:
    """ValueError unless ``model_dir`` holds one ``model.safetensors`` that can take the embeddings."""
    if not (Path(model_dir) / "model.safetensors").is_file():
        raise ValueError(f"{model_dir}: no single model.safetensors to write the token embeddings into")


def replace_embeddings(model_dir: Path, weight: torch.Tensor) -> None:
    """Write ``weight`` as the token embeddings (tied to the output layer) of the model in ``model_dir``.

    A round that trains the embeddings (``--embed-lr``) writes them into the base its adapter sits on, so
    base + adapter is still the merged teacher; the base's ``meta.json`` records it.
    """
    from safetensors.torch import load_file, save_file

    check_embeddings_target(model_dir)
    with written_beside(model_dir, seed_from=model_dir) as tmp:
        weights = load_file(tmp / "model.safetensors")
        key = next((k for k in weights if k.endswith("embed_tokens.weight")), None)
        if key is None or weights[key].shape != weight.shape:
            raise ValueError(f"{model_dir}: no token embeddings of shape {tuple(weight.shape)} to replace")
        weights[key] = weight.detach().to(weights[key].dtype).contiguous()
        save_file(weights, tmp / "model.safetensors", metadata={"format": "pt"})
        write_meta(tmp, embeddings_trained_in_sft=read_meta(tmp).get("embeddings_trained_in_sft", 0) + 1)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
