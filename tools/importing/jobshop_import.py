"""Operations (CSV, Excel, JSON) -> the canonical job-shop dataset (``tools/data/demo-shop.json``'s format).

One row per operation: job, operation number (optional: file order within the job), machine,
duration in minutes, and optionally the job's due date and release time (minutes after the shift
start, or clock times ``HH:MM`` counted from ``--shift``'s start). Every problem is collected with
its row and column before anything is stored, and the payload is finally checked by the job-shop
loader itself.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tools.importing.tables import (
    JOB_FIELDS,
    TIME_UNITS,
    ImportProblems,
    Problem,
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
    read_json_records,
    read_table,
)

log = logging.getLogger(__name__)

JOB_SHEETS = ("operations", "jobs", "ops", "工序", "工件")
JOB_UNITS = {"duration": TIME_UNITS}


def import_jobshop(path: Path, name: str, mapping: dict[str, str] | None = None,
                   shift_start: int | None = None, description: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """Read ``path`` into a canonical job-shop payload; returns (payload, report).

    Raises :class:`ImportProblems` listing every problem found.
    """
    fmt = file_format(path)
    if fmt == "json":
        data = load_json(path)
        if isinstance(data, dict) and isinstance(data.get("jobs"), list) and data["jobs"] \
                and isinstance(data["jobs"][0], dict) and "operations" in data["jobs"][0]:
            return _canonical(path, name, data)
        records = data.get("operations") if isinstance(data, dict) else data
        table = read_json_records(path, records, "operations" if isinstance(data, dict) else "")
    else:
        table = read_table(path, JOB_SHEETS)
    problems: list[Problem] = []
    warnings: list[str] = []
    cols = match_columns(table, JOB_FIELDS, mapping or {}, problems, JOB_UNITS)
    warnings += ignored_hints(cols, JOB_FIELDS)
    for col in mapping or {}:
        if col not in table.headers:
            problems.append(Problem(f"--map {col}=...: there is no column {col!r}; columns are "
                                    f"{', '.join(table.headers[:12])}", table.source))
    for fld in ("job", "machine", "duration"):
        if fld not in cols.found:
            problems.append(Problem(f"no {fld} column; {column_hint(table, JOB_FIELDS, fld)}", table.source))
    if problems:
        raise ImportProblems(problems)

    jobs: dict[str, dict[str, Any]] = {}  # job name -> {"ops": [(seq, row, machine, duration)], "due", "release"}
    machines: list[str] = []
    clock_used = False
    fractional = 0
    for pos, row in enumerate(table.rows):
        def bad(msg: str, fld: str, row: Any = row) -> None:
            problems.append(Problem(msg, table.source, row.number, cols.header(fld), table.row_word))

        job = as_text(cols.get(row, "job"))
        if not job:
            bad("missing job", "job")
            continue
        entry = jobs.setdefault(job, {"ops": [], "due": None, "release": None, "rows": []})
        entry["rows"].append(row.number)
        machine = as_text(cols.get(row, "machine"))
        if not machine:
            bad("missing machine", "machine")
        elif machine not in machines:
            machines.append(machine)
        raw = cols.get(row, "duration")
        dur = as_number(raw)
        if raw is None:
            bad("missing duration", "duration")
        elif dur is None or dur < 0:
            bad(f"duration must be minutes >= 0; got {as_text(raw)!r}", "duration")
            dur = None
        else:
            dur *= cols.factors.get("duration", 1.0)
            if abs(dur - round(dur)) > 1e-6:
                fractional += 1
        seq: float = float(pos)
        if "op" in cols.found:
            raw_op = cols.get(row, "op")
            op = as_number(raw_op)
            if raw_op is None or op is None:
                bad(f"operation number must be a number; got {as_text(raw_op)!r}", "op")
            else:
                if any(s == op for s, *_ in entry["ops"]):
                    bad(f"job {job!r} has operation {as_text(raw_op)} twice", "op")
                seq = op
        for fld in ("due", "release"):
            raw_t = cols.get(row, fld)
            if raw_t is None:
                continue
            t, is_clock = _time_value(raw_t, shift_start or 0)
            if t is None:
                bad(f"{fld} must be minutes after the shift start or a clock time like 16:00; got {as_text(raw_t)!r}",
                    fld)
                continue
            clock_used |= is_clock
            if t < 0:
                bad(f"{fld} {as_text(raw_t)} is before the shift start {clock_text(shift_start or 0)}", fld)
                continue
            if entry[fld] is not None and entry[fld] != t:
                bad(f"job {job!r} has two different {fld} values ({entry[fld]} and {t} min)", fld)
                continue
            entry[fld] = t
        if machine and dur is not None:
            entry["ops"].append((seq, row.number, machine, int(round(dur))))
    has_due = [j for j, e in jobs.items() if e["due"] is not None]
    if has_due and len(has_due) != len(jobs):
        missing = [j for j, e in jobs.items() if e["due"] is None]
        rows = ", ".join(f"{j!r} ({table.row_word} {jobs[j]['rows'][0]})" for j in missing[:8])
        problems.append(Problem(f"give a due date for every job or for none; missing for {rows}", table.source,
                                column=cols.header("due")))
    for j, e in jobs.items():
        if not e["ops"] and not any(p.row in e["rows"] for p in problems):
            problems.append(Problem(f"job {j!r} has no operations", table.source, e["rows"][0],
                                    row_word=table.row_word))
    if problems:
        raise ImportProblems(problems)
    if clock_used and shift_start is None:
        warnings.append("clock times were counted from 00:00; pass --shift HH:MM-HH:MM to count from the shift start")
    if fractional:
        warnings.append(f"{fractional} durations were rounded to whole minutes")
    payload: dict[str, Any] = {
        "kind": "jssp", "name": name, "description": description or f"Imported from {path.name}",
        "time_unit": "min", "machines": machines, "jobs": [],
        "source": {"file": path.name, "shift_start": clock_text(shift_start) if shift_start is not None else None},
    }
    for j, e in jobs.items():
        ops = sorted(e["ops"], key=lambda o: o[0])  # stable: file order breaks ties
        job_obj: dict[str, Any] = {"name": j, "operations": [{"machine": m, "duration": d} for _, _, m, d in ops]}
        if e["due"] is not None:
            job_obj["due"] = e["due"]
        if e["release"] is not None:
            job_obj["release"] = e["release"]
        payload["jobs"].append(job_obj)
    _validate(payload, table)
    report = {"kind": "jssp", "jobs": len(jobs), "machines": len(machines),
              "operations": sum(len(j["operations"]) for j in payload["jobs"]), "due_dates": bool(has_due),
              "columns": cols.found, "ignored_columns": cols.ignored, "units": {"time": "min"},
              "conversions": {f: f"{cols.found[f]} x {k:g} -> min" for f, k in cols.factors.items() if k != 1.0},
              "warnings": warnings}
    return payload, report


def _time_value(raw: Any, shift_start: int) -> tuple[int | None, bool]:
    """(minutes after the shift start, whether it was a clock time)."""
    if isinstance(raw, str) and (":" in raw or "：" in raw or raw.strip().lower().endswith(("am", "pm"))):
        t = as_clock(raw)
        return (None, True) if t is None else (t - shift_start, True)
    if not isinstance(raw, (int, float, str)):  # Excel time / datetime cells
        t = as_clock(raw)
        return (None, True) if t is None else (t - shift_start, True)
    v = as_number(raw)
    if v is None:
        return None, False
    return int(round(v)), False


def _validate(payload: dict[str, Any], table: Table) -> None:
    from tools.core.errors import DiaoduError
    from tools.jobshop.instance import from_payload

    try:
        from_payload(payload, where=table.source)
    except DiaoduError as exc:  # should not happen after the checks above; never store what the loader rejects
        raise ImportProblems([Problem(exc.message, table.source)]) from None


def _canonical(path: Path, name: str, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    from tools.jobshop.instance import from_payload

    payload = {**data, "kind": "jssp", "name": name}
    inst = from_payload(payload, name=name, where=path.name)
    return payload, {"kind": "jssp", "jobs": inst.n_jobs, "machines": inst.n_machines, "operations": inst.total_ops,
                     "due_dates": inst.due is not None, "columns": {}, "ignored_columns": [],
                     "warnings": ["read as a job shop in the canonical JSON format"]}
