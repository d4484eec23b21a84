"""Which tool a request is for: a small learned router that checks the model's tool choice.

The tiny LLM copies arguments well once it has the right tool, but it picks the wrong tool on
phrasings it has not seen ("move order 55 to truck 2 - feasible?" becomes a replan). A linear
classifier over hashed character n-grams (both languages; Chinese has no spaces) plus the tool of
the previous turn is far more robust on such paraphrases, and cheap. When it is confident and
disagrees with the model, the assistant has the model decode the call again, constrained to the
router's tool (see :mod:`assistant.graph`).

Trained on the user turns of the generated conversations (:mod:`finetune.data`), never on an
evaluation suite: ``python -m assistant.intent --n 40000 --seed 21``. Writes
``assistant/artifacts/intent/{weights.safetensors, meta.json}`` (config, data hash, metrics).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from tools.contract import EVENTS, QUESTIONS, TOOL_NAMES

log = logging.getLogger(__name__)

INTENT_DIR = Path(__file__).resolve().parent / "artifacts" / "intent"
# The enumerated choice that decides what a call means is part of the label: which event to
# replan for, which question to explain (their other arguments follow from that choice)
ENUM_KEYS = {"replan": ("event", EVENTS), "explain_plan": ("question", QUESTIONS)}
LABELS = [f"{tool}:{value}" for tool in TOOL_NAMES if tool in ENUM_KEYS for value in ENUM_KEYS[tool][1]] + \
    [tool for tool in TOOL_NAMES if tool not in ENUM_KEYS] + ["none"]
N_FEATURES = 2**17


def label_of(call: dict[str, Any] | None) -> str:
    """The router's label of a call (``replan:vehicle_breakdown``, ``plan_routes``) or ``none``."""
    if not call:
        return "none"
    name = str(call["name"])
    if name in ENUM_KEYS:
        return f"{name}:{call.get('arguments', {}).get(ENUM_KEYS[name][0])}"
    return name


def tool_of(label: str) -> str:
    return label.split(":", 1)[0]


def _vectorizer() -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer

    # char n-grams inside word boundaries: typos and unseen names still share most n-grams;
    # no sign flipping so the weights read as evidence for a class
    return HashingVectorizer(analyzer="char_wb", ngram_range=(1, 4), n_features=N_FEATURES, alternate_sign=False,
                             lowercase=True, norm="l2")


def previous_tool(messages: list[dict[str, Any]]) -> str:
    """The tool called in the last turn before the current user message ("none" if none).

    Handles both message forms: ``tool_calls`` lists (training data) and ``<tool_call>`` text (the graph).
    """
    seen_user = False
    for msg in reversed(messages):
        if msg.get("role") == "user":
            if seen_user:
                break
            seen_user = True
            continue
        if not seen_user:
            continue
        if msg.get("role") == "assistant":
            calls = msg.get("tool_calls")
            if calls:
                return str(calls[-1]["name"])
            content = str(msg.get("content") or "")
            if "<tool_call>" in content:
                from finetune.chatformat import parse_assistant

                parsed = parse_assistant(content)
                if parsed.calls:
                    return str(parsed.calls[-1]["name"])
    return "none"


def _features(texts: list[str], prev: list[str]) -> Any:
    from scipy.sparse import csr_matrix, hstack

    x_text = _vectorizer().transform(texts)
    rows = np.arange(len(prev))
    tools = [*TOOL_NAMES, "none"]
    cols = np.array([tools.index(p) if p in tools else tools.index("none") for p in prev])
    x_prev = csr_matrix((np.full(len(prev), 0.5), (rows, cols)), shape=(len(prev), len(tools)))
    return hstack([x_text, x_prev]).tocsr()


class IntentRouter:
    """``probabilities(user_text, messages)`` over the labels: tools (replan and explain_plan split by
    their event or question) and "none"."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, meta: dict[str, Any]):
        self.weights, self.bias, self.meta = weights, bias, meta

    @classmethod
    def from_pretrained(cls, path: Path = INTENT_DIR) -> IntentRouter:
        from safetensors.numpy import load_file

        tensors = load_file(str(Path(path) / "weights.safetensors"))
        meta = json.loads((Path(path) / "meta.json").read_text())
        if meta.get("labels") != LABELS:
            raise ValueError(f"intent router at {path} has labels {meta.get('labels')}, expected {LABELS}")
        return cls(tensors["weights"].astype(np.float32), tensors["bias"].astype(np.float32), meta)

    def save_pretrained(self, path: Path) -> None:
        from safetensors.numpy import save_file

        path.mkdir(parents=True, exist_ok=True)
        save_file({"weights": self.weights.astype(np.float16), "bias": self.bias.astype(np.float32)},
                  str(path / "weights.safetensors"))
        (path / "meta.json").write_text(json.dumps(self.meta, ensure_ascii=False, indent=2) + "\n")

    def probabilities(self, user_text: str, messages: list[dict[str, Any]] | None = None) -> dict[str, float]:
        x = _features([user_text], [previous_tool(messages or [])])
        logits = np.asarray(x @ self.weights.T).ravel() + self.bias
        p = np.exp(logits - logits.max())
        p /= p.sum()
        return {label: float(v) for label, v in zip(LABELS, p, strict=True)}

    def route(self, user_text: str, messages: list[dict[str, Any]] | None = None) -> Routing:
        """The most likely tool (or "none"), its probability summed over its enumerated choices and, for
        replan / explain_plan, the most likely event / question given that tool: from one forward pass."""
        probs = self.probabilities(user_text, messages)
        per_tool: dict[str, float] = {}
        for label, p in probs.items():
            per_tool[tool_of(label)] = per_tool.get(tool_of(label), 0.0) + p
        tool = max(per_tool, key=lambda k: per_tool[k])
        return Routing(tool, per_tool[tool], *_choice(probs, tool, per_tool[tool]))

    def predict(self, user_text: str, messages: list[dict[str, Any]] | None = None) -> tuple[str, float]:
        """The most likely tool (or "none") and its probability."""
        r = self.route(user_text, messages)
        return r.tool, r.p

    def predict_choice(self, tool: str, user_text: str, messages: list[dict[str, Any]] | None = None) -> tuple[str, float] | None:
        """For a tool with an enumerated choice: the most likely value and its probability given that tool;
        None for other tools."""
        probs = self.probabilities(user_text, messages)
        value, p = _choice(probs, tool, sum(v for k, v in probs.items() if tool_of(k) == tool))
        return (value, p) if value is not None else None


@dataclass
class Routing:
    """The router's verdict on one request."""

    tool: str
    p: float
    choice: str | None = None  # replan's event or explain_plan's question
    choice_p: float = 0.0  # its probability given the tool


