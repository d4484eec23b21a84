"""``explain_plan``: answers to a dispatcher's questions, every number computed, never invented.

Each answer is ``{"facts": {...}, "message": ..., "message_zh": ...}``: the facts are what an
answer may cite, the messages template sentences built only from them. Figures come from the
schedule simulator (:mod:`tools.replan.timeline`), which *is* the independent checker for plans
without events; what-ifs re-solve with OR-Tools. What-if plans are returned, not stored, so they
never replace ``latest``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

import numpy as np

from tools.contract import QUESTIONS
from tools.core.errors import DiaoduError, check_choice, check_int, check_number
from tools.replan.context import PlanContext, check_vehicle, load_context, positions, to_result
from tools.replan.remainder import Remainder, solve_remainder
from tools.replan.replan_tool import default_move_penalty
from tools.replan.timeline import clock_or_units, simulate, windows
from tools.routing.instance import RoutingInstance
from tools.routing.plan_tool import plan_facts
from tools.routing.stop import MaxRuntime

log = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT_S = 3.0
MAX_ALTERNATIVES = 3


def explain_plan(question: str, plan_id: str | None = None, order: int | None = None, vehicle: int | None = None,
                 num_vehicles: int | None = None, time_limit_s: float | None = None, seed: int = 0) -> dict[str, Any]:
    """Answer ``question`` about ``plan_id`` (default ``latest``) with solver-computed facts."""
    q = check_choice("question", question, QUESTIONS)
    limit = DEFAULT_TIME_LIMIT_S if time_limit_s is None else check_number("time_limit_s", time_limit_s,
                                                                            minimum=0.1, maximum=300)
    check_int("seed", seed, minimum=0)
    ctx = load_context(plan_id)
    if q == "summary":
        out = _summary(ctx)
    elif q == "cost_breakdown":
        out = _cost_breakdown(ctx)
    elif q == "why_vehicle":
        out = _why_vehicle(ctx, _order(ctx, order, q), vehicle)
    elif q == "why_late":
        out = _why_late(ctx, _order(ctx, order, q))
    elif q == "what_if_move":
        if vehicle is None:
            raise DiaoduError(f"what_if_move needs the target vehicle (1..{ctx.inst.num_vehicles})",
                              code="missing_vehicle")
        out = _what_if_move(ctx, _order(ctx, order, q), vehicle, limit)
    else:
        if num_vehicles is None:
            raise DiaoduError("what_if_fleet needs num_vehicles (the fleet size to try)", code="missing_num_vehicles")
        out = _what_if_fleet(ctx, check_int("num_vehicles", num_vehicles, minimum=1, maximum=5000), limit)
    out["facts"] = {"question": q, "plan_id": ctx.plan_id, **out["facts"]}
    return {"plan_id": ctx.plan_id, "question": q, "dataset": ctx.dataset, **out}


# -- helpers ---------------------------------------------------------------------------------------

def _order(ctx: PlanContext, order: Any, q: str) -> int:
    if order is None:
        raise DiaoduError(f"{q} needs the order it is about (argument 'order')", code="missing_order")
    if isinstance(order, bool) or not isinstance(order, int):
        raise DiaoduError(f"order must be an order id (whole number); got {order!r}")
    node = ctx.inst.node_of(order)
    if node in ctx.state.excluded:
        raise DiaoduError(f"order {order} is not in {ctx.plan_id} (it was cancelled or never added)",
                          code="not_in_plan")
    if node not in ctx.vehicle_of():
        raise DiaoduError(f"order {order} is not served in {ctx.plan_id} (it could not be placed)", code="unserved")
    return node


def _rt(inst: RoutingInstance, t: float) -> float:
    return round(inst.real_time(t), 2)


def _rd(inst: RoutingInstance, d: float) -> float:
    return round(inst.real_distance(d), 3)


def _u(inst: RoutingInstance) -> str:
    unit = inst.units.get("distance", "")
    return f" {unit}" if unit else ""


def _tu(inst: RoutingInstance) -> str:
    unit = inst.units.get("time", "")
    return f" {unit}" if unit else " time units"


def _late_map(ctx: PlanContext, routes: list[list[int]], report: Any) -> dict[int, float]:
    out: dict[int, float] = {}
    checks = iter(report.routes)
    for r in routes:
        if not r:
            continue
        rc = next(checks)
        out.update({ctx.inst.customer_ids[n]: _rt(ctx.inst, lt) for n, lt in zip(rc.nodes, rc.late, strict=False)
                    if lt > 0})
    return out


def _fixed_prefix(ctx: PlanContext) -> dict[int, int]:
    """Per vehicle, how many stops are committed at the plan's last event (0 for a fresh plan)."""
    if ctx.state.time == 0 and ctx.state.trivial:
        return {v: 0 for v in range(len(ctx.routes))}
    pos = positions(ctx, ctx.routes, ctx.timed, ctx.state.time)
    return {v: p.committed for v, p in pos.items()}


