"""Typed, validated job-shop instances and their loaders.

Three sources resolve to the same :class:`JobShopInstance`:

- JSPLIB text files (benchmarks): ``#`` comments, then ``n_jobs n_machines``, then one line per
  job with ``machine duration`` pairs (machines 0-based);
- the canonical JSON format of the shipped demo shops (``tools/data/demo-shop*.json``), which the
  importer also stores in the workspace (``Store.save_dataset(name, "jssp", payload)``)::

      {"kind": "jssp", "name": "demo-shop", "time_unit": "min",
       "machines": ["Lathe", "Mill", ...],
       "jobs": [{"name": "A-101", "due": 240, "release": 0,
                 "operations": [{"machine": "Lathe", "duration": 30}, ...]}, ...]}

  ``machine`` is a machine name or a 0-based index; ``due`` and ``release`` are optional;
- a seeded Taillard-style random generator (:func:`random_instance`).

Every problem is reported as a :class:`DiaoduError` naming the file (and line) and the bad value.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tools.core.datasets import DatasetRef, resolve
from tools.core.errors import DiaoduError

log = logging.getLogger(__name__)

MAX_JOBS = 2000
MAX_OPS = 200_000


@dataclass
class JobShopInstance:
    """A job shop: each job is an ordered list of operations ``(machine, duration)``.

    ``machine`` and ``duration`` are ``[n_jobs, max_ops]`` arrays padded with ``-1`` / ``0``;
    ``n_ops[j]`` is job ``j``'s number of operations. ``due`` (optional) and ``release`` are per job.
    """

    name: str
    machine: np.ndarray
    duration: np.ndarray
    n_ops: np.ndarray
    n_machines: int
    job_names: list[str] = field(default_factory=list)
    machine_names: list[str] = field(default_factory=list)
    due: np.ndarray | None = None
    release: np.ndarray | None = None
    source: str = "generated"
    bks: float | None = None
    time_unit: str = ""

    def __post_init__(self) -> None:
        n = self.machine.shape[0]
        if not self.job_names:
            self.job_names = [f"J{j + 1}" for j in range(n)]
        if not self.machine_names:
            self.machine_names = [f"M{k + 1}" for k in range(self.n_machines)]
        if self.release is None:
            self.release = np.zeros(n, dtype=np.int64)

    @property
    def n_jobs(self) -> int:
        return int(self.machine.shape[0])

    @property
    def max_ops(self) -> int:
        return int(self.machine.shape[1])

    @property
    def total_ops(self) -> int:
        return int(self.n_ops.sum())

    @property
    def shape(self) -> str:
        return f"{self.n_jobs}x{self.n_machines}"

    def lower_bound(self) -> int:
        """A simple lower bound on the makespan: max of job lengths and machine loads."""
        job = (self.duration.sum(axis=1) + self.release).max()
        load = np.zeros(self.n_machines, dtype=np.int64)
        mask = self.machine >= 0
        np.add.at(load, self.machine[mask], self.duration[mask])
        return int(max(job, load.max()))

    def to_payload(self) -> dict[str, Any]:
        """The canonical JSON form (as in ``tools/data/demo-shop.json``)."""
        jobs = []
        for j in range(self.n_jobs):
            job: dict[str, Any] = {"name": self.job_names[j], "operations": [
                {"machine": self.machine_names[int(self.machine[j, k])], "duration": int(self.duration[j, k])}
                for k in range(int(self.n_ops[j]))]}
            if self.due is not None:
                job["due"] = int(self.due[j])
            if self.release is not None and int(self.release[j]):
                job["release"] = int(self.release[j])
            jobs.append(job)
        return {"kind": "jssp", "name": self.name, "time_unit": self.time_unit,
                "machines": list(self.machine_names), "jobs": jobs}


def _from_lists(name: str, jobs: list[list[tuple[int, int]]], n_machines: int, **kw: Any) -> JobShopInstance:
    n = len(jobs)
    width = max(len(j) for j in jobs)
    machine = np.full((n, width), -1, dtype=np.int64)
    duration = np.zeros((n, width), dtype=np.int64)
    for j, ops in enumerate(jobs):
        for k, (m, d) in enumerate(ops):
            machine[j, k] = m
            duration[j, k] = d
    n_ops = np.array([len(j) for j in jobs], dtype=np.int64)
    return JobShopInstance(name=name, machine=machine, duration=duration, n_ops=n_ops, n_machines=n_machines, **kw)


def parse_jsplib(text: str, name: str = "instance", where: str = "<text>") -> JobShopInstance:
    """Parse a JSPLIB-format instance; errors name ``where`` and the line."""
    rows: list[tuple[int, list[str]]] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            rows.append((lineno, line.split()))
    if not rows:
        raise DiaoduError(f"{where}: no data (expected 'n_jobs n_machines' then one line per job)")

    def ints(lineno: int, tokens: list[str]) -> list[int]:
        try:
            return [int(t) for t in tokens]
        except ValueError:
            bad = next(t for t in tokens if not t.lstrip("-").isdigit())
            raise DiaoduError(f"{where} line {lineno}: expected whole numbers; got {bad!r}") from None

    lineno, head = rows[0]
    vals = ints(lineno, head)
    if len(vals) != 2:
        raise DiaoduError(f"{where} line {lineno}: header must be 'n_jobs n_machines'; got {' '.join(head)!r}")
    n, m = vals
    if n < 1 or n > MAX_JOBS:
        raise DiaoduError(f"{where} line {lineno}: n_jobs must be between 1 and {MAX_JOBS}; got {n}")
    if m < 1:
        raise DiaoduError(f"{where} line {lineno}: n_machines must be at least 1; got {m}")
    if len(rows) - 1 != n:
        raise DiaoduError(f"{where}: header says {n} jobs but {len(rows) - 1} job lines follow")
    jobs: list[list[tuple[int, int]]] = []
    for j, (lineno, tokens) in enumerate(rows[1:]):
        vals = ints(lineno, tokens)
        if len(vals) != 2 * m:
            raise DiaoduError(f"{where} line {lineno}: job {j} must have {m} 'machine duration' pairs "
                              f"({2 * m} numbers); got {len(vals)}")
        ops = list(zip(vals[0::2], vals[1::2], strict=True))
        for k, (mach, dur) in enumerate(ops):
            if not 0 <= mach < m:
                raise DiaoduError(f"{where} line {lineno}: job {j} operation {k}: machine must be in 0..{m - 1}; got {mach}")
            if dur < 0:
                raise DiaoduError(f"{where} line {lineno}: job {j} operation {k}: duration must be >= 0; got {dur}")
        jobs.append(ops)
    return _from_lists(name, jobs, m, source="benchmark")


def from_payload(payload: Any, name: str | None = None, where: str = "<payload>", source: str = "imported") -> JobShopInstance:
    """Build an instance from the canonical JSON form; errors name ``where`` and the JSON path."""
    if not isinstance(payload, dict):
        raise DiaoduError(f"{where}: a job shop must be a JSON object; got {type(payload).__name__}")
    kind = payload.get("kind", "jssp")
    if kind != "jssp":
        raise DiaoduError(f"{where}: 'kind' must be 'jssp'; got {kind!r}")
    machines = payload.get("machines")
    if isinstance(machines, int) and not isinstance(machines, bool):
        machines = [f"M{k + 1}" for k in range(machines)]
    if not isinstance(machines, list) or not machines:
        raise DiaoduError(f"{where}: 'machines' must be a non-empty list of machine names (or a count >= 1); "
                          f"got {payload.get('machines')!r}")
    mnames = [str(x) for x in machines]
    if len(set(mnames)) != len(mnames):
        dup = next(x for x in mnames if mnames.count(x) > 1)
        raise DiaoduError(f"{where}: machine names must be unique; {dup!r} appears twice")
    index = {x: k for k, x in enumerate(mnames)}
    jobs_raw = payload.get("jobs")
    if not isinstance(jobs_raw, list) or not jobs_raw:
        raise DiaoduError(f"{where}: 'jobs' must be a non-empty list; got {jobs_raw!r}")
    if len(jobs_raw) > MAX_JOBS:
        raise DiaoduError(f"{where}: at most {MAX_JOBS} jobs; got {len(jobs_raw)}")
    jobs: list[list[tuple[int, int]]] = []
    jnames: list[str] = []
    due: list[int | None] = []
    release: list[int] = []
    for j, job in enumerate(jobs_raw):
        at = f"{where}: jobs[{j}]"
        if not isinstance(job, dict):
            raise DiaoduError(f"{at} must be an object with 'operations'; got {job!r}")
        ops_raw = job.get("operations")
        if not isinstance(ops_raw, list) or not ops_raw:
            raise DiaoduError(f"{at}.operations must be a non-empty list; got {ops_raw!r}")
        ops: list[tuple[int, int]] = []
        for k, op in enumerate(ops_raw):
            if isinstance(op, list | tuple) and len(op) == 2:
                op = {"machine": op[0], "duration": op[1]}
            if not isinstance(op, dict):
                raise DiaoduError(f"{at}.operations[{k}] must be {{'machine': ..., 'duration': ...}}; got {op!r}")
            mach = op.get("machine")
            if isinstance(mach, str) and mach in index:
                mi = index[mach]
            elif isinstance(mach, int) and not isinstance(mach, bool) and 0 <= mach < len(mnames):
                mi = mach
            else:
                raise DiaoduError(f"{at}.operations[{k}].machine must be one of {', '.join(mnames)} "
                                  f"(or an index 0..{len(mnames) - 1}); got {mach!r}")
            dur = op.get("duration")
            if isinstance(dur, bool) or not isinstance(dur, int | float) or dur < 0 or float(dur) != int(dur):
                raise DiaoduError(f"{at}.operations[{k}].duration must be a whole number >= 0; got {dur!r}")
            ops.append((mi, int(dur)))
        jobs.append(ops)
        jnames.append(str(job.get("name") or f"J{j + 1}"))
        d = job.get("due")
        if d is not None and (isinstance(d, bool) or not isinstance(d, int | float) or d < 0):
            raise DiaoduError(f"{at}.due must be a number >= 0; got {d!r}")
        due.append(None if d is None else int(d))
        r = job.get("release", 0)
        if isinstance(r, bool) or not isinstance(r, int | float) or r < 0:
            raise DiaoduError(f"{at}.release must be a number >= 0; got {r!r}")
        release.append(int(r))
    if sum(len(o) for o in jobs) > MAX_OPS:
        raise DiaoduError(f"{where}: at most {MAX_OPS} operations in all")
    if len(set(jnames)) != len(jnames):
        dup = next(x for x in jnames if jnames.count(x) > 1)
        raise DiaoduError(f"{where}: job names must be unique; {dup!r} appears twice")
    if any(d is not None for d in due) and any(d is None for d in due):
        missing = [jnames[j] for j, d in enumerate(due) if d is None]
        raise DiaoduError(f"{where}: give a due date for every job or for none; missing for {', '.join(missing[:5])}")
    due_arr = np.array(due, dtype=np.int64) if due and due[0] is not None else None
    bks = payload.get("bks")
    return _from_lists(name or str(payload.get("name") or "job-shop"), jobs, len(mnames), job_names=jnames,
                       machine_names=mnames, due=due_arr, release=np.array(release, dtype=np.int64),
                       source=source, bks=float(bks) if isinstance(bks, int | float) else None,
                       time_unit=str(payload.get("time_unit", "")))


def load_file(path: str | Path) -> JobShopInstance:
    """Load a JSPLIB ``.txt`` or canonical ``.json`` file."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() == ".json":
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DiaoduError(f"{p} line {exc.lineno}: invalid JSON: {exc.msg}") from None
        return from_payload(payload, where=str(p), source="file")
    return parse_jsplib(text, name=p.stem, where=str(p))


