"""The chat format the assistant's own model is trained on (ChatML with Hermes-style tool calls).

A conversation is rendered as ``<|im_start|>role\\n...<|im_end|>\\n`` blocks with the roles
``system``, ``user``, ``assistant`` and ``tool``. An assistant turn that calls tools holds one
``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` line per call and nothing else, so
vLLM's ``hermes`` tool parser reads it; after the tool results (role ``tool``, JSON content) the
assistant answers in the user's language. The same format lives in the tokenizer as a jinja chat
template (:data:`CHAT_TEMPLATE`), so ``apply_chat_template`` and vLLM render identical prompts.
"""

from __future__ import annotations

import json
import re
from typing import Any

SYSTEM_PROMPT = "You are Diaodu, a dispatch assistant. Call tools or answer briefly."

IM_START, IM_END = "<|im_start|>", "<|im_end|>"
TOOL_OPEN, TOOL_CLOSE = "<tool_call>", "</tool_call>"
EOS = "<|endoftext|>"
SPECIAL_TOKENS = [EOS, IM_START, IM_END]
TOOL_TOKENS = [TOOL_OPEN, TOOL_CLOSE]

# Kept in step with render_prompt() below; tests check that both render the same text.
CHAT_TEMPLATE = (
    "{%- if messages and messages[0]['role'] == 'system' -%}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' -}}"
    "{%- set rest = messages[1:] -%}"
    "{%- else -%}"
    "{{- '<|im_start|>system\\n" + SYSTEM_PROMPT + "<|im_end|>\\n' -}}"
    "{%- set rest = messages -%}"
    "{%- endif -%}"
    "{%- for m in rest -%}"
    "{{- '<|im_start|>' + m['role'] + '\\n' -}}"
    "{%- if m['role'] == 'assistant' and m.get('tool_calls') -%}"
    "{%- for tc in m['tool_calls'] -%}"
    "{%- set f = tc['function'] if tc.get('function') else tc -%}"
    "{%- if not loop.first -%}{{- '\\n' -}}{%- endif -%}"
    "{{- '<tool_call>{\"name\": \"' + f['name'] + '\", \"arguments\": ' -}}"
    "{%- if f['arguments'] is string -%}{{- f['arguments'] -}}{%- else -%}{{- f['arguments'] | tojson -}}{%- endif -%}"
    "{{- '}</tool_call>' -}}"
    "{%- endfor -%}"
    "{%- else -%}"
    "{%- if m['content'] is string -%}{{- m['content'] -}}{%- else -%}{{- m['content'] | tojson -}}{%- endif -%}"
    "{%- endif -%}"
    "{{- '<|im_end|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)


def dumps(obj: Any) -> str:
    """JSON exactly as the chat template's ``tojson`` writes it (non-ASCII kept)."""
    return json.dumps(obj, ensure_ascii=False)


def format_calls(calls: list[dict[str, Any]]) -> str:
    """The text of an assistant turn that calls ``calls`` (``{"name", "arguments"}`` dicts)."""
    return "\n".join(f'{TOOL_OPEN}{{"name": "{c["name"]}", "arguments": {dumps(c["arguments"])}}}{TOOL_CLOSE}'
                     for c in calls)


def flat_calls(message: dict[str, Any]) -> list[dict[str, Any]]:
    """A message's tool calls as ``{"name", "arguments": dict}``, OpenAI-shaped ones unwrapped."""
    flat = []
    for tc in message.get("tool_calls") or []:
        f = tc.get("function", tc)
        args = f["arguments"]
        if isinstance(args, str):  # OpenAI clients send arguments as a JSON string
            args = json.loads(args)
        flat.append({"name": f["name"], "arguments": args})
    return flat


def message_text(message: dict[str, Any]) -> str:
    """The body of one message as it appears between ``<|im_start|>role`` and ``<|im_end|>``."""
    if message.get("role") == "assistant" and message.get("tool_calls"):
        return format_calls(flat_calls(message))
    content = message.get("content")
    return content if isinstance(content, str) else dumps(content)


def render_blocks(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """``[(role, rendered block)]``, the system prompt added when absent (for loss masks)."""
    msgs = list(messages)
    if not msgs or msgs[0].get("role") != "system":
        msgs.insert(0, {"role": "system", "content": SYSTEM_PROMPT})
    return [(m["role"], f"{IM_START}{m['role']}\n{message_text(m)}{IM_END}\n") for m in msgs]


def render_prompt(messages: list[dict[str, Any]], add_generation_prompt: bool = True) -> str:
    """The prompt text for ``messages`` (same as the tokenizer's chat template)."""
    text = "".join(block for _, block in render_blocks(messages))
    return text + (f"{IM_START}assistant\n" if add_generation_prompt else "")


class Parsed(tuple):
    """``(calls, answer)`` with ``.malformed`` (and ``.errors``) telling whether the text held a broken call."""

    malformed: bool
    errors: list[str]

    def __new__(cls, calls: list[dict[str, Any]], answer: str, malformed: bool = False,
                errors: list[str] | None = None) -> Parsed:
        obj = super().__new__(cls, (calls, answer))
        obj.malformed = malformed
        obj.errors = errors or []
        return obj

    @property
    def calls(self) -> list[dict[str, Any]]:
        return self[0]

    @property
    def answer(self) -> str:
        return self[1]


_CALL_RE = re.compile(re.escape(TOOL_OPEN) + r"(.*?)(?:" + re.escape(TOOL_CLOSE) + r"|$)", re.S)


def parse_assistant(text: str) -> Parsed:
    """Split a generated assistant turn into tool calls and answer text.

    Returns ``(calls, answer)`` where calls are ``{"name", "arguments"}`` dicts. Malformed output
    (a ``<tool_call>`` whose body is not a JSON object with a string name and object arguments)
    yields no calls and the raw text as the answer, with ``.malformed`` set, so the agent can
    show, repair or retry it instead of crashing.
    """
    text = (text or "").replace(IM_END, "").replace(EOS, "").strip()
    if TOOL_OPEN not in text:
        if TOOL_CLOSE in text:
            return Parsed([], text, True, ["</tool_call> without <tool_call>"])
        return Parsed([], text)
    calls: list[dict[str, Any]] = []
    errors: list[str] = []
    for body in _CALL_RE.findall(text):
        call = _parse_call(body.strip(), errors)
        if call is not None:
            calls.append(call)
    if errors or not calls:
        return Parsed([], text, True, errors or ["empty tool call"])
    answer = _CALL_RE.sub("", text).strip()
    return Parsed(calls, answer)


def _parse_call(body: str, errors: list[str]) -> dict[str, Any] | None:
    try:
        obj = json.loads(body)
    except json.JSONDecodeError as exc:
        errors.append(f"tool call is not valid JSON ({exc.msg} at {exc.pos}): {body[:80]!r}")
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
        errors.append(f"tool call needs a string 'name': {body[:80]!r}")
        return None
    args = obj.get("arguments", {})
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            args = None
    if not isinstance(args, dict):
        errors.append(f"tool call 'arguments' must be an object: {body[:80]!r}")
        return None
    return {"name": obj["name"], "arguments": args}
