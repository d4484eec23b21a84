"""``diaodu eval SUITE`` (run and score a suite) and ``diaodu eval-score SUITE PREDICTIONS``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from evals.metrics import score
from evals.report import write_report
from evals.runner import RunConfig, run_suite, running_accuracy
from evals.suite import load_suite, read_predictions, write_predictions
from tools.core.cli import JSON_OPTION, console, guarded, print_json, simple_table
from tools.core.errors import DiaoduError

SUITES_DIR = Path(__file__).resolve().parent / "suites"


def resolve_suite(name: str) -> Path:
    """A suite path, or the name of a suite shipped in ``evals/suites`` (``heldout``, ``fresh``, ``blind``, ``blind2``, ``gate``)."""
    path = Path(name)
    if path.is_file():
        return path
    shipped = SUITES_DIR / f"{name}.jsonl"
    if shipped.is_file():
        return shipped
    known = ", ".join(sorted(p.stem for p in SUITES_DIR.glob("*.jsonl")))
    raise DiaoduError(f"suite {name!r} not found (a path, or one of the shipped suites: {known})", code="file_error")


def evaluate(suite: str, config: RunConfig, *, workers: int = 1, ray_address: str | None = None,
             predictions_out: str | None = None, report: str | None = None, show_progress: bool = True,
             limit: int | None = None, assistant_factory: Any = None) -> dict[str, Any]:
    """Run and score a suite; write predictions and the HTML report when asked. Returns the metrics."""
    path = resolve_suite(suite)
    scenarios, bad = load_suite(path)
    if limit:
        scenarios = scenarios[:limit]
    if not scenarios:
        raise DiaoduError(f"suite {path} has no valid scenario ({len(bad)} bad lines)")
    by_id = {s.id: s for s in scenarios}
    preds: list[dict[str, Any]] = []
    start = time.perf_counter()
    with Progress(TextColumn("[bold]eval"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  TimeElapsedColumn(), console=console, disable=not show_progress, transient=True) as progress:
        task = progress.add_task("", total=len(scenarios))
        for pred in run_suite(scenarios, config, workers=workers, ray_address=ray_address, assistant_factory=assistant_factory):
            preds.append(pred)
            progress.update(task, advance=1, description=f"turn acc. {running_accuracy(by_id, preds):.1%}")
    order = {s.id: i for i, s in enumerate(scenarios)}
    preds.sort(key=lambda p: order[p["id"]])
    metrics = score(scenarios, {p["id"]: p for p in preds})
    metrics["bad_lines"] = [b.to_dict() for b in bad]
    metrics["wall_s"] = round(time.perf_counter() - start, 2)
    metrics["suite"] = str(path)
    metrics["config"] = {"backend": config.backend, "model": config.model, "max_tool_seconds": config.max_tool_seconds,
                         "workers": workers, "ray": ray_address}
    if predictions_out:
        write_predictions(predictions_out, preds)
    if report:
        lat = [t["latency_s"] for p in preds for t in p["turns"] if isinstance(t.get("latency_s"), (int, float))]
        write_report(report, metrics, suite=str(path), config=metrics["config"], latencies=lat, bad_lines=metrics["bad_lines"])
    return metrics


def show_metrics(metrics: dict[str, Any]) -> None:
    head = {k: metrics.get(k) for k in ("scenarios", "turns", "turn_accuracy", "scenario_accuracy", "tool_accuracy",
                                         "model_alone_turn_accuracy", "faithfulness", "latency_p50_s", "latency_p95_s")}
    console.print(simple_table("Evaluation", [head]))
    console.print(simple_table("By language", [{"lang": k, **v} for k, v in metrics["by_language"].items()]))
    console.print(simple_table("By expected tool", [{"tool": k, **v} for k, v in metrics["by_tool"].items()]))
    for b in metrics.get("bad_lines", []):
        console.print(f"[yellow]line {b['line']}:[/] {b['error']}")
    console.print(f"{len(metrics['failures'])} failing turns")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    @app.command("eval")
    @guarded
    def eval_cmd(suite: str = typer.Argument(..., help="Suite file (JSONL) or a shipped suite name (heldout, fresh, blind, blind2, gate)."),
                 backend: str = typer.Option("inproc", "--backend", help="inproc or vllm."),
                 model: str | None = typer.Option(None, "--model", help="Model path / hub id (default: shipped teacher)."),
                 url: str | None = typer.Option(None, "--url", help="vLLM server URL."),
                 predictions_out: str | None = typer.Option(None, "--predictions-out", help="Write predictions JSONL here."),
                 report: str | None = typer.Option(None, "--report", help="Write the HTML report here."),
                 workers: int = typer.Option(1, "--workers", min=1, max=32, help="Local worker processes."),
                 max_tool_seconds: float = typer.Option(2.0, "--max-tool-seconds", min=0.1, help="Cap on every solver budget."),
                 ray: str | None = typer.Option(None, "--ray", help="Run on a Ray cluster at this address ('local' starts one)."),
                 limit: int | None = typer.Option(None, "--limit", min=1, help="Only the first N scenarios."),
                 as_json: bool = JSON_OPTION) -> None:
        """Run a scenario suite through the real assistant and score it."""
        if backend not in ("inproc", "vllm"):
            raise DiaoduError(f"--backend must be one of inproc, vllm; got {backend!r}")
        metrics = evaluate(suite, RunConfig(backend, model, url, max_tool_seconds), workers=workers, ray_address=ray,
                           predictions_out=predictions_out, report=report, show_progress=not as_json, limit=limit)
        print_json(metrics) if as_json else show_metrics(metrics)

    @app.command("eval-score")
    @guarded
    def eval_score(suite: str = typer.Argument(..., help="Suite file or shipped suite name."),
                   predictions: str = typer.Argument(..., help="Predictions JSONL (the spec's format)."),
                   as_json: bool = JSON_OPTION) -> None:
        """Score a predictions file against a suite (no model needed)."""
        scenarios, bad = load_suite(resolve_suite(suite))
        preds, bad_preds = read_predictions(predictions)
        metrics = score(scenarios, preds)
        metrics["bad_lines"] = [b.to_dict() for b in bad]
        metrics["bad_prediction_lines"] = [b.to_dict() for b in bad_preds]
        print_json(metrics) if as_json else show_metrics(metrics)


__all__ = ["evaluate", "register", "resolve_suite"]