def _usable(ctx: PlanContext, v: int) -> bool:
    return v not in ctx.state.broken


def _insertion(ctx: PlanContext, node: int, target: int, prefix: dict[int, int]) -> dict[str, Any]:
    """Move ``node`` to the cheapest position of vehicle ``target``'s route (rest unchanged), checked."""
    inst = ctx.inst
    base = [list(r) for r in ctx.routes]
    src = next(v for v, r in enumerate(base) if node in r)
    base[src].remove(node)
    base_late = _late_map(ctx, ctx.routes, ctx.report)
    best: dict[str, Any] | None = None
    route = base[target]
    for p in range(prefix.get(target, 0), len(route) + 1):
        trial = [list(r) for r in base]
        trial[target] = route[:p] + [node] + route[p:]
        rep, _ = simulate(inst, trial, ctx.state, ctx.net, soft_windows=False)
        late = _late_map(ctx, trial, rep)
        load = int(sum(int(inst.demand[x]) for x in trial[target]))
        broken = [v for v in rep.violations if "late" in v or "carries" in v or "depot closes" in v]
        new_late = {k: v for k, v in late.items() if base_late.get(k, 0) < v}
        key = (load > inst.capacity, rep.lateness, rep.distance)
        cand = {"vehicle": target + 1, "position": p + 1, "cost_delta": _rd(inst, rep.distance - ctx.report.distance),
                "load_after": load, "capacity": inst.capacity, "capacity_ok": load <= inst.capacity,
                "lateness_delta": _rt(inst, rep.lateness - ctx.report.lateness), "newly_late": new_late,
                "violations": broken, "_key": key, "_routes": trial}
        if best is None or key < best["_key"]:
            best = cand
    assert best is not None
    best["fits"] = best["capacity_ok"] and not best["newly_late"]
    return best


def _public(c: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in c.items() if not k.startswith("_")}


def _breaks(inst: RoutingInstance, c: dict[str, Any], zh: bool = False) -> str:
    parts = []
    if not c["capacity_ok"]:
        parts.append(f"载重{c['load_after']}超过容量{c['capacity']}" if zh else
                     f"capacity (would carry {c['load_after']} > {c['capacity']})")
    if c["newly_late"]:
        items = ", ".join(f"{k} +{v:g}" for k, v in list(c["newly_late"].items())[:4])
        parts.append(f"时间窗（迟到：{items}{_tu(inst)}）" if zh else f"time windows (late: {items}{_tu(inst)})")
    return ("、" if zh else " and ").join(parts)


# -- questions -------------------------------------------------------------------------------------

