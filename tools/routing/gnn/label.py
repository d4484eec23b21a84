"""Label generated instances with strong PyVRP solutions, and store them as a training set.

Run ``python -m tools.routing.gnn.label --out /tmp/diaodu_gnn/data`` (seeded). Each
instance is one ``.npz`` (instance arrays plus ``routes``: the solution's node sequence with
``0`` between routes); ``meta.json`` records the generator config, the label budget and a
hash of the data. The data is not committed: the training command regenerates it.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from tools.routing.gnn.generate import GenInstance, data_hash, training_set

log = logging.getLogger(__name__)

VRPTW_SCALE = 10  # Solomon convention in PyVRP: one decimal place, as integers


def to_pyvrp(inst: GenInstance):
    """The instance as a ``pyvrp.ProblemData`` (integer data: VRPTW scaled by 10)."""
    from pyvrp import Client, Depot, Location, ProblemData, VehicleType

    scale = VRPTW_SCALE if inst.kind == "vrptw" else 1
    dist = np.rint(inst.distance_matrix() * scale).astype(np.int64)
    xy = np.rint(inst.coords * scale).astype(np.int64)
    locations = [Location(int(x), int(y)) for x, y in xy]
    tw = inst.windows()
    if tw is not None:
        ready, due, service = tw
        horizon = int(round(float(due[0]) * scale))
        depots = [Depot(0, tw_early=0, tw_late=horizon)]
        clients = [Client(i, delivery=[int(inst.demand[i])], service_duration=int(round(service[i] * scale)),
                          tw_early=int(round(ready[i] * scale)), tw_late=int(round(due[i] * scale)))
                   for i in range(1, inst.n + 1)]
        vehicles = [VehicleType(inst.n, capacity=[inst.capacity], tw_early=0, tw_late=horizon)]
    else:
        depots = [Depot(0)]
        clients = [Client(i, delivery=[int(inst.demand[i])]) for i in range(1, inst.n + 1)]
        vehicles = [VehicleType(inst.n, capacity=[inst.capacity])]
    return ProblemData(locations, clients, depots, vehicles, [dist], [dist])


def solve_label(inst: GenInstance, seconds: float, seed: int = 0) -> tuple[list[list[int]], float, bool]:
    """Routes (node indices, depot excluded), cost in the instance's units, feasibility."""
    from pyvrp import solve
    from pyvrp.stop import MaxRuntime

    res = solve(to_pyvrp(inst), stop=MaxRuntime(seconds), seed=seed, display=False, collect_stats=False)
    # activity.idx counts clients from 0; our node index counts the depot as 0
    routes = [[int(a.idx) + 1 for a in r if a.is_client()] for r in res.best.routes()]
    cost = float(res.cost())
    if inst.kind == "vrptw":
        cost /= VRPTW_SCALE
    return routes, cost, bool(res.is_feasible())


def label_seconds(n: int, per_100: float) -> float:
    """Label budget: ``per_100`` seconds per 100 customers (at least one second, or ``per_100`` if less)."""
    return max(min(1.0, per_100), per_100 * n / 100.0)


def routes_to_sequence(routes: list[list[int]]) -> np.ndarray:
    """Routes as one int array ``0 r1 0 r2 ... 0``."""
    seq = [0]
    for r in routes:
        seq.extend(r)
        seq.append(0)
    return np.array(seq, dtype=np.int64)


def sequence_to_routes(seq: np.ndarray) -> list[list[int]]:
    """Inverse of :func:`routes_to_sequence`."""
    routes: list[list[int]] = []
    cur: list[int] = []
    for v in seq.tolist()[1:]:
        if v == 0:
            if cur:
                routes.append(cur)
            cur = []
        else:
            cur.append(int(v))
    return routes


def build_dataset(out: Path, num_cvrp: int, num_vrptw: int, seed: int, per_100: float) -> dict:
    """Generate, label and store a training set; returns (and writes) its ``meta.json``."""
    out.mkdir(parents=True, exist_ok=True)
    instances = training_set(num_cvrp, num_vrptw, seed=seed)
    t0 = time.perf_counter()
    costs, infeasible = [], []
    for k, inst in enumerate(instances):
        path = out / f"{inst.name}.npz"
        if path.is_file():  # resumable: labels are deterministic enough for training, reuse them
            continue
        routes, cost, feasible = solve_label(inst, label_seconds(inst.n, per_100), seed=seed)
        if not feasible:
            infeasible.append(inst.name)
        costs.append(cost)
        arrays: dict[str, Any] = {"kind": np.array(inst.kind), "routes": routes_to_sequence(routes),
                                  "cost": np.array(cost), **inst.to_arrays()}
        np.savez_compressed(path, **arrays)
        log.info("%d/%d %s n=%d cost=%.1f feasible=%s (%.0fs)", k + 1, len(instances), inst.name, inst.n, cost,
                 feasible, time.perf_counter() - t0)
    meta = {"generator": "tools.routing.gnn.generate.training_set", "seed": seed, "num_cvrp": num_cvrp,
            "num_vrptw": num_vrptw, "label_solver": "pyvrp MaxRuntime", "label_seconds_per_100_customers": per_100,
            "data_hash": data_hash(instances), "names": [i.name for i in instances],
            "infeasible_labels": infeasible, "label_wall_s": round(time.perf_counter() - t0, 1)}
    (out / "meta.json").write_text(json.dumps(meta, indent=1))
    return meta


def load_dataset(folder: Path) -> list[tuple[GenInstance, list[list[int]]]]:
    """Labelled instances stored by :func:`build_dataset`, in ``meta.json`` order."""
    meta = json.loads((folder / "meta.json").read_text())
    out = []
    for name in meta["names"]:
        with np.load(folder / f"{name}.npz") as z:
            arrays = {k: z[k] for k in z.files}
        inst = GenInstance.from_arrays(name, str(arrays["kind"]), arrays)
        out.append((inst, sequence_to_routes(arrays["routes"])))
    return out


def main(argv: list[str] | None = None) -> None:
    """CLI: ``python -m tools.routing.gnn.label``."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("/tmp/diaodu_gnn/data"))
    p.add_argument("--cvrp", type=int, default=300)
    p.add_argument("--vrptw", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seconds-per-100", type=float, default=1.5)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    meta = build_dataset(args.out, args.cvrp, args.vrptw, args.seed, args.seconds_per_100)
    log.info("done: %s", json.dumps({k: v for k, v in meta.items() if k != "names"}))


if __name__ == "__main__":
    main()
