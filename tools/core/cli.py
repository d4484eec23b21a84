"""Helpers every CLI command uses: one JSON document with ``--json``, no tracebacks on bad input."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tools.core.errors import DiaoduError

F = TypeVar("F", bound=Callable[..., Any])
console = Console(stderr=False)
err_console = Console(stderr=True)


def to_jsonable(obj: Any) -> Any:
    """Best-effort conversion of numpy scalars, paths and dataclasses for ``json.dumps``."""
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if hasattr(obj, "item") and callable(obj.item):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


def print_json(data: Any) -> None:
    """Print ``data`` as exactly one JSON document on stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=to_jsonable) + "\n")
    sys.stdout.flush()


def guarded(fn: F) -> F:
    """Turn :class:`DiaoduError` (and bad files) into a clear message and exit code 2.

    With ``--json`` the error is printed as ``{"error": ...}`` so scripts can read it.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = bool(kwargs.get("as_json"))
        try:
            return fn(*args, **kwargs)
        except DiaoduError as exc:
            _fail(exc.to_dict(), as_json)
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            _fail({"error": f"{exc.strerror}: {exc.filename}", "code": "file_error"}, as_json)
        except KeyboardInterrupt:
            _fail({"error": "interrupted", "code": "interrupted"}, as_json)

    return wrapper  # type: ignore[return-value]


def _fail(payload: dict, as_json: bool) -> None:
    if as_json:
        print_json(payload)
    else:
        # user text (file names, sheet names) may hold brackets: escape it so rich shows it as is
        err_console.print(f"[bold red]error:[/] {escape(str(payload['error']))}", highlight=False)
    raise typer.Exit(2)


def simple_table(title: str, rows: list[dict[str, Any]], columns: list[str] | None = None) -> Table:
    """A rich table of dict rows (columns default to the first row's keys)."""
    table = Table(title=title)
    cols = columns or (list(rows[0]) if rows else [])
    for col in cols:
        table.add_column(col)
    for row in rows:
        table.add_row(*[_fmt(row.get(c)) for c in cols])
    return table


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


JSON_OPTION = typer.Option(False, "--json", help="Print the result as one JSON document.")
