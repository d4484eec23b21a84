"""The workspace database: plans, schedules and imported datasets in SQLite.

Plans get ids ``plan-1``, ``plan-2``, ... (``latest`` names the newest); schedules
``sched-1``, ... Every other process and every restart sees the same rows, because they
live in ``$DIAODU_HOME/diaodu.sqlite``.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from tools.core.errors import DiaoduError
from tools.core.settings import workspace_dir

_SCHEMA = """
CREATE TABLE IF NOT EXISTS plans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset TEXT NOT NULL,
    parent TEXT,
    created REAL NOT NULL,
    payload TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS schedules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset TEXT NOT NULL,
    created REAL NOT NULL,
    payload TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS commitments (
    plan_id TEXT PRIMARY KEY,
    committed REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS datasets (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    created REAL NOT NULL,
    payload TEXT NOT NULL
);
"""


def open_sqlite(path: Path | str, **kwargs: Any) -> sqlite3.Connection:
    """A connection in WAL mode that waits up to 30 s for a busy database.

    WAL is kept in the file once set, so it is only asked for when missing: switching the journal
    mode takes a lock that the busy timeout does not always cover, and under concurrent writers
    (the server's load run) asking again failed with "database is locked".
    """
    con = sqlite3.connect(path, timeout=30, **kwargs)
    if str(con.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
        con.execute("PRAGMA journal_mode=WAL")
    return con


class Store:
    """A thin handle on the workspace database (one short connection per call)."""

    def __init__(self, path: Path | None = None):
        self.path = path or workspace_dir() / "diaodu.sqlite"
        with self._connect() as con:
            con.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        con = open_sqlite(self.path)
        con.row_factory = sqlite3.Row
        return con

    # -- plans ---------------------------------------------------------------
    def save_plan(self, dataset: str, payload: dict[str, Any], parent: str | None = None) -> str:
        """Store a plan and return its new id (``plan-N``)."""
        with self._connect() as con:
            cur = con.execute("INSERT INTO plans (dataset, parent, created, payload) VALUES (?, ?, ?, ?)",
                              (dataset, parent, time.time(), json.dumps(payload)))
            return f"plan-{cur.lastrowid}"

    def load_plan(self, plan_id: str = "latest") -> dict[str, Any]:
        """The stored plan (``payload`` plus ``plan_id``, ``dataset``, ``parent``)."""
        row = self._get("plans", plan_id, "plan")
        return {**json.loads(row["payload"]), "plan_id": f"plan-{row['id']}", "dataset": row["dataset"],
                "parent": row["parent"]}

    def list_plans(self, limit: int = 50) -> list[dict[str, Any]]:
        with self._connect() as con:
            rows = con.execute("SELECT id, dataset, parent, created FROM plans ORDER BY id DESC LIMIT ?", (limit,))
            return [{"plan_id": f"plan-{r['id']}", "dataset": r["dataset"], "parent": r["parent"],
                     "created": r["created"]} for r in rows]

    def commit_plan(self, plan_id: str) -> str:
        """Mark a plan as sent to the drivers (after the dispatcher's approval); returns its id."""
        pid = self.load_plan(plan_id)["plan_id"]
        with self._connect() as con:
            con.execute("INSERT OR REPLACE INTO commitments (plan_id, committed) VALUES (?, ?)", (pid, time.time()))
        return str(pid)

    def is_committed(self, plan_id: str) -> bool:
        pid = self.load_plan(plan_id)["plan_id"]
        with self._connect() as con:
            return con.execute("SELECT 1 FROM commitments WHERE plan_id = ?", (pid,)).fetchone() is not None

    # -- schedules -------------------------------------------------------------
    def save_schedule(self, dataset: str, payload: dict[str, Any]) -> str:
        with self._connect() as con:
            cur = con.execute("INSERT INTO schedules (dataset, created, payload) VALUES (?, ?, ?)",
                              (dataset, time.time(), json.dumps(payload)))
            return f"sched-{cur.lastrowid}"

    def load_schedule(self, schedule_id: str = "latest") -> dict[str, Any]:
        row = self._get("schedules", schedule_id, "sched")
        return {**json.loads(row["payload"]), "schedule_id": f"sched-{row['id']}", "dataset": row["dataset"]}

    # -- imported datasets ----------------------------------------------------------
    def save_dataset(self, name: str, kind: str, payload: dict[str, Any], replace: bool = False) -> None:
        with self._connect() as con:
            exists = con.execute("SELECT 1 FROM datasets WHERE name = ?", (name,)).fetchone()
            if exists and not replace:
                raise DiaoduError(f"dataset {name!r} already exists in the workspace; pass --replace to overwrite it",
                                  code="dataset_exists")
            con.execute("INSERT OR REPLACE INTO datasets (name, kind, created, payload) VALUES (?, ?, ?, ?)",
                        (name, kind, time.time(), json.dumps(payload)))

    def load_dataset(self, name: str) -> dict[str, Any]:
        with self._connect() as con:
            row = con.execute("SELECT payload FROM datasets WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise DiaoduError(f"no imported dataset named {name!r}", code="unknown_dataset")
        return json.loads(row["payload"])

    def list_datasets(self) -> list[dict[str, Any]]:
        with self._connect() as con:
            return [dict(r) for r in con.execute("SELECT name, kind, created FROM datasets ORDER BY name")]

    # -- helpers --------------------------------------------------------------
    def _get(self, table: str, ident: str, prefix: str) -> sqlite3.Row:
        if not isinstance(ident, str) or not ident.strip():
            raise DiaoduError(f"{prefix} id must be like '{prefix}-3' or 'latest'; got {ident!r}")
        ident = ident.strip().lower()
        with self._connect() as con:
            if ident == "latest":
                row = con.execute(f"SELECT * FROM {table} ORDER BY id DESC LIMIT 1").fetchone()
                if row is None:
                    raise DiaoduError(f"there is no {table[:-1]} yet; make one first", code=f"no_{table}")
                return row
            num = ident.removeprefix(f"{prefix}-")
            if not num.isdigit():
                raise DiaoduError(f"{prefix} id must be like '{prefix}-3' or 'latest'; got {ident!r}")
            row = con.execute(f"SELECT * FROM {table} WHERE id = ?", (int(num),)).fetchone()
        if row is None:
            raise DiaoduError(f"unknown {table[:-1]} {ident!r}", code=f"unknown_{table[:-1]}")
        return row

