"""Orders + fleet (CSV, Excel, JSON) -> the canonical routing dataset (``tools/data/demo-city.json``'s format).

Units: demand and capacity in kg, times in minutes, clock times ``HH:MM``, coordinates either
``x``/``y`` in km (straight-line distance, times a road factor that defaults to 1) or ``lat``/``lon``
in degrees (haversine distance times a road factor, default 1.3, because there is no map service).
A user's distance or time matrix (``--matrix``) wins over both. Travel minutes come from the
distance at ``speed_kmh``.

Every problem is collected with its row and column before anything is stored
(:class:`~tools.importing.tables.ImportProblems`), and the payload is finally checked by the
routing loader itself, so an imported dataset is exactly as good as a demo one.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tools.core.errors import DiaoduError
from tools.importing.tables import (
    FLEET_FIELDS,
    LENGTH_UNITS,
    MASS_UNITS,
    ORDER_FIELDS,
    TIME_UNITS,
    Columns,
    ImportProblems,
    Problem,
    Row,
    Table,
    as_clock,
    as_number,
    as_text,
    clock_text,
    column_hint,
    file_format,
    ignored_hints,
    load_json,
    match_columns,
    parse_window,
    read_json_records,
    read_table,
    xlsx_sheets,
)

log = logging.getLogger(__name__)

DEPOT_WORDS = {"depot", "dc", "warehouse", "hub", "base", "origin", "start", "仓库", "配送中心", "车场", "总仓",
               "起点", "中心仓"}
ORDER_SHEETS = ("orders", "order", "customers", "订单", "客户")
FLEET_SHEETS = ("fleet", "vehicles", "vehicle", "trucks", "车辆", "车队")
DEFAULT_SPEED_KMH = 30.0
LATLON_ROAD_FACTOR = 1.3
EARTH_RADIUS_KM = 6371.0088
ORDER_UNITS = {"demand": MASS_UNITS, "service": TIME_UNITS, "x": LENGTH_UNITS, "y": LENGTH_UNITS}
FLEET_UNITS = {"capacity": MASS_UNITS}


@dataclass
class RoutingOptions:
    """What ``diaodu import`` passes besides the orders file (all optional)."""

    fleet: Path | None = None
    vehicles: int | None = None  # fleet size when there is no fleet file
    capacity: float | None = None  # kg per vehicle when there is no fleet file
    depot: tuple[float, float] | None = None  # x,y (km) or lat,lon, in the orders' coordinate system
    shift: tuple[int, int] | None = None  # minutes after midnight
    road_factor: float | None = None  # default 1.0 for x/y, 1.3 for lat/lon
    speed_kmh: float = DEFAULT_SPEED_KMH
    matrix: Path | None = None
    matrix_kind: str = "distance"  # "distance" (km) | "time" (minutes)
    service_min: float = 0.0  # default service minutes when the file has none
    mapping: dict[str, str] = field(default_factory=dict)
    description: str = ""


@dataclass
class _Order:
    row: Row
    ref: str
    name: str
    xy: tuple[float, float] | None
    demand: float
    window: tuple[int, int] | None
    service: float
    extra: dict[str, str]


def import_routing(path: Path, name: str, opts: RoutingOptions) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read ``path`` (+ fleet, matrix) into a canonical routing payload; returns (payload, report).

    Raises :class:`ImportProblems` listing every problem found, or :class:`DiaoduError`.
    """
    fmt = file_format(path)
    fleet_records: Any = None
    depot_record: dict[str, Any] | None = None
    if fmt == "json":
        data = load_json(path)
        if isinstance(data, dict) and "customers" in data and "kind" in data:
            return _canonical(path, name, data)
        if isinstance(data, dict):
            if "orders" not in data:
                raise ImportProblems([Problem("a JSON import needs a list of orders, an object with an 'orders' "
                                              "list (and optional 'fleet' list and 'depot'), or a routing dataset "
                                              "with 'kind' and 'customers'", path.name)])
            orders = read_json_records(path, data["orders"], "orders")
            fleet_records = data.get("fleet")
            depot_record = data.get("depot") if isinstance(data.get("depot"), dict) else None
        else:
            orders = read_json_records(path, data)
    else:
        orders = read_table(path, ORDER_SHEETS)
    problems: list[Problem] = []
    warnings: list[str] = []

    fleet_table: Table | None = None
    if opts.fleet is not None:
        fleet_table = read_table(opts.fleet, FLEET_SHEETS)
    elif isinstance(fleet_records, list):
        fleet_table = read_json_records(path, fleet_records, "fleet")
    elif fmt == "xlsx":
        sheets = [s for s in xlsx_sheets(path) if s.strip().lower() in FLEET_SHEETS]
        if sheets:
            fleet_table = read_table(path, FLEET_SHEETS)
            warnings.append(f"fleet read from sheet {sheets[0]!r} of {path.name}")

    cols = match_columns(orders, ORDER_FIELDS, opts.mapping, problems, ORDER_UNITS, strict=False)
    warnings += ignored_hints(cols, ORDER_FIELDS)
    _check_mapping(opts.mapping, [orders, *([fleet_table] if fleet_table else [])], problems)
    coord = _coordinate_system(orders, cols, opts, problems)
    if "demand" not in cols.found:
        problems.append(Problem(f"no demand column; {column_hint(orders, ORDER_FIELDS, 'demand')}", orders.source))

    parsed = _parse_orders(orders, cols, coord, opts, problems)
    depot, depot_window, parsed = _find_depot(orders, parsed, coord, opts, depot_record, problems)
    vehicles, capacities, names = _parse_fleet(fleet_table, opts, problems, warnings)
    _check_ids(orders, parsed, cols, problems)
    if capacities:
        _check_demand(orders, parsed, cols, capacities, problems, warnings)
    tw = any(o.window is not None for o in parsed)
    shift = _shift(orders, parsed, opts, depot_window, tw, problems, warnings)
    matrix = None
    if opts.matrix is not None and not problems:
        matrix = _read_matrix(opts.matrix, depot, parsed, opts, problems)
    if problems:
        raise ImportProblems(problems)
    assert depot is not None and capacities

    # -- build the canonical payload --------------------------------------------------
    numeric_ids = all(_positive_int(o.ref) is not None for o in parsed) and bool(parsed)
    ids = [_positive_int(o.ref) if numeric_ids else k + 1 for k, o in enumerate(parsed)]
    if not numeric_ids:
        warnings.append("order ids are not all positive whole numbers, so orders are numbered 1..n in file order "
                        "(the file's ids are kept as 'ref' and shown in exports)")
    capacity = int(math.floor(min(capacities)))
    if max(capacities) != min(capacities):
        warnings.append(f"mixed fleet ({', '.join(f'{c:g}' for c in sorted(set(capacities)))} kg): the planner uses "
                        f"one capacity for every vehicle, the smallest ({capacity} kg)")
    rounded = sum(1 for o in parsed if o.demand != int(o.demand))
    if rounded:
        warnings.append(f"{rounded} demands are not whole kg and were rounded up")
    road = opts.road_factor if opts.road_factor is not None else (LATLON_ROAD_FACTOR if coord == "latlon" else 1.0)
    xy, latlon = _planar([depot[1], *[o.xy for o in parsed]], coord)
    customers = []
    for k, (o, cid) in enumerate(zip(parsed, ids, strict=True)):
        cust: dict[str, Any] = {"id": cid, "ref": o.ref, "name": o.name or f"Order {o.ref}",
                                "x": round(float(xy[k + 1][0]), 4), "y": round(float(xy[k + 1][1]), 4),
                                "demand": int(math.ceil(o.demand - 1e-9)), "service_min": round(o.service, 2)}
        if latlon is not None:
            cust["lat"], cust["lon"] = latlon[k + 1]
        cust.update(o.extra)
        if tw:
            a, b = o.window if o.window is not None else shift
            cust["window"] = [clock_text(a), clock_text(b)]
        cust["row"] = o.row.number
        customers.append(cust)
    depot_obj: dict[str, Any] = {"name": depot[0] or "Depot", "x": round(float(xy[0][0]), 4),
                                 "y": round(float(xy[0][1]), 4)}
    if latlon is not None:
        depot_obj["lat"], depot_obj["lon"] = latlon[0]
    payload: dict[str, Any] = {
        "name": name, "kind": "vrptw" if tw else "cvrp",
        "description": opts.description or f"Imported from {path.name}",
        "units": {"distance": "km", "time": "min", "demand": "kg"},
        "coordinates": ("km, projected from lat/lon around the depot" if coord == "latlon" else "km (x east, y north)"),
        "speed_kmh": opts.speed_kmh, "detour_factor": max(road, 1.0),
        "shift": {"start": clock_text(shift[0]), "end": clock_text(shift[1])},
        "depot": depot_obj,
        "fleet": {"vehicles": vehicles, "capacity": capacity, "names": names,
                  **({"capacities": capacities} if max(capacities) != min(capacities) else {})},
        "customers": customers,
        "source": {"file": path.name, "fleet_file": opts.fleet.name if opts.fleet else None,
                   "matrix_file": opts.matrix.name if opts.matrix else None, "coordinates": coord,
                   "road_factor": road},
    }
    if road < 1.0:
        payload["detour_factor"] = 1.0
        warnings.append(f"road factor {road:g} is below 1 (roads are never shorter than the straight line); used 1")
    if matrix is not None:
        payload["matrix"] = matrix
    elif coord == "latlon":
        payload["matrix"] = _haversine_matrix(latlon, road, opts.speed_kmh)  # type: ignore[arg-type]
    report = {"orders": len(customers), "kind": payload["kind"], "vehicles": vehicles, "capacity": capacity,
              "total_demand": sum(c["demand"] for c in customers), "coordinates": coord,
              "distances": _distance_words(coord, road, opts, matrix is not None),
              "shift": payload["shift"], "columns": cols.found, "ignored_columns": cols.ignored,
              "units": {"demand": "kg", "capacity": "kg", "time": "min", "distance": "km"},
              "conversions": _conversions(cols), "warnings": warnings}
    if report["total_demand"] > vehicles * capacity:
        warnings.append(f"total demand {report['total_demand']} kg is more than the fleet carries in one trip "
                        f"({vehicles} x {capacity} kg); plan with more vehicles")
    return payload, report


