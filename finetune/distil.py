"""Distil the teacher into an edge student (the reference paper's recipe) and train a CE-only twin.

Student loss ``alpha * T^2 * KL(softmax(teacher/T) || softmax(student/T)) + (1 - alpha) * CE``: the KL
term covers every real position of the conversation (the teacher's soft predictions carry its
language knowledge), the cross-entropy only the assistant tokens. ``--mode ce`` trains the same
architecture from the same initialisation with the cross-entropy alone, for comparison.

``python -m finetune.distil --teacher DIR --data sft.jsonl [more.jsonl ...] --out DIR [--mode kd|ce] [--steps N]``
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel

from finetune.common import (
    batch_stream,
    encode_rows,
    masked_ce,
    param_count,
    read_meta,
    save_tokenizer,
    setup,
    train_steps,
    write_meta,
)
from finetune.data import data_hash, read_jsonl
from finetune.modeling import new_model

log = logging.getLogger(__name__)


def kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor,
            temperature: float, alpha: float, weights: torch.Tensor | None = None) -> torch.Tensor:
    """``alpha * T^2 * KL + (1 - alpha) * CE`` (KL over real positions, CE over labelled ones).

    ``weights`` (one per token, from :func:`finetune.common.encode_weighted`) weight both terms by the
    token each position predicts."""
    t = temperature
    s_log = F.log_softmax(student_logits.float() / t, dim=-1)
    t_prob = F.softmax(teacher_logits.float() / t, dim=-1)
    kl = (t_prob * (torch.log(t_prob.clamp_min(1e-9)) - s_log)).sum(-1)
    m = mask.float()
    if weights is not None:
        # position i predicts token i + 1; the last position predicts nothing of weight
        m = m * torch.cat([weights[:, 1:], torch.ones_like(weights[:, :1])], dim=1)
    kl = (kl * m).sum() / m.sum().clamp_min(1.0)
    return alpha * t * t * kl + (1 - alpha) * masked_ce(student_logits, labels, weights)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Distil the teacher into a student (or train a CE-only twin).")
    ap.add_argument("--teacher", type=Path, required=True)
    ap.add_argument("--data", type=Path, nargs="+", required=True,
                    help="conversation files (JSONL); the pipeline passes every SFT round's data")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--mode", choices=["kd", "ce"], default="kd")
    ap.add_argument("--size", default="student")
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--alpha", type=float, default=0.5)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--tokens-per-batch", type=int, default=4096)
    ap.add_argument("--max-len", type=int, default=512)
    ap.add_argument("--max-seconds", type=float, default=None)
    ap.add_argument("--deadline", type=float, default=None,
                    help="wall-clock time (epoch seconds) to stop by, loading included (the pipeline's budget)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--value-weight", type=float, default=1.0,
                    help="loss weight on the tool-call argument values (1 = every token alike)")
    ap.add_argument("--init", type=Path, default=None,
                    help="continue from this student (a longer run in two sittings) instead of a new model")
    ap.add_argument("--encode-cache", type=Path, default=None,
                    help="keep the encoded conversations in this folder for later sittings (the pipeline's work folder)")
    a = ap.parse_args(argv)
    setup(a.seed, a.threads)
    tok = AutoTokenizer.from_pretrained(a.teacher)
    rows = [row for path in a.data for row in read_jsonl(path)]
    rows_hash = data_hash(rows)
    examples = encode_rows(tok, rows, a.value_weight, a.encode_cache, rows_hash)
    student: PreTrainedModel
    if a.init is not None:
        student = AutoModelForCausalLM.from_pretrained(a.init, dtype=torch.float32)
        if student.config.vocab_size != len(tok):
            raise SystemExit(f"error: --init {a.init} has {student.config.vocab_size} tokens, the teacher's tokenizer "
                             f"{len(tok)}: extend the student alike first (python -m finetune.extend --model {a.init} "
                             "--out DIR --top N, as the teacher was)")
        before = read_meta(a.init)
        info = {"init": str(a.init), "size": before.get("config", {}).get("size", a.size),
                "earlier_steps": before.get("train", {}).get("steps")}
    else:
        student, info = new_model(a.size, tok, "minilm")
    teacher = None
    if a.mode == "kd":
        teacher = AutoModelForCausalLM.from_pretrained(a.teacher, dtype=torch.float32).eval()
        for p in teacher.parameters():
            p.requires_grad_(False)

    def loss_fn(m: torch.nn.Module, b: dict[str, torch.Tensor]) -> torch.Tensor:
        logits = m(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits
        if teacher is None:
            return masked_ce(logits, b["labels"], b.get("weights"))
        with torch.no_grad():
            t_logits = teacher(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits
        return kd_loss(logits, t_logits, b["labels"], b["attention_mask"], a.temperature, a.alpha, b.get("weights"))

    stream = batch_stream(examples, a.tokens_per_batch, a.seed + 2, a.max_len, tok.pad_token_id)
    max_seconds = a.max_seconds
    if a.deadline is not None:
        # the data and the models took time to load: that came out of the same budget
        left = max(1.0, a.deadline - time.time())
        max_seconds = left if max_seconds is None else min(max_seconds, left)
    stats = train_steps(student, stream, a.steps, [{"params": list(student.parameters()), "lr": a.lr}], loss_fn,
                        max_seconds=max_seconds)
    # transformers wraps .to with functools.wraps, and mypy then reads the dtype as self
    student.to(torch.bfloat16).save_pretrained(a.out)  # type: ignore[arg-type]
    save_tokenizer(tok, a.out)
    t_params = read_meta(a.teacher).get("params")
    write_meta(a.out, kind="student" if a.mode == "kd" else "student-ce",
               config={**student.config.to_dict(), **info, "mode": a.mode, "temperature": a.temperature,
                       "alpha": a.alpha if a.mode == "kd" else 0.0, "lr": a.lr, "steps": a.steps, "seed": a.seed,
                       "teacher": str(a.teacher), "value_weight": a.value_weight},
               params=param_count(student), teacher_params=t_params, data_hash=rows_hash, train=stats,
               train_time_s=stats["seconds"])
    log.info("%s student (%d params) -> %s", a.mode, param_count(student), a.out)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