def _summary(ctx: PlanContext) -> dict[str, Any]:
    inst = ctx.inst
    result = ctx.result()
    facts = plan_facts(inst, result)
    facts.pop("runtime_s", None)
    facts.update({"dataset": ctx.dataset, "parent_plan": ctx.payload.get("parent"),
                  "events": ctx.state.events, "violations": ctx.report.violations})
    if ctx.state.broken:
        facts["broken_vehicles"] = sorted(v + 1 for v in ctx.state.broken)
    if ctx.state.closures:
        facts["closed_roads"] = [c.get("name") for c in ctx.state.closures]
    if ctx.state.excluded:
        facts["orders_not_in_plan"] = sorted(inst.customer_ids[n] for n in ctx.state.excluded)
    served = sum(len(r) for r in ctx.routes)
    facts["orders_served"] = served
    u = _u(inst)
    msg = (f"{ctx.plan_id} ({ctx.dataset}): {facts['vehicles_used']} of {facts['num_vehicles']} vehicles serve "
           f"{served} orders, total distance {facts['cost']:g}{u}, longest route {facts['longest_route']:g}{u}, "
           f"loads at {facts['load_utilisation_pct']:g}% of capacity")
    zh = (f"{ctx.plan_id}（{ctx.dataset}）：{facts['num_vehicles']}辆车中用了{facts['vehicles_used']}辆，配送{served}单，"
          f"总里程{facts['cost']:g}{u}，最长路线{facts['longest_route']:g}{u}，装载率{facts['load_utilisation_pct']:g}%")
    if facts["late_orders"]:
        msg += f"; {len(facts['late_orders'])} order(s) late (total {facts['total_lateness']:g}{_tu(inst)})"
        zh += f"；{len(facts['late_orders'])}单迟到（共{facts['total_lateness']:g}{_tu(inst)}）"
    elif inst.has_time_windows:
        msg += "; every order within its window"
        zh += "；全部订单准时"
    if ctx.state.events:
        msg += f"; after {len(ctx.state.events)} event(s), the last at {ctx.state.events[-1]['at']}"
        zh += f"；已处理{len(ctx.state.events)}个事件，最近一次在{ctx.state.events[-1]['at']}"
    return {"facts": facts, "message": msg + ".", "message_zh": zh + "。"}


def _cost_breakdown(ctx: PlanContext) -> dict[str, Any]:
    inst = ctx.inst
    rows = []
    checks = iter(ctx.report.routes)
    for v, r in enumerate(ctx.routes):
        if not r:
            continue
        rc = next(checks)
        row: dict[str, Any] = {"vehicle": v + 1, "orders": len(r), "distance": _rd(inst, rc.distance),
                               "load": rc.load, "capacity": inst.capacity,
                               "load_pct": round(100.0 * rc.load / inst.capacity, 1)}
        if inst.has_time_windows:
            row.update({"duration": _rt(inst, rc.duration), "depart": clock_or_units(inst, rc.depart),
                        "back": clock_or_units(inst, rc.back), "lateness": _rt(inst, sum(rc.late) + rc.overtime),
                        "late_orders": [inst.customer_ids[n] for n, lt in zip(r, rc.late, strict=False) if lt > 0]})
        if v in ctx.state.broken:
            row["broken_at"] = clock_or_units(inst, ctx.state.broken[v])
        rows.append(row)
    total = _rd(inst, ctx.report.distance)
    facts = {"total_distance": total, "distance_unit": inst.units.get("distance", ""), "vehicles": rows,
             "total_lateness": _rt(inst, ctx.report.lateness), "vehicles_used": len(rows)}
    top = sorted(rows, key=lambda x: -x["distance"])[:3]
    u = _u(inst)
    parts = ", ".join(f"vehicle {x['vehicle']} {x['distance']:g}{u} ({x['orders']} orders, load {x['load']}/"
                      f"{x['capacity']})" for x in top)
    parts_zh = "，".join(f"{x['vehicle']}号车{x['distance']:g}{u}（{x['orders']}单，载重{x['load']}/{x['capacity']}）"
                         for x in top)
    msg = f"{ctx.plan_id} totals {total:g}{u} over {len(rows)} vehicles; the longest routes: {parts}"
    zh = f"{ctx.plan_id}总里程{total:g}{u}，共{len(rows)}辆车；最长的路线：{parts_zh}"
    if facts["total_lateness"]:
        msg += f"; total lateness {facts['total_lateness']:g}{_tu(inst)}"
        zh += f"；总迟到{facts['total_lateness']:g}{_tu(inst)}"
    return {"facts": facts, "message": msg + ".", "message_zh": zh + "。"}