# ---------------------------------------------------------------------------
# pieces

def _canonical(path: Path, name: str, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A JSON file already in the canonical format: check it with the routing loader, rename it."""
    from tools.routing.instance import from_payload

    payload = {**data, "name": name}
    inst = from_payload(payload, where=path.name, source="imported")
    return payload, {"orders": inst.num_customers, "kind": inst.kind, "vehicles": inst.num_vehicles,
                     "capacity": inst.capacity, "total_demand": int(inst.demand.sum()), "coordinates": "xy",
                     "distances": inst.convention, "columns": {}, "ignored_columns": [],
                     "warnings": ["read as a routing dataset in the canonical JSON format"]}


def _coordinate_system(orders: Table, cols: Columns, opts: RoutingOptions, problems: list[Problem]) -> str:
    """``"latlon"`` | ``"xy"`` | ``"none"`` (only with a matrix)."""
    has_ll = "lat" in cols.found and "lon" in cols.found
    has_xy = "x" in cols.found and "y" in cols.found
    if has_ll:
        return "latlon"
    if has_xy:
        return "xy"
    if opts.matrix is not None:
        return "none"
    problems.append(Problem("no coordinates: need lat and lon columns (degrees) or x and y columns (km), or a "
                            f"--matrix file; {column_hint(orders, ORDER_FIELDS, 'lat')}", orders.source))
    return "none"


def _parse_orders(orders: Table, cols: Columns, coord: str, opts: RoutingOptions,
                  problems: list[Problem]) -> list[_Order]:
    out: list[_Order] = []
    has_window_cols = any(f in cols.found for f in ("ready", "due", "window"))
    for row in orders.rows:
        def bad(msg: str, fld: str, row: Row = row) -> None:
            problems.append(Problem(msg, orders.source, row.number, cols.header(fld), orders.row_word))

        ref = as_text(cols.get(row, "id")) if "id" in cols.found else str(len(out) + 1)
        kind = as_text(cols.get(row, "type")).lower()
        # a depot row (type depot, or id 0) carries no demand
        is_depot = kind in DEPOT_WORDS or ref.strip() in {"0", "0.0"}
        xy: tuple[float, float] | None = None
        if coord != "none" or any(f in cols.found for f in ("x", "y", "lat", "lon")):
            a_f, b_f = ("lat", "lon") if coord == "latlon" else ("x", "y")
            if a_f in cols.found and b_f in cols.found:
                vals = []
                for f in (a_f, b_f):
                    raw = cols.get(row, f)
                    v = as_number(raw)
                    if raw is None:
                        bad(f"missing {f} coordinate", f)
                    elif v is None:
                        bad(f"{f} must be a number; got {as_text(raw)!r}", f)
                    else:
                        vals.append(v * cols.factors.get(f, 1.0))
                if len(vals) == 2:
                    if coord == "latlon" and not (-90 <= vals[0] <= 90 and -180 <= vals[1] <= 180):
                        swapped = abs(vals[1]) <= 90 < abs(vals[0]) <= 180
                        bad(f"lat {vals[0]:g}, lon {vals[1]:g} is not on Earth (lat -90..90, lon -180..180)"
                            + ("; are the lat and lon columns swapped?" if swapped else ""), "lat")
                    else:
                        xy = (vals[0], vals[1])
        demand = 0.0
        raw = cols.get(row, "demand")
        if "demand" in cols.found and not is_depot:
            v = as_number(raw)
            if raw is None:
                bad("missing demand", "demand")
            elif v is None:
                bad(f"demand must be a number (kg); got {as_text(raw)!r}", "demand")
            elif v < 0:
                bad(f"demand must not be negative; got {as_text(raw)}", "demand")
            else:
                demand = v * cols.factors.get("demand", 1.0)
        window = _window(row, cols, bad) if has_window_cols else None
        service = opts.service_min
        raw = cols.get(row, "service")
        if raw is not None:
            v = as_number(raw)
            if v is None or v < 0:
                bad(f"service must be minutes >= 0; got {as_text(raw)!r}", "service")
            else:
                service = v * cols.factors.get("service", 1.0)
        extra = {f: as_text(cols.get(row, f)) for f in ("address", "district") if cols.get(row, f) is not None}
        order = _Order(row, ref, as_text(cols.get(row, "name")), xy, demand, window, service, extra)
        order.extra["_depot"] = "type" if kind in DEPOT_WORDS else ("id" if is_depot else "")
        out.append(order)
    return out


def _window(row: Row, cols: Columns, bad: Any) -> tuple[int, int] | None:
    """(start, end) minutes from ready/due columns or one window column; None when the row has none."""
    if "window" in cols.found and cols.get(row, "window") is not None:
        raw = cols.get(row, "window")
        w = parse_window(raw)
        if w is None:
            bad(f"window must look like 09:00-11:00; got {as_text(raw)!r}", "window")
            return None
        if w[1] < w[0]:
            bad(f"window end {clock_text(w[1])} is before its start {clock_text(w[0])}", "window")
            return None
        return w
    ready_raw, due_raw = cols.get(row, "ready"), cols.get(row, "due")
    if ready_raw is None and due_raw is None:
        return None
    times: list[int | None] = []
    for f, raw in (("ready", ready_raw), ("due", due_raw)):
        if raw is None:
            times.append(None)
            continue
        t = as_clock(raw)
        if t is None:
            bad(f"{f} must be a clock time like 09:30; got {as_text(raw)!r}", f)
            return None
        times.append(t)
    a = times[0] if times[0] is not None else 0
    b = times[1] if times[1] is not None else 24 * 60 - 1
    if b < a:
        bad(f"window end {clock_text(b)} is before its start {clock_text(a)}", "due")
        return None
    return a, b


def _find_depot(orders: Table, parsed: list[_Order], coord: str, opts: RoutingOptions,
                depot_record: dict[str, Any] | None, problems: list[Problem]
                ) -> tuple[tuple[str, tuple[float, float] | None, str] | None, tuple[int, int] | None, list[_Order]]:
    """((name, coords, ref) of the depot, its window if any, the remaining orders)."""
    flagged = [o for o in parsed if o.extra.get("_depot") == "type"]
    if not flagged:
        flagged = [o for o in parsed if o.extra.get("_depot") == "id"]
    for o in parsed:
        o.extra.pop("_depot", None)
    rest = [o for o in parsed if o not in flagged]
    if opts.depot is not None:
        if flagged:
            problems.append(Problem("--depot was given but the file also has a depot row; use one of them",
                                    orders.source, flagged[0].row.number, row_word=orders.row_word))
        if coord == "latlon" and not (-90 <= opts.depot[0] <= 90 and -180 <= opts.depot[1] <= 180):
            problems.append(Problem(f"--depot {opts.depot[0]:g},{opts.depot[1]:g} is not lat,lon"))
        return ("Depot", opts.depot, "depot"), None, rest
    if depot_record is not None:
        a_f, b_f = ("lat", "lon") if coord == "latlon" else ("x", "y")
        a, b = as_number(depot_record.get(a_f)), as_number(depot_record.get(b_f))
        if a is None or b is None:
            problems.append(Problem(f"'depot' needs numbers {a_f} and {b_f}; got {depot_record!r:.80}", orders.source))
            return None, None, rest
        return (as_text(depot_record.get("name")) or "Depot", (a, b), "depot"), None, rest
    if len(flagged) > 1:
        rows = ", ".join(str(o.row.number) for o in flagged[:5])
        problems.append(Problem(f"{len(flagged)} depot rows ({orders.row_word}s {rows}); there must be exactly one",
                                orders.source))
        return None, None, rest
    if not flagged:
        problems.append(Problem("no depot: add a row with type 'depot' (or id 0), or pass --depot X,Y "
                                "(or --depot LAT,LON)", orders.source))
        return None, None, rest
    d = flagged[0]
    if d.xy is None and coord != "none":
        return None, None, rest  # its missing coordinate is already reported
    return (d.name or "Depot", d.xy, d.ref), d.window, rest


def _parse_fleet(table: Table | None, opts: RoutingOptions, problems: list[Problem],
                 warnings: list[str]) -> tuple[int, list[float], list[str]]:
    """(number of vehicles, capacity per vehicle in kg, vehicle names)."""
    if table is None:
        if opts.vehicles is None or opts.capacity is None:
            problems.append(Problem("no fleet: pass --fleet FILE (vehicle, capacity[, count]) or both --vehicles N "
                                    "and --capacity KG"))
            return 0, [], []
        n = opts.vehicles
        return n, [float(opts.capacity)] * n, [f"Vehicle {k:02d}" for k in range(1, n + 1)]
    before = len(problems)
    cols = match_columns(table, FLEET_FIELDS, opts.mapping, problems, FLEET_UNITS, strict=False)
    warnings += ignored_hints(cols, FLEET_FIELDS)
    if "capacity" not in cols.found:
        problems.append(Problem(f"no capacity column; {column_hint(table, FLEET_FIELDS, 'capacity')}", table.source))
        return 0, [], []
    caps: list[float] = []
    names: list[str] = []
    for row in table.rows:
        def bad(msg: str, fld: str, row: Row = row) -> None:
            problems.append(Problem(msg, table.source, row.number, cols.header(fld), table.row_word))

        raw = cols.get(row, "capacity")
        cap = as_number(raw)
        if raw is None:
            bad("missing capacity", "capacity")
            continue
        if cap is None or cap <= 0:
            bad(f"capacity must be a positive number (kg); got {as_text(raw)!r}", "capacity")
            continue
        count = 1
        raw_n = cols.get(row, "count")
        if raw_n is not None:
            number = as_number(raw_n)
            if number is None or number < 0 or not float(number).is_integer():
                bad(f"count must be a whole number >= 0; got {as_text(raw_n)!r}", "count")
                continue
            count = int(number)
        label = as_text(cols.get(row, "vehicle")) or f"Vehicle {len(names) + 1:02d}"
        for k in range(count):
            caps.append(cap * cols.factors.get("capacity", 1.0))
            names.append(label if count == 1 else f"{label} #{k + 1}")
    if len(problems) == before and not caps:
        problems.append(Problem("the fleet has no vehicles", table.source))
    if opts.vehicles is not None and caps:
        if opts.vehicles > len(caps):
            problems.append(Problem(f"--vehicles {opts.vehicles} is more than the {len(caps)} vehicles in the fleet file",
                                    table.source))
        else:
            caps, names = caps[:opts.vehicles], names[:opts.vehicles]
    if len(set(names)) != len(names):
        seen: set[str] = set()
        names = [n if not (n in seen or seen.add(n)) else f"{n} ({k + 1})" for k, n in enumerate(names)]  # type: ignore[func-returns-value]
    return len(caps), caps, names


def _check_mapping(mapping: dict[str, str], tables: list[Table], problems: list[Problem]) -> None:
    """A --map naming a column that no table has is a mistake worth reporting."""
    from tools.importing.tables import normalise

    headers = {normalise(h) for t in tables for h in t.headers}
    for col, fld in mapping.items():
        if fld not in ORDER_FIELDS and fld not in FLEET_FIELDS:
            problems.append(Problem(f"--map {col}={fld}: unknown field {fld!r}; order fields are "
                                    f"{', '.join(ORDER_FIELDS)}; fleet fields are {', '.join(FLEET_FIELDS)}"))
        if normalise(col) not in headers:
            cols = ", ".join(h for t in tables for h in t.headers[:12])
            problems.append(Problem(f"--map {col}=...: there is no column {col!r}; columns are {cols}"))


def _check_ids(orders: Table, parsed: list[_Order], cols: Columns, problems: list[Problem]) -> None:
    if "id" not in cols.found:
        return
    first: dict[str, int] = {}
    for o in parsed:
        if not o.ref:
            problems.append(Problem("missing order id", orders.source, o.row.number, cols.header("id"), orders.row_word))
            continue
        if o.ref in first:
            problems.append(Problem(f"duplicate order id {o.ref!r} (first on {orders.row_word} {first[o.ref]})",
                                    orders.source, o.row.number, cols.header("id"), orders.row_word))
        else:
            first[o.ref] = o.row.number


def _check_demand(orders: Table, parsed: list[_Order], cols: Columns, capacities: list[float],
                  problems: list[Problem], warnings: list[str]) -> None:
    big, small = max(capacities), min(capacities)
    for o in parsed:
        if o.demand > big:
            problems.append(Problem(f"demand {o.demand:g} kg is above every vehicle's capacity (largest {big:g} kg)",
                                    orders.source, o.row.number, cols.header("demand"), orders.row_word))
        elif o.demand > small:
            problems.append(Problem(f"demand {o.demand:g} kg fits only the larger vehicles, but the planner uses the "
                                    f"smallest capacity ({small:g} kg) for every vehicle; split the order or plan "
                                    "with a uniform fleet", orders.source, o.row.number, cols.header("demand"),
                                    orders.row_word))


def _shift(orders: Table, parsed: list[_Order], opts: RoutingOptions, depot_window: tuple[int, int] | None,
           tw: bool, problems: list[Problem], warnings: list[str]) -> tuple[int, int]:
    """The working day (minutes after midnight): --shift, the depot's window, or around the orders' windows."""
    if opts.shift is not None:
        shift = opts.shift
    elif depot_window is not None:
        shift = depot_window
    elif tw:
        wins = [o.window for o in parsed if o.window is not None]
        start = max(0, (min(a for a, _ in wins) - 60) // 60 * 60)
        latest = max(b for _, b in wins) + int(max((o.service for o in parsed), default=0))
        end = min(24 * 60 - 1, -(-(latest + 120) // 60) * 60)
        shift = (start, end)
        warnings.append(f"shift {clock_text(start)}-{clock_text(end)} derived from the time windows; "
                        "set it with --shift HH:MM-HH:MM")
    else:
        shift = (8 * 60, 18 * 60)
    if shift[1] <= shift[0]:
        problems.append(Problem(f"shift end {clock_text(shift[1])} must be after its start {clock_text(shift[0])}"))
        return shift
    for o in parsed:
        if o.window is not None and (o.window[1] < shift[0] or o.window[0] > shift[1]):
            problems.append(Problem(f"window {clock_text(o.window[0])}-{clock_text(o.window[1])} is outside the shift "
                                    f"{clock_text(shift[0])}-{clock_text(shift[1])}", orders.source, o.row.number,
                                    row_word=orders.row_word))
    return shift


def _read_matrix(path: Path, depot: tuple[str, Any, str] | None, parsed: list[_Order], opts: RoutingOptions,
                 problems: list[Problem]) -> dict[str, Any] | None:
    """A square matrix file (first column and header = ids; the depot as its id, ``depot`` or ``0``)."""
    table = read_table(path)
    src = table.source
    header_ids = [as_text(h) for h in table.headers[1:]]
    depot_keys = {"depot", "0", "仓库", "dc"} | ({depot[2]} if depot else set())
    want = ["@depot", *[o.ref for o in parsed]]

    def key(label: str) -> str:
        return "@depot" if label.strip().lower() in depot_keys or label.strip() in depot_keys else label.strip()

    col_of = {key(h): k for k, h in enumerate(header_ids)}
    missing = [w for w in want if w not in col_of]
    if missing:
        names = ", ".join("depot" if m == "@depot" else m for m in missing[:10])
        problems.append(Problem(f"the matrix has no column for {names}{' ...' if len(missing) > 10 else ''} "
                                "(the header row must list the depot and every order id)", src))
        return None
    rows: dict[str, Row] = {}
    label_col = table.headers[0]
    for row in table.rows:
        rows[key(as_text(row.values.get(label_col)))] = row
    missing = [w for w in want if w not in rows]
    if missing:
        names = ", ".join("depot" if m == "@depot" else m for m in missing[:10])
        problems.append(Problem(f"the matrix has no row for {names} (the first column must list the depot and "
                                "every order id)", src))
        return None
    n1 = len(want)
    mat = np.zeros((n1, n1))
    for i, a in enumerate(want):
        row = rows[a]
        for j, b in enumerate(want):
            header = table.headers[1 + col_of[b]]
            raw = row.values.get(header)
            v = as_number(raw)
            if v is None or v < 0:
                problems.append(Problem(f"matrix entry must be a number >= 0; got {as_text(raw)!r}", src, row.number,
                                        header, table.row_word))
            else:
                mat[i, j] = v
    if problems:
        return None
    if opts.matrix_kind == "time":
        minutes = mat
        km = mat / 60.0 * opts.speed_kmh
        source = f"travel times from {path.name} (minutes); distance = time x {opts.speed_kmh:g} km/h"
    else:
        km = mat
        minutes = mat / opts.speed_kmh * 60.0
        source = f"road distances from {path.name} (km); travel minutes at {opts.speed_kmh:g} km/h"
    return _matrix_payload(km, minutes, source)


def _planar(points: list[tuple[float, float] | None], coord: str
            ) -> tuple[list[tuple[float, float]], list[tuple[float, float]] | None]:
    """(x/y km per node, lat/lon per node or None). Lat/lon is projected around the depot (equirectangular,
    for maps and GNN features only: distances use haversine); no coordinates at all become (0, 0)."""
    if coord == "xy":
        return [p if p is not None else (0.0, 0.0) for p in points], None
    if coord == "none":
        return [(0.0, 0.0) for _ in points], None
    lat0, lon0 = points[0]  # type: ignore[misc]
    kx = math.pi / 180 * EARTH_RADIUS_KM * math.cos(math.radians(lat0))
    ky = math.pi / 180 * EARTH_RADIUS_KM
    xy = [((p[1] - lon0) * kx, (p[0] - lat0) * ky) for p in points]  # type: ignore[index]
    return xy, [(round(p[0], 7), round(p[1], 7)) for p in points]  # type: ignore[index]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _haversine_matrix(latlon: list[tuple[float, float]], road: float, speed: float) -> dict[str, Any]:
    lat = np.radians(np.array([p[0] for p in latlon]))
    lon = np.radians(np.array([p[1] for p in latlon]))
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a))) * max(road, 1.0)
    return _matrix_payload(km, km / speed * 60.0,
                           f"road distance = haversine x {max(road, 1.0):g}; travel minutes at {speed:g} km/h")


def _matrix_payload(km: np.ndarray, minutes: np.ndarray, source: str) -> dict[str, Any]:
    """Matrices at the planner's own resolution (0.1 km, whole minutes): nothing is lost, and a
    1000-order day stays a few MB that loads in well under a second."""
    dist_dm = np.round(km * 10).astype(np.int64)
    return {"distance_km": (dist_dm / 10).tolist(), "time_min": np.round(minutes).astype(np.int64).tolist(),
            "source": source}


def _distance_words(coord: str, road: float, opts: RoutingOptions, matrix: bool) -> str:
    if matrix:
        return f"{opts.matrix_kind} matrix from {opts.matrix.name if opts.matrix else 'file'}"
    if coord == "latlon":
        return f"haversine x road factor {max(road, 1.0):g}, {opts.speed_kmh:g} km/h"
    return f"straight line (km) x road factor {max(road, 1.0):g}, {opts.speed_kmh:g} km/h"


def _conversions(cols: Columns) -> dict[str, str]:
    """``{"demand": "Weight (t) x 1000 -> kg"}`` for every header unit that was converted."""
    stated = {"demand": "kg", "service": "min", "x": "km", "y": "km"}
    return {f: f"{cols.found[f]} x {k:g} -> {stated.get(f, '')}" for f, k in cols.factors.items() if k != 1.0}


def _positive_int(ref: str) -> int | None:
    try:
        v = float(ref)
    except ValueError:
        return None
    return int(v) if v.is_integer() and v >= 1 else None


def parse_pair(text: str, what: str) -> tuple[float, float]:
    """``"10.5,0.8"`` -> (10.5, 0.8); a clear error otherwise."""
    parts = [p.strip() for p in str(text).split(",")]
    vals = [as_number(p) for p in parts]
    if len(vals) != 2 or any(v is None for v in vals):
        raise DiaoduError(f"{what} must be two numbers like 10.5,0.8 (x,y in km or lat,lon); got {text!r}")
    return float(vals[0]), float(vals[1])  # type: ignore[arg-type]


def parse_shift(text: str) -> tuple[int, int]:
    """``"07:00-19:00"`` -> minutes; a clear error otherwise."""
    w = parse_window(text)
    if w is None or w[1] <= w[0]:
        raise DiaoduError(f"--shift must look like 07:00-19:00 (end after start); got {text!r}")
    return w
