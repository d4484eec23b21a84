"""``diaodu bench replan``: replanning latency and disruption against re-solving from scratch.

For each dataset: plan the day (``plan_routes``), hold a few orders back (cancelled at the shift
start, so ``new_orders`` events have orders to add), then draw random valid events at random times
in the shift. Each event is replanned twice with the same budget: *warm* (the tool's default:
start from the current routes, penalty per order that changes vehicle) and *scratch* (the same
remainder model solved from nothing, no stability term). Reported: latency (wall seconds) p50/p90,
orders moved by choice (not counting a broken vehicle's orders, which must move), cost after the
event, newly late orders. A third mode, *warm_no_penalty*, separates the warm start's effect from
the stability term's. Runs in a throw-away workspace so the user's plans are untouched.
"""

from __future__ import annotations

import logging
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from tools.core.errors import DiaoduError
from tools.replan.context import load_context
from tools.replan.replan_tool import replan
from tools.replan.timeline import clock_or_units
from tools.routing.plan_tool import plan_routes

log = logging.getLogger(__name__)

HELD_BACK = 5
# the tool's default; the same search without the stability term; the remainder model from nothing
MODES: list[tuple[str, dict[str, Any]]] = [("warm", {}), ("warm_no_penalty", {"move_penalty": 0}),
                                           ("scratch", {"warm_start": False, "move_penalty": 0})]


def _random_event(ctx: Any, rng: random.Random, held: list[int]) -> dict[str, Any]:
    """A valid random event on ``ctx`` at a random time in the first 70% of the day."""
    inst = ctx.inst
    horizon = inst.horizon if inst.has_time_windows else int(max(r.back for r in ctx.report.routes))
    kinds = ["vehicle_breakdown", "cancel_orders", "traffic_delay", "new_orders"] + (
        ["road_closure"] if inst.roads else [])
    for _ in range(200):
        kind = rng.choice(kinds)
        t = int(rng.uniform(0.1, 0.7) * horizon)
        t -= t % inst.time_scale  # whole minutes / units
        at = clock_or_units(inst, t)
        on_road = [v for v, r in enumerate(ctx.routes) if r and ctx.timed[v].check.back > t]
        if kind == "vehicle_breakdown" and on_road:
            return {"event": kind, "vehicle": rng.choice(on_road) + 1, "at": at}
        if kind == "traffic_delay" and on_road:
            return {"event": kind, "vehicle": rng.choice(on_road) + 1, "minutes": rng.choice([15, 30, 45, 60]), "at": at}
        if kind == "road_closure":
            return {"event": kind, "road": rng.choice(inst.roads)["name"], "at": at}
        if kind == "new_orders" and held:
            return {"event": kind, "orders": rng.sample(held, k=min(len(held), rng.randint(1, 3))), "at": at}
        if kind == "cancel_orders":
            open_ids = [inst.customer_ids[n] for v, r in enumerate(ctx.routes) for i, n in enumerate(r)
                        if ctx.timed[v].check.starts and ctx.timed[v].check.starts[i] > t]
            if open_ids:
                return {"event": kind, "orders": rng.sample(open_ids, k=min(len(open_ids), rng.randint(1, 3))),
                        "at": at}
    raise DiaoduError(f"could not draw a valid event on {ctx.dataset}")


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(q * (len(xs) - 1)))))
    return xs[k]


def _summary(rows: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    ok = [r[mode] for r in rows if r[mode].get("ok")]
    lat = [r["latency_s"] for r in ok]
    return {"events": len(ok), "latency_p50_s": round(statistics.median(lat), 3) if lat else None,
            "latency_p90_s": round(_pct(lat, 0.9), 3) if lat else None,
            "moved_by_choice_mean": round(statistics.mean(r["moved_by_choice"] for r in ok), 2) if ok else None,
            "moved_total_mean": round(statistics.mean(r["moved"] for r in ok), 2) if ok else None,
            "cost_mean": round(statistics.mean(r["cost"] for r in ok), 3) if ok else None,
            "newly_late_mean": round(statistics.mean(r["newly_late"] for r in ok), 2) if ok else None,
            "unservable_total": sum(r["unservable"] for r in ok)}


def run_bench(datasets: list[str], events: int = 20, time_limit_s: float = 2.0, base_time_limit_s: float = 10.0,
              seed: int = 0, on_row: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Run the benchmark; returns per-dataset summaries (warm vs scratch) and every event's row."""
    old_home = os.environ.get("DIAODU_HOME")
    out: dict[str, Any] = {"time_limit_s": time_limit_s, "events_per_dataset": events, "seed": seed,
                           "datasets": {}, "rows": []}
    with tempfile.TemporaryDirectory(prefix="diaodu-bench-replan-") as home:
        os.environ["DIAODU_HOME"] = home
        try:
            for name in datasets:
                rng = random.Random(f"{seed}-{name}")
                base = plan_routes(name, time_limit_s=base_time_limit_s, guidance="none", seed=seed)
                ctx0 = load_context(base["plan_id"])
                ids = ctx0.inst.customer_ids[1:]
                held = rng.sample(ids, k=HELD_BACK)
                start = replan("cancel_orders", plan_id=base["plan_id"], orders=held, time_limit_s=base_time_limit_s)
                ctx = load_context(start["plan_id"])
                rows = []
                for k in range(events):
                    ev = _random_event(ctx, rng, held)
                    row: dict[str, Any] = {"dataset": name, "index": k, **ev}
                    for mode, kw in MODES:
                        t0 = time.perf_counter()
                        try:
                            res = replan(plan_id=start["plan_id"], time_limit_s=time_limit_s, seed=seed, save=False,
                                         **ev, **kw)
                        except DiaoduError as exc:
                            row[mode] = {"ok": False, "error": exc.message}
                            continue
                        f = res["facts"]
                        row[mode] = {"ok": True, "latency_s": round(time.perf_counter() - t0, 3),
                                     "time_to_best_s": f["time_to_best_s"], "cost": f["cost"],
                                     "cost_delta": f["cost_delta"], "moved": f["orders_moved"],
                                     "moved_by_choice": len(f["moved_by_choice"]),
                                     "newly_late": len(f["newly_late_orders"]),
                                     "unservable": len(f["unservable_orders"])}
                    rows.append(row)
                    if on_row is not None:
                        on_row(row)
                out["datasets"][name] = {"base_plan_cost": base["cost"], "held_back_orders": sorted(held),
                                         **{mode: _summary(rows, mode) for mode, _ in MODES}}
                out["rows"] += rows
        finally:
            if old_home is None:
                os.environ.pop("DIAODU_HOME", None)
            else:
                os.environ["DIAODU_HOME"] = old_home
    return out