def _stop_info(ctx: PlanContext, node: int) -> tuple[int, int]:
    v = ctx.vehicle_of()[node]
    return v, ctx.routes[v].index(node)


def _why_vehicle(ctx: PlanContext, node: int, vehicle: int | None) -> dict[str, Any]:
    inst = ctx.inst
    cid = inst.customer_ids[node]
    v, i = _stop_info(ctx, node)
    tm = ctx.timed[v]
    prefix = _fixed_prefix(ctx)
    facts: dict[str, Any] = {"order": cid, "vehicle": v + 1, "stop": i + 1, "stops_on_vehicle": len(ctx.routes[v]),
                             "demand": int(inst.demand[node])}
    if inst.has_time_windows:
        ready, due, _ = windows(inst)
        facts.update({"service_start": clock_or_units(inst, tm.check.starts[i]),
                      "window": [clock_or_units(inst, ready[node]), clock_or_units(inst, due[node])]})
    if i < prefix.get(v, 0):
        facts["already_committed"] = True
        msg = (f"Order {cid} is on vehicle {v + 1} and was already served or under way at the plan's last event "
               f"({clock_or_units(inst, ctx.state.time)}); it is no longer movable.")
        zh = f"订单{cid}由{v + 1}号车配送，在{clock_or_units(inst, ctx.state.time)}时已完成或在途，不能再调整。"
        return {"facts": facts, "message": msg, "message_zh": zh}
    asked = None
    if vehicle is not None:
        asked = check_vehicle(ctx, vehicle)
    alts = []
    for u_ in range(inst.num_vehicles):
        if u_ == v or not _usable(ctx, u_):
            continue
        if ctx.routes[u_] and prefix.get(u_, 0) == len(ctx.routes[u_]) and ctx.state.time > 0 and \
                ctx.timed[u_].check.back <= ctx.state.time:
            continue
        alts.append(_insertion(ctx, node, u_, prefix))
    alts.sort(key=lambda c: (not c["fits"], c["cost_delta"], c["lateness_delta"]))
    shown = alts[:MAX_ALTERNATIVES]
    if asked is not None and asked != v and not any(c["vehicle"] == asked + 1 for c in shown):
        shown += [c for c in alts if c["vehicle"] == asked + 1]
    facts["alternatives"] = [_public(c) for c in shown]
    facts["alternatives_checked"] = len(alts)
    facts["fitting_alternatives"] = sum(1 for c in alts if c["fits"])
    u = _u(inst)
    if asked is not None and asked != v:
        facts["asked_vehicle"] = asked + 1
        head = f"Order {cid} is on vehicle {v + 1}, not vehicle {asked + 1}"
        head_zh = f"订单{cid}在{v + 1}号车上，而不是{asked + 1}号车"
    else:
        head = f"Order {cid} is on vehicle {v + 1} (stop {i + 1} of {len(ctx.routes[v])})"
        head_zh = f"订单{cid}在{v + 1}号车上（第{i + 1}站，共{len(ctx.routes[v])}站）"
    parts, parts_zh = [], []
    for c in shown:
        if c["fits"]:
            parts.append(f"vehicle {c['vehicle']} would cost {c['cost_delta']:+g}{u}")
            parts_zh.append(f"{c['vehicle']}号车：里程{c['cost_delta']:+g}{u}")
        else:
            parts.append(f"vehicle {c['vehicle']} ({c['cost_delta']:+g}{u}) would break {_breaks(inst, c)}")
            parts_zh.append(f"{c['vehicle']}号车（{c['cost_delta']:+g}{u}）会违反{_breaks(inst, c, True)}")
    if not alts:
        msg, zh = f"{head}; no other vehicle is available.", f"{head_zh}；没有其他可用车辆。"
    else:
        cheapest = min((c["cost_delta"] for c in alts if c["fits"]), default=None)
        why = (f"every alternative is dearer (cheapest {cheapest:+g}{u})" if cheapest is not None and cheapest >= 0
               else ("a cheaper alternative exists" if cheapest is not None else "no other vehicle can take it without "
                     "breaking capacity or a time window"))
        why_zh = (f"其他车辆都更贵（最便宜的{cheapest:+g}{u}）" if cheapest is not None and cheapest >= 0
                  else ("存在更便宜的选择" if cheapest is not None else "其他车辆都会违反载重或时间窗"))
        msg = f"{head}: {why}; " + "; ".join(parts) + "."
        zh = f"{head_zh}：{why_zh}；" + "；".join(parts_zh) + "。"
    return {"facts": facts, "message": msg, "message_zh": zh}


