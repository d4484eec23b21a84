"""``diaodu finetune ...``: the assistant's own LLM (pipeline, evaluation, artifacts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from tools.core.cli import JSON_OPTION, console, guarded, print_json, simple_table
from tools.core.errors import DiaoduError, check_int

ARTIFACT_NAMES = ("tokenizer", "base", "adapter", "teacher", "student", "student-int8")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add the ``finetune`` command group."""
    ft = typer.Typer(help="The assistant's own LLM: data, tokenizer, pretrain, LoRA SFT, distillation, INT8.",
                     no_args_is_help=True)
    app.add_typer(ft, name="finetune")

    @ft.command("run")
    @guarded
    def run_cmd(smoke: bool = typer.Option(False, "--smoke", help="Tiny sizes into a temp folder (CI, a few minutes)."),
                out: Path = typer.Option(None, "--out", help="Artifact folder (default: finetune/artifacts)."),
                phases: str = typer.Option(None, "--phases", help="Comma-separated subset: data,tokenizer,pretrain,"
                                                                   "sft,sft_rounds,distil,quantize,eval"),
                as_json: bool = JSON_OPTION) -> None:
        """Run the whole pipeline (or some phases) and report the measured figures."""
        from finetune import pipeline

        argv = ["--smoke"] if smoke else []
        if out is not None:
            argv += ["--out", str(out)]
        if phases:
            try:
                argv += ["--phases", ",".join(pipeline.check_phases(phases.split(",")))]
            except ValueError as exc:
                raise DiaoduError(str(exc)) from None
        summary = pipeline.main(argv)
        if as_json:
            print_json(summary)
        else:
            _print_results(summary.get("results", {}))
            console.print(f"artifacts: {summary['out']}  ({summary['total_seconds']:.0f} s)")

    @ft.command("eval")
    @guarded
    def eval_cmd(model: str = typer.Option(None, "--model", help="Artifact folder or hub id (default: shipped teacher)."),
                 suite: Path = typer.Option(None, "--suite", help="Scenario suite (default: evals/suites/heldout.jsonl)."),
                 limit: int = typer.Option(None, "--limit", help="Only the first N scenarios."),
                 records: bool = typer.Option(False, "--records", help="Include every turn's output in the JSON."),
                 as_json: bool = JSON_OPTION) -> None:
        """Score a model alone (no rule help) on the held-out suite: right tool, exact call, EN/ZH, speed, size."""
        from finetune.common import ARTIFACTS, HELDOUT
        from finetune.evaluate import evaluate, model_size
        from finetune.inference import load_model

        path = model or str(ARTIFACTS / "teacher")
        suite = suite or HELDOUT
        if not Path(suite).is_file():
            raise DiaoduError(f"suite {str(suite)!r} not found; the default is {HELDOUT}")
        if limit is not None:
            check_int("--limit", limit, minimum=1)
        m = load_model(path)
        rep = evaluate(m, Path(suite), limit)
        metrics = rep["metrics"] | model_size(m, path) | {"model": path}
        if as_json:
            print_json({"metrics": metrics, **({"records": rep["records"]} if records else {})})
        else:
            _print_results({path: metrics})

    @ft.command("info")
    @guarded
    def info_cmd(path: Path = typer.Option(None, "--path", help="Artifact folder (default: finetune/artifacts)."),
                 as_json: bool = JSON_OPTION) -> None:
        """The shipped artifacts with their sizes, training times and measured metrics."""
        from finetune.common import ARTIFACTS, dir_size, read_meta

        root = path or ARTIFACTS
        if not root.is_dir():
            raise DiaoduError(f"no artifacts at {root}; run `diaodu finetune run` first")
        rows: list[dict[str, Any]] = []
        for name in ARTIFACT_NAMES:
            d = root / name
            if not d.is_dir():
                continue
            meta = read_meta(d)
            metr = meta.get("metrics", {})
            rows.append({"artifact": name, "bytes": dir_size(d), "params": meta.get("params"),
                         "train_time_s": meta.get("train_time_s"),
                         "right_tool": metr.get("all", {}).get("right_tool"), "exact": metr.get("all", {}).get("exact"),
                         "exact_en": metr.get("en", {}).get("exact"), "exact_zh": metr.get("zh", {}).get("exact"),
                         "tokens_per_s": metr.get("tokens_per_s")})
        if as_json:
            print_json({"root": str(root), "artifacts": rows})
        else:
            console.print(simple_table("finetune artifacts", rows))


def _print_results(results: dict[str, Any]) -> None:
    rows = []
    for name, m in results.items():
        if not isinstance(m, dict) or "all" not in m:
            continue
        rows.append({"model": name, "right_tool": m["all"]["right_tool"], "exact": m["all"]["exact"],
                     "exact_en": m["en"]["exact"], "exact_zh": m["zh"]["exact"], "tokens_per_s": m.get("tokens_per_s"),
                     "params": m.get("params"), "bytes": m.get("bytes")})
    console.print(simple_table("model alone on the held-out suite", rows))
