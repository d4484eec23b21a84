"""What the web console draws, built from the workspace: plans with coordinates, schedules as Gantt bars.

A stored plan names its orders (customer ids as in the dataset) but not where they are;
the map needs coordinates, so :func:`plan_view` joins the plan with its dataset's depot and
customer positions. The plan payload's shape is read leniently (routes as id lists or as
dicts with ``stops``) because plans from older builds must still display.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from tools.core.errors import DiaoduError
from tools.core.store import Store

log = logging.getLogger(__name__)

ROUTE_FIELDS = ("distance", "load", "capacity", "duration", "depart", "back", "arrivals", "late", "vehicle_name")


def plan_view(plan_id: str = "latest", store: Store | None = None) -> dict[str, Any]:
    """A plan for the map: depot and customer coordinates, one stop list per vehicle, late orders, facts."""
    store = store or Store()
    plan = store.load_plan(plan_id)
    coords = _coordinates(plan)
    routes = []
    for i, raw in enumerate(plan.get("routes") or []):
        vehicle, stops, extra = _route(raw, i)
        routes.append({"vehicle": vehicle, "stops": stops, **extra})
    late_ids = set(_late_orders(plan))
    for r in routes:
        if isinstance(r.get("late"), dict):  # {order id: lateness}
            late_ids.update(int(k) for k in r["late"] if str(k).lstrip("-").isdigit())
    late = sorted(int(o) for o in late_ids if o is not None)
    used = {s for r in routes for s in r["stops"]}
    names = coords.get("names") or {}
    customers = [{"id": cid, "x": xy[0], "y": xy[1], "late": cid in late, "served": cid in used,
                  **({"name": names[cid]} if cid in names else {})}
                 for cid, xy in sorted(coords["customers"].items())]
    return {"plan_id": plan["plan_id"], "dataset": plan.get("dataset"), "parent": plan.get("parent"),
            "committed": _committed(store, plan["plan_id"]), "depot": coords["depot"], "customers": customers,
            "routes": routes, "late_orders": late, "facts": plan.get("facts") or {},
            "message": plan.get("message"), "cost": plan.get("cost"), "feasible": plan.get("feasible")}


def schedule_view(schedule_id: str = "latest", store: Store | None = None) -> dict[str, Any]:
    """A job-shop schedule as Gantt bars ``{job, machine, start, end}`` plus makespan and facts."""
    sched = (store or Store()).load_schedule(schedule_id)
    ops = []
    for op in _operations(sched):
        try:
            start = float(op["start"])
            end = float(op["end"]) if op.get("end") is not None else start + float(op["duration"])
            ops.append((op["job"], op["machine"], start, end))
        except (KeyError, TypeError, ValueError):
            continue
    jobs = _numbering([o[0] for o in ops])
    machines = _numbering([o[1] for o in ops])
    bars: list[dict[str, Any]] = [{"job": jobs[str(j)], "machine": machines[str(m)], "start": start, "end": end,
             "job_label": str(j), "machine_label": str(m)} for j, m, start, end in ops]
    makespan = sched.get("makespan") or (sched.get("facts") or {}).get("makespan") or max((float(b["end"]) for b in bars), default=0.0)
    return {"schedule_id": sched["schedule_id"], "dataset": sched.get("dataset"), "makespan": makespan,
            "bars": bars, "machines": len({b["machine"] for b in bars}), "jobs": len({b["job"] for b in bars}),
            "facts": sched.get("facts") or {}, "method": sched.get("method"), "message": sched.get("message")}


def _numbering(labels: list[Any]) -> dict[str, int]:
    """Row numbers for job / machine labels: their own number (``3``, ``"M3"``) when every label has
    one, else the order of first appearance (named machines like ``"Saw"``)."""
    unique = list(dict.fromkeys(str(x) for x in labels))
    found = [re.search(r"\d+", x) for x in unique]
    if all(found) and len({int(f.group(0)) for f in found if f}) == len(unique):
        return {x: int(f.group(0)) for x, f in zip(unique, found, strict=True) if f}
    return {x: i + 1 for i, x in enumerate(unique)}


# -- plan payload readers ---------------------------------------------------------------------

def _route(raw: Any, index: int) -> tuple[int, list[int], dict[str, Any]]:
    if isinstance(raw, dict):
        vehicle = int(raw.get("vehicle", index + 1))
        stops_raw: Any = next((raw[k] for k in ("customers", "stops", "orders", "route") if k in raw), [])
        extra = {k: raw[k] for k in ROUTE_FIELDS if k in raw}
    else:
        vehicle, stops_raw, extra = index + 1, raw, {}
    stops = []
    for s in stops_raw or []:
        if isinstance(s, dict):
            s = next((s[k] for k in ("customer", "order", "id", "node") if k in s), None)
        if isinstance(s, (int, float)) and not isinstance(s, bool) and int(s) != 0:  # 0 is the depot
            stops.append(int(s))
    return vehicle, stops, extra


def _late_orders(plan: dict[str, Any]) -> list[int]:
    facts = plan.get("facts") or {}
    for source in (plan, facts):
        for key in ("late_orders", "late_customers", "late"):
            value = source.get(key)
            if isinstance(value, list):
                out: list[int] = []
                for v in value:
                    if isinstance(v, dict):
                        v = v.get("order", v.get("customer"))
                    if isinstance(v, int) and not isinstance(v, bool):
                        out.append(v)
                return out
    return []


def _committed(store: Store, plan_id: str) -> bool:
    try:
        return store.is_committed(plan_id)
    except DiaoduError:
        return False


def _operations(sched: dict[str, Any]) -> list[dict[str, Any]]:
    ops = sched.get("schedule") or sched.get("operations") or []
    if isinstance(ops, dict):  # {"machines": [[{job, start, end}, ...], ...]} style
        flat: list[dict[str, Any]] = []
        for m, row in enumerate(ops.get("machines", [])):
            flat.extend({**op, "machine": op.get("machine", m)} for op in row)
        return flat
    return [op for op in ops if isinstance(op, dict)]


# -- coordinates --------------------------------------------------------------------------------

def _coordinates(plan: dict[str, Any]) -> dict[str, Any]:
    """``{"depot": {x, y}, "customers": {id: (x, y)}}`` from the plan itself or its dataset."""
    for key in ("coords", "coordinates", "node_coord"):
        if isinstance(plan.get(key), list) and plan[key]:
            return _from_list(plan[key])
    name = plan.get("dataset")
    if not name:
        return {"depot": None, "customers": {}}
    try:
        return _dataset_coordinates(str(name))
    except DiaoduError as exc:
        log.warning("no coordinates for plan %s: %s", plan.get("plan_id"), exc.message)
        return {"depot": None, "customers": {}}


def _from_list(points: list[Any]) -> dict[str, Any]:
    """Index 0 is the depot; index i is customer i (the convention of CVRPLIB and Solomon files)."""
    xy = [(float(p[0]), float(p[1])) if not isinstance(p, dict) else (float(p["x"]), float(p["y"])) for p in points]
    return {"depot": {"x": xy[0][0], "y": xy[0][1]}, "customers": {i: xy[i] for i in range(1, len(xy))}}


def _dataset_coordinates(name: str) -> dict[str, Any]:
    """Depot and customer positions (keyed by the customer ids users see) from the routing loader."""
    from tools.routing.instance import load_instance  # knows every format: benchmarks, demo JSON, imported

    inst = load_instance(name)
    coords = [[float(v) for v in c] for c in inst.coords.tolist()]
    ids = list(inst.customer_ids) or list(range(len(coords)))
    out: dict[str, Any] = {"depot": {"x": coords[0][0], "y": coords[0][1], "name": inst.names[0] if inst.names else None},
                           "customers": {int(ids[i]): (coords[i][0], coords[i][1]) for i in range(1, len(coords))}}
    if inst.names:
        out["names"] = {int(ids[i]): inst.names[i] for i in range(1, len(coords))}
    return out
