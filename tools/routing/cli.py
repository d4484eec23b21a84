"""``diaodu plan DATASET`` (plan routes, live progress, route table, plot) and ``diaodu bench vrp``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.live import Live
from rich.table import Table
from rich.text import Text

from tools.contract import GUIDANCE, OBJECTIVES
from tools.core.cli import JSON_OPTION, console, err_console, guarded, print_json
from tools.core.errors import DiaoduError, check_number

SPARK = "▁▂▃▄▅▆▇█"


class _ProgressView:
    """Best cost over time, drawn live: a line of text and a sparkline of the improvements."""

    def __init__(self, dataset: str, limit: float):
        self.dataset, self.limit = dataset, limit
        self.points: list[tuple[float, float]] = []

    def __call__(self, elapsed: float, cost: float) -> None:
        self.points.append((elapsed, cost))

    def __rich__(self) -> Text:
        if not self.points:
            return Text(f"planning {self.dataset}: looking for a first solution (budget {self.limit:g} s)...")
        t, best = self.points[-1]
        costs = [c for _, c in self.points[-40:]]
        lo, hi = min(costs), max(costs)
        spark = "".join(SPARK[int((c - lo) / (hi - lo) * (len(SPARK) - 1)) if hi > lo else 0] for c in costs)
        first = self.points[0][1]
        return Text.assemble(("planning ", "dim"), (self.dataset, "bold"),
                             f"  best {best:g} at {t:.1f}s / {self.limit:g}s  ",
                             (f"(-{100 * (first - best) / first:.1f}% from first {first:g})  " if first else "", "dim"),
                             (spark, "cyan"))


def _route_table(result: dict[str, Any]) -> Table:
    routes = result["routes"]
    timed = bool(routes) and "duration" in routes[0]
    unit = result.get("unit") or ""
    table = Table(title=f"{result['plan_id'] or 'plan'}: {result['dataset']}")
    for col in ["vehicle", "stops", "load", f"distance{f' ({unit})' if unit else ''}"] + (
            ["depart", "back", "late"] if timed else []) + ["orders"]:
        if col == "orders":
            table.add_column(col, justify="left", no_wrap=True, overflow="ellipsis", max_width=40)
        else:
            table.add_column(col, justify="right")
    for r in routes:
        name = r.get("vehicle_name") or str(r["vehicle"])
        orders = " ".join(map(str, r["customers"]))
        cells = [name, str(len(r["customers"])), f"{r['load']}/{r['capacity']}", f"{r['distance']:g}"]
        if timed:
            cells += [str(r["depart"]), str(r["back"]), str(len(r.get("late", {})) or "")]
        cells.append(orders if len(orders) <= 60 else orders[:57] + "...")
        table.add_row(*cells)
    return table


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    @app.command("plan")
    @guarded
    def plan(dataset: str = typer.Argument(..., help="A dataset name: demo-city, demo-small, X-n101-k25, C101, ..."),
             vehicles: int = typer.Option(None, "--vehicles", help="Fleet size (default: the dataset's)."),
             capacity: int = typer.Option(None, "--capacity", help="Capacity of every vehicle (default: the dataset's)."),
             time_limit: float = typer.Option(10.0, "--time-limit", help="Solver budget in seconds."),
             objective: str = typer.Option("distance", "--objective", help=f"One of {', '.join(OBJECTIVES)}."),
             guidance: str = typer.Option(None, "--guidance",
                                          help=f"One of {', '.join(GUIDANCE)} (default: gnn when its weights are shipped)."),
             seed: int = typer.Option(0, "--seed", help="Random seed (recorded with the plan)."),
             plot: Path = typer.Option(None, "--plot", help="Draw the routes to this image (e.g. routes.png)."),
             as_json: bool = JSON_OPTION) -> None:
        """Plan vehicle routes for a dataset, store the plan, and show a route summary."""
        from tools.routing.plan_tool import instance_for_plan, plan_routes

        if plot is not None and plot.suffix.lower() not in {".png", ".svg", ".pdf", ".jpg", ".jpeg"}:
            raise DiaoduError(f"--plot must end in .png, .svg, .pdf or .jpg; got {str(plot)!r}")
        args: dict[str, Any] = dict(dataset=dataset, num_vehicles=vehicles, vehicle_capacity=capacity, time_limit_s=time_limit,
                    objective=objective, guidance=guidance, seed=seed)
        if as_json:
            result = plan_routes(**args)
        else:
            view = _ProgressView(dataset, time_limit)
            with Live(view, console=console, refresh_per_second=8, transient=True):
                result = plan_routes(**args, progress=view)
        if plot is not None:
            from tools.routing.plot import plot_routes

            inst, payload = instance_for_plan(result["plan_id"])
            plot_routes(inst, payload["node_routes"], plot, title=f"{result['plan_id']} {dataset}: {result['cost']:g}")
            result["plot"] = str(plot)
        if as_json:
            print_json(result)
            return
        console.print(_route_table(result))
        for note in result.get("notes", []):
            console.print(f"[yellow]note:[/] {note}")
        console.print(result["message"])
        if result.get("plot"):
            console.print(f"routes drawn to {result['plot']}")

    @bench_app.command("vrp")
    @guarded
    def bench_vrp(time_limit: float = typer.Option(10.0, "--time-limit", help="Budget per solver and instance (s)."),
                  instances: str = typer.Option("", "--instances", help="Comma-separated names (default: all shared CVRP and VRPTW)."),
                  guidance: str = typer.Option("none", "--guidance", help="Comma-separated guidance variants for OR-Tools: none,gnn."),
                  solvers: str = typer.Option("ortools,pyvrp", "--solvers", help="Comma-separated: ortools,pyvrp."),
                  fresh: int = typer.Option(0, "--fresh", help="Also this many freshly generated instances (never used in "
                                            "training; a fifth VRPTW), gaps to the best plan of the run."),
                  fresh_seed: int = typer.Option(2026, "--fresh-seed", help="Seed stream of the fresh instances."),
                  workers: int = typer.Option(1, "--workers", help="Instances solved at once (processes; use --clock cpu)."),
                  repeats: int = typer.Option(1, "--repeats", help="Runs per instance (seeds seed..seed+N-1); cells "
                                              "hold the run of median cost."),
                  seed: int = typer.Option(0, "--seed"),
                  clock: str = typer.Option("wall", "--clock",
                                            help="wall, or cpu: count each solver's own CPU time (steady figures on a busy machine)."),
                  out: Path = typer.Option(None, "--out", help="Also write the JSON results to this file."),
                  as_json: bool = JSON_OPTION) -> None:
        """Our OR-Tools solver and PyVRP side by side: gap to best known per instance, and the means."""
        from tools.routing.bench import ANCHORS, is_column, run_bench

        limit = check_number("--time-limit", time_limit, minimum=0.1, maximum=3600)
        check_number("--fresh", fresh, minimum=0, maximum=1000)
        names = [s.strip() for s in instances.split(",") if s.strip()] or None
        live = err_console if as_json else console

        def on_row(row: dict[str, Any]) -> None:
            cells = [f"{row['instance']:<11}"] + [
                f"{col} {row[col]['cost'] if row[col]['cost'] is not None else '-'}"
                f" ({row[col]['gap_pct']:+.2f}%)" if row[col].get("gap_pct") is not None
                else f"{col} {'infeasible' if row[col]['cost'] is not None else 'no plan'}"
                for col in row if is_column(row[col])]
            live.print("  ".join(cells), highlight=False)

        report = run_bench(names, limit, [g.strip() for g in guidance.split(",") if g.strip()],
                           [s.strip() for s in solvers.split(",") if s.strip()], seed, clock, on_row=on_row,
                           fresh=fresh, fresh_seed=fresh_seed, workers=workers, repeats=repeats)
        if out is not None:
            out.write_text(json.dumps(report, indent=1, ensure_ascii=False))
        if as_json:
            print_json(report)
            return
        for note in report["notes"]:
            console.print(f"[yellow]note:[/] {note}")
        table = Table(title=f"bench vrp: {limit:g} s ({clock} clock) per solver and instance, one thread")
        cols = report["columns"]
        for c in ["instance", "kind", "n", "ref"] + [f"{c} cost" for c in cols] + [f"{c} gap %" for c in cols]:
            table.add_column(c, justify="left" if c in ("instance", "kind") else "right")
        for row in report["rows"]:
            costs = [_cell(row[c]["cost"]) + ("" if row[c]["feasible"] else " ✗") for c in cols]
            gaps = [_cell(row[c]["gap_pct"], ".2f") for c in cols]
            ref = _cell(row["bks"]) if row["bks"] is not None else _cell(row.get("ref", {}).get("cost")) + " (run)"
            table.add_row(row["instance"], row["kind"], str(row["customers"]), ref, *costs, *gaps)
        console.print(table)
        for c in cols:
            m = report["means"][c]
            groups = ", ".join(f"{g} {_cell(v['mean_gap_pct'], '.2f')}% ({v['instances']})"
                               for g, v in m["groups"].items() if v["instances"])
            console.print(f"{c}: mean gap {_cell(m['mean_gap_pct'], '.2f')}% over {m['instances']} instances "
                          f"({m['feasible']} feasible); {groups}")
            if "vs_plain" in m:
                v = m["vs_plain"]
                console.print(f"  against plain OR-Tools: better {v['better']}, equal {v['equal']}, worse {v['worse']}; "
                              f"worst {v['worst_points']:+.2f} points ({v['worst_instance']}); mean-gap ratio anchors "
                              f"{_cell(v['anchors_ratio'])}, fresh {_cell(v['fresh_ratio'])}")
        console.print(f"anchors: {', '.join(ANCHORS)}")
        if out is not None:
            console.print(f"results written to {out}")


def _cell(value: Any, fmt: str = "g") -> str:
    return "-" if value is None else format(value, fmt)
