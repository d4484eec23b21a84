"""Workspace commands: ``diaodu datasets`` and ``diaodu plans``."""

from __future__ import annotations

import typer

from tools.core.cli import JSON_OPTION, console, guarded, print_json, simple_table
from tools.core.datasets import KINDS, all_datasets
from tools.core.errors import check_choice
from tools.core.settings import benchmarks_hint, workspace_dir
from tools.core.store import Store


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    @app.command("datasets")
    @guarded
    def datasets(kind: str = typer.Option("", help=f"Only this kind ({', '.join(KINDS)})."),
                 as_json: bool = JSON_OPTION) -> None:
        """List every dataset name the workspace resolves."""
        refs = list(all_datasets().values())
        if kind:
            k = check_choice("kind", kind, KINDS)
            refs = [r for r in refs if r.kind == k]
        rows = [r.to_dict() for r in refs]
        if as_json:
            print_json({"datasets": rows, "workspace": str(workspace_dir()), "benchmarks": benchmarks_hint()})
            return
        console.print(simple_table("Datasets", rows, ["name", "kind", "source", "bks"]))
        console.print(benchmarks_hint())

    @app.command("plans")
    @guarded
    def plans(limit: int = typer.Option(20, min=1), as_json: bool = JSON_OPTION) -> None:
        """List the newest plans in the workspace."""
        rows = Store().list_plans(limit)
        if as_json:
            print_json({"plans": rows})
            return
        console.print(simple_table("Plans", rows, ["plan_id", "dataset", "parent"]))
