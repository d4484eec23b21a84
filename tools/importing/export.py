"""Export a stored plan as per-vehicle stop lists (CSV, Excel or JSON) for drivers or a TMS.

Each stop has its order id as the user's file had it (``ref`` for imported data), the customer's
name and address, the load, the arrival and service-start clock times, the time window and any
lateness. Times are recomputed from the plan's instance (the same matrices the solver and the
checker used), so a CVRP plan gets arrival times too.
"""

from __future__ import annotations

import csv
import json
import logging
import time
from pathlib import Path
from typing import Any

from tools.core.datasets import resolve
from tools.core.errors import DiaoduError, check_choice
from tools.core.store import Store

log = logging.getLogger(__name__)

EXPORT_FORMATS = ("csv", "xlsx", "json")
STOP_COLUMNS = ["vehicle", "vehicle_name", "stop", "type", "order", "customer_id", "name", "address", "district",
                "lat", "lon", "x", "y", "demand", "load_after", "distance_from_prev", "arrival", "service_start",
                "departure", "window_start", "window_end", "service_min", "wait_min", "late_min"]
ROUTE_COLUMNS = ["vehicle", "vehicle_name", "stops", "orders", "load", "capacity", "distance", "depart", "return",
                 "late_orders"]


def plan_stop_lists(plan_id: str = "latest") -> dict[str, Any]:
    """The plan as ``{"plan_id", "dataset", "units", "vehicles": [{..., "stops": [...]}]}`` (JSON-ready)."""
    from tools.routing.plan_tool import instance_for_plan

    inst, plan = instance_for_plan(plan_id)
    raw = _raw_customers(plan["dataset"])
    node_routes: list[list[int]] = plan.get("node_routes") or [r["nodes"] for r in plan.get("routes", [])]
    names = {r["vehicle"]: r.get("vehicle_name") for r in plan.get("routes", [])}
    vehicles_in_plan = [r["vehicle"] for r in plan.get("routes", [])]
    clock = inst.shift_start_min is not None

    def t_out(internal: float) -> str | float:
        return inst.clock(internal) if clock else round(inst.real_time(internal), 2)  # type: ignore[return-value]

    service = [0] * inst.num_nodes
    if inst.service is not None:
        service = [int(s) for s in inst.service]
    elif raw:  # CVRP: the file's service minutes still tell a driver how long each stop takes
        for node in range(1, inst.num_nodes):
            s = raw.get(inst.customer_ids[node], {}).get("service_min")
            service[node] = int(round(float(s) * inst.time_scale)) if isinstance(s, (int, float)) else 0
    depot_ll = _depot_latlon(plan["dataset"])
    vehicles = []
    for k, nodes in enumerate(r for r in node_routes if r):
        vnum = vehicles_in_plan[k] if k < len(vehicles_in_plan) else k + 1
        t = int(inst.ready[0]) if inst.ready is not None else 0
        prev, load, dist_total, rows, late_orders = 0, 0, 0, [], []
        starts, arrivals = [], []
        for node in nodes:  # the checker's timing: wait for a window to open, never leave early
            arrive = t + service[prev] + int(inst.duration[prev, node])
            start = max(arrive, int(inst.ready[node])) if inst.ready is not None else arrive
            arrivals.append(arrive)
            starts.append(start)
            t, prev = start, node
        back = t + service[prev] + int(inst.duration[prev, 0])
        depart = int(inst.ready[0]) if inst.ready is not None else 0
        if starts:  # leave the depot later when the first stop would only wait (as the checker does)
            depart = max(depart, starts[0] - int(inst.duration[0, nodes[0]]))
            arrivals[0] = depart + int(inst.duration[0, nodes[0]])
        vname = names.get(vnum) or (inst.vehicle_names[vnum - 1] if inst.vehicle_names and vnum - 1 < len(
            inst.vehicle_names) else f"Vehicle {vnum}")
        ll = {"lat": depot_ll[0], "lon": depot_ll[1]} if depot_ll else {}
        rows.append(_depot_row(inst, vnum, vname, 0, "start", departure=t_out(depart), **ll))
        prev = 0
        for pos, (node, arrive, start) in enumerate(zip(nodes, arrivals, starts, strict=True), start=1):
            cid = inst.customer_ids[node]
            info = raw.get(cid, {})
            load += int(inst.demand[node])
            leg = int(inst.distance[prev, node])
            dist_total += leg
            late = max(0, start - int(inst.due[node])) if inst.due is not None else 0
            if late:
                late_orders.append(info.get("ref", cid))
            row = {"vehicle": vnum, "vehicle_name": vname, "stop": pos, "type": "delivery",
                   "order": info.get("ref", cid), "customer_id": cid, "name": inst.names[node] if inst.names else "",
                   "address": info.get("address", ""), "district": inst.districts[node] if inst.districts else "",
                   "lat": info.get("lat", ""), "lon": info.get("lon", ""),
                   "x": round(float(inst.coords[node][0]), 4), "y": round(float(inst.coords[node][1]), 4),
                   "demand": int(inst.demand[node]), "load_after": load,
                   "distance_from_prev": round(inst.real_distance(leg), 3),
                   "arrival": t_out(arrive), "service_start": t_out(start), "departure": t_out(start + service[node]),
                   "window_start": t_out(int(inst.ready[node])) if inst.ready is not None else "",
                   "window_end": t_out(int(inst.due[node])) if inst.due is not None else "",
                   "service_min": round(inst.real_time(service[node]), 2),
                   "wait_min": round(inst.real_time(start - arrive), 2), "late_min": round(inst.real_time(late), 2)}
            rows.append(row)
            prev = node
        leg = int(inst.distance[prev, 0])
        dist_total += leg
        rows.append(_depot_row(inst, vnum, vname, len(nodes) + 1, "return", arrival=t_out(back), **ll,
                               distance_from_prev=round(inst.real_distance(leg), 3), load_after=load))
        vehicles.append({"vehicle": vnum, "vehicle_name": vname, "stops": len(nodes),
                         "orders": [r["order"] for r in rows if r["type"] == "delivery"], "load": load,
                         "capacity": inst.capacity, "distance": round(inst.real_distance(dist_total), 3),
                         "depart": t_out(depart), "return": t_out(back), "late_orders": late_orders,
                         "stop_list": rows})
    return {"plan_id": plan["plan_id"], "dataset": plan["dataset"], "dataset_kind": inst.kind,
            "units": {"distance": inst.units.get("distance", ""), "time": "clock HH:MM" if clock else "time units",
                      "demand": inst.units.get("demand", ""), "durations": inst.units.get("time", "")},
            "shift_start": inst.clock(0) if clock else None, "cost": plan.get("cost"),
            "feasible": plan.get("feasible"), "vehicles": vehicles}


