"""Bring your own data: import a day's orders and fleet, or a job shop, from CSV, Excel or JSON;
export a plan's stop lists for drivers.

- :func:`import_dataset` reads a file, validates everything at once (every problem with its row and
  column, nothing half-imported), builds the canonical dataset payload, checks it with the routing
  or job-shop loader and stores it in the workspace, where ``diaodu datasets`` and every tool
  (``plan_routes``, ``replan``, ``explain_plan``, ``schedule_jobs``) find it by name.
- :func:`export_plan` writes per-vehicle stop lists with arrival times (CSV, Excel, JSON).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from tools.core.datasets import all_datasets
from tools.core.errors import DiaoduError, check_choice
from tools.core.store import Store
from tools.importing.export import EXPORT_FORMATS, export_plan, plan_stop_lists
from tools.importing.jobshop_import import import_jobshop
from tools.importing.routing_import import RoutingOptions, import_routing, parse_pair, parse_shift
from tools.importing.tables import ImportProblems, Problem

log = logging.getLogger(__name__)

IMPORT_KINDS = ("routing", "jobshop")
_NAME_RE = re.compile(r"^[\w][\w.\-]{0,63}$")

__all__ = ["EXPORT_FORMATS", "IMPORT_KINDS", "ImportProblems", "Problem", "RoutingOptions", "check_name",
           "dataset_exists", "export_plan", "import_dataset", "parse_pair", "parse_shift", "plan_stop_lists"]


def check_name(name: str) -> str:
    """A dataset name: letters (any script), digits, ``.``, ``-``, ``_``; not a benchmark's or demo's name."""
    if not isinstance(name, str) or not _NAME_RE.match(name.strip()):
        raise DiaoduError(f"--name must be 1-64 letters, digits, '.', '-' or '_' (e.g. north-2026-11-24); got {name!r}")
    name = name.strip()
    if name.lower() in {"latest"} or name.lower().startswith(("plan-", "sched-")):
        raise DiaoduError(f"--name {name!r} looks like a plan or schedule id; choose another name")
    ref = {n.lower(): r for n, r in all_datasets().items()}.get(name.lower())
    if ref is not None and ref.source != "imported":
        raise DiaoduError(f"--name {name!r} is already a {ref.source} dataset; choose another name",
                          code="dataset_exists")
    return name


def dataset_exists(name: str) -> bool:
    """Whether an imported dataset of this name is already in the workspace."""
    return any(row["name"].lower() == name.lower() for row in Store().list_datasets())


def import_dataset(path: str | Path, name: str, kind: str = "routing", *, replace: bool = False,
                   mapping: dict[str, str] | None = None, options: RoutingOptions | None = None,
                   shift: tuple[int, int] | None = None) -> dict[str, Any]:
    """Import ``path`` as dataset ``name`` and store it; returns a report (counts, columns used, warnings).

    Raises :class:`ImportProblems` (every problem with row and column; nothing stored) or
    :class:`DiaoduError` (e.g. the name exists and ``replace`` is false).
    """
    kind = check_choice("kind", kind, IMPORT_KINDS)
    name = check_name(name)
    path = Path(path)
    if not path.is_file():
        raise DiaoduError(f"no such file: {path}", code="file_error")
    if dataset_exists(name) and not replace:
        # checked before reading, and again by the store when saving
        raise DiaoduError(f"dataset {name!r} already exists in the workspace; pass --replace to overwrite it",
                          code="dataset_exists")
    if kind == "routing":
        opts = options or RoutingOptions()
        if mapping:
            opts.mapping = mapping
        if shift is not None:
            opts.shift = shift
        for p in (opts.fleet, opts.matrix):
            if p is not None and not Path(p).is_file():
                raise DiaoduError(f"no such file: {p}", code="file_error")
        payload, report = import_routing(path, name, opts)
        store_kind = payload["kind"]
        from tools.routing.instance import from_payload

        inst = from_payload(payload, where=f"import of {path.name}", source="imported")  # the planner's own check
        report["convention"] = inst.convention
        report["warnings"] += _reach_warnings(inst, payload)
    else:
        payload, report = import_jobshop(path, name, mapping, shift_start=shift[0] if shift else None)
        store_kind = "jssp"
    Store().save_dataset(name, store_kind, payload, replace=replace)
    log.info("imported %s as %s (%s)", path, name, store_kind)
    noun = f"{report['orders']} orders" if kind == "routing" else f"{report['jobs']} jobs on {report['machines']} machines"
    nxt = f"diaodu plan {name}" if kind == "routing" else f"diaodu schedule {name}"
    return {"dataset": name, "kind": store_kind, "replaced": replace, "file": str(path), **report,
            "message": f"Imported {noun} from {path.name} as {name!r} ({store_kind}). Next: {nxt}"}


def _reach_warnings(inst: Any, payload: dict[str, Any]) -> list[str]:
    """Orders no vehicle can reach before their window closes, even leaving at the shift start
    (the plan would be late there: worth knowing before planning, not a reason to refuse the file)."""
    if inst.due is None:
        return []
    late = [i for i in range(1, inst.num_nodes) if int(inst.duration[0, i]) > int(inst.due[i])]
    if not late:
        return []
    refs = [str(payload["customers"][i - 1].get("ref", inst.customer_ids[i])) for i in late[:8]]
    noun = "order cannot" if len(late) == 1 else "orders cannot"
    return [f"{len(late)} {noun} be reached before their window closes even leaving at the shift start "
            f"({', '.join(refs)}{' ...' if len(late) > 8 else ''}); plan with objective lateness or widen the windows"]
