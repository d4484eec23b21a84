"""``diaodu replan EVENT``, ``diaodu explain QUESTION`` and ``diaodu bench replan``."""

from __future__ import annotations

from typing import Any

import typer

from tools.contract import EVENTS, QUESTIONS
from tools.core.cli import JSON_OPTION, console, err_console, guarded, print_json, simple_table
from tools.core.errors import DiaoduError


def _orders(text: str | None) -> list[int] | None:
    if text is None or not text.strip():
        return None
    out = []
    for tok in text.replace(";", ",").replace(" ", ",").split(","):
        if not tok:
            continue
        if not tok.lstrip("-").isdigit():
            raise DiaoduError(f"--orders must be order ids separated by commas (e.g. 3,17,42); got {tok!r}")
        out.append(int(tok))
    return out


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    @app.command("replan")
    @guarded
    def replan_cmd(event: str = typer.Argument(..., help=f"One of {', '.join(EVENTS)}."),
                   plan: str = typer.Option("latest", "--plan", help="The plan to change (plan-N or latest)."),
                   vehicle: int = typer.Option(None, "--vehicle", help="The vehicle concerned (1-based)."),
                   orders: str = typer.Option(None, "--orders", help="Order ids, comma-separated."),
                   minutes: int = typer.Option(None, "--minutes", help="A delay's length in minutes."),
                   at: str = typer.Option(None, "--at", help="When it happened (HH:MM; default the shift start)."),
                   road: str = typer.Option(None, "--road", help="The closed road (road_closure)."),
                   time_limit: float = typer.Option(3.0, "--time-limit", help="Solver budget in seconds."),
                   seed: int = typer.Option(0, "--seed"),
                   as_json: bool = JSON_OPTION) -> None:
        """React to an event on a plan: re-optimise the rest of the day and store the new plan."""
        from tools.replan.replan_tool import replan

        res = replan(event, plan_id=plan, vehicle=vehicle, orders=_orders(orders), minutes=minutes, at=at, road=road,
                     time_limit_s=time_limit, seed=seed)
        if as_json:
            print_json(res)
            return
        console.print(res["message"], highlight=False)
        f = res["facts"]
        rows = [{"what": k.replace("_", " "), "value": ", ".join(map(str, v)) if isinstance(v, list) else v}
                for k, v in f.items() if k in ("cost_before", "cost", "cost_delta", "moved_orders", "newly_late_orders",
                                               "unservable_orders", "late_orders", "replan_seconds")]
        console.print(simple_table(f"{res['plan_id']} (from {res['parent']})", rows, ["what", "value"]))

    @app.command("explain")
    @guarded
    def explain_cmd(question: str = typer.Argument(..., help=f"One of {', '.join(QUESTIONS)}."),
                    plan: str = typer.Option("latest", "--plan", help="The plan asked about (plan-N or latest)."),
                    order: int = typer.Option(None, "--order", help="The order asked about."),
                    vehicle: int = typer.Option(None, "--vehicle", help="The vehicle (target for what_if_move)."),
                    num_vehicles: int = typer.Option(None, "--num-vehicles", help="Fleet size for what_if_fleet."),
                    time_limit: float = typer.Option(3.0, "--time-limit", help="Solver budget for what-ifs (s)."),
                    as_json: bool = JSON_OPTION) -> None:
        """Answer a question about a plan with solver-computed facts."""
        from tools.replan.explain_tool import explain_plan

        res = explain_plan(question, plan_id=plan, order=order, vehicle=vehicle, num_vehicles=num_vehicles,
                           time_limit_s=time_limit)
        if as_json:
            print_json(res)
            return
        console.print(res["message"], highlight=False)
        if question == "cost_breakdown":
            console.print(simple_table(res["plan_id"], res["facts"]["vehicles"]))

    @bench_app.command("replan")
    @guarded
    def bench_replan(events: int = typer.Option(20, "--events", min=1, help="Random events per dataset."),
                     time_limit: float = typer.Option(2.0, "--time-limit", help="Budget per replan (s)."),
                     base_time_limit: float = typer.Option(10.0, "--base-time-limit", help="Budget of the first plan."),
                     datasets: str = typer.Option("demo-city,R101", "--datasets", help="Comma-separated dataset names."),
                     seed: int = typer.Option(0, "--seed"),
                     as_json: bool = JSON_OPTION) -> None:
        """Replan latency and disruption (orders moved) against re-solving from scratch with the same budget."""
        from tools.replan.bench import run_bench

        def on_row(row: dict[str, Any]) -> None:
            if not as_json:
                w, s = row.get("warm", {}), row.get("scratch", {})
                err_console.print(f"{row['dataset']} #{row['index']} {row['event']} at {row['at']}: warm "
                                  f"{w.get('latency_s', '-')} s moved {w.get('moved_by_choice', '-')}, scratch "
                                  f"{s.get('latency_s', '-')} s moved {s.get('moved_by_choice', '-')}", highlight=False)

        names = [d.strip() for d in datasets.split(",") if d.strip()]
        report = run_bench(names, events, time_limit, base_time_limit, seed, on_row)
        if as_json:
            print_json(report)
            return
        rows = [{"dataset": name, "mode": mode, **d[mode]} for name, d in report["datasets"].items()
                for mode in ("warm", "warm_no_penalty", "scratch")]
        console.print(simple_table(f"replan benchmark ({events} events, {time_limit:g} s each)", rows))