def _why_late(ctx: PlanContext, node: int) -> dict[str, Any]:
    inst = ctx.inst
    if not inst.has_time_windows:
        raise DiaoduError(f"dataset {ctx.dataset!r} has no time windows, so no order can be late", code="no_windows")
    cid = inst.customer_ids[node]
    v, i = _stop_info(ctx, node)
    tm = ctx.timed[v]
    rc = tm.check
    ready, due, service = windows(inst)
    fmt = lambda t: clock_or_units(inst, t)  # noqa: E731
    late = int(rc.late[i])
    chain = []
    prev = 0
    travel_total = service_total = wait_total = 0
    for k, n in enumerate(ctx.routes[v][:i + 1]):
        leave = tm.leave[k]
        travel = rc.arrivals[k] - leave
        wait = rc.starts[k] - rc.arrivals[k]
        chain.append({"order": inst.customer_ids[n], "leave_previous": fmt(leave), "travel": _rt(inst, travel),
                      "arrive": fmt(rc.arrivals[k]), "wait": _rt(inst, wait), "start": fmt(rc.starts[k]),
                      "service": _rt(inst, int(service[n])), "window": [fmt(ready[n]), fmt(due[n])],
                      "late": _rt(inst, rc.late[k])})
        travel_total += travel
        wait_total += wait if k < i else 0
        service_total += int(service[n]) if k < i else 0
        prev = n
    del prev
    _, dur = ctx.net.at(ctx.state.time)
    direct = int(ready[0]) + int(dur[0, node])
    facts: dict[str, Any] = {"order": cid, "vehicle": v + 1, "stop": i + 1, "late": late > 0,
                             "lateness": _rt(inst, late), "service_start": fmt(rc.starts[i]),
                             "window": [fmt(ready[node]), fmt(due[node])], "depart_depot": fmt(rc.depart),
                             "stops_before": i, "travel_before": _rt(inst, travel_total),
                             "service_before": _rt(inst, service_total), "waiting_before": _rt(inst, wait_total),
                             "earliest_direct_arrival": fmt(direct), "chain": chain,
                             "delays": [d for d in ctx.state.delays if d["vehicle"] == v]}
    tu = _tu(inst)
    if late <= 0:
        slack = int(due[node]) - rc.starts[i]
        facts["slack"] = _rt(inst, slack)
        msg = (f"Order {cid} is not late: vehicle {v + 1} starts serving it at {fmt(rc.starts[i])}, inside its window "
               f"{fmt(ready[node])}-{fmt(due[node])} ({_rt(inst, slack):g}{tu} to spare).")
        zh = (f"订单{cid}没有迟到：{v + 1}号车在{fmt(rc.starts[i])}开始服务，在时间窗{fmt(ready[node])}-{fmt(due[node])}"
              f"之内（还有{_rt(inst, slack):g}{tu}余量）。")
        return {"facts": facts, "message": msg, "message_zh": zh}
    msg = (f"Order {cid} is {_rt(inst, late):g}{tu} late: its window closes at {fmt(due[node])} but vehicle {v + 1} "
           f"starts serving it at {fmt(rc.starts[i])}. The vehicle leaves the depot at {fmt(rc.depart)} and serves "
           f"{i} stop(s) first: {_rt(inst, travel_total):g}{tu} of driving, {_rt(inst, service_total):g}{tu} of "
           f"service and {_rt(inst, wait_total):g}{tu} of waiting for windows to open")
    zh = (f"订单{cid}迟到{_rt(inst, late):g}{tu}：时间窗{fmt(due[node])}关闭，但{v + 1}号车{fmt(rc.starts[i])}才开始服务。"
          f"该车{fmt(rc.depart)}离开仓库，之前先服务{i}个站点：行驶{_rt(inst, travel_total):g}{tu}，"
          f"服务{_rt(inst, service_total):g}{tu}，等待{_rt(inst, wait_total):g}{tu}")
    if facts["delays"]:
        total = sum(d["minutes"] for d in facts["delays"])
        msg += f", plus {_rt(inst, total):g}{tu} of reported delay"
        zh += f"，另有上报的延误{_rt(inst, total):g}{tu}"
    if direct > int(due[node]):
        msg += f". Even straight from the depot it could not arrive before {fmt(direct)}"
        zh += f"。即使从仓库直达，最早也要{fmt(direct)}才能到"
    else:
        msg += f". Straight from the depot it could be reached by {fmt(direct)}"
        zh += f"。若从仓库直达，最早{fmt(direct)}可到"
    return {"facts": facts, "message": msg + ".", "message_zh": zh + "。"}


