"""Shared plumbing for the training phases: paths, seeds, meta.json, encoding and batching."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import random
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from finetune.chatformat import dumps, flat_calls, render_blocks
from tools.core.cli import print_json

log = logging.getLogger(__name__)

FINETUNE_DIR = Path(__file__).resolve().parent
ARTIFACTS = FINETUNE_DIR / "artifacts"
HELDOUT = FINETUNE_DIR.parent / "evals" / "suites" / "heldout.jsonl"


def setup(seed: int, threads: int = 2) -> None:
    """Seed everything and bound the CPU threads (the machine is shared)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    torch.set_num_threads(threads)
    random.seed(seed)
    torch.manual_seed(seed)


def write_meta(out: Path, **fields: Any) -> None:
    """``meta.json`` beside the weights: config, data hash, metrics, train time."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "meta.json"
    old = json.loads(path.read_text()) if path.is_file() else {}
    old.update(fields)
    path.write_text(json.dumps(old, ensure_ascii=False, indent=2, default=str) + "\n")


@contextmanager
def written_beside(out: Path, seed_from: Path | None = None) -> Iterator[Path]:
    """Yield a side folder to write ``out`` into; on success it replaces ``out``.

    Written beside, then swapped in, because ``out`` may be the very folder being read (the pipeline grows
    and stacks in place), and a failure half-way must leave the old ``out`` whole. ``seed_from`` starts the
    side folder as a copy of that folder (tokenizer files, chat template, README).
    """
    out = Path(out)
    tmp = out.with_name(out.name + ".writing")
    shutil.rmtree(tmp, ignore_errors=True)
    if seed_from is not None:
        shutil.copytree(seed_from, tmp)
    else:
        tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)


def read_meta(path: Path) -> dict[str, Any]:
    p = Path(path) / "meta.json"
    return json.loads(p.read_text()) if p.is_file() else {}


def encode_conversation(tok: Any, messages: list[dict[str, Any]], assistant_only: bool = True) -> tuple[list[int], list[int]]:
    """Token ids and labels (-100 where no loss) of a rendered conversation.

    With ``assistant_only`` the loss covers each assistant turn's body and its ``<|im_end|>``
    (so the model learns where to stop), not the ``<|im_start|>assistant\\n`` header.
    """
    ids, labels, _ = encode_weighted(tok, messages, 1.0, assistant_only)
    return ids, labels


def encode_weighted(tok: Any, messages: list[dict[str, Any]], value_weight: float,
                    assistant_only: bool = True) -> tuple[list[int], list[int], list[float]]:
    """:func:`encode_conversation` plus a loss weight per token: ``value_weight`` on the tokens of the
    tool-call argument values (except the free-text ``query``), 1 elsewhere.

    Why: most of a tiny model's wrong calls are one miscopied value, above all the first token of a
    made-up dataset or place name, while the answer text around the calls holds most of the loss.
    """
    ids: list[int] = []
    labels: list[int] = []
    weights: list[float] = []
    blocks = render_blocks(messages)
    # render_blocks adds the system prompt when the conversation has none
    sources = messages if len(blocks) == len(messages) else [{"role": "system"}, *messages]
    for message, (role, block) in zip(sources, blocks, strict=True):
        enc = tok(block, add_special_tokens=False, return_offsets_mapping=value_weight != 1.0)
        bid = enc["input_ids"]
        if role == "assistant" or not assistant_only:
            head = len(tok.encode(f"<|im_start|>{role}\n", add_special_tokens=False)) if assistant_only else 0
            # the trailing "\n" after <|im_end|> is context for the next turn, not a target
            lab = [-100] * head + bid[head:-1] + [-100] if assistant_only else list(bid)
        else:
            lab = [-100] * len(bid)
        w = [1.0] * len(bid)
        if value_weight != 1.0 and role == "assistant" and message.get("tool_calls"):
            spans = _value_spans(block, message)
            w = [value_weight if any(a < e and s < b for s, e in spans) else 1.0 for a, b in enc["offset_mapping"]]
        ids += bid
        labels += lab
        weights += w
    return ids, labels, weights


def encode_rows(tok: Any, rows: list[dict[str, Any]], value_weight: float = 1.0, cache: Path | None = None,
                key: str = "") -> list[Any]:
    """Assistant-loss examples of ``rows`` (:func:`encode_weighted` when ``value_weight != 1``).

    With a ``cache`` folder the encoded examples are kept there under a key of the tokenizer, ``key``
    (the data's hash) and the weight: a run's later distillation sittings read the same 80,000
    conversations again, and encoding them takes about 40 s each time.
    """
    path = None
    if cache is not None and key:
        h = hashlib.sha256(tok.backend_tokenizer.to_str().encode())
        h.update(f"{key}|{value_weight}".encode())
        path = Path(cache) / f"encoded-{h.hexdigest()[:16]}.npz"
        if path.is_file():
            with np.load(path) as z:
                ends = z["ends"].tolist()
                starts = [0, *ends[:-1]]
                cols = [z[c].tolist() for c in ("ids", "labels", "weights") if c in z]
            log.info("encoded examples from %s", path)
            return [tuple(col[a:b] for col in cols) for a, b in zip(starts, ends, strict=True)]
    examples: list[Any] = [encode_weighted(tok, r["messages"], value_weight) if value_weight != 1.0 else
                           encode_conversation(tok, r["messages"], assistant_only=True) for r in rows]
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {"ends": np.cumsum([len(ex[0]) for ex in examples], dtype=np.int64),
                  "ids": np.array([t for ex in examples for t in ex[0]], dtype=np.int32),
                  "labels": np.array([t for ex in examples for t in ex[1]], dtype=np.int32)}
        if value_weight != 1.0:
            arrays["weights"] = np.array([w for ex in examples for w in ex[2]], dtype=np.float32)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, **arrays)
        os.replace(tmp, path)  # whole or not at all: the CE twin may read it while the KD student writes
    return examples


def _value_spans(block: str, message: dict[str, Any]) -> list[tuple[int, int]]:
    """Character spans of the argument values in an assistant block's rendered tool calls."""
    spans: list[tuple[int, int]] = []
    at = 0
    for call in flat_calls(message):
        for key, value in call["arguments"].items():
            key_text = f"{dumps(key)}: "
            needle = key_text + dumps(value)
            i = block.find(needle, at)
            if i < 0:
                continue
            at = i + len(needle)
            if key != "query":
                spans.append((i + len(key_text), at))
    return spans


def length_batches(examples: list[Any], tokens_per_batch: int, rng: random.Random,
                   max_len: int) -> list[list[int]]:
    """Index batches of similar length, about ``tokens_per_batch`` padded tokens each, shuffled."""
    idx = [i for i, ex in enumerate(examples) if len(ex[0]) <= max_len]
    rng.shuffle(idx)
    # sort within large chunks so batches have similar lengths but the order stays random
    chunk = 2000
    batches: list[list[int]] = []
    for c in range(0, len(idx), chunk):
        part = sorted(idx[c:c + chunk], key=lambda i: len(examples[i][0]))
        cur: list[int] = []
        longest = 0
        for i in part:
            n = len(examples[i][0])
            if cur and max(longest, n) * (len(cur) + 1) > tokens_per_batch:
                batches.append(cur)
                cur, longest = [], 0
            cur.append(i)
            longest = max(longest, n)
        if cur:
            batches.append(cur)
    rng.shuffle(batches)
    return batches


def collate(examples: list[Any], batch: list[int], pad_id: int) -> dict[str, torch.Tensor]:
    """Padded ``input_ids``, ``labels`` and ``attention_mask``; ``weights`` too when the examples carry
    them (``(ids, labels, weights)`` from :func:`encode_weighted`)."""
    n = max(len(examples[i][0]) for i in batch)
    ids = torch.full((len(batch), n), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), n), -100, dtype=torch.long)
    mask = torch.zeros((len(batch), n), dtype=torch.long)
    weighted = len(examples[batch[0]]) == 3
    weights = torch.ones((len(batch), n)) if weighted else None
    for r, i in enumerate(batch):
        x, y = examples[i][0], examples[i][1]
        ids[r, :len(x)] = torch.tensor(x)
        labels[r, :len(y)] = torch.tensor(y)
        mask[r, :len(x)] = 1
        if weights is not None:
            weights[r, :len(x)] = torch.tensor(examples[i][2])
    out = {"input_ids": ids, "labels": labels, "attention_mask": mask}
    if weights is not None:
        out["weights"] = weights
    return out


