"""Seeded generators of routing instances for training and for fresh test sets.

- :func:`x_instance`: CVRP in the style of the X set (Uchoa et al., 2017, "New benchmark
  instances for the capacitated vehicle routing problem"): a 1000 x 1000 grid, depot
  central / eccentric / random, customers random / clustered / random-clustered, seven
  demand distributions, an average route size ``r`` that fixes the capacity.
- :func:`solomon_like`: VRPTW in the style of Solomon's R/C/RC sets (types 1 and 2): a
  100 x 100 grid, a depot near the centre, service times, a scheduling horizon and time
  windows for a fraction of the customers, always reachable from the depot and back.

Every instance is a :class:`GenInstance` (plain numpy arrays, index 0 = depot) built from a
name-derived seed, so the same ``(family seed, index)`` always gives the same instance.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger(__name__)

DEPOT_MODES = ("central", "eccentric", "random")
CUSTOMER_MODES = ("random", "clustered", "mixed")
DEMAND_MODES = ("unit", "1-10", "5-10", "1-100", "50-100", "quadrant", "many-small")
SOLOMON_TYPES = ("R1", "C1", "RC1", "R2", "C2", "RC2")


@dataclass
class GenInstance:
    """A generated CVRP / VRPTW instance; index 0 is the depot.

    ``ready``, ``due`` and ``service`` are ``None`` for CVRP. Distances follow the family's
    convention (:meth:`distance_matrix`): rounded Euclidean on the X grid, Euclidean
    (unrounded) on the Solomon grid, as the benchmark readers do.
    """

    name: str
    kind: str  # "cvrp" | "vrptw"
    coords: np.ndarray  # (n+1, 2) float
    demand: np.ndarray  # (n+1,) int, demand[0] == 0
    capacity: int
    num_vehicles: int
    ready: np.ndarray | None = None
    due: np.ndarray | None = None
    service: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of customers."""
        return len(self.coords) - 1

    def windows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """``(ready, due, service)`` when the instance has time windows, else ``None``."""
        if self.ready is None or self.due is None or self.service is None:
            return None
        return self.ready, self.due, self.service

    def distance_matrix(self) -> np.ndarray:
        """Travel distances (travel time = distance for VRPTW, as in Solomon's set)."""
        diff = self.coords[:, None, :] - self.coords[None, :, :]
        dist = np.sqrt((diff**2).sum(-1))
        return np.rint(dist) if self.kind == "cvrp" else dist

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Arrays for ``np.savez`` (round-trips through :meth:`from_arrays`)."""
        out = {"coords": self.coords, "demand": self.demand,
               "scalars": np.array([self.capacity, self.num_vehicles], dtype=np.int64)}
        tw = self.windows()
        if tw is not None:
            out.update(ready=tw[0], due=tw[1], service=tw[2])
        return out

    @classmethod
    def from_arrays(cls, name: str, kind: str, arrays: dict[str, np.ndarray]) -> GenInstance:
        """Inverse of :meth:`to_arrays`."""
        cap, veh = (int(v) for v in arrays["scalars"])
        return cls(name, kind, np.asarray(arrays["coords"], float), np.asarray(arrays["demand"], np.int64), cap, veh,
                   arrays.get("ready"), arrays.get("due"), arrays.get("service"))

    def digest(self) -> str:
        """A content hash (used for the data hash in ``meta.json``)."""
        h = hashlib.sha256(self.kind.encode())
        for key, arr in sorted(self.to_arrays().items()):
            h.update(key.encode())
            h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()


def seed_for(family: str, seed: int, index: int) -> int:
    """A stable 63-bit seed for instance ``index`` of a family (independent of Python's hash)."""
    return int.from_bytes(hashlib.sha256(f"{family}:{seed}:{index}".encode()).digest()[:8], "little") >> 1


# --- X-style CVRP -------------------------------------------------------------------------


def _x_customers(rng: np.random.Generator, n: int, mode: str) -> np.ndarray:
    """Customer points on the 0..1000 grid (integer coordinates, as in the X set)."""
    if mode == "random":
        return rng.integers(0, 1001, size=(n, 2)).astype(float)
    n_clustered = n if mode == "clustered" else n // 2
    seeds = rng.integers(0, 1001, size=(int(rng.integers(3, 9)), 2)).astype(float)
    pts: list[np.ndarray] = list(seeds[: min(len(seeds), n_clustered)])
    # Uchoa et al.: accept a uniform point with probability sum_s exp(-d(p, s) / 40), capped at 1.
    while len(pts) < n_clustered:
        cand = rng.integers(0, 1001, size=(256, 2)).astype(float)
        d = np.sqrt(((cand[:, None, :] - seeds[None, :, :]) ** 2).sum(-1))
        p = np.minimum(1.0, np.exp(-d / 40.0).sum(1))
        pts.extend(cand[rng.random(len(cand)) < p][: n_clustered - len(pts)])
    out = np.array(pts[:n_clustered])
    if n_clustered < n:
        out = np.vstack([out, rng.integers(0, 1001, size=(n - n_clustered, 2)).astype(float)])
    return out[rng.permutation(n)]


def _x_demands(rng: np.random.Generator, pts: np.ndarray, mode: str) -> np.ndarray:
    n = len(pts)
    if mode == "unit":
        return np.ones(n, dtype=np.int64)
    if mode in ("1-10", "5-10", "1-100", "50-100"):
        lo, hi = (int(v) for v in mode.split("-"))
        return rng.integers(lo, hi + 1, size=n)
    if mode == "quadrant":  # small demands in even quadrants, large in odd ones
        odd = (pts[:, 0] >= 500) ^ (pts[:, 1] >= 500)
        return np.where(odd, rng.integers(51, 101, size=n), rng.integers(1, 51, size=n))
    # many small, few large: 70-95% of customers in 1..10, the rest in 50..100
    small = rng.random(n) < rng.uniform(0.70, 0.95)
    return np.where(small, rng.integers(1, 11, size=n), rng.integers(50, 101, size=n))


def x_instance(n: int, seed: int, *, depot: str | None = None, customers: str | None = None,
               demand: str | None = None, name: str | None = None) -> GenInstance:
    """An X-style CVRP instance with ``n`` customers; unspecified modes are drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    depot = depot or DEPOT_MODES[int(rng.integers(len(DEPOT_MODES)))]
    customers = customers or CUSTOMER_MODES[int(rng.integers(len(CUSTOMER_MODES)))]
    demand = demand or DEMAND_MODES[int(rng.integers(len(DEMAND_MODES)))]
    pts = _x_customers(rng, n, customers)
    depot_xy = {"central": np.array([500.0, 500.0]), "eccentric": np.array([0.0, 0.0])}.get(depot)
    if depot_xy is None:
        depot_xy = rng.integers(0, 1001, size=2).astype(float)
    dem = _x_demands(rng, pts, demand)
    # Average route size r ~ triangular(3, 6, 25) fixes the capacity (Uchoa et al., sec. 3).
    r = float(rng.triangular(3, 6, 25))
    capacity = max(int(dem.max()), math.ceil(r * dem.sum() / n))
    k_min = math.ceil(dem.sum() / capacity)
    return GenInstance(name or f"gen-x-n{n}-s{seed % 100000}", "cvrp", np.vstack([depot_xy, pts]),
                       np.concatenate([[0], dem]).astype(np.int64), capacity, k_min,
                       meta={"depot": depot, "customers": customers, "demand": demand, "route_size": round(r, 2)})


# --- Solomon-like VRPTW -------------------------------------------------------------------


def solomon_like(n: int, seed: int, *, family: str | None = None, name: str | None = None,
                 tw_fraction: float | None = None) -> GenInstance:
    """A Solomon-style VRPTW instance (R/C/RC, type 1 short horizon or type 2 long horizon).

    ``tw_fraction`` fixes the share of customers with a window (default: drawn from 0.25..1.0);
    Solomon's R201, RC201 and C201 window every customer.
    """
    rng = np.random.default_rng(seed)
    family = family or SOLOMON_TYPES[int(rng.integers(len(SOLOMON_TYPES)))]
    layout = {"R": "random", "C": "clustered", "RC": "mixed"}[family[:-1]]
    pts = _x_customers(rng, n, layout) / 10.0  # Solomon's grid is 0..100
    depot_xy = np.array([35.0, 35.0]) + rng.uniform(-5.0, 5.0, size=2) if family[:-1] != "C" else np.array([40.0, 50.0])
    coords = np.vstack([depot_xy, pts])
    demand = np.concatenate([[0], rng.integers(1, 51, size=n)]).astype(np.int64)
    long_horizon = family.endswith("2")
    service_time = 90.0 if family.startswith("C") else 10.0
    horizon = {"R1": 230.0, "RC1": 240.0, "C1": 1236.0, "R2": 1000.0, "RC2": 960.0, "C2": 3390.0}[family]
    capacity = {"1": 200, "2": 1000 if family[:-1] != "C" else 700}[family[-1]]
    d0 = np.sqrt(((coords - depot_xy) ** 2).sum(1))
    frac = float(rng.choice([0.25, 0.5, 0.75, 1.0]))  # drawn even when fixed: the rest of the stream stays put
    if tw_fraction is not None:
        if not 0 <= tw_fraction <= 1:
            raise ValueError(f"tw_fraction must be in [0, 1]; got {tw_fraction}")
        frac = float(tw_fraction)
    ready = np.zeros(n + 1)
    due = np.full(n + 1, horizon)
    service = np.concatenate([[0.0], np.full(n, service_time)])
    width_lo, width_hi = (30.0, 240.0) if long_horizon else (10.0, 60.0)
    if family.startswith("C"):  # C sets: wide, service-dominated windows
        width_lo, width_hi = width_lo * 3, width_hi * 3
    for i in range(1, n + 1):
        # every customer reachable from the depot and back within the horizon (Solomon's construction)
        latest_start = horizon - d0[i] - service_time
        if latest_start < d0[i]:  # pull far customers in rather than making them unreachable
            coords[i] = depot_xy + (coords[i] - depot_xy) * 0.5
            d0[i] = float(np.sqrt(((coords[i] - depot_xy) ** 2).sum()))
            latest_start = horizon - d0[i] - service_time
        ready[i], due[i] = 0.0, latest_start
        if rng.random() < frac:
            centre = rng.uniform(d0[i], latest_start)
            half = rng.uniform(width_lo, width_hi) / 2.0
            ready[i] = max(0.0, math.floor(centre - half))
            due[i] = min(latest_start, math.ceil(centre + half))
            if due[i] < d0[i]:
                due[i] = math.ceil(d0[i])
    k = max(math.ceil(demand.sum() / capacity), 1)
    return GenInstance(name or f"gen-{family.lower()}-n{n}-s{seed % 100000}", "vrptw", coords, demand, capacity,
                       max(k * 3, 25) if not long_horizon else max(k * 2, 10), ready, due, service,
                       meta={"family": family, "tw_fraction": frac, "horizon": horizon})


# --- Data sets ----------------------------------------------------------------------------


def _cvrp_size(rng: np.random.Generator) -> int:
    """Customer counts in 50..400, weighted to small instances (cheap to label well)."""
    band = rng.choice(3, p=[0.45, 0.35, 0.20])
    lo, hi = ((50, 100), (100, 200), (200, 400))[band]
    return int(rng.integers(lo, hi + 1))


def training_set(num_cvrp: int, num_vrptw: int, seed: int = 0, family: str = "train") -> list[GenInstance]:
    """A seeded mixture of X-style CVRP and Solomon-like VRPTW instances.

    Different ``family`` strings (``train``, ``fresh``) give disjoint instance streams.
    """
    out: list[GenInstance] = []
    for i in range(num_cvrp):
        s = seed_for(f"{family}-cvrp", seed, i)
        n = _cvrp_size(np.random.default_rng(s ^ 0x5EED))
        out.append(x_instance(n, s, name=f"{family}-x{i:04d}-n{n}"))
    for i in range(num_vrptw):
        s = seed_for(f"{family}-vrptw", seed, i)
        n = int(np.random.default_rng(s ^ 0x5EED).integers(50, 201))
        out.append(solomon_like(n, s, name=f"{family}-tw{i:04d}-n{n}"))
    return out


def fresh_set(num_cvrp: int = 16, num_vrptw: int = 4, seed: int = 2026) -> list[GenInstance]:
    """Fresh test instances, from a stream disjoint from :func:`training_set`'s (family ``fresh``)."""
    return training_set(num_cvrp, num_vrptw, seed=seed, family="fresh")


def data_hash(instances: list[GenInstance]) -> str:
    """One hash over a list of instances (order-sensitive)."""
    h = hashlib.sha256()
    for inst in instances:
        h.update(inst.name.encode())
        h.update(inst.digest().encode())
    return h.hexdigest()[:16]


def to_routing_instance(inst: GenInstance):
    """The generated instance as a :class:`tools.routing.instance.RoutingInstance`.

    The benchmark conventions apply: CVRP distances rounded (CVRPLIB), VRPTW distances and
    times in tenths, truncated (Solomon), so results compare with the benchmark runs.
    """
    from tools.routing.instance import RoutingInstance, cvrplib_distances, solomon_distances

    ids = list(range(inst.n + 1))
    if inst.kind == "cvrp":
        d = cvrplib_distances(inst.coords)
        out = RoutingInstance(inst.name, "cvrp", inst.coords, inst.demand.astype(np.int64), int(inst.capacity),
                              int(inst.num_vehicles) + max(1, math.ceil(0.1 * inst.num_vehicles)) + 1, d, d.copy(),
                              customer_ids=ids, source="generated", convention="generated, CVRPLIB rounding",
                              meta=dict(inst.meta))
    else:
        d = solomon_distances(inst.coords)
        tw = inst.windows()
        if tw is None:
            raise ValueError(f"{inst.name}: a VRPTW instance without time windows")
        ready = np.rint(tw[0] * 10).astype(np.int64)
        due = np.maximum(np.floor(tw[1] * 10 + 1e-7).astype(np.int64), ready)
        out = RoutingInstance(inst.name, "vrptw", inst.coords, inst.demand.astype(np.int64), int(inst.capacity),
                              int(inst.num_vehicles), d, d.copy(), dist_scale=10, time_scale=10, ready=ready, due=due,
                              service=np.rint(tw[2] * 10).astype(np.int64), customer_ids=ids,
                              source="generated", convention="generated, Solomon tenths", meta=dict(inst.meta))
    return out.validate(f"generated instance {inst.name}")