def _what_if_move(ctx: PlanContext, node: int, vehicle: Any, limit: float) -> dict[str, Any]:
    inst = ctx.inst
    cid = inst.customer_ids[node]
    target = check_vehicle(ctx, vehicle)
    v, i = _stop_info(ctx, node)
    prefix = _fixed_prefix(ctx)
    if i < prefix.get(v, 0):
        raise DiaoduError(f"order {cid} was already served (or is under way) by vehicle {v + 1} at "
                          f"{clock_or_units(inst, ctx.state.time)}; it cannot be moved", code="already_served")
    u = _u(inst)
    if target == v:
        return {"facts": {"order": cid, "vehicle": v + 1, "already_there": True, "cost_delta": 0.0}, "message": f"Order {cid} is already on vehicle {v + 1}; nothing changes.",
                "message_zh": f"订单{cid}本来就在{v + 1}号车上，无需调整。"}
    direct = _insertion(ctx, node, target, prefix)
    # re-optimise everything else with the order pinned to the target vehicle
    t = ctx.state.time
    pos = positions(ctx, ctx.routes, ctx.timed, t) if (t or not ctx.state.trivial) else None
    committed = {w: (pos[w].committed if pos else 0) for w in range(inst.num_vehicles) if _usable(ctx, w)}
    avail = [w for w in committed if not (pos and ctx.routes[w] and committed[w] == len(ctx.routes[w])
                                          and ctx.timed[w].check.back <= t)]
    if target not in avail:
        raise DiaoduError(f"vehicle {target + 1} has finished its route; it cannot take order {cid}",
                          code="vehicle_finished")
    ready0 = int(windows(inst)[0][0])
    anchors = [pos[w].anchor if pos else 0 for w in avail]
    starts = [pos[w].start_time if pos else ready0 for w in avail]
    loads = [pos[w].load if pos else 0 for w in avail]
    fixed = {n for w in committed for n in ctx.routes[w][:committed[w]]}
    fixed |= {n for w in range(inst.num_vehicles) if w not in avail for n in ctx.routes[w]}
    open_nodes = [n for n in range(1, inst.num_nodes) if n not in fixed and n not in ctx.state.excluded]
    previous = {n: w for w in avail for n in ctx.routes[w][committed[w]:]}
    rem = Remainder(avail, anchors, starts, [inst.capacity - ld for ld in loads], open_nodes, previous,
                    forced={node: target})
    dist, dur = ctx.net.at(t)
    warm = {w: direct["_routes"][w][committed[w]:] for w in avail}
    # a warm start must respect capacity: take the target's largest other orders off (the search reinserts them)
    room = inst.capacity - (pos[target].load if pos else 0)
    tail = warm[target]
    for n in sorted((x for x in tail if x != node), key=lambda x: -int(inst.demand[x])):
        if int(sum(int(inst.demand[x]) for x in tail)) <= room:
            break
        tail = [x for x in tail if x != n]
    warm[target] = tail
    sol = solve_remainder(inst, rem, dist, dur, MaxRuntime(limit), warm=warm, move_penalty=default_move_penalty(inst))
    facts: dict[str, Any] = {"order": cid, "from_vehicle": v + 1, "to_vehicle": target + 1,
                             "demand": int(inst.demand[node]), "direct_move": _public(direct)}
    if not sol.found:
        facts["reoptimised"] = {"feasible": False}
        reason = _breaks(inst, direct) or "no plan was found in the time limit"
        msg = (f"Order {cid} cannot go on vehicle {target + 1}: as a direct move it breaks {reason}, and "
               f"re-optimising the other orders ({limit:g} s) found no plan that fits it.")
        zh = f"订单{cid}无法调到{target + 1}号车：直接调整会违反{_breaks(inst, direct, True) or '约束'}，重新优化其他订单后仍无可行方案。"
        return {"facts": facts, "message": msg, "message_zh": zh}
    new_routes = [list(r) for r in ctx.routes]
    for w in avail:
        new_routes[w] = ctx.routes[w][:committed[w]] + sol.routes.get(w, [])
    rep, _ = simulate(inst, new_routes, ctx.state, ctx.net, soft_windows=False)
    old_v = ctx.vehicle_of()
    new_v = {n: w for w, r in enumerate(new_routes) for n in r}
    others = sorted(inst.customer_ids[n] for n, w in new_v.items() if n != node and old_v.get(n) != w)
    late = _late_map(ctx, new_routes, rep)
    base_late = _late_map(ctx, ctx.routes, ctx.report)
    cap_viol = [x for x in rep.violations if "carries" in x]
    reopt: dict[str, Any] = {"cost_delta": _rd(inst, rep.distance - ctx.report.distance), "cost": _rd(inst, rep.distance),
             "other_orders_moved": others, "late_orders": late,
             "newly_late": {k: x for k, x in late.items() if base_late.get(k, 0) < x},
             "unservable": sorted(inst.customer_ids[n] for n in sol.dropped), "violations": rep.violations,
             "capacity_ok": not cap_viol, "solver_seconds": round(sol.seconds, 3)}
    facts["reoptimised"] = reopt
    facts["fits_directly"] = direct["fits"]
    res = to_result(inst, new_routes, rep, ctx.payload.get("objective", "distance"), sol.seconds)
    facts["what_if_routes"] = [r.to_dict() for r in res.routes]
    facts["stored"] = False
    if direct["fits"]:
        msg = f"Moving order {cid} to vehicle {target + 1} as it stands costs {direct['cost_delta']:+g}{u} and breaks nothing"
        zh = f"把订单{cid}直接调到{target + 1}号车，里程{direct['cost_delta']:+g}{u}，不违反任何约束"
    else:
        msg = (f"Moving order {cid} to vehicle {target + 1} as it stands ({direct['cost_delta']:+g}{u}) breaks "
               f"{_breaks(inst, direct)}")
        zh = f"把订单{cid}直接调到{target + 1}号车（里程{direct['cost_delta']:+g}{u}）会违反{_breaks(inst, direct, True)}"
    msg += f". Re-optimising the rest with it on vehicle {target + 1}: {reopt['cost_delta']:+g}{u}"
    zh += f"。固定该单在{target + 1}号车并重新优化其余订单：里程{reopt['cost_delta']:+g}{u}"
    if others:
        msg += f", {len(others)} other order(s) change vehicle"
        zh += f"，另有{len(others)}单换车"
    if reopt["newly_late"]:
        items = ", ".join(f"{k} +{x:g}" for k, x in list(reopt["newly_late"].items())[:5])
        msg += f", newly late: {items}{_tu(inst)}"
        zh += f"，新增迟到：{items}{_tu(inst)}"
    elif inst.has_time_windows:
        msg += ", no new late order"
        zh += "，没有新增迟到"
    if reopt["unservable"]:
        msg += f", unservable: {reopt['unservable']}"
        zh += f"，无法配送：{reopt['unservable']}"
    return {"facts": facts, "message": msg + " (what-if only; not stored).", "message_zh": zh + "（仅为假设，未保存）。"}