def batch_stream(examples: list[Any], tokens_per_batch: int, seed: int, max_len: int,
                 pad_id: int) -> Iterator[dict[str, torch.Tensor]]:
    """Endless shuffled length-bucketed batches (a new order each epoch)."""
    epoch = 0
    while True:
        rng = random.Random(seed * 1000 + epoch)
        for b in length_batches(examples, tokens_per_batch, rng, max_len):
            yield collate(examples, b, pad_id)
        epoch += 1


def lr_at(step: int, total: int, peak: float, warmup: int, time_fraction: float = 0.0) -> float:
    """Linear warm-up then cosine decay to 10% of the peak.

    The decay follows the step count or ``time_fraction`` (the share of a time cap already used),
    whichever is further on: a run that its time cap stops still ends annealed, not at a high rate.
    """
    if step < warmup:
        return peak * (step + 1) / warmup
    p = min(1.0, max((step - warmup) / max(1, total - warmup), time_fraction))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def masked_ce(logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Next-token cross-entropy where labels != -100; with ``weights`` (one per token) the weighted mean."""
    flat_logits = logits[:, :-1].reshape(-1, logits.size(-1)).float()
    flat_labels = labels[:, 1:].reshape(-1)
    if weights is None:
        return torch.nn.functional.cross_entropy(flat_logits, flat_labels, ignore_index=-100)
    per_token = torch.nn.functional.cross_entropy(flat_logits, flat_labels, ignore_index=-100, reduction="none")
    w = weights[:, 1:].reshape(-1) * (flat_labels != -100)
    return (per_token * w).sum() / w.sum().clamp_min(1e-8)


def batch_ce(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """:func:`masked_ce` of ``model`` on one :func:`collate` batch (weighted when the batch carries weights)."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return masked_ce(logits, batch["labels"], batch.get("weights"))


class Timer:
    """Wall-clock seconds since creation."""

    def __init__(self) -> None:
        self.t0 = time.time()

    def __call__(self) -> float:
        return time.time() - self.t0


def param_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def dir_size(path: Path) -> int:
    """Bytes of the weight files in an artifact folder."""
    return sum(f.stat().st_size for f in Path(path).glob("*.safetensors"))


def train_steps(model: torch.nn.Module, stream: Iterator[dict[str, torch.Tensor]], steps: int, groups: list[dict[str, Any]],
                loss_fn: Any, warmup: int = 30, log_every: int = 25, max_seconds: float | None = None,
                bf16: bool = True) -> dict[str, Any]:
    """A plain AdamW loop over ``stream``; ``groups`` are param groups with a peak ``lr`` each.

    ``loss_fn(model, batch) -> loss``. Stops early (and says so) after ``max_seconds``; the rate then
    decays by the clock (:func:`lr_at`), so a capped run still ends annealed.
    Returns the loss curve, steps done, tokens seen, seconds and what stopped it (``stopped_by``).
    """
    opt = torch.optim.AdamW(groups, betas=(0.9, 0.95), weight_decay=0.0)
    peaks = [g["lr"] for g in groups]
    timer = Timer()
    curve: list[tuple[int, float]] = []
    run, tokens, step = 0.0, 0, 0
    stopped_by = "steps"
    model.train()
    for step in range(steps):
        used = timer() / max_seconds if max_seconds else 0.0
        for g, peak in zip(opt.param_groups, peaks, strict=True):
            g["lr"] = lr_at(step, steps, peak, warmup, used)
        batch = next(stream)
        # bf16 autocast: about 1.5x faster on this machine's AVX512-BF16 CPU; master weights stay fp32
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(model, batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for g in groups for p in g["params"]], 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        tokens += int(batch["attention_mask"].sum())
        run = loss.item() if step == 0 else 0.95 * run + 0.05 * loss.item()
        if step % log_every == 0 or step == steps - 1:
            curve.append((step, round(run, 4)))
            log.info("step %d/%d loss %.4f  %.0f tok/s", step, steps, run, tokens / max(timer(), 1e-6))
        if max_seconds is not None and timer() > max_seconds:
            log.warning("time budget of %.0f s reached at step %d of %d", max_seconds, step + 1, steps)
            stopped_by = "time"
            break
    model.eval()
    return {"steps": step + 1, "tokens": tokens, "seconds": round(timer(), 1), "final_loss": round(run, 4),
            "loss_curve": curve, "stopped_by": stopped_by}


def save_tokenizer(tok: Any, out: Path) -> None:
    """``save_pretrained`` naming the portable ``PreTrainedTokenizerFast`` class (transformers 5 writes its
    own ``TokenizersBackend`` name, which vLLM's and older loaders may not know)."""
    tok.save_pretrained(out)
    cfg_path = Path(out) / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    cfg_path.write_text(json.dumps(cfg, ensure_ascii=False, indent=2) + "\n")


def run_cli(work: Callable[[], Any], as_json: bool, report: Callable[[Any], dict[str, Any]]) -> Any:
    """A command's work, for its ``main``: bad input (a ValueError or OSError) exits with ``error: ...`` and no
    traceback; with ``as_json`` ``report(result)``, or the error as ``{"error", "code"}`` (exit code 2, as the
    ``diaodu`` commands do), is printed as one JSON document."""
    try:
        result = work()
    except (ValueError, OSError) as exc:
        if as_json:
            print_json({"error": str(exc), "code": "bad_input"})
            raise SystemExit(2) from None
        raise SystemExit(f"error: {exc}") from None
    if as_json:
        print_json(report(result))
    return result
