"""Load and run the assistant's model with transformers (teacher, student, INT8 student or a hub id).

``load_model(path_or_hub_id)`` returns a :class:`LocalModel` whose ``generate(messages, ...)``
renders the chat template, decodes greedily and returns the assistant text (tool-call lines or an
answer). Constrained decoding plugs in through ``prefix_allowed_tokens_fn`` or ``logits_processor``
(both passed straight to ``transformers``' ``generate``), which the agent uses for grammar-constrained
JSON. The INT8 student (``model.int8.safetensors``: per-output-channel int8 weights + fp16 scales)
is dequantised into a Llama model and then run with torch dynamic INT8 quantisation of its linear
layers.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, LogitsProcessorList, StoppingCriteria

from finetune.chatformat import IM_END, render_prompt
from tools.core.errors import DiaoduError

log = logging.getLogger(__name__)

INT8_FILE = "model.int8.safetensors"


class _StopOnText(StoppingCriteria):
    """Stop when the decoded continuation contains one of ``stops``."""

    def __init__(self, tok: Any, start: int, stops: list[str]):
        self.tok, self.start, self.stops = tok, start, stops

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any) -> bool:
        text = self.tok.decode(input_ids[0, self.start:], skip_special_tokens=False)
        return any(s in text for s in self.stops)


class LocalModel:
    """A causal LM plus tokenizer that speaks the Diaodu chat format."""

    def __init__(self, model: Any, tokenizer: Any, source: str, meta: dict[str, Any] | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.source = source
        self.meta = meta or {}
        self.last_stats: dict[str, float] = {}

    @property
    def eos_ids(self) -> list[int]:
        ids = {self.tokenizer.convert_tokens_to_ids(IM_END)}
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return sorted(i for i in ids if i is not None and i >= 0)

    def prompt(self, messages: list[dict[str, Any]]) -> str:
        """The prompt text from the tokenizer's chat template (ours for shipped models), else our renderer."""
        msgs = [_openai_message(m) for m in messages]
        try:
            return self.tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
        except (ValueError, AttributeError):  # a tokenizer without a template: ours is the format
            return render_prompt(messages)

    @torch.inference_mode()
    def _greedy(self, input_ids: torch.Tensor, max_new_tokens: int) -> torch.Tensor:
        """Plain greedy decoding with the KV cache: the same tokens as ``generate(do_sample=False)``
        without its per-step bookkeeping, which dominates the time of a model this small."""
        eos = set(self.eos_ids)
        out = self.model(input_ids=input_ids, use_cache=True)
        past = out.past_key_values
        tokens: list[int] = []
        nxt = int(out.logits[0, -1].argmax())
        while True:
            tokens.append(nxt)
            if nxt in eos or len(tokens) >= max_new_tokens:
                break
            out = self.model(input_ids=torch.tensor([[nxt]]), past_key_values=past, use_cache=True)
            past = out.past_key_values
            nxt = int(out.logits[0, -1].argmax())
        return torch.tensor(tokens, dtype=torch.long)

    @torch.inference_mode()
    def generate(self, messages: list[dict[str, Any]], max_new_tokens: int = 128, stop: list[str] | None = None,
                 prefix_allowed_tokens_fn: Callable[[int, torch.Tensor], list[int]] | None = None,
                 logits_processor: LogitsProcessorList | list | None = None, temperature: float = 0.0) -> str:
        """Greedy (or sampled, ``temperature > 0``) continuation of ``messages`` as assistant text."""
        text = self.prompt(messages)
        enc = self.tokenizer(text, return_tensors="pt", add_special_tokens=False)
        start = enc["input_ids"].shape[1]
        kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens, "eos_token_id": self.eos_ids,
                                  "pad_token_id": self.tokenizer.pad_token_id or self.eos_ids[0]}
        if temperature > 0:
            kwargs.update(do_sample=True, temperature=temperature)
        else:
            kwargs.update(do_sample=False)
        if prefix_allowed_tokens_fn is not None:
            kwargs["prefix_allowed_tokens_fn"] = prefix_allowed_tokens_fn
        if logits_processor is not None:
            kwargs["logits_processor"] = LogitsProcessorList(list(logits_processor))
        if stop:
            kwargs["stopping_criteria"] = [_StopOnText(self.tokenizer, start, stop)]
        t0 = time.perf_counter()
        if temperature <= 0 and prefix_allowed_tokens_fn is None and logits_processor is None and not stop:
            new = self._greedy(enc["input_ids"], max_new_tokens)
        else:
            new = self.model.generate(**enc, **kwargs)[0, start:]
        dt = time.perf_counter() - t0
        self.last_stats = {"new_tokens": int(new.numel()), "seconds": dt}
        reply = self.tokenizer.decode(new, skip_special_tokens=False)
        for s in [IM_END, self.tokenizer.eos_token or IM_END, self.tokenizer.pad_token or IM_END, *(stop or [])]:
            if s and s in reply:
                reply = reply[:reply.index(s)]
        return reply.strip()


def _openai_message(m: dict[str, Any]) -> dict[str, Any]:
    """Tool calls in the OpenAI shape (``{"type": "function", "function": {...}}``) that hub templates expect."""
    calls = m.get("tool_calls")
    if not calls:
        return m
    out = []
    for tc in calls:
        f = tc.get("function", tc)
        args = f["arguments"]
        out.append({"type": "function", "function": {"name": f["name"],
                                                     "arguments": json.loads(args) if isinstance(args, str) else args}})
    return {**m, "tool_calls": out, "content": m.get("content") or ""}


def load_model(path_or_hub_id: str | Path, threads: int | None = None) -> LocalModel:
    """Load a shipped artifact folder (teacher, student, student-int8) or a hub id (``Qwen/Qwen2.5-0.5B-Instruct``)."""
    if threads:
        torch.set_num_threads(threads)
    src = str(path_or_hub_id)
    path = Path(src)
    meta: dict[str, Any] = {}
    if path.is_dir() and (path / "meta.json").is_file():
        meta = json.loads((path / "meta.json").read_text())
    try:
        tok = AutoTokenizer.from_pretrained(src)
        if path.is_dir() and (path / INT8_FILE).is_file():
            model = load_int8(path)
        else:
            model = AutoModelForCausalLM.from_pretrained(src, dtype=torch.float32)
    except OSError as exc:
        raise DiaoduError(f"cannot load model {src!r}: not a model folder here and not reachable on a model hub "
                          f"({str(exc).splitlines()[0]})", code="model_not_found") from None
    model.eval()
    return LocalModel(model, tok, src, meta)


def load_int8(path: Path, dynamic: bool = True) -> torch.nn.Module:
    """A Llama model from ``model.int8.safetensors``; ``dynamic`` runs its linears with INT8 matmuls."""
    from safetensors.torch import load_file

    from finetune.quantize import dequantize_state

    config = AutoConfig.from_pretrained(path)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    state = dequantize_state(load_file(str(path / INT8_FILE)))
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if m != "lm_head.weight"]  # tied to the embeddings
    if missing or unexpected:
        raise DiaoduError(f"INT8 checkpoint {path} does not match its config: missing {missing[:3]}, "
                          f"unexpected {unexpected[:3]}")
    model.tie_weights()
    if dynamic:
        from torch.ao.quantization import quantize_dynamic

        model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    return model