def load_ref(ref: DatasetRef) -> JobShopInstance:
    """Load a resolved dataset (benchmark file, demo JSON or imported workspace dataset)."""
    if ref.kind != "jssp":
        raise DiaoduError(f"dataset {ref.name!r} is a {ref.kind} instance; schedule_jobs needs a job shop (jssp)",
                          code="wrong_kind")
    if ref.source == "imported":
        from tools.core.store import Store

        inst = from_payload(Store().load_dataset(ref.name), name=ref.name, where=f"imported dataset {ref.name!r}")
    elif ref.path is not None and ref.path.suffix.lower() == ".json":
        inst = load_file(ref.path)
        inst.name = ref.name
        inst.source = ref.source
    elif ref.path is not None:
        inst = parse_jsplib(ref.path.read_text(encoding="utf-8"), name=ref.name, where=str(ref.path))
    else:
        raise DiaoduError(f"dataset {ref.name!r} has no data file")
    inst.source = ref.source
    if ref.bks is not None:
        inst.bks = float(ref.bks)
    return inst


def load_instance(name: str) -> JobShopInstance:
    """Resolve a dataset name (``ta01``, ``ft06``, ``demo-shop``, an imported shop) and load it."""
    return load_ref(resolve(name, kinds=("jssp",)))


def random_instance(n_jobs: int, n_machines: int, seed: int, low: int = 1, high: int = 99) -> JobShopInstance:
    """A Taillard-style random instance: each job visits every machine once in random order,
    durations uniform on ``[low, high]``."""
    if n_jobs < 1 or n_machines < 1:
        raise DiaoduError(f"a random job shop needs at least 1 job and 1 machine; got {n_jobs}x{n_machines}")
    rng = np.random.default_rng(seed)
    machine = np.argsort(rng.random((n_jobs, n_machines)), axis=1).astype(np.int64)
    duration = rng.integers(low, high + 1, size=(n_jobs, n_machines)).astype(np.int64)
    return JobShopInstance(name=f"rand-{n_jobs}x{n_machines}-s{seed}", machine=machine, duration=duration,
                           n_ops=np.full(n_jobs, n_machines, dtype=np.int64), n_machines=n_machines)
