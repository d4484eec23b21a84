"""Run a scenario suite through the real assistant (model, graph, tools) and collect predictions.

Scenarios run in local worker processes by default (each loads the model once), or on a
Ray cluster with ``ray_address``. Every scenario gets a fresh conversation; tool budgets
are capped by ``max_tool_seconds`` so a 300-scenario suite runs in minutes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from typing import Any

from evals.metrics import turn_correct
from evals.suite import Scenario, Turn
from tools.core.errors import DiaoduError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunConfig:
    """How to build the assistant in each worker."""

    backend: str = "inproc"
    model: str | None = None
    url: str | None = None
    max_tool_seconds: float | None = 5.0


_ASSISTANT: Any = None


def _assistant(config: RunConfig) -> Any:
    global _ASSISTANT
    if _ASSISTANT is None:
        from langgraph.checkpoint.memory import InMemorySaver

        from assistant.backends import make_model
        from assistant.service import Assistant

        _ASSISTANT = Assistant(make_model(config.backend, config.model, config.url), checkpointer=InMemorySaver(),
                               max_tool_seconds=config.max_tool_seconds)
    return _ASSISTANT


def run_scenario(scenario: Scenario, assistant: Any) -> dict[str, Any]:
    """One scenario, turn by turn, in a fresh thread; the prediction in the spec's format."""
    thread = f"eval-{os.getpid()}-{abs(hash(scenario.id)) % 10**10}"
    turns = []
    for turn in scenario.turns:
        try:
            res = assistant.ask(turn.user, thread)
            turns.append({"calls": [{k: c[k] for k in ("tool", "args", "ok", "result")} for c in res["calls"]],
                          "answer": res["answer"], "latency_s": res["latency_s"],
                          "model_s": res["model_seconds"], "raw": res.get("raw", []), "grounding": res.get("grounding", []),
                          "model_calls": res.get("model_calls", [])})
        except DiaoduError as exc:
            turns.append({"calls": [], "answer": "", "latency_s": 0.0, "error": exc.message})
        except Exception as exc:  # noqa: BLE001 - one broken scenario must not stop a suite
            log.exception("scenario %s crashed", scenario.id)
            turns.append({"calls": [], "answer": "", "latency_s": 0.0, "error": f"{type(exc).__name__}: {exc}"})
    return {"id": scenario.id, "turns": turns}


def _run_chunk(chunk: list[dict[str, Any]], config: dict[str, Any]) -> list[dict[str, Any]]:
    assistant = _assistant(RunConfig(**config))
    return [run_scenario(_scenario(s), assistant) for s in chunk]


def _scenario(d: dict[str, Any]) -> Scenario:
    return Scenario(d["id"], d["lang"], [Turn(**t) for t in d["turns"]], d.get("line", 0))


def run_suite(scenarios: list[Scenario], config: RunConfig, *, workers: int = 1, ray_address: str | None = None,
              assistant_factory: Callable[[], Any] | None = None) -> Iterator[dict[str, Any]]:
    """Yield one prediction per scenario as they finish (order not guaranteed with workers > 1).

    ``assistant_factory`` replaces the configured model (tests use a scripted one).
    """
    if assistant_factory is not None:
        assistant = assistant_factory()
        for sc in scenarios:
            yield run_scenario(sc, assistant)
        return
    chunks = [scenarios[i::max(1, workers)] for i in range(max(1, workers))]
    payload = [[asdict(s) for s in chunk] for chunk in chunks if chunk]
    if ray_address:
        yield from _run_ray(payload, config, ray_address)
        return
    if workers <= 1:
        assistant = _assistant(config)
        for sc in scenarios:
            yield run_scenario(sc, assistant)
        return
    # one scenario per task so results stream back as they finish
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_run_chunk, [asdict(sc)], asdict(config)) for sc in scenarios]
        for fut in as_completed(futures):
            yield from fut.result()


def _run_ray(payload: list[list[dict[str, Any]]], config: RunConfig, address: str) -> Iterator[dict[str, Any]]:
    try:
        import ray
    except ModuleNotFoundError:
        raise DiaoduError("--ray needs the ray extra: pip install 'diaodu[ray]'") from None
    ray.init(address=None if address == "local" else address, ignore_reinit_error=True, log_to_driver=False,
             include_dashboard=False)
    remote = ray.remote(_run_chunk)
    refs = [remote.remote([s], asdict(config)) for chunk in payload for s in chunk]
    pending = list(refs)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        yield from ray.get(done[0])


def running_accuracy(scenarios: dict[str, Scenario], predictions: list[dict[str, Any]]) -> float:
    """Turn accuracy so far (for the progress bar)."""
    ok = total = 0
    for p in predictions:
        sc = scenarios[p["id"]]
        for t, pt in zip(sc.turns, p["turns"], strict=False):
            total += 1
            ok += turn_correct(t.expect, pt.get("calls", []))
    return ok / total if total else 0.0
