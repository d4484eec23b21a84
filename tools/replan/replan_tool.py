"""``replan``: the contract tool that reacts to an event on a stored plan.

At the event's time (``at``; default the shift start, or the plan's last event) stops already
served stay served, each vehicle continues from where it is, and only the rest of the day is
re-optimised (:mod:`tools.replan.remainder`), starting from the current routes with a penalty on
every order that changes vehicle. The new plan is stored as ``plan-N`` with the old one as its
parent, in ``plan_routes``' payload format plus the events so far, so plans chain.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from tools.contract import EVENTS
from tools.core.errors import DiaoduError, check_choice, check_int, check_number
from tools.core.store import Store
from tools.replan.context import (
    PlanContext,
    check_vehicle,
    load_context,
    make_payload,
    order_nodes,
    parse_at,
    positions,
)
from tools.replan.remainder import Remainder, solve_remainder
from tools.replan.roads import find_road
from tools.replan.timeline import Network, PlanState, clock_or_units, simulate
from tools.routing.stop import MaxRuntime

log = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT_S = 3.0
MAX_TIME_LIMIT_S = 300.0
MOVE_PENALTY_FACTOR = 0.5  # an order changing vehicle costs half the mean arc length


def default_move_penalty(inst: Any) -> int:
    """Cost (internal distance units) of moving one order to another vehicle."""
    return int(round(MOVE_PENALTY_FACTOR * float(np.mean(inst.distance))))


def replan(event: str, plan_id: str | None = None, vehicle: int | None = None, orders: list[int] | None = None,
           minutes: int | None = None, at: str | None = None, road: str | None = None,
           time_limit_s: float | None = None, seed: int = 0, move_penalty: float | None = None,
           warm_start: bool = True, save: bool = True) -> dict[str, Any]:
    """React to ``event`` on ``plan_id`` (default ``latest``); returns the new plan id and what changed.

    Extras beyond the contract: ``road`` (for ``road_closure``), ``time_limit_s``, ``seed``,
    ``move_penalty`` (distance units per order that changes vehicle; 0 = no stability term),
    ``warm_start`` and ``save`` (the benchmark's from-scratch baseline turns both off).
    """
    t_start = time.perf_counter()
    event = check_choice("event", event, EVENTS)
    limit = DEFAULT_TIME_LIMIT_S if time_limit_s is None else check_number(
        "time_limit_s", time_limit_s, minimum=0.1, maximum=MAX_TIME_LIMIT_S)
    seed = check_int("seed", seed, minimum=0)
    ctx = load_context(plan_id)
    inst = ctx.inst
    t, at_note = parse_at(inst, at, ctx.state)
    state = ctx.state.copy()
    state.time = t
    routes = [list(r) for r in ctx.routes]
    where: dict[int, int] = {n: v for v, r in enumerate(routes) for n in r}
    timed0 = ctx.timed
    broken_now: int | None = None
    event_rec: dict[str, Any] = {"event": event, "at": clock_or_units(inst, t), "time": t}
    forced_move: set[int] = set()
    inserted: list[int] = []

    def served_by(n: int) -> tuple[int, int] | None:
        v = where.get(n)
        if v is None:
            return None
        i = routes[v].index(n)
        s = timed0[v].check.starts[i] if inst.has_time_windows or timed0[v].check.starts else None
        return (v, s) if s is not None and s <= t else None

    if event == "vehicle_breakdown":
        if vehicle is None:
            raise DiaoduError(f"vehicle_breakdown needs the vehicle (1..{inst.num_vehicles})", code="missing_vehicle")
        v = check_vehicle(ctx, vehicle, at=t)
        tm = timed0[v]
        if routes[v] and tm.check.back <= t and not ctx.state.broken.get(v):
            raise DiaoduError(f"vehicle {v + 1} finished its route at {clock_or_units(inst, tm.check.back)}, before "
                              f"the breakdown at {clock_or_units(inst, t)}; nothing to replan", code="already_back")
        state.broken[v] = t
        broken_now = v
        event_rec["vehicle"] = v + 1
    elif event == "cancel_orders":
        nodes = order_nodes(ctx, orders)
        for n in nodes:
            cid = inst.customer_ids[n]
            if n in ctx.state.excluded:
                raise DiaoduError(f"order {cid} is not in {ctx.plan_id} (cancelled earlier or never added)",
                                  code="not_in_plan")
            done = served_by(n)
            if done is not None:
                raise DiaoduError(f"order {cid} was already delivered at {clock_or_units(inst, done[1])} by vehicle "
                                  f"{done[0] + 1}; it cannot be cancelled", code="already_served")
        for n in nodes:
            if n in where:
                routes[where.pop(n)].remove(n)
        state.excluded = sorted(set(state.excluded) | set(nodes))
        event_rec["orders"] = [inst.customer_ids[n] for n in nodes]
    elif event == "new_orders":
        nodes = order_nodes(ctx, orders)
        for n in nodes:
            cid = inst.customer_ids[n]
            if n not in ctx.state.excluded:
                holder = where.get(n)
                open_ids = [inst.customer_ids[x] for x in ctx.state.excluded]
                hint = (f"orders not in the plan that can be added: {open_ids[:20]}" if open_ids
                        else "every order of the dataset is already planned")
                raise DiaoduError(f"order {cid} is already in {ctx.plan_id}"
                                  f"{f' (vehicle {holder + 1})' if holder is not None else ''}; new orders must be orders of "
                                  f"dataset {ctx.dataset!r} that the plan does not serve yet ({hint})",
                                  code="already_planned", details={"addable": open_ids})
        state.excluded = sorted(set(state.excluded) - set(nodes))
        inserted = nodes
        event_rec["orders"] = [inst.customer_ids[n] for n in nodes]
    elif event == "road_closure":
        r = find_road(inst, road)
        if any(c["road"] == r.get("id", r.get("name")) for c in state.closures):
            raise DiaoduError(f"{r.get('name')} is already closed in {ctx.plan_id}", code="already_closed")
        state.closures.append({"road": r.get("id", r.get("name")), "name": r.get("name"),
                               "name_zh": r.get("name_zh"), "points": r.get("points"), "time": t})
        event_rec["road"] = r.get("name")
    else:  # traffic_delay
        if minutes is None:
            raise DiaoduError("traffic_delay needs the delay in minutes (argument 'minutes')", code="missing_minutes")
        m = check_int("minutes", minutes, minimum=1, maximum=24 * 60)
        if vehicle is not None:
            v = check_vehicle(ctx, vehicle, at=t)
            tm = timed0[v]
            if routes[v] and tm.check.back <= t:
                raise DiaoduError(f"vehicle {v + 1} was back at the depot at {clock_or_units(inst, tm.check.back)}; a "
                                  f"delay at {clock_or_units(inst, t)} changes nothing", code="already_back")
            hit = [v]
        else:  # the whole fleet still on the road (or yet to leave)
            hit = [v for v in range(inst.num_vehicles) if v not in state.broken
                   and not (routes[v] and timed0[v].check.back <= t)]
        for v in hit:
            state.delays.append({"vehicle": v, "time": t, "minutes": m * inst.time_scale})
        event_rec.update({"vehicle": vehicle, "minutes": m, "vehicles_delayed": [v + 1 for v in hit]})

    net = Network(inst, state.closures) if state.closures != ctx.state.closures else ctx.net
    _, timed = simulate(inst, routes, state, net)
    pos = positions(ctx, routes, timed, t, broken_now)
    available = [v for v, p in pos.items() if v != broken_now and not (
        routes[v] and p.committed == len(routes[v]) and timed[v].check.back <= t)]
    prefix = {v: routes[v][:p.committed] for v, p in pos.items()}
    committed_nodes = {n for r in prefix.values() for n in r}
    excluded = set(state.excluded)
    fixed_other = {n for v, r in enumerate(routes) if v not in available and v != broken_now for n in r}
    open_nodes = [n for n in range(1, inst.num_nodes)
                  if n not in excluded and n not in committed_nodes and n not in fixed_other]
    previous = {n: v for v in available for n in routes[v][pos[v].committed:]}
    if broken_now is not None:
        forced_move = set(routes[broken_now][pos[broken_now].committed:])
    rem = Remainder(vehicles=available, anchors=[pos[v].anchor for v in available],
                    start_times=[pos[v].start_time for v in available],
                    capacities=[inst.capacity - pos[v].load for v in available], open_nodes=open_nodes,
                    previous=previous)
    penalty = default_move_penalty(inst) if move_penalty is None else int(round(
        check_number("move_penalty", move_penalty, minimum=0) * inst.dist_scale))
    dist, dur = net.at(t)
    warm = {v: routes[v][pos[v].committed:] for v in available} if warm_start else None
    budget = max(0.1, limit - (time.perf_counter() - t_start))
    sol = solve_remainder(inst, rem, dist, dur, MaxRuntime(budget), warm=warm, move_penalty=penalty)
    if not sol.found:
        raise DiaoduError(f"no plan for the rest of the day after {event} at {clock_or_units(inst, t)} was found in "
                          f"{limit:g} s; try a longer time_limit_s", code="no_solution")
    new_routes = [list(r) for r in routes]
    for v, p in pos.items():
        new_routes[v] = prefix[v] + (sol.routes.get(v, []) if v in available else
                                     ([] if v == broken_now else routes[v][p.committed:]))
        if v in available:
            state.releases.setdefault(v, []).append([p.committed, t])
    state.events.append(event_rec)
    report, _ = simulate(inst, new_routes, state, net)

    # what changed, against the parent plan as it stood
    old_vehicle = ctx.vehicle_of()
    new_vehicle = {n: v for v, r in enumerate(new_routes) for n in r}
    moved = sorted(inst.customer_ids[n] for n, v in new_vehicle.items() if n in old_vehicle and old_vehicle[n] != v)
    forced_ids = sorted(inst.customer_ids[n] for n in forced_move)
    moved_by_choice = [c for c in moved if c not in forced_ids]
    old_late = _late_ids(inst, ctx.routes, ctx.report)
    new_late = _late_ids(inst, new_routes, report)
    newly_late = sorted(set(new_late) - set(old_late))
    unservable = sorted(inst.customer_ids[n] for n in sol.dropped)
    seconds = time.perf_counter() - t_start
    request = {"event": event, "plan_id": ctx.plan_id, "vehicle": vehicle, "orders": orders, "minutes": minutes,
               "at": at, "road": road, "time_limit_s": limit, "seed": seed, "move_penalty": penalty / inst.dist_scale}
    changes = {"moved_orders": moved, "moved_from_broken_vehicle": forced_ids, "moved_by_choice": moved_by_choice,
               "inserted_orders": sorted(inst.customer_ids[n] for n in inserted),
               "cancelled_orders": event_rec.get("orders", []) if event == "cancel_orders" else [],
               "newly_late_orders": newly_late, "unservable_orders": unservable}
    payload, result, facts = make_payload(ctx, new_routes, report, state, request,
                                          {"event": event_rec, "changes": changes, "parent": ctx.plan_id}, seconds)
    old_cost = ctx.inst.real_distance(ctx.report.distance)
    facts.update({
        "event": event, "at": clock_or_units(inst, t), "parent_plan": ctx.plan_id,
        "cost_before": round(old_cost, 3), "cost_delta": round(result.cost - old_cost, 3),
        "orders_moved": len(moved), **changes,
        "orders_served_before_event": sum(p.served for p in pos.values()),
        "vehicles_available": len(available), "solver_seconds": round(sol.seconds, 3),
        "time_to_best_s": round(sol.time_to_best, 3), "replan_seconds": round(seconds, 3),
    })
    if event == "road_closure":
        facts["road"] = event_rec["road"]
    if event == "traffic_delay":
        facts["delay_minutes"] = event_rec["minutes"]
        facts["vehicles_delayed"] = event_rec["vehicles_delayed"]
    if event == "vehicle_breakdown":
        facts["broken_vehicle"] = broken_now + 1 if broken_now is not None else None
    new_id = Store().save_plan(ctx.dataset, payload, parent=ctx.plan_id) if save else None
    facts["plan_id"] = new_id
    msg, msg_zh = _messages(new_id, ctx, event_rec, facts, inst.units.get("distance", ""))
    return {"plan_id": new_id, "parent": ctx.plan_id, "dataset": ctx.dataset, "event": event_rec,
            "at": at_note, "cost": round(result.cost, 3), "unit": inst.units.get("distance", ""),
            "routes": [r.to_dict() for r in result.routes], "feasible": result.feasible,
            "violations": result.violations, "facts": facts, "message": msg, "message_zh": msg_zh,
            "node_routes": new_routes}


def _late_ids(inst: Any, routes: list[list[int]], report: Any) -> list[int]:
    checks = iter(report.routes)
    late = []
    for r in routes:
        if not r:
            continue
        rc = next(checks)
        late += [inst.customer_ids[n] for n, lt in zip(rc.nodes, rc.late, strict=False) if lt > 0]
    return sorted(late)


def _ids(ids: list[int], k: int = 8) -> str:
    return ", ".join(map(str, ids[:k])) + (f" and {len(ids) - k} more" if len(ids) > k else "")


def _messages(new_id: str | None, ctx: PlanContext, ev: dict[str, Any], f: dict[str, Any],
              unit: str) -> tuple[str, str]:
    """English and Chinese template sentences grounded in ``f``."""
    u = f" {unit}" if unit else ""
    e = ev["event"]
    what = {"vehicle_breakdown": f"vehicle {ev.get('vehicle')} broke down",
            "cancel_orders": f"orders {_ids(ev.get('orders', []))} were cancelled",
            "new_orders": f"orders {_ids(ev.get('orders', []))} were added",
            "road_closure": f"{ev.get('road')} is closed",
            "traffic_delay": (f"vehicle {ev['vehicle']} is delayed {ev.get('minutes')} min" if ev.get("vehicle")
                              else f"the fleet is delayed {ev.get('minutes')} min")}[e]
    what_zh = {"vehicle_breakdown": f"{ev.get('vehicle')}号车故障",
               "cancel_orders": f"订单{_ids(ev.get('orders', []))}取消",
               "new_orders": f"新增订单{_ids(ev.get('orders', []))}",
               "road_closure": f"{ev.get('road')}封闭",
               "traffic_delay": (f"{ev['vehicle']}号车延误{ev.get('minutes')}分钟" if ev.get("vehicle")
                                 else f"全部车辆延误{ev.get('minutes')}分钟")}[e]
    head = new_id or "the new plan"
    delta = f"{f['cost_delta']:+g}{u}"
    moved = f" ({_ids(f['moved_orders'])})" if f["moved_orders"] else ""
    msg = (f"At {f['at']} {what}: {head} (from {ctx.plan_id}) keeps the {f['orders_served_before_event']} orders "
           f"already served, moves {f['orders_moved']} order(s) to other vehicles{moved}, "
           f"cost {f['cost']:g}{u} ({delta})")
    msg_zh = (f"{f['at']}，{what_zh}：新方案{head}（基于{ctx.plan_id}）保留已完成的{f['orders_served_before_event']}单，"
              f"调整{f['orders_moved']}单到其他车辆，总里程{f['cost']:g}{u}（{delta}）")
    if f["newly_late_orders"]:
        msg += f"; newly late: orders {_ids(f['newly_late_orders'])}"
        msg_zh += f"；新增迟到订单：{_ids(f['newly_late_orders'])}"
    elif f["late_orders"]:
        msg += f"; {len(f['late_orders'])} order(s) late as before"
        msg_zh += f"；仍有{len(f['late_orders'])}单迟到"
    else:
        msg += "; no order is late"
        msg_zh += "；没有订单迟到"
    if f["unservable_orders"]:
        msg += f"; cannot be served: orders {_ids(f['unservable_orders'])}"
        msg_zh += f"；无法配送：订单{_ids(f['unservable_orders'])}"
    return msg + ".", msg_zh + "。"


__all__ = ["replan", "default_move_penalty", "PlanState"]