def _subset(inst: RoutingInstance, nodes: list[int]) -> RoutingInstance:
    """The instance restricted to the depot and ``nodes`` (for what-ifs on a plan's own orders)."""
    idx = np.asarray([0] + nodes)
    pick = lambda a: None if a is None else a[idx]  # noqa: E731
    sub = replace(inst, coords=inst.coords[idx], demand=inst.demand[idx],
                  distance=inst.distance[np.ix_(idx, idx)], duration=inst.duration[np.ix_(idx, idx)],
                  ready=pick(inst.ready), due=pick(inst.due), service=pick(inst.service),
                  customer_ids=[inst.customer_ids[i] for i in idx],
                  names=[inst.names[i] for i in idx] if inst.names else None,
                  districts=[inst.districts[i] for i in idx] if inst.districts else None)
    sub.meta = {k: v for k, v in inst.meta.items() if not k.startswith("_")}
    return sub


def _what_if_fleet(ctx: PlanContext, n: int, limit: float) -> dict[str, Any]:
    from tools.routing.ortools_adapter import solve

    inst = ctx.inst
    nodes = [x for x in range(1, inst.num_nodes) if x not in ctx.state.excluded]
    base = inst if len(nodes) == inst.num_customers else _subset(inst, nodes)
    trial = base.with_overrides(num_vehicles=n)
    objective = ctx.payload.get("objective", "distance")
    t0 = time.perf_counter()
    res = solve(trial, MaxRuntime(limit), 0, objective=objective)
    u = _u(inst)
    current = _rd(inst, ctx.report.distance)
    facts: dict[str, Any] = {"num_vehicles": n, "current_vehicles_used": sum(1 for r in ctx.routes if r),
                             "current_fleet": inst.num_vehicles, "current_cost": current,
                             "solver_seconds": round(time.perf_counter() - t0, 3), "stored": False,
                             "from_shift_start": True}
    if not res.routes:
        facts.update({"feasible": False, "status": res.status, "causes": res.diagnosis})
        msg = f"With {n} vehicles there is no plan: " + "; ".join(res.diagnosis or ["no plan found in the time limit"])
        zh = f"只有{n}辆车时无法排出方案：" + "；".join(res.diagnosis or ["在时限内未找到方案"])
        return {"facts": facts, "message": msg + ".", "message_zh": zh + "。"}
    f = plan_facts(trial, res)
    facts.update({"feasible": res.feasible, "cost": round(res.cost, 3), "cost_delta": round(res.cost - current, 3),
                  "vehicles_used": res.vehicles_used, "late_orders": f["late_orders"],
                  "total_lateness": f["total_lateness"], "violations": res.violations,
                  "what_if_routes": [r.to_dict() for r in res.routes]})
    msg = (f"With {n} vehicles (re-solved from the shift start, {limit:g} s): {res.vehicles_used} used, total distance "
           f"{res.cost:g}{u} ({facts['cost_delta']:+g}{u} against {ctx.plan_id})")
    zh = (f"用{n}辆车（从班次开始重新求解，{limit:g}秒）：实际用{res.vehicles_used}辆，总里程{res.cost:g}{u}"
          f"（相对{ctx.plan_id} {facts['cost_delta']:+g}{u}）")
    if not res.feasible:
        msg += f"; it breaks: {'; '.join(res.violations[:3])}"
        zh += f"；违反：{'；'.join(res.violations[:3])}"
    elif f["late_orders"]:
        msg += f"; {len(f['late_orders'])} order(s) late"
        zh += f"；{len(f['late_orders'])}单迟到"
    elif inst.has_time_windows:
        msg += "; every order within its window"
        zh += "；全部订单准时"
    return {"facts": facts, "message": msg + " (what-if only; not stored).", "message_zh": zh + "（仅为假设，未保存）。"}
