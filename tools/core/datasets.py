"""Dataset names -> where the data is.

A dataset name resolves to a :class:`DatasetRef`: every benchmark file under the
benchmark folder by its stem (``X-n101-k25``, ``C101``, ``ta01``), the demo datasets
shipped in ``tools/data/`` and datasets imported into the workspace. Loading a ref into
a typed instance is the job of the domain package (``tools.routing.instance``,
``tools.jobshop.instance``); this module only knows names, kinds and files.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from tools.core.errors import DiaoduError, unknown_name
from tools.core.settings import benchmarks_dir, benchmarks_hint

DEMO_DIR = Path(__file__).resolve().parents[1] / "data"

KINDS = ("cvrp", "vrptw", "jssp")
ROUTING_KINDS = ("cvrp", "vrptw")


@dataclass(frozen=True)
class DatasetRef:
    """A resolved dataset name."""

    name: str
    kind: str  # one of KINDS
    source: str  # "benchmark" | "demo" | "imported"
    path: Path | None  # None for imported datasets (they live in the workspace DB)
    bks: float | None = None  # best-known value, when one is published

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "source": self.source,
                "path": str(self.path) if self.path else None, "bks": self.bks}


def _benchmark_refs() -> dict[str, DatasetRef]:
    root = benchmarks_dir()
    if root is None:
        return {}
    bks = best_known_values()
    refs: dict[str, DatasetRef] = {}
    for sub, kind, pattern in (("cvrp", "cvrp", "*.vrp"), ("vrptw", "vrptw", "*.txt"), ("jssp", "jssp", "*.txt")):
        for path in sorted((root / sub).glob(pattern)):
            refs[path.stem] = DatasetRef(path.stem, kind, "benchmark", path, bks.get((path.stem, kind)))
    return refs


def best_known_values() -> dict[tuple[str, str], float]:
    """``{(instance, kind): value}`` from ``bks.csv`` (routing) and ``jssp/bks.csv`` (optimum or upper bound)."""
    root = benchmarks_dir()
    out: dict[tuple[str, str], float] = {}
    if root is None:
        return out
    if (root / "bks.csv").is_file():
        with open(root / "bks.csv", newline="") as f:
            for row in csv.DictReader(f):
                try:
                    out[(row["instance"], row["kind"])] = float(row["bks"])
                except (KeyError, ValueError):
                    continue
    if (root / "jssp" / "bks.csv").is_file():
        with open(root / "jssp" / "bks.csv", newline="") as f:
            for row in csv.DictReader(f):
                value = row.get("optimum") or row.get("upper_bound")
                if value:
                    out[(row["instance"], "jssp")] = float(value)
    return out


def _demo_refs() -> dict[str, DatasetRef]:
    refs: dict[str, DatasetRef] = {}
    for path in sorted(DEMO_DIR.glob("*.json")):
        try:
            with open(path, encoding="utf-8") as f:
                head = json.load(f)
        except json.JSONDecodeError as exc:
            raise DiaoduError(f"demo dataset {path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
        kind = head.get("kind")
        if kind not in KINDS:
            raise DiaoduError(f"demo dataset {path}: 'kind' must be one of {', '.join(KINDS)}; got {kind!r}")
        refs[head.get("name", path.stem)] = DatasetRef(head.get("name", path.stem), kind, "demo", path, head.get("bks"))
    return refs


def _imported_refs() -> dict[str, DatasetRef]:
    from tools.core.store import Store  # local: the store is optional for pure benchmark use

    return {row["name"]: DatasetRef(row["name"], row["kind"], "imported", None) for row in Store().list_datasets()}


def all_datasets() -> dict[str, DatasetRef]:
    """Every dataset name the workspace knows, demo and imported ones shadowing benchmarks."""
    refs = _benchmark_refs()
    refs.update(_demo_refs())
    refs.update(_imported_refs())
    return refs


def resolve(name: str, kinds: tuple[str, ...] = KINDS) -> DatasetRef:
    """Resolve a dataset name (case-insensitive) of one of ``kinds``, or raise a clear error."""
    if not isinstance(name, str) or not name.strip():
        raise DiaoduError("dataset must be a non-empty name, e.g. demo-city or X-n101-k25")
    refs = {n: r for n, r in all_datasets().items() if r.kind in kinds}
    key = name.strip()
    if key in refs:
        return refs[key]
    by_lower = {n.lower(): r for n, r in refs.items()}
    if key.lower() in by_lower:
        return by_lower[key.lower()]
    err = unknown_name("dataset", key, refs)
    other = {n.lower(): r for n, r in all_datasets().items()}.get(key.lower())
    if other is not None:
        err = DiaoduError(f"dataset {key!r} is a {other.kind} instance; this needs one of kind {', '.join(kinds)}",
                          code="wrong_kind")
    elif benchmarks_dir() is None:
        err = DiaoduError(f"{err.message} ({benchmarks_hint()})", code=err.code, details=err.details)
    raise err