def _choice(probs: dict[str, float], tool: str, tool_p: float) -> tuple[str | None, float]:
    if tool not in ENUM_KEYS:
        return None, 0.0
    values = {label.split(":", 1)[1]: p for label, p in probs.items() if tool_of(label) == tool}
    best = max(values, key=lambda k: values[k])
    return best, values[best] / (tool_p or 1.0)


@lru_cache(maxsize=1)
def default_router() -> IntentRouter | None:
    """The shipped router, or None when its weights are absent (the assistant then trusts the model)."""
    if not (INTENT_DIR / "weights.safetensors").is_file():
        log.warning("no intent router weights at %s; the model's tool choice is not checked", INTENT_DIR)
        return None
    return IntentRouter.from_pretrained(INTENT_DIR)


def examples(rows: list[dict[str, Any]]) -> tuple[list[str], list[str], list[str]]:
    """(user text, previous tool, label) for every user turn of the generated conversations."""
    texts, prevs, labels = [], [], []
    for row in rows:
        msgs = row["messages"]
        for i, msg in enumerate(msgs):
            if msg["role"] != "user":
                continue
            nxt = msgs[i + 1] if i + 1 < len(msgs) else {}
            calls = nxt.get("tool_calls") or []
            texts.append(str(msg["content"]))
            prevs.append(previous_tool(msgs[: i + 1]))
            labels.append(label_of(calls[0] if calls else None))
    return texts, prevs, labels


def train(n: int = 40000, seed: int = 21, epochs: int = 8) -> tuple[IntentRouter, dict[str, Any]]:
    """Fit the router on ``n`` generated conversations; a held-back tenth gives the accuracy."""
    from sklearn.linear_model import SGDClassifier

    from finetune.data import data_hash, generate

    t0 = time.perf_counter()
    rows = generate(n, seed)
    texts, prevs, labels = examples(rows)
    x = _features(texts, prevs)
    y = np.array([LABELS.index(lbl) for lbl in labels])
    cut = int(0.9 * len(y))
    clf = SGDClassifier(loss="log_loss", alpha=2e-6, max_iter=epochs, tol=None, random_state=seed)
    clf.fit(x[:cut], y[:cut])
    val_acc = float((clf.predict(x[cut:]) == y[cut:]).mean())
    weights = np.zeros((len(LABELS), x.shape[1]), dtype=np.float32)
    bias = np.zeros(len(LABELS), dtype=np.float32)
    weights[clf.classes_] = clf.coef_
    bias[clf.classes_] = clf.intercept_
    meta = {"labels": LABELS, "config": {"n_conversations": n, "seed": seed, "epochs": epochs, "alpha": 2e-6,
                                         "features": f"char_wb 1-4 hashed to {N_FEATURES} + previous tool"},
            "tool_validation_accuracy": round(float(np.mean([tool_of(LABELS[a]) == tool_of(LABELS[b])
                                                             for a, b in zip(clf.predict(x[cut:]), y[cut:], strict=True)])), 4),
            "data_hash": data_hash(rows), "examples": len(y), "validation_accuracy": round(val_acc, 4),
            "train_seconds": round(time.perf_counter() - t0, 1)}
    return IntentRouter(weights, bias, meta), meta


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Train the intent router on generated conversations.")
    ap.add_argument("--n", type=int, default=40000)
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--out", type=Path, default=INTENT_DIR)
    ap.add_argument("--json", action="store_true", help="print the run's meta.json as one JSON document")
    a = ap.parse_args(argv)
    router, meta = train(a.n, a.seed, a.epochs)
    router.save_pretrained(a.out)
    log.info("intent router -> %s: %s", a.out, meta)
    if a.json:
        from tools.core.cli import print_json

        print_json({"out": str(a.out), **meta})


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
