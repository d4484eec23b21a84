"""Score a model alone (no rule-based help) on a scenario suite, by default ``evals/suites/heldout.jsonl``.

Each user turn is scored on the model's own output, the earlier turns fed as gold calls with
plausible tool results and answers. Metrics, overall and per language:

- ``right_tool``: the called tools (names, in order) equal the expected ones; ``[]`` = no call.
- ``exact``: right tool and every argument equal to the expected ones (strings compared
  case-insensitively after trimming, numbers by value, lists in order), with no extra argument
  except a free-text ``query`` or ``plan_id: latest``.
- ``subset``: the suite rule of ``scenario-suite.md`` (expected arguments present, others free).
- ``valid``: every call passes the contract's ``validate_call``.
- ``tokens_per_s`` of greedy generation, weight size and parameter count.

``python -m finetune.evaluate --model DIR [--suite PATH] [--limit N] [--out report.json]``
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
from pathlib import Path
from typing import Any

from finetune.chatformat import parse_assistant
from finetune.common import HELDOUT, dir_size, param_count
from finetune.data import answer_for, fake_result, no_tool_reply, read_jsonl
from finetune.inference import INT8_FILE, LocalModel, load_model
from tools.contract import validate_call
from tools.core.cli import print_json
from tools.core.errors import DiaoduError

log = logging.getLogger(__name__)

FREE_ARGS = {"query"}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().lower() == b.strip().lower()
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def score_turn(expect: list[dict[str, Any]], calls: list[dict[str, Any]]) -> dict[str, bool]:
    """Right tool / exact / subset / valid for one turn."""
    right = [e["tool"] for e in expect] == [c["name"] for c in calls]
    subset = exact = right
    valid = True
    for c in calls:
        try:
            validate_call(c["name"], c["arguments"])
        except DiaoduError:
            valid = False
    if right:
        for e, c in zip(expect, calls, strict=True):
            args = c["arguments"]
            ok = all(k in args and _same(v, args[k]) for k, v in e.get("args", {}).items())
            extra = [k for k in args if k not in e.get("args", {}) and k not in FREE_ARGS
                     and not (k == "plan_id" and _same(args[k], "latest"))]
            subset = subset and ok
            exact = exact and ok and not extra
    return {"right_tool": right, "exact": exact, "subset": subset, "valid": valid}


def context_messages(turns: list[dict[str, Any]], upto: int, lang: str, seed: int) -> list[dict[str, Any]]:
    """The conversation before turn ``upto``: gold calls, plausible results and answers."""
    rng = random.Random(seed)
    msgs: list[dict[str, Any]] = []
    plan_no = 1
    for t in turns[:upto]:
        msgs.append({"role": "user", "content": t["user"]})
        if not t["expect"]:
            msgs.append({"role": "assistant", "content": no_tool_reply(rng, "smalltalk", lang)})
            continue
        calls = [{"name": e["tool"], "arguments": e.get("args", {})} for e in t["expect"]]
        msgs.append({"role": "assistant", "tool_calls": calls})
        for c in calls:
            if c["name"] in ("plan_routes", "replan"):
                plan_no += 1
            args = dict(c["arguments"])
            args.setdefault("dataset", "demo-city")
            args.setdefault("event", "vehicle_breakdown")
            args.setdefault("question", "summary")
            res = fake_result(rng, {"name": c["name"], "arguments": args}, plan_no)
            msgs.append({"role": "tool", "content": json.dumps(res, ensure_ascii=False)})
        msgs.append({"role": "assistant", "content": answer_for(rng, {"name": calls[-1]["name"]}, res, lang)})
    msgs.append({"role": "user", "content": turns[upto]["user"]})
    return msgs


def evaluate(model: LocalModel, suite: Path = HELDOUT, limit: int | None = None,
             max_new_tokens: int = 96) -> dict[str, Any]:
    """Score ``model`` on ``suite``; returns the metrics and per-turn records."""
    scenarios = read_jsonl(suite)[:limit] if limit else read_jsonl(suite)
    records: list[dict[str, Any]] = []
    new_tokens, seconds = 0, 0.0
    for si, sc in enumerate(scenarios):
        for ti, turn in enumerate(sc["turns"]):
            msgs = context_messages(sc["turns"], ti, sc["lang"], seed=si)
            out = model.generate(msgs, max_new_tokens=max_new_tokens)
            new_tokens += int(model.last_stats.get("new_tokens", 0))
            seconds += model.last_stats.get("seconds", 0.0)
            parsed = parse_assistant(out)
            rec = {"id": sc["id"], "turn": ti, "lang": sc["lang"], "user": turn["user"], "expect": turn["expect"],
                   "output": out, "malformed": parsed.malformed, **score_turn(turn["expect"], parsed.calls)}
            records.append(rec)
    metrics = summarise(records)
    metrics["tokens_per_s"] = round(new_tokens / seconds, 1) if seconds else None
    metrics["gen_seconds"] = round(seconds, 1)
    return {"metrics": metrics, "records": records}


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    def rate(rs: list[dict[str, Any]], key: str) -> float | None:
        return round(100.0 * sum(r[key] for r in rs) / len(rs), 1) if rs else None

    out: dict[str, Any] = {"turns": len(records)}
    groups = {"all": records, "en": [r for r in records if r["lang"] == "en"],
              "zh": [r for r in records if r["lang"] == "zh"],
              "tool_turns": [r for r in records if r["expect"]], "no_tool_turns": [r for r in records if not r["expect"]]}
    for g, rs in groups.items():
        out[g] = {k: rate(rs, k) for k in ("right_tool", "exact", "subset", "valid", "malformed")} | {"n": len(rs)}
    return out


def model_size(model: LocalModel, path: str) -> dict[str, Any]:
    p = Path(path)
    size = dir_size(p) if p.is_dir() else None
    if p.is_dir() and (p / INT8_FILE).is_file():
        size = (p / INT8_FILE).stat().st_size
    return {"params": model.meta.get("params") or param_count(model.model), "bytes": size}


def speed_benchmark(models: dict[str, LocalModel], suite: Path = HELDOUT, n_prompts: int = 24, rounds: int = 5,
                    max_new_tokens: int = 64, batch: int = 16, batch_tokens: int = 32) -> dict[str, dict[str, Any]]:
    """Greedy tokens/s of each model on the same first-turn prompts, the models interleaved round by round
    so that a shared, busy machine slows them alike. Each round's rate is kept (``rounds_tokens_per_s``,
    ``rounds_prefill_tokens_per_s``, ``rounds_batch_tokens_per_s``) so that speed-ups can be medians of
    per-round ratios. Three rates: one request at a time (a dispatcher's latency), one batched forward
    pass over all prompts (prefill), and ``batch`` requests decoded together for ``batch_tokens`` steps
    (a server's throughput; 0 skips it)."""
    scenarios = read_jsonl(suite)[:n_prompts]
    prompts = [context_messages(sc["turns"], 0, sc["lang"], seed=i) for i, sc in enumerate(scenarios)]
    decode: dict[str, list[tuple[int, float]]] = {name: [] for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            tokens, seconds = 0, 0.0
            for msgs in prompts:
                model.generate(msgs, max_new_tokens=max_new_tokens)
                tokens += int(model.last_stats["new_tokens"])
                seconds += model.last_stats["seconds"]
            decode[name].append((tokens, seconds))
    prefill: dict[str, list[float]] = {name: [] for name in models}
    batched: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            prefill[name].append(_prefill_seconds(model, prompts))
            if batch:
                batched[name].append(batched_greedy(model, prompts[:batch], batch_tokens)[1])
    first = next(iter(models.values()))
    n_prefill = sum(len(first.tokenizer(first.prompt(p), add_special_tokens=False)["input_ids"]) for p in prompts)
    out: dict[str, dict[str, Any]] = {}
    for name in models:
        tokens = sum(t for t, _ in decode[name])
        seconds = sum(s for _, s in decode[name])
        out[name] = {"tokens": tokens, "seconds": round(seconds, 2),
                     "tokens_per_s": round(tokens / seconds, 1) if seconds else 0.0,
                     "prefill_tokens_per_s": round(rounds * n_prefill / sum(prefill[name]), 1),
                     "rounds_tokens_per_s": [round(t / s, 1) if s else 0.0 for t, s in decode[name]],
                     "rounds_prefill_tokens_per_s": [round(n_prefill / s, 1) for s in prefill[name]]}
        if batch:
            n_batched = min(batch, len(prompts)) * (batch_tokens - 1)  # the first token comes from the prefill
            out[name] |= {"batch": min(batch, len(prompts)),
                          "batch_tokens_per_s": round(rounds * n_batched / sum(batched[name]), 1),
                          "rounds_batch_tokens_per_s": [round(n_batched / s, 1) for s in batched[name]]}
    return out


def median_speedup(speed: dict[str, dict[str, Any]], model: str, reference: str, key: str = "rounds_tokens_per_s") -> float | None:
    """The median over rounds of ``model``'s rate over ``reference``'s, from :func:`speed_benchmark`."""
    ours, theirs = speed.get(model, {}).get(key), speed.get(reference, {}).get(key)
    if not ours or not theirs:
        return None
    return round(statistics.median(a / b for a, b in zip(ours, theirs, strict=True) if b), 2)


def _padded(model: LocalModel, prompts: list[list[dict[str, Any]]], side: str) -> Any:
    """The prompts' token ids as one batch padded on ``side``; the tokenizer keeps its own padding side."""
    tok = model.tokenizer
    before, tok.padding_side = tok.padding_side, side
    try:
        return tok([model.prompt(p) for p in prompts], return_tensors="pt", padding=True, add_special_tokens=False)
    finally:
        tok.padding_side = before


def _prefill_seconds(model: LocalModel, prompts: list[list[dict[str, Any]]]) -> float:
    """Seconds for one batched forward pass over all prompts (compute-bound, unlike 1-token decoding)."""
    import time

    import torch

    enc = _padded(model, prompts, "right")
    t0 = time.perf_counter()
    with torch.inference_mode():
        model.model(**enc)
    return time.perf_counter() - t0


def batched_greedy(model: LocalModel, prompts: list[list[dict[str, Any]]], steps: int) -> tuple[Any, float]:
    """Greedy decoding of all prompts together (left-padded, KV cache) for exactly ``steps`` tokens each:
    the tokens ``[len(prompts), steps]`` and the decoding seconds, the prefill not counted."""
    import time

    import torch

    enc = _padded(model, prompts, "left")
    mask = enc["attention_mask"]
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.inference_mode():
        out = model.model(input_ids=enc["input_ids"], attention_mask=mask, position_ids=positions, use_cache=True)
        tokens = [out.logits[:, -1:].argmax(-1)]
        t0 = time.perf_counter()
        for _ in range(steps - 1):
            mask = torch.cat([mask, mask.new_ones(mask.shape[0], 1)], dim=1)
            positions = positions[:, -1:] + 1
            out = model.model(input_ids=tokens[-1], attention_mask=mask, position_ids=positions,
                              past_key_values=out.past_key_values, use_cache=True)
            tokens.append(out.logits[:, -1:].argmax(-1))
        seconds = time.perf_counter() - t0
    return torch.cat(tokens, dim=1), seconds


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Score a model alone on a scenario suite.")
    ap.add_argument("--model", required=True)
    ap.add_argument("--suite", type=Path, default=HELDOUT)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    model = load_model(a.model, threads=a.threads)
    rep = evaluate(model, a.suite, a.limit)
    rep["metrics"].update(model_size(model, a.model))
    if a.out:
        a.out.write_text(json.dumps(rep, ensure_ascii=False, indent=1))
    print_json(rep["metrics"])


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
