"""Typed, validated routing instances (CVRP and VRPTW) and the loaders that build them.

A :class:`RoutingInstance` is what every solver, the checker and the explanations work on.
Node index 0 is the depot, nodes ``1..n`` the customers. Matrices and times are integers in
*internal units*, already rounded by the instance's convention, so that costs compare to the
published best-known values:

- CVRPLIB (``EUC_2D``): Euclidean distance rounded to the nearest integer (``dist_scale`` 1);
- Solomon: Euclidean distance truncated to one decimal, held as tenths (``dist_scale`` 10) and
  used as travel time too (``time_scale`` 10);
- demo / imported datasets (the JSON format of ``tools/data/*.json``): road distance in 0.1 km
  (``dist_scale`` 10) and travel time in whole minutes (``time_scale`` 1), with clock times
  relative to the shift start.

Costs are reported in real units: ``internal / dist_scale``.

Sources: benchmark files are read with ``vrplib`` after a line-by-line check (so a malformed file
gives its path and line); demo datasets are JSON files; imported datasets are the same JSON
payload stored in the workspace database.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from tools.core.datasets import ROUTING_KINDS, DatasetRef, resolve
from tools.core.errors import DiaoduError, check_int

log = logging.getLogger(__name__)


@dataclass
class RoutingInstance:
    """A CVRP / VRPTW instance; index 0 is the depot.

    ``ready``, ``due`` and ``service`` are ``None`` for CVRP. ``customer_ids[i]`` is the id a user
    sees for node ``i`` (benchmarks: the node number of the ``.sol`` files; demo data: the order id).
    """

    name: str
    kind: str  # "cvrp" | "vrptw"
    coords: np.ndarray  # (n+1, 2) float, in the dataset's coordinate units
    demand: np.ndarray  # (n+1,) int, demand[0] == 0
    capacity: int
    num_vehicles: int
    distance: np.ndarray  # (n+1, n+1) int, internal distance units
    duration: np.ndarray  # (n+1, n+1) int, internal time units (travel only)
    dist_scale: int = 1
    time_scale: int = 1
    ready: np.ndarray | None = None  # (n+1,) int, internal time units: earliest service start
    due: np.ndarray | None = None  # (n+1,) int: latest service start (depot: latest return)
    service: np.ndarray | None = None  # (n+1,) int: service duration
    customer_ids: list[int] = field(default_factory=list)
    names: list[str] | None = None  # per node (depot first)
    districts: list[str] | None = None  # per node
    district_info: list[dict[str, Any]] = field(default_factory=list)
    roads: list[dict[str, Any]] = field(default_factory=list)
    vehicle_names: list[str] | None = None
    shift_start_min: int | None = None  # clock minute of time 0 (demo data); None for benchmarks
    units: dict[str, str] = field(default_factory=dict)  # {"distance": "km", "time": "min", "demand": "kg"}
    source: str = "benchmark"  # "benchmark" | "demo" | "imported" | "generated"
    bks: float | None = None
    convention: str = ""  # how distances were rounded, in words
    meta: dict[str, Any] = field(default_factory=dict)

    # -- shape -------------------------------------------------------------
    @property
    def num_customers(self) -> int:
        return len(self.demand) - 1

    @property
    def num_nodes(self) -> int:
        return len(self.demand)

    @property
    def has_time_windows(self) -> bool:
        return self.ready is not None

    @property
    def horizon(self) -> int:
        """Latest return to the depot (internal time units); a loose bound for CVRP."""
        if self.due is not None:
            return int(self.due[0])
        return int(self.duration.max()) * (self.num_nodes + 1)

    # -- ids -----------------------------------------------------------------
    def node_of(self, customer_id: int) -> int:
        """The node index of a customer id, or a clear error naming valid ids."""
        lookup = self.meta.setdefault("_node_of", {cid: i for i, cid in enumerate(self.customer_ids) if i > 0})
        if customer_id not in lookup:
            ids = self.customer_ids[1:]
            raise DiaoduError(f"order {customer_id!r} is not in dataset {self.name!r}; orders are "
                              f"{ids[0]}..{ids[-1]}" if ids else f"dataset {self.name!r} has no orders",
                              code="unknown_order")
        return lookup[customer_id]

    def label(self, node: int) -> str:
        """A short human label for a node: its name when known, else ``#id``."""
        if node == 0:
            return self.names[0] if self.names else "depot"
        cid = self.customer_ids[node]
        return f"#{cid} {self.names[node]}" if self.names else f"#{cid}"

    # -- units ---------------------------------------------------------------
    def real_distance(self, internal: float) -> float:
        return float(internal) / self.dist_scale

    def real_time(self, internal: float) -> float:
        return float(internal) / self.time_scale

    def clock(self, internal_time: float) -> str | None:
        """``HH:MM`` for an internal time, when the instance has a clock (demo data)."""
        if self.shift_start_min is None:
            return None
        minutes = int(round(self.shift_start_min + internal_time / self.time_scale))
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    def time_from_clock(self, hhmm: str) -> int:
        """Internal time of a clock time ``HH:MM`` (demo data only)."""
        if self.shift_start_min is None:
            raise DiaoduError(f"dataset {self.name!r} has no clock times; times are in its own units")
        return (parse_clock(hhmm, "time") - self.shift_start_min) * self.time_scale

    # -- variants --------------------------------------------------------------
    def with_overrides(self, num_vehicles: int | None = None, capacity: int | None = None) -> RoutingInstance:
        """A copy with another fleet size and/or vehicle capacity (validated)."""
        inst = self
        if num_vehicles is not None:
            inst = replace(inst, num_vehicles=check_int("num_vehicles", num_vehicles, minimum=1, maximum=5000))
        if capacity is not None:
            inst = replace(inst, capacity=check_int("vehicle_capacity", capacity, minimum=1))
        if inst is not self:
            inst.meta = {k: v for k, v in self.meta.items() if not k.startswith("_")}
        return inst

    def subset(self, nodes: list[int], num_vehicles: int) -> RoutingInstance:
        """The sub-instance of the depot and ``nodes`` (its node ``k`` is ``nodes[k - 1]``), with its own fleet.

        Used to re-optimise a few routes of a plan on their own (decomposition); the matrices are
        slices, so costs stay in the same units.
        """
        idx = np.array([0, *nodes], dtype=int)
        if len(set(nodes)) != len(nodes) or not all(0 < v < self.num_nodes for v in nodes):
            raise DiaoduError(f"subset of {self.name!r}: nodes must be distinct customers 1..{self.num_nodes - 1}")

        def cut(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[idx]

        return replace(self, name=f"{self.name}[{len(nodes)}]", coords=self.coords[idx], demand=self.demand[idx],
                       num_vehicles=check_int("num_vehicles", num_vehicles, minimum=1),
                       distance=self.distance[np.ix_(idx, idx)], duration=self.duration[np.ix_(idx, idx)],
                       ready=cut(self.ready), due=cut(self.due), service=cut(self.service),
                       customer_ids=[self.customer_ids[i] for i in idx] if self.customer_ids else list(range(len(idx))),
                       names=[self.names[i] for i in idx] if self.names else None,
                       districts=[self.districts[i] for i in idx] if self.districts else None,
                       vehicle_names=None, bks=None, meta={})

    def summary(self) -> dict[str, Any]:
        """Key facts for reports and the agent."""
        return {"name": self.name, "kind": self.kind, "customers": self.num_customers,
                "vehicles": self.num_vehicles, "capacity": self.capacity, "total_demand": int(self.demand.sum()),
                "time_windows": self.has_time_windows, "source": self.source, "bks": self.bks,
                "convention": self.convention, "units": self.units}

    def validate(self, where: str = "") -> RoutingInstance:
        """Check shapes and values; raise :class:`DiaoduError` naming what is wrong."""
        where = where or f"dataset {self.name!r}"
        n1 = self.num_nodes
        if self.kind not in ROUTING_KINDS:
            raise DiaoduError(f"{where}: kind must be one of {', '.join(ROUTING_KINDS)}; got {self.kind!r}")
        if n1 < 2:
            raise DiaoduError(f"{where}: needs a depot and at least one customer")
        for arr, label in ((self.coords, "coords"), (self.distance, "distance"), (self.duration, "duration")):
            expect = (n1, 2) if label == "coords" else (n1, n1)
            if arr.shape != expect:
                raise DiaoduError(f"{where}: {label} has shape {arr.shape}, expected {expect}")
        if (self.demand < 0).any():
            i = int(np.argmax(self.demand < 0))
            raise DiaoduError(f"{where}: customer {self._cid(i)} has negative demand {int(self.demand[i])}")
        if self.demand[0] != 0:
            raise DiaoduError(f"{where}: the depot must have demand 0; got {int(self.demand[0])}")
        if self.capacity <= 0:
            raise DiaoduError(f"{where}: vehicle capacity must be positive; got {self.capacity}")
        if self.num_vehicles <= 0:
            raise DiaoduError(f"{where}: the fleet must have at least one vehicle; got {self.num_vehicles}")
        if (self.distance < 0).any() or (self.duration < 0).any():
            raise DiaoduError(f"{where}: distances and durations must be non-negative")
        if self.kind == "vrptw":
            if self.ready is None or self.due is None or self.service is None:
                raise DiaoduError(f"{where}: a vrptw instance needs time windows and service times")
            bad = np.nonzero(self.ready > self.due)[0]
            if len(bad):
                i = int(bad[0])
                raise DiaoduError(f"{where}: customer {self._cid(i)} has a window that closes before it opens")
            if (self.service < 0).any():
                raise DiaoduError(f"{where}: service times must be non-negative")
        if len(self.customer_ids) != n1:
            raise DiaoduError(f"{where}: {len(self.customer_ids)} customer ids for {n1} nodes")
        if len(set(self.customer_ids[1:])) != n1 - 1:
            raise DiaoduError(f"{where}: customer ids must be unique")
        return self

    def _cid(self, node: int) -> str:
        return str(self.customer_ids[node]) if self.customer_ids else str(node)


# ---------------------------------------------------------------------------
# distances by convention

def cvrplib_distances(coords: np.ndarray) -> np.ndarray:
    """CVRPLIB ``EUC_2D``: Euclidean distance rounded to the nearest integer (TSPLIB ``nint``)."""
    diff = coords[:, None, :] - coords[None, :, :]
    return np.floor(np.sqrt((diff**2).sum(-1)) + 0.5).astype(np.int64)


def solomon_distances(coords: np.ndarray) -> np.ndarray:
    """Solomon: Euclidean distance truncated to one decimal, in tenths (an integer matrix)."""
    diff = coords[:, None, :] - coords[None, :, :]
    # the epsilon keeps exact values (e.g. 5.0 -> 50) from falling to 49 by float error
    return np.floor(np.sqrt((diff**2).sum(-1)) * 10 + 1e-7).astype(np.int64)


# ---------------------------------------------------------------------------
# loading

def load_instance(name_or_ref: str | DatasetRef) -> RoutingInstance:
    """Load a routing dataset by name (or resolved ref): benchmark, demo JSON or imported."""
    ref = name_or_ref if isinstance(name_or_ref, DatasetRef) else resolve(name_or_ref, ROUTING_KINDS)
    if ref.kind not in ROUTING_KINDS:
        raise DiaoduError(f"dataset {ref.name!r} is a {ref.kind} instance; routing needs one of kind "
                          f"{', '.join(ROUTING_KINDS)}", code="wrong_kind")
    if ref.source == "imported":
        from tools.core.store import Store

        inst = from_payload(Store().load_dataset(ref.name), where=f"imported dataset {ref.name!r}", source="imported")
    elif ref.source == "demo":
        assert ref.path is not None
        inst = load_json_file(ref.path, source="demo")
    else:
        assert ref.path is not None
        inst = read_vrplib(ref.path) if ref.kind == "cvrp" else read_solomon(ref.path)
    if ref.bks is not None and inst.bks is None:
        inst.bks = ref.bks
    return inst


def _fail(path: Path, line: int | None, msg: str) -> DiaoduError:
    at = f", line {line}" if line else ""
    return DiaoduError(f"malformed dataset file {path}{at}: {msg}", code="malformed_file",
                       details={"file": str(path), **({"line": line} if line else {})})


def _is_number(tok: str) -> bool:
    try:
        float(tok)
    except ValueError:
        return False
    return True


def _check_vrplib_lines(path: Path, text: str) -> dict[str, str]:
    """Line-by-line check of a VRPLIB CVRP file; returns its header fields."""
    header: dict[str, str] = {}
    section: str | None = None
    counts: dict[str, int] = {}
    expect_tokens = {"NODE_COORD_SECTION": 3, "DEMAND_SECTION": 2}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        upper = line.upper()
        if upper == "EOF":
            break
        if upper.endswith("_SECTION"):
            section = upper
            counts[section] = 0
            continue
        if ":" in line and section is None:
            key, _, value = line.partition(":")
            header[key.strip().upper()] = value.strip()
            continue
        if section is None:
            raise _fail(path, lineno, f"expected 'KEY : value' or a section name; got {line[:40]!r}")
        toks = line.split()
        if section == "DEPOT_SECTION":
            if not all(_is_number(t) for t in toks):
                raise _fail(path, lineno, f"depot ids must be numbers; got {line[:40]!r}")
            continue
        want = expect_tokens.get(section)
        if want is not None:
            if len(toks) != want or not all(_is_number(t) for t in toks):
                raise _fail(path, lineno, f"{section} rows need {want} numbers; got {line[:40]!r}")
            counts[section] += 1
    for key in ("DIMENSION", "CAPACITY"):
        if key not in header:
            raise _fail(path, None, f"missing header field {key}")
        if not header[key].isdigit():
            raise _fail(path, _line_of(text, key), f"{key} must be a whole number; got {header[key]!r}")
    ewt = header.get("EDGE_WEIGHT_TYPE", "EUC_2D")
    if ewt != "EUC_2D":
        raise _fail(path, _line_of(text, "EDGE_WEIGHT_TYPE"), f"EDGE_WEIGHT_TYPE {ewt!r} is not supported (only EUC_2D)")
    dim = int(header["DIMENSION"])
    for sec in ("NODE_COORD_SECTION", "DEMAND_SECTION"):
        if counts.get(sec, 0) != dim:
            raise _fail(path, _line_of(text, sec), f"{sec} has {counts.get(sec, 0)} rows; DIMENSION says {dim}")
    return header


def _line_of(text: str, needle: str) -> int | None:
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if needle in raw:
            return lineno
    return None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(path, None, f"not a text file ({exc.reason})") from None


def read_vrplib(path: str | Path) -> RoutingInstance:
    """Read a CVRPLIB ``.vrp`` file (``EUC_2D``) with ``vrplib``, rounding distances CVRPLIB's way."""
    import vrplib

    path = Path(path)
    text = _read_text(path)
    header = _check_vrplib_lines(path, text)
    try:
        data = vrplib.read_instance(str(path), compute_edge_weights=False)
    except Exception as exc:  # vrplib raises bare ValueErrors/IndexErrors on odd files
        raise _fail(path, None, f"vrplib could not read it: {exc}") from None
    coords = np.asarray(data["node_coord"], dtype=float)
    demand = np.asarray(data["demand"], dtype=np.int64)
    depots = np.atleast_1d(np.asarray(data.get("depot", [0]), dtype=int))
    if len(depots) != 1:
        raise _fail(path, _line_of(text, "DEPOT_SECTION"), f"exactly one depot is supported; got {len(depots)}")
    d = int(depots[0])
    if d != 0:  # move the depot to index 0 so that node numbers match the .sol files
        order = [d] + [i for i in range(len(demand)) if i != d]
        coords, demand = coords[order], demand[order]
    dist = cvrplib_distances(coords)
    name = str(data.get("name", path.stem)).strip() or path.stem
    inst = RoutingInstance(
        name=path.stem, kind="cvrp", coords=coords, demand=demand, capacity=int(data["capacity"]),
        num_vehicles=_default_fleet(name, str(header.get("COMMENT", "")), header, int(demand.sum()),
                                    int(data["capacity"])),
        distance=dist, duration=dist.copy(), dist_scale=1, time_scale=1,
        customer_ids=list(range(len(demand))), source="benchmark",
        convention="CVRPLIB: Euclidean distance rounded to the nearest integer",
        units={"distance": "", "time": "", "demand": ""}, meta={"file": str(path)},
    )
    return inst.validate(f"dataset file {path}")


def _default_fleet(name: str, comment: str, header: dict[str, str], total_demand: int, capacity: int) -> int:
    """The fleet a CVRPLIB file implies.

    A ``VEHICLES`` field or an Augerat comment ("No of trucks: 5") is the fleet. The X set fixes
    no fleet (``k`` in the name is the minimum); its best-known solutions may use a few more
    routes, so allow ``k`` plus 10% and one spare.
    """
    if header.get("VEHICLES", "").isdigit():
        return int(header["VEHICLES"])
    m = re.search(r"No of trucks:\s*(\d+)", comment)
    if m:
        return int(m.group(1))
    m = re.search(r"-k(\d+)", name)
    k = int(m.group(1)) if m else math.ceil(total_demand / max(capacity, 1))
    return k + max(1, math.ceil(0.1 * k)) + 1


def _check_solomon_lines(path: Path, text: str) -> None:
    lines = text.splitlines()
    seen_vehicle = seen_customer = False
    rows = 0
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        upper = line.upper()
        if upper.startswith("VEHICLE"):
            seen_vehicle = True
            continue
        if upper.startswith("CUSTOMER"):
            seen_customer = True
            continue
        if upper.startswith("NUMBER") or upper.startswith("CUST"):
            continue
        toks = line.split()
        if seen_customer:
            if len(toks) != 7 or not all(_is_number(t) for t in toks):
                raise _fail(path, lineno, f"customer rows need 7 numbers (id x y demand ready due service); "
                                          f"got {line[:60]!r}")
            rows += 1
        elif seen_vehicle and (len(toks) != 2 or not all(t.isdigit() for t in toks)):
            raise _fail(path, lineno, f"the vehicle row needs 2 whole numbers (number capacity); got {line[:60]!r}")
    if not (seen_vehicle and seen_customer) or rows < 2:
        raise _fail(path, None, "not a Solomon file (needs VEHICLE and CUSTOMER sections with a depot and customers)")


def read_solomon(path: str | Path) -> RoutingInstance:
    """Read a Solomon VRPTW file with ``vrplib``; distances truncated to one decimal (tenths)."""
    import vrplib

    path = Path(path)
    text = _read_text(path)
    _check_solomon_lines(path, text)
    try:
        data = vrplib.read_instance(str(path), instance_format="solomon", compute_edge_weights=False)
    except Exception as exc:
        raise _fail(path, None, f"vrplib could not read it: {exc}") from None
    coords = np.asarray(data["node_coord"], dtype=float)
    dist = solomon_distances(coords)
    tw = np.asarray(data["time_window"], dtype=float)
    inst = RoutingInstance(
        name=path.stem, kind="vrptw", coords=coords, demand=np.asarray(data["demand"], dtype=np.int64),
        capacity=int(data["capacity"]), num_vehicles=int(data["vehicles"]), distance=dist, duration=dist.copy(),
        dist_scale=10, time_scale=10,
        ready=np.round(tw[:, 0] * 10).astype(np.int64), due=np.round(tw[:, 1] * 10).astype(np.int64),
        service=np.round(np.asarray(data["service_time"], dtype=float) * 10).astype(np.int64),
        customer_ids=list(range(len(coords))), source="benchmark",
        convention="Solomon: Euclidean distance truncated to one decimal; travel time equals distance",
        units={"distance": "", "time": "", "demand": ""}, meta={"file": str(path)},
    )
    return inst.validate(f"dataset file {path}")


# ---------------------------------------------------------------------------
# the JSON routing-dataset format (demo files and imported datasets)

def parse_clock(value: Any, what: str) -> int:
    """``"09:30"`` -> minutes after midnight; a clear error otherwise."""
    if isinstance(value, str):
        m = re.fullmatch(r"\s*([0-2]?\d):([0-5]\d)\s*", value)
        if m and int(m.group(1)) <= 24:
            return int(m.group(1)) * 60 + int(m.group(2))
    raise DiaoduError(f"{what} must be a clock time like '09:30'; got {value!r}")


def load_json_file(path: str | Path, source: str = "demo") -> RoutingInstance:
    """Load a routing dataset JSON file; errors name the file and line."""
    path = Path(path)
    text = _read_text(path)
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(path, exc.lineno, f"invalid JSON: {exc.msg}") from None
    return from_payload(payload, where=f"dataset file {path}", source=source, text=text)


def from_payload(payload: dict[str, Any], where: str = "dataset", source: str = "imported",
                 text: str | None = None) -> RoutingInstance:
    """Build an instance from the canonical JSON routing-dataset format (see ``tools/data/README.md``).

    ``text`` (the file's contents) lets errors name the line of a bad customer.
    """
    if not isinstance(payload, dict):
        raise DiaoduError(f"{where}: must be a JSON object")

    def err(msg: str, cid: Any = None, key: str | None = None) -> DiaoduError:
        line = None
        if text is not None:
            if cid is not None:
                line = _line_of(text, f'"id": {json.dumps(cid)}')
            elif key is not None:
                line = _line_of(text, f'"{key}"')
        return DiaoduError(f"{where}{f', line {line}' if line else ''}: {msg}", code="malformed_file",
                           details={"where": where, **({"line": line} if line else {})})

    def num(obj: dict, key: str, what: str, cid: Any = None, default: Any = None, integer: bool = False) -> float:
        value = obj.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise err(f"{what} {key!r} must be a number; got {value!r}", cid, key if cid is None else None)
        if integer and float(value) != int(value):
            raise err(f"{what} {key!r} must be a whole number; got {value!r}", cid)
        return float(value)

    kind = payload.get("kind")
    if kind not in ROUTING_KINDS:
        raise err(f"'kind' must be one of {', '.join(ROUTING_KINDS)}; got {kind!r}", key="kind")
    name = str(payload.get("name") or "unnamed")
    depot = payload.get("depot")
    if not isinstance(depot, dict):
        raise err("needs a 'depot' object with x and y", key="depot")
    customers = payload.get("customers")
    if not isinstance(customers, list) or not customers:
        raise err("needs a non-empty 'customers' list", key="customers")
    fleet = payload.get("fleet")
    if not isinstance(fleet, dict):
        raise err("needs a 'fleet' object with vehicles and capacity", key="fleet")
    vehicles = int(num(fleet, "vehicles", "fleet", integer=True))
    capacity = int(num(fleet, "capacity", "fleet", integer=True))
    if vehicles < 1:
        raise err(f"the fleet must have at least one vehicle; got {vehicles}", key="vehicles")
    if capacity < 1:
        raise err(f"vehicle capacity must be positive; got {capacity}", key="capacity")
    shift = payload.get("shift") or {}
    tw = kind == "vrptw"
    shift_start = parse_clock(shift.get("start", "00:00"), "shift start") if (tw or shift) else None
    shift_end = parse_clock(shift.get("end", "23:59"), "shift end") if (tw or shift) else None
    if shift_start is not None and shift_end is not None and shift_end <= shift_start:
        raise err(f"shift end {shift.get('end')!r} must be after shift start {shift.get('start')!r}", key="shift")
    speed = num(payload, "speed_kmh", "dataset", default=30.0)
    if speed <= 0:
        raise err(f"speed_kmh must be positive; got {speed}", key="speed_kmh")
    detour = num(payload, "detour_factor", "dataset", default=1.3)
    if detour < 1:
        raise err(f"detour_factor must be at least 1; got {detour}", key="detour_factor")

    xs = [num(depot, "x", "depot")]
    ys = [num(depot, "y", "depot")]
    demand = [0]
    ids = [0]
    names = [str(depot.get("name", "Depot"))]
    districts = [str(depot.get("district", ""))]
    ready = [0]
    due = [(shift_end - shift_start) if tw and shift_end is not None and shift_start is not None else 0]
    service = [0]
    seen: set[int] = set()
    for pos, cust in enumerate(customers):
        if not isinstance(cust, dict):
            raise err(f"customers[{pos}] must be an object")
        cid = cust.get("id", pos + 1)
        if isinstance(cid, bool) or not isinstance(cid, int) or cid < 1:
            raise err(f"customers[{pos}]: 'id' must be a positive whole number; got {cid!r}", cid)
        if cid in seen:
            raise err(f"customer id {cid} appears twice", cid)
        seen.add(cid)
        what = f"customer {cid}"
        xs.append(num(cust, "x", what, cid))
        ys.append(num(cust, "y", what, cid))
        d = num(cust, "demand", what, cid, integer=True)
        if d < 0:
            raise err(f"{what} has negative demand {d:g}", cid)
        demand.append(int(d))
        ids.append(cid)
        names.append(str(cust.get("name", f"Order {cid}")))
        districts.append(str(cust.get("district", "")))
        if tw:
            assert shift_start is not None and shift_end is not None
            window = cust.get("window", [shift.get("start", "00:00"), shift.get("end", "23:59")])
            if not (isinstance(window, list) and len(window) == 2):
                raise err(f"{what}: 'window' must be [\"HH:MM\", \"HH:MM\"]; got {window!r}", cid)
            a, b = parse_clock(window[0], f"{what} window start"), parse_clock(window[1], f"{what} window end")
            if b < a:
                raise err(f"{what}: window {window[0]}-{window[1]} closes before it opens", cid)
            ready.append(max(0, a - shift_start))
            due.append(max(0, b - shift_start))
            s = num(cust, "service_min", what, cid, default=0)
            if s < 0:
                raise err(f"{what}: service_min must be non-negative; got {s:g}", cid)
            service.append(int(round(s)))
    coords = np.column_stack([xs, ys]).astype(float)
    diff = coords[:, None, :] - coords[None, :, :]
    km = np.sqrt((diff**2).sum(-1)) * detour
    dist = np.round(km * 10).astype(np.int64)  # tenths of a km
    minutes = np.round(dist / 10 / speed * 60).astype(np.int64)
    np.fill_diagonal(minutes, 0)
    convention = f"road distance = straight line x {detour:g}, in 0.1 km; travel minutes at {speed:g} km/h"
    if payload.get("matrix") is not None:  # imported data: haversine or the user's own matrix wins
        dist, minutes, convention = _payload_matrix(payload["matrix"], len(ids), err)
    veh_names = fleet.get("names")
    if veh_names is not None and (not isinstance(veh_names, list) or len(veh_names) < vehicles):
        veh_names = None
    units = {"distance": payload.get("units", {}).get("distance", "km"), "time": "min",
             "demand": payload.get("units", {}).get("demand", "")}
    inst = RoutingInstance(
        name=name, kind=kind, coords=coords, demand=np.asarray(demand, dtype=np.int64), capacity=capacity,
        num_vehicles=vehicles, distance=dist, duration=minutes, dist_scale=10, time_scale=1,
        ready=np.asarray(ready, dtype=np.int64) if tw else None, due=np.asarray(due, dtype=np.int64) if tw else None,
        service=np.asarray(service, dtype=np.int64) if tw else None, customer_ids=ids, names=names,
        districts=districts, district_info=list(payload.get("districts") or []), roads=list(payload.get("roads") or []),
        vehicle_names=[str(v) for v in veh_names] if veh_names else None, shift_start_min=shift_start,
        units=units, source=source, bks=payload.get("bks"),
        convention=convention,
        meta={"speed_kmh": speed, "detour_factor": detour, "city": payload.get("city"),
              "description": payload.get("description")},
    )
    return inst.validate(where)


def _payload_matrix(matrix: Any, n1: int, err: Any) -> tuple[np.ndarray, np.ndarray, str]:
    """``{"distance_km": [[...]], "time_min": [[...]], "source": "..."}`` (depot first, then customers in
    list order) -> (distance in 0.1 km, whole travel minutes, convention)."""
    if not isinstance(matrix, dict):
        raise err("'matrix' must be an object with distance_km and time_min", key="matrix")
    out = []
    for key in ("distance_km", "time_min"):
        try:
            arr = np.asarray(matrix.get(key), dtype=float)
        except (TypeError, ValueError):
            raise err(f"matrix {key!r} must be a square list of numbers", key="matrix") from None
        if arr.shape != (n1, n1) or not np.isfinite(arr).all() or (arr < 0).any():
            raise err(f"matrix {key!r} must be {n1} x {n1} non-negative numbers (depot first); got shape {arr.shape}",
                      key="matrix")
        out.append(arr)
    dist = np.round(out[0] * 10).astype(np.int64)
    minutes = np.round(out[1]).astype(np.int64)
    np.fill_diagonal(dist, 0)
    np.fill_diagonal(minutes, 0)
    return dist, minutes, str(matrix.get("source") or "distance and time matrix given with the dataset")
