"""``diaodu import`` (orders + fleet, or a job shop, from CSV / Excel / JSON) and ``diaodu export``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape

from tools.core.cli import JSON_OPTION, console, guarded, print_json, simple_table
from tools.core.errors import DiaoduError, check_number


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    @app.command("import")
    @guarded
    def import_cmd(
        file: Path = typer.Argument(..., help="Orders (routing) or operations (job shop): .csv, .xlsx or .json."),
        name: str = typer.Option(..., "--name", help="Dataset name to store it under, e.g. north-2026-11-24."),
        kind: str = typer.Option("routing", "--kind", help="routing (orders + fleet) or jobshop (operations)."),
        fleet: Path = typer.Option(None, "--fleet", help="Fleet file: vehicle, capacity (kg)[, count]."),
        vehicles: int = typer.Option(None, "--vehicles", help="Fleet size without a fleet file (or: use the first N)."),
        capacity: float = typer.Option(None, "--capacity", help="Capacity per vehicle in kg, without a fleet file."),
        depot: str = typer.Option(None, "--depot", help="Depot as X,Y (km) or LAT,LON when the file has no depot row."),
        shift: str = typer.Option(None, "--shift", help="Working day HH:MM-HH:MM (default: the depot's window or "
                                                         "derived from the orders' windows)."),
        road_factor: float = typer.Option(None, "--road-factor", help="Road distance / straight line "
                                                                       "(default 1.3 for lat/lon, 1 for x/y)."),
        speed_kmh: float = typer.Option(30.0, "--speed-kmh", help="Average speed for travel times."),
        matrix: Path = typer.Option(None, "--matrix", help="Distance (km) or time (min) matrix file, ids as header; "
                                                           "wins over coordinates."),
        matrix_kind: str = typer.Option("distance", "--matrix-kind", help="distance (km) or time (minutes)."),
        service: float = typer.Option(0.0, "--service-min", help="Service minutes per stop when the file has none."),
        mapping: list[str] = typer.Option(None, "--map", help="COLUMN=FIELD when a column is not found by name "
                                                              "(repeatable), e.g. --map Gewicht=demand."),
        replace: bool = typer.Option(False, "--replace", help="Overwrite an imported dataset of the same name."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Import a day's orders and fleet (or a job shop) into the workspace; every problem is listed at once."""
        from tools.core.errors import check_choice
        from tools.importing import RoutingOptions, check_name, dataset_exists, import_dataset, parse_pair, parse_shift
        from tools.importing.tables import parse_mapping

        kind = check_choice("kind", kind, ("routing", "jobshop"))
        name = check_name(name)
        if kind == "jobshop":
            used = [flag for flag, v in (("--fleet", fleet), ("--vehicles", vehicles), ("--capacity", capacity),
                                         ("--depot", depot), ("--matrix", matrix), ("--road-factor", road_factor))
                    if v is not None]
            if used:
                raise DiaoduError(f"{', '.join(used)} only apply to --kind routing")
        if vehicles is not None and vehicles < 1:
            raise DiaoduError(f"--vehicles must be at least 1; got {vehicles}")
        if capacity is not None:
            check_number("--capacity", capacity, minimum=1)
        if road_factor is not None:
            check_number("--road-factor", road_factor, minimum=1, maximum=5)
        check_number("--speed-kmh", speed_kmh, minimum=1, maximum=200)
        check_number("--service-min", service, minimum=0, maximum=600)
        opts = RoutingOptions(
            fleet=fleet, vehicles=vehicles, capacity=capacity,
            depot=parse_pair(depot, "--depot") if depot else None,
            shift=parse_shift(shift) if shift else None, road_factor=road_factor, speed_kmh=speed_kmh,
            matrix=matrix, matrix_kind=check_choice("--matrix-kind", matrix_kind, ("distance", "time")),
            service_min=service, mapping=parse_mapping(mapping))
        if dataset_exists(name) and not replace:
            # ask only a person at a terminal; scripts (and --json) must pass --replace
            if as_json or not sys.stdin.isatty():
                raise DiaoduError(f"dataset {name!r} already exists in the workspace; pass --replace to overwrite it",
                                  code="dataset_exists")
            if not typer.confirm(f"Dataset {name!r} already exists. Replace it?", default=False):
                raise DiaoduError(f"kept the existing dataset {name!r}; nothing imported", code="dataset_exists")
            replace = True
        result = import_dataset(file, name, kind, replace=replace, mapping=opts.mapping, options=opts,
                                shift=opts.shift)
        if as_json:
            print_json(result)
            return
        rows = [{"field": f, "column": escape(c)} for f, c in result.get("columns", {}).items()]
        if rows:
            console.print(simple_table(f"Columns of {file.name}", rows, ["field", "column"]))
        for conv in result.get("conversions", {}).values():
            console.print(f"unit: {escape(conv)}", highlight=False)
        for w in result.get("warnings", []):
            console.print(f"[yellow]note:[/] {escape(w)}", highlight=False)
        console.print(escape(result["message"]), highlight=False)

    @app.command("export")
    @guarded
    def export_cmd(
        plan_id: str = typer.Argument("latest", help="A plan id (plan-3) or latest."),
        fmt: str = typer.Option(None, "--format", help="csv, xlsx or json (default: from --out, else csv)."),
        out: Path = typer.Option(None, "--out", help="Output file (default: PLAN-DATASET.FORMAT here)."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Export a plan as per-vehicle stop lists with arrival times, for drivers or a TMS."""
        from tools.importing.export import export_plan

        result = export_plan(plan_id, fmt, out)
        if as_json:
            print_json(result)
            return
        console.print(escape(result["message"]), highlight=False)
