"""``python -m assistant.throughput``: batch throughput of the vLLM backend against in-process transformers.

The same prompts (the first user turns of the held-out suite, rendered with the chat template)
go through both, greedy, the same number of new tokens: in process one after another (how the
agent calls the model), on vLLM all at once (continuous batching). Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from assistant.backends import ARTIFACTS
from assistant.vllm_server import VllmServer
from finetune.chatformat import render_prompt
from finetune.inference import load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default=str(ARTIFACTS / "teacher"))
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--port", type=int, default=8017)
    args = ap.parse_args()
    suite = Path(__file__).resolve().parents[1] / "evals" / "suites" / "heldout.jsonl"
    users = [json.loads(line)["turns"][0]["user"] for line in suite.read_text(encoding="utf-8").splitlines()[: args.prompts]]
    messages = [[{"role": "user", "content": u}] for u in users]

    lm = load_model(args.model, threads=1)
    t0 = time.perf_counter()
    inproc_tokens = 0
    for msgs in messages:
        lm.generate(msgs, max_new_tokens=args.max_tokens)
        inproc_tokens += int(lm.last_stats["new_tokens"])
    inproc_s = time.perf_counter() - t0

    with VllmServer(args.model, port=args.port, served_name="diaodu") as server:
        client = httpx.Client(timeout=300)

        def one(msgs: list[dict]) -> int:
            body = {"model": "diaodu", "prompt": render_prompt(msgs), "max_tokens": args.max_tokens, "temperature": 0.0,
                    "stop": ["<|im_end|>"], "add_special_tokens": False}
            return int(client.post(f"{server.url}/completions", json=body).json()["usage"]["completion_tokens"])

        one(messages[0])  # warm-up
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(messages)) as pool:
            vllm_tokens = sum(pool.map(one, messages))
        vllm_s = time.perf_counter() - t0
    print(json.dumps({"model": args.model, "prompts": len(messages), "max_tokens": args.max_tokens,
                      "inproc": {"tokens": inproc_tokens, "seconds": round(inproc_s, 2), "tokens_per_s": round(inproc_tokens / inproc_s, 1)},
                      "vllm": {"tokens": vllm_tokens, "seconds": round(vllm_s, 2), "tokens_per_s": round(vllm_tokens / vllm_s, 1)},
                      "vllm_over_inproc": round((vllm_tokens / vllm_s) / (inproc_tokens / inproc_s), 2)}))


if __name__ == "__main__":
    main()
