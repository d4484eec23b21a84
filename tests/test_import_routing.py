"""Bring your own data (routing): import orders + fleet from CSV / Excel / JSON, plan, export, re-read.

Real files written to a temp folder, the real importer, the real OR-Tools planner with a short
budget and the real exporters; nothing is mocked.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from typer.testing import CliRunner

from tools.core.datasets import resolve
from tools.core.errors import DiaoduError
from tools.core.store import Store
from tools.importing import RoutingOptions, export_plan, import_dataset, plan_stop_lists
from tools.importing.routing_import import haversine_km
from tools.importing.tables import ImportProblems, as_clock, as_number, parse_window
from tools.routing.instance import load_instance
from tools.routing.plan_tool import plan_routes

HEADERS = ["Order No", "Customer", "Address", "Type", "X (km)", "Y (km)", "Weight (kg)", "Earliest", "Latest",
           "Service (min)"]


def write_csv(path: Path, rows: list[list], headers: list[str] | None = None) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(headers or HEADERS)
        w.writerows(rows)
    return path


def day_orders(n: int = 120, seed: int = 11) -> list[list]:
    """A seeded day: a depot row and ``n`` orders with string ids, windows and service minutes."""
    rng = np.random.default_rng(seed)
    windows = [("08:00", "11:00"), ("09:00", "12:00"), ("10:00", "14:00"), ("13:00", "16:00"), ("08:00", "17:00")]
    rows: list[list] = [["DC-1", "North depot", "1 Harbour Rd", "depot", 10.0, 1.0, "", "07:00", "19:00", ""]]
    for k in range(n):
        a, b = windows[int(rng.integers(len(windows)))]
        rows.append([f"N-{2000 + k}", f"Shop {k}", f"{k} Main St", "", round(float(rng.uniform(0, 20)), 3),
                     round(float(rng.uniform(0, 16)), 3), int(rng.integers(10, 90)), a, b, int(rng.choice([5, 10]))])
    return rows


def fleet_csv(path: Path, capacity: int = 800, count: int = 12) -> Path:
    return write_csv(path, [["Van", capacity, count]], ["车辆", "载重(kg)", "数量"])


def test_round_trip_120_orders_import_plan_export_reread(tmp_path: Path) -> None:
    orders = write_csv(tmp_path / "orders.csv", day_orders(120))
    res = import_dataset(orders, "north-2026-11-24", options=RoutingOptions(fleet=fleet_csv(tmp_path / "fleet.csv")))
    assert res["orders"] == 120 and res["kind"] == "vrptw" and res["vehicles"] == 12 and res["capacity"] == 800
    assert res["columns"]["demand"] == "Weight (kg)" and res["columns"]["ready"] == "Earliest"
    assert res["shift"] == {"start": "07:00", "end": "19:00"}  # the depot row's window
    assert resolve("north-2026-11-24").source == "imported"

    plan = plan_routes("north-2026-11-24", time_limit_s=2, guidance="none")
    assert plan["feasible"] and plan["plan_id"] == "plan-1"
    refs = {f"N-{2000 + k}" for k in range(120)}
    for fmt in ("csv", "xlsx", "json"):
        out = export_plan(plan["plan_id"], fmt, tmp_path / f"plan.{fmt}")
        assert out["stops"] == 120 and Path(out["path"]).is_file()
        rows = _reread(Path(out["path"]), fmt)
        delivered = [r["order"] for r in rows if r["type"] == "delivery"]
        assert sorted(delivered) == sorted(refs)  # every order exactly once, under the file's own id
        assert {r["type"] for r in rows} == {"start", "delivery", "return"}
        assert all(as_clock(r["arrival"]) is not None for r in rows if r["type"] == "delivery")
    # the exported service starts are the checker's (the plan's) arrivals, vehicle by vehicle
    lists = plan_stop_lists(plan["plan_id"])
    by_vehicle = {v["vehicle"]: v for v in lists["vehicles"]}
    for route in plan["routes"]:
        stops = [s for s in by_vehicle[route["vehicle"]]["stop_list"] if s["type"] == "delivery"]
        assert [s["service_start"] for s in stops] == route["arrivals"]
        assert by_vehicle[route["vehicle"]]["depart"] == route["depart"]
        assert by_vehicle[route["vehicle"]]["return"] == route["back"]
        assert stops[-1]["load_after"] == route["load"] <= 800
        for s in stops:  # never early, never before arriving
            assert as_clock(s["arrival"]) <= as_clock(s["service_start"])
            assert as_clock(s["window_start"]) <= as_clock(s["service_start"]) <= as_clock(s["window_end"])


def _reread(path: Path, fmt: str) -> list[dict]:
    if fmt == "csv":
        with open(path, newline="", encoding="utf-8-sig") as f:
            return list(csv.DictReader(f))
    if fmt == "json":
        doc = json.loads(path.read_text(encoding="utf-8"))
        return [s for v in doc["vehicles"] for s in v["stop_list"]]
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb.sheetnames == ["routes", "stops"]
    rows = list(wb["stops"].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_datasets_cli_lists_imported_and_plan_cli_accepts_it(tmp_path: Path) -> None:
    from assistant.cli import app

    orders = write_csv(tmp_path / "o.csv", day_orders(15, seed=2))
    runner = CliRunner()
    r = runner.invoke(app, ["import", str(orders), "--fleet", str(fleet_csv(tmp_path / "f.csv", count=4)),
                            "--name", "south", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["orders"] == 15
    r = runner.invoke(app, ["datasets", "--json"])
    names = {d["name"]: d for d in json.loads(r.stdout)["datasets"]}
    assert names["south"]["source"] == "imported" and names["south"]["kind"] == "vrptw"
    r = runner.invoke(app, ["plan", "south", "--time-limit", "1", "--guidance", "none", "--json"])
    assert r.exit_code == 0, r.output
    out = tmp_path / "south.json"
    r = runner.invoke(app, ["export", "latest", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["format"] == "json" and out.is_file()
    # re-importing the same name asks for --replace; nothing changes without it
    r = runner.invoke(app, ["import", str(orders), "--vehicles", "3", "--capacity", "500", "--name", "south", "--json"])
    assert r.exit_code == 2 and json.loads(r.stdout)["code"] == "dataset_exists"
    r = runner.invoke(app, ["import", str(orders), "--vehicles", "3", "--capacity", "500", "--name", "south",
                            "--replace", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["replaced"] is True
    assert load_instance("south").num_vehicles == 3
    # bad arguments are clear errors, not tracebacks
    r = runner.invoke(app, ["export", "plan-99", "--json"])
    assert r.exit_code == 2 and "plan-99" in json.loads(r.stdout)["error"]
    r = runner.invoke(app, ["export", "latest", "--format", "pdf", "--json"])
    assert r.exit_code == 2 and "csv, xlsx, json" in json.loads(r.stdout)["error"]
    r = runner.invoke(app, ["import", str(orders), "--name", "demo-city", "--json"])
    assert r.exit_code == 2 and "demo" in json.loads(r.stdout)["error"]


def test_replan_and_explain_work_on_an_imported_plan(tmp_path: Path) -> None:
    from tools.registry import run_tool

    orders = write_csv(tmp_path / "o.csv", day_orders(25, seed=5))
    import_dataset(orders, "east", options=RoutingOptions(fleet=fleet_csv(tmp_path / "f.csv", count=5)))
    plan = run_tool("plan_routes", {"dataset": "east", "time_limit_s": 1, "guidance": "none"})
    assert plan.ok, plan.result
    explained = run_tool("explain_plan", {"plan_id": "latest", "question": "summary"})
    assert explained.ok, explained.result
    moved = run_tool("replan", {"event": "cancel_orders", "orders": [3]})
    assert moved.ok, moved.result
    # the replanned plan exports without the cancelled order (ids 1..n stand for N-2000.. in file order)
    rows = plan_stop_lists("latest")
    delivered = [s["order"] for v in rows["vehicles"] for s in v["stop_list"] if s["type"] == "delivery"]
    assert "N-2002" not in delivered and len(delivered) == 24


def test_every_validation_problem_is_listed_at_once_and_nothing_is_stored(tmp_path: Path) -> None:
    rows = [
        ["DC", "Depot", "", "depot", 10, 1, "", "07:00", "19:00", ""],
        ["A1", "no y", "", "", 3, "", 20, "08:00", "10:00", 5],             # row 3: missing coordinate
        ["A2", "backwards", "", "", 4, 4, 20, "12:00", "09:00", 5],         # row 4: window end before start
        ["A3", "too heavy", "", "", 5, 5, 2500, "08:00", "12:00", 5],       # row 5: above every capacity
        ["A3", "duplicate", "", "", 6, 6, 10, "08:00", "12:00", 5],         # row 6: duplicate id
        ["A5", "bad time", "", "", 7, 7, 10, "8 o'clock", "12:00", 5],      # row 7: unparseable time
        ["A6", "bad qty", "", "", 8, 8, "lots", "08:00", "12:00", 5],       # row 8: non-numeric quantity
        ["A7", "bad x", "", "", "east", 8, 10, "08:00", "12:00", 5],        # row 9: non-numeric coordinate
    ]
    orders = write_csv(tmp_path / "broken.csv", rows)
    fleet = write_csv(tmp_path / "fleet.csv", [["V1", 1000], ["V2", "heavy"]], ["vehicle", "capacity"])
    with pytest.raises(ImportProblems) as exc:
        import_dataset(orders, "broken", options=RoutingOptions(fleet=fleet))
    found = {(p.source, p.row, p.column) for p in exc.value.problems}
    assert ("broken.csv", 3, "Y (km)") in found
    assert ("broken.csv", 4, "Latest") in found
    assert ("broken.csv", 5, "Weight (kg)") in found
    assert ("broken.csv", 6, "Order No") in found
    assert ("broken.csv", 7, "Earliest") in found
    assert ("broken.csv", 8, "Weight (kg)") in found
    assert ("broken.csv", 9, "X (km)") in found
    assert ("fleet.csv", 3, "capacity") in found
    assert len(exc.value.problems) == 8
    msg = exc.value.message
    assert "nothing imported: 8 problems" in msg and "above every vehicle's capacity" in msg
    assert "duplicate order id 'A3' (first on row 5)" in msg and "8 o'clock" in msg
    assert exc.value.code == "invalid_import" and len(exc.value.details["problems"]) == 8
    assert Store().list_datasets() == []


@pytest.mark.parametrize(("content", "expect"), [
    ("", "the file is empty"),
    ("id,x,y,demand\n", "header but no data rows"),
    ("id,x,y,demand\n1,1,1,5\n2,2,2,5\n", "no depot"),
    ("id,x,y,menge\n0,1,1,\n1,2,2,5\n", "no demand column"),
    ("id,ort,demand\n0,a,\n1,b,5\n", "no coordinates"),
    ("id,x,y,demand,start,end\n0,1,1,,07:00,19:00\n1,2,2,5,20:00,21:00\n", "outside the shift"),
])
def test_each_file_level_problem_has_a_clear_message(tmp_path: Path, content: str, expect: str) -> None:
    path = tmp_path / "f.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DiaoduError) as exc:
        import_dataset(path, "x", options=RoutingOptions(vehicles=2, capacity=100))
    assert expect in exc.value.message
    assert Store().list_datasets() == []


def test_fleet_and_option_problems(tmp_path: Path) -> None:
    orders = write_csv(tmp_path / "o.csv", day_orders(5, seed=1))
    with pytest.raises(ImportProblems, match="no fleet"):
        import_dataset(orders, "x")
    with pytest.raises(ImportProblems, match="no column 'Gewicht'"):
        import_dataset(orders, "x", mapping={"Gewicht": "demand"}, options=RoutingOptions(vehicles=2, capacity=500))
    with pytest.raises(ImportProblems, match="unknown field 'weight'"):
        import_dataset(orders, "x", mapping={"Weight (kg)": "weight"}, options=RoutingOptions(vehicles=2, capacity=500))
    with pytest.raises(DiaoduError, match="routing, jobshop"):
        import_dataset(orders, "x", kind="trucks")
    with pytest.raises(DiaoduError, match="--name"):
        import_dataset(orders, "bad name!")
    with pytest.raises(DiaoduError, match="unsupported file type '.xls'"):
        (tmp_path / "old.xls").write_bytes(b"\xd0\xcf")
        import_dataset(tmp_path / "old.xls", "x")


def test_map_override_units_and_mixed_fleet(tmp_path: Path) -> None:
    headers = ["Nr", "Kunde", "Rolle", "X", "Y", "Gewicht (t)", "Stopzeit (h)"]
    rows = [["0", "Lager", "depot", 0, 0, "", ""], ["7", "A", "", 1, 0, 0.25, 0.1], ["9", "B", "", 0, 2, "0.5", 0.25]]
    orders = write_csv(tmp_path / "de.csv", rows, headers)
    fleet = write_csv(tmp_path / "fl.csv", [["small", 600, 1], ["big", 900, 2]], ["vehicle", "capacity", "count"])
    res = import_dataset(orders, "de", mapping={"Gewicht (t)": "demand", "Kunde": "name", "Rolle": "type",
                                                  "Stopzeit (h)": "service", "Nr": "id"},
                         options=RoutingOptions(fleet=fleet))
    assert res["kind"] == "cvrp" and res["capacity"] == 600 and res["vehicles"] == 3
    assert any("mixed fleet" in w for w in res["warnings"])
    assert res["conversions"] == {"demand": "Gewicht (t) x 1000 -> kg", "service": "Stopzeit (h) x 60 -> min"}
    payload = Store().load_dataset("de")
    assert [c["id"] for c in payload["customers"]] == [7, 9]  # numeric ids are kept
    assert [c["demand"] for c in payload["customers"]] == [250, 500]  # tonnes -> kg
    assert [c["service_min"] for c in payload["customers"]] == [6, 15]  # hours -> minutes
    assert payload["fleet"]["names"] == ["small", "big #1", "big #2"]
    inst = load_instance("de")
    assert inst.distance[0, 1] == 10 and inst.distance[0, 2] == 20  # Euclidean km, road factor 1 for x/y
    # a CVRP plan still gets clock times: shift 08:00 by default, 30 km/h, the file's service minutes
    plan = plan_routes("de", time_limit_s=0.5, guidance="none")
    stops = [s for v in plan_stop_lists(plan["plan_id"])["vehicles"] for s in v["stop_list"]]
    assert sorted(s["order"] for s in stops if s["type"] == "delivery") == ["7", "9"]
    node = {7: 1, 9: 2}
    for v in plan_stop_lists(plan["plan_id"])["vehicles"]:
        start, first, second = v["stop_list"][:3]
        assert start["departure"] == "08:00"
        assert as_clock(first["arrival"]) == 480 + int(inst.duration[0, node[first["customer_id"]]])
        assert as_clock(first["departure"]) - as_clock(first["arrival"]) == first["service_min"]
        if second["type"] == "delivery":
            leg = int(inst.duration[node[first["customer_id"]], node[second["customer_id"]]])
            assert as_clock(second["arrival"]) == as_clock(first["departure"]) + leg
    # an order too heavy for the smaller vans is refused with a reason
    rows.append(["11", "C", "", 3, 3, 0.8, 0.1])
    write_csv(orders, rows, headers)
    with pytest.raises(ImportProblems, match="fits only the larger vehicles"):
        import_dataset(orders, "de2", mapping={"Gewicht (t)": "demand", "Rolle": "type"},
                       options=RoutingOptions(fleet=fleet))


def test_chinese_headers_lat_lon_haversine_and_matrix(tmp_path: Path) -> None:
    headers = ["订单号", "客户名称", "经度", "纬度", "重量(公斤)", "时间窗", "服务时间(分钟)", "类型"]
    rows = [["WH", "武汉仓", 114.30, 30.59, "", "", "", "仓库"],
            ["D1", "江汉店", 114.27, 30.60, 120, "09:00-11:00", 10, ""],
            ["D2", "武昌店", 114.32, 30.55, 80, "上午10点~下午2点", 15, ""],
            ["D3", "汉阳店", 114.25, 30.55, 60, "13:00至16:00", 5, ""]]
    path = tmp_path / "武汉订单.csv"
    with open(path, "w", newline="", encoding="gb18030") as f:  # as Excel saves a CSV in China
        csv.writer(f).writerows([headers, *rows])
    res = import_dataset(path, "wuhan", options=RoutingOptions(vehicles=2, capacity=300))
    assert res["coordinates"] == "latlon" and res["kind"] == "vrptw" and res["orders"] == 3
    assert res["columns"]["window"] == "时间窗" and "haversine x road factor 1.3" in res["distances"]
    inst = load_instance("wuhan")
    km = haversine_km(30.59, 114.30, 30.60, 114.27) * 1.3
    assert abs(inst.distance[0, 1] / 10 - km) <= 0.051
    assert abs(inst.duration[0, 1] - km / 30 * 60) <= 0.51
    assert inst.ready is not None and inst.clock(int(inst.ready[2])) == "10:00" and inst.clock(int(inst.due[2])) == "14:00"
    assert inst.names[1] == "江汉店"
    plan = plan_routes("wuhan", time_limit_s=0.5, guidance="none")
    stops = [s for v in plan_stop_lists(plan["plan_id"])["vehicles"] for s in v["stop_list"]]
    assert sorted(s["order"] for s in stops if s["type"] == "delivery") == ["D1", "D2", "D3"]
    assert all(isinstance(s["lat"], float) for s in stops)

    # a user's matrix (ids as header, the depot by its id) wins over the coordinates
    ids = ["WH", "D1", "D2", "D3"]
    mat = [[0, 5, 6, 7], [5, 0, 4, 9], [6, 4, 0, 3], [7, 9, 3, 0]]
    mpath = write_csv(tmp_path / "matrix.csv", [[i, *row] for i, row in zip(ids, mat, strict=True)], ["", *ids])
    res = import_dataset(path, "wuhan", replace=True, options=RoutingOptions(vehicles=2, capacity=300, matrix=mpath))
    inst = load_instance("wuhan")
    assert inst.distance.tolist() == (np.array(mat) * 10).tolist()
    assert inst.duration[0, 3] == 14  # 7 km at 30 km/h
    assert "matrix.csv" in inst.convention
    # a matrix missing an order is refused
    write_csv(mpath, [[i, *row[:3]] for i, row in zip(ids[:3], mat[:3], strict=True)], ["", *ids[:3]])
    with pytest.raises(ImportProblems, match="no column for D3"):
        import_dataset(path, "wuhan", replace=True, options=RoutingOptions(vehicles=2, capacity=300, matrix=mpath))


def test_excel_written_by_openpyxl_with_time_cells_and_fleet_sheet(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "订单"
    ws.append(["编号", "客户", "x", "y", "数量", "最早", "最晚", "服务时间"])
    ws.append([0, "配送中心", 5.0, 5.0, None, dt.time(6, 0), dt.time(20, 0), None])
    for k in range(1, 31):
        ws.append([k, f"客户{k}", (k * 7) % 11, (k * 5) % 13, 10 + k, dt.time(8 + k % 4, 30), dt.time(13 + k % 5, 0), 6])
    fleet = wb.create_sheet("车辆")
    fleet.append(["车号", "载重", "数量"])
    fleet.append(["厢式货车", 200, 4])
    path = tmp_path / "day.xlsx"
    wb.save(path)
    res = import_dataset(path, "excel-day")
    assert res["orders"] == 30 and res["vehicles"] == 4 and res["capacity"] == 200
    assert res["shift"] == {"start": "06:00", "end": "20:00"}
    assert any("sheet '车辆'" in w for w in res["warnings"])
    payload = Store().load_dataset("excel-day")
    assert payload["customers"][0]["window"] == ["09:30", "14:00"] and payload["customers"][0]["id"] == 1
    plan = plan_routes("excel-day", time_limit_s=1, guidance="none")
    assert plan["feasible"]
    out = export_plan(plan["plan_id"], "xlsx", tmp_path / "out.xlsx")
    rows = _reread(Path(out["path"]), "xlsx")
    assert sorted(int(r["order"]) for r in rows if r["type"] == "delivery") == list(range(1, 31))


def test_json_orders_fleet_depot_and_canonical_payload(tmp_path: Path) -> None:
    doc = {"depot": {"name": "Hub", "x": 0, "y": 0},
           "orders": [{"order_id": 1, "x": 3, "y": 4, "qty": 10, "window": "09:00-12:00"},
                      {"order_id": 2, "x": 6, "y": 8, "qty": 20, "window": "10:00-15:00"}],
           "fleet": [{"vehicle": "T1", "capacity": 50}]}
    path = tmp_path / "day.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    res = import_dataset(path, "json-day")
    assert res["orders"] == 2 and res["vehicles"] == 1 and res["kind"] == "vrptw"
    assert load_instance("json-day").distance[0, 2] == 100  # 10 km straight line
    # a file in the canonical dataset format is taken as it is (checked by the routing loader)
    demo = json.loads((Path(__file__).resolve().parents[1] / "tools/data/demo-small.json").read_text(encoding="utf-8"))
    path.write_text(json.dumps(demo), encoding="utf-8")
    res = import_dataset(path, "my-small")
    assert res["orders"] == 20 and load_instance("my-small").num_customers == 20
    # and a bad record is named by its number
    doc["orders"][1]["qty"] = "many"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ImportProblems, match="record 2, column 'qty'"):
        import_dataset(path, "json-bad")


def test_clock_and_window_parsing() -> None:
    assert as_clock("9:05") == 545 and as_clock("09:05:00") == 545 and as_clock("9:05 pm") == 21 * 60 + 5
    assert as_clock(dt.time(7, 30)) == 450 and as_clock(0.5) == 720 and as_clock("下午3点半") == 15 * 60 + 30
    assert as_clock("25:00") is None and as_clock("abc") is None and as_clock(830) is None
    assert parse_window("08:00 - 10:30") == (480, 630) and parse_window("8点到10点") == (480, 600)
    assert math.isclose(haversine_km(0, 0, 0, 1), 111.195, rel_tol=1e-3)
    assert [as_number(x) for x in ("1,200", "12,5", "1.234,5", "3.5", " 7 ", "1,2,3", "abc", True)] == \
        [1200.0, 12.5, 1234.5, 3.5, 7.0, None, None, None]


def test_swapped_lat_lon_and_unreachable_windows_are_explained(tmp_path: Path) -> None:
    headers = ["id", "lat", "lon", "demand", "ready", "due", "type"]
    path = write_csv(tmp_path / "swap.csv", [["0", 30.59, 114.30, "", "07:00", "19:00", "depot"],
                                             ["1", 114.31, 30.60, 5, "08:00", "09:00", ""]], headers)
    with pytest.raises(ImportProblems, match="are the lat and lon columns swapped"):
        import_dataset(path, "swap", options=RoutingOptions(vehicles=1, capacity=10))
    # 0.3 degrees north (~43 km by road) cannot be reached by 07:30 at 30 km/h: imported, with a warning
    write_csv(path, [["0", 30.59, 114.30, "", "07:00", "19:00", "depot"], ["1", 30.89, 114.30, 5, "07:00", "07:30", ""],
                     ["2", 30.60, 114.31, 5, "08:00", "12:00", ""]], headers)
    res = import_dataset(path, "far", options=RoutingOptions(vehicles=1, capacity=10))
    assert any("1 order cannot be reached before their window closes" in w for w in res["warnings"])


def test_chat_plans_an_imported_dataset_named_by_the_user(tmp_path: Path) -> None:
    """'plan north-2026-11-24 with 12 vans': the real graph, grounding and tools on imported data
    (the model's output is scripted: this checks the wiring, not the model)."""
    from assistant.backends import ScriptedChatModel
    from assistant.service import Assistant

    orders = write_csv(tmp_path / "o.csv", day_orders(30, seed=9))
    import_dataset(orders, "north-2026-11-24", options=RoutingOptions(fleet=fleet_csv(tmp_path / "f.csv", count=14)))
    call = json.dumps({"name": "plan_routes", "arguments": {"dataset": "north-2026-11-24", "num_vehicles": 12,
                                                            "guidance": "none"}})
    model = ScriptedChatModel([f"<tool_call>{call}</tool_call>", "Planned with 12 vans."])
    r = Assistant(model, max_tool_seconds=1).ask("plan north-2026-11-24 with 12 vans")
    assert [c["tool"] for c in r["calls"]] == ["plan_routes"] and r["calls"][0]["ok"], r["calls"]
    assert r["calls"][0]["args"]["dataset"] == "north-2026-11-24" and r["calls"][0]["args"]["num_vehicles"] == 12
    assert Store().load_plan("latest")["dataset"] == "north-2026-11-24"


def test_shipped_example_files_import_cleanly() -> None:
    ex = Path(__file__).resolve().parents[1] / "tools" / "importing" / "examples"
    res = import_dataset(ex / "orders.csv", "north-2026-11-24", options=RoutingOptions(fleet=ex / "fleet.csv"))
    assert (res["orders"], res["coordinates"], res["vehicles"]) == (40, "latlon", 8)
    res = import_dataset(ex / "orders_zh.csv", "城南-1124", options=RoutingOptions(fleet=ex / "fleet_zh.csv"))
    assert (res["orders"], res["kind"], res["capacity"]) == (20, "vrptw", 500)
    res = import_dataset(ex / "jobs.csv", "shift-b", kind="jobshop", shift=(480, 1080))
    assert (res["jobs"], res["machines"]) == (6, 4)
    assert {d["name"] for d in Store().list_datasets()} == {"north-2026-11-24", "城南-1124", "shift-b"}