def export_plan(plan_id: str = "latest", fmt: str | None = None, out: str | Path | None = None) -> dict[str, Any]:
    """Write the plan's stop lists to ``out`` (format from ``fmt`` or the file name); returns a summary."""
    if fmt is None:
        suffix = Path(out).suffix.lower().lstrip(".") if out else ""
        fmt = suffix if suffix in EXPORT_FORMATS else "csv"
    fmt = check_choice("format", fmt, EXPORT_FORMATS)
    data = plan_stop_lists(plan_id)
    path = Path(out) if out else Path.cwd() / f"{data['plan_id']}-{data['dataset']}.{fmt}"
    if path.suffix.lower().lstrip(".") != fmt:
        raise DiaoduError(f"--out {str(path)!r} does not end in .{fmt}; use a .{fmt} file name or --format "
                          f"{path.suffix.lstrip('.') or 'csv'}")
    if path.is_dir():
        raise DiaoduError(f"--out {str(path)!r} is a folder; give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    stops = [s for v in data["vehicles"] for s in v["stop_list"]]
    columns = _columns(stops)
    if fmt == "csv":
        # utf-8 with BOM: Excel then opens Chinese names correctly
        with open(path, "w", newline="", encoding="utf-8-sig") as f:
            writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(stops)
    elif fmt == "json":
        doc = {**data, "exported": time.strftime("%Y-%m-%dT%H:%M:%S"),
               "vehicles": [{**{k: v for k, v in veh.items() if k != "stop_list"},
                             "stop_list": [{c: s.get(c) for c in columns} for s in veh["stop_list"]]}
                            for veh in data["vehicles"]]}
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    else:
        _write_xlsx(path, data, stops, columns)
    log.info("exported %s to %s", data["plan_id"], path)
    return {"plan_id": data["plan_id"], "dataset": data["dataset"], "format": fmt, "path": str(path),
            "vehicles": len(data["vehicles"]), "stops": sum(v["stops"] for v in data["vehicles"]),
            "columns": columns,
            "message": f"Exported {data['plan_id']} ({len(data['vehicles'])} vehicles, "
                       f"{sum(v['stops'] for v in data['vehicles'])} stops) to {path}."}


def _write_xlsx(path: Path, data: dict[str, Any], stops: list[dict[str, Any]], columns: list[str]) -> None:
    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "routes"
    ws.append(ROUTE_COLUMNS)
    for veh in data["vehicles"]:
        ws.append([", ".join(map(str, veh[c])) if isinstance(veh[c], list) else veh[c] for c in ROUTE_COLUMNS])
    stops_ws = wb.create_sheet("stops")
    stops_ws.append(columns)
    for s in stops:
        stops_ws.append([s.get(c, "") for c in columns])
    for sheet in (ws, stops_ws):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    wb.save(path)


def _columns(stops: list[dict[str, Any]]) -> list[str]:
    """The stop columns that carry something in this plan (no empty lat/lon for x/y data)."""
    return [c for c in STOP_COLUMNS if c in ("vehicle", "stop", "type", "order")
            or any(s.get(c) not in ("", None) for s in stops)]


def _depot_row(inst: Any, vnum: int, vname: str, stop: int, kind: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {c: "" for c in STOP_COLUMNS}
    row.update({"vehicle": vnum, "vehicle_name": vname, "stop": stop, "type": kind, "order": "",
                "name": inst.names[0] if inst.names else "depot", "x": round(float(inst.coords[0][0]), 4),
                "y": round(float(inst.coords[0][1]), 4)})
    row.update(values)
    return row


def _depot_latlon(dataset: str) -> tuple[float, float] | None:
    raw = _raw_payload(dataset)
    depot = raw.get("depot") if isinstance(raw, dict) else None
    if isinstance(depot, dict) and isinstance(depot.get("lat"), (int, float)) and isinstance(depot.get("lon"), (int, float)):
        return float(depot["lat"]), float(depot["lon"])
    return None


def _raw_payload(dataset: str) -> dict[str, Any] | None:
    """The dataset's JSON payload (imported or demo), or None for benchmark files."""
    try:
        ref = resolve(dataset)
    except DiaoduError:
        return None
    if ref.source == "imported":
        return Store().load_dataset(ref.name)
    if ref.source == "demo" and ref.path is not None:
        return json.loads(ref.path.read_text(encoding="utf-8"))
    return None


def _raw_customers(dataset: str) -> dict[int, dict[str, Any]]:
    """Per customer id, the fields of the dataset's JSON (imported or demo) that the instance drops."""
    payload = _raw_payload(dataset)
    if not isinstance(payload, dict) or not isinstance(payload.get("customers"), list):
        return {}
    return {c["id"]: c for c in payload["customers"] if isinstance(c, dict) and isinstance(c.get("id"), int)}
