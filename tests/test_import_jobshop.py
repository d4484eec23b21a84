"""Bring your own data (job shop): import operations from CSV / Excel / JSON, then schedule_jobs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from tools.core.datasets import resolve
from tools.core.store import Store
from tools.importing import import_dataset
from tools.importing.tables import ImportProblems
from tools.jobshop.instance import load_instance
from tools.jobshop.schedule_tool import schedule_jobs


def write_csv(path: Path, headers: list[str], rows: list[list]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([headers, *rows])
    return path


ZH_ROWS = [["A-101", 1, "锯床", 0.5, "16:00"], ["A-101", 2, "车床", 1, "16:00"],
           ["B-202", 2, "铣床", 0.5, ""], ["B-202", 1, "车床", 0.75, "17:30"], ["B-202", 3, "锯床", 0.25, "17:30"],
           ["C-303", 1, "铣床", 1.5, "15:00"]]


def test_chinese_headers_hours_clock_dues_then_schedule(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "jobs.csv", ["工件", "工序", "设备", "工时(小时)", "交期"], ZH_ROWS)
    res = import_dataset(path, "shift-b", kind="jobshop", shift=(8 * 60, 18 * 60))
    assert (res["kind"], res["jobs"], res["machines"], res["operations"]) == ("jssp", 3, 3, 6)
    assert res["columns"] == {"job": "工件", "op": "工序", "machine": "设备", "duration": "工时(小时)", "due": "交期"}
    assert resolve("shift-b").source == "imported" and resolve("shift-b").kind == "jssp"
    inst = load_instance("shift-b")
    assert inst.job_names == ["A-101", "B-202", "C-303"] and inst.machine_names == ["锯床", "车床", "铣床"]
    # B-202's operations are put in operation-number order; hours became minutes
    assert inst.machine[1, :3].tolist() == [1, 2, 0] and inst.duration[1, :3].tolist() == [45, 30, 15]
    assert inst.due is not None and inst.due.tolist() == [480, 570, 420]  # minutes after 08:00
    out = schedule_jobs("shift-b", method="spt")
    assert out["makespan"] >= inst.lower_bound() and out["facts"]["n_jobs"] == 3
    assert {op["job"] for op in out["schedule"]} == {"A-101", "B-202", "C-303"}


def test_every_job_shop_problem_is_listed_at_once(tmp_path: Path) -> None:
    rows = [["J1", 1, "Lathe", 30, 100],
            ["J1", 1, "Mill", 20, 100],       # row 3: operation 1 twice
            ["J2", 1, "", 20, 200],           # row 4: missing machine
            ["J2", 2, "Mill", "ten", 200],    # row 5: duration not a number
            ["J3", 1, "Lathe", -5, 50],       # row 6: negative duration
            ["J3", 2, "Mill", 5, 60],         # row 7: a second, different due for J3
            ["", 1, "Mill", 5, 60],           # row 8: missing job
            ["J4", "x", "Mill", 5, "soon"]]   # row 9: bad operation number, bad due
    path = write_csv(tmp_path / "bad.csv", ["job", "op", "machine", "duration", "due"], rows)
    with pytest.raises(ImportProblems) as exc:
        import_dataset(path, "bad", kind="jobshop")
    found = {(p.row, p.column) for p in exc.value.problems}
    assert {(3, "op"), (4, "machine"), (5, "duration"), (6, "duration"), (7, "due"), (8, "job"), (9, "op"),
            (9, "due")} <= found
    assert Store().list_datasets() == []
    # due dates for some jobs only
    path = write_csv(tmp_path / "partial.csv", ["job", "machine", "duration", "due"],
                     [["J1", "M1", 5, 10], ["J2", "M1", 5, ""]])
    with pytest.raises(ImportProblems, match="for every job or for none; missing for 'J2'"):
        import_dataset(path, "partial", kind="jobshop")
    path = write_csv(tmp_path / "nomachine.csv", ["job", "duration"], [["J1", 5]])
    with pytest.raises(ImportProblems, match="no machine column"):
        import_dataset(path, "nm", kind="jobshop")


def test_excel_and_json_job_shops_and_map(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "operations"
    ws.append(["Auftrag", "Step", "Maschine", "Minuten"])
    for j in range(4):
        for k, m in enumerate(["Saw", "Lathe", "Drill"]):
            ws.append([f"P{j}", k + 1, m if j % 2 == 0 else ["Drill", "Saw", "Lathe"][k], 10 + 3 * j + k])
    path = tmp_path / "shop.xlsx"
    wb.save(path)
    res = import_dataset(path, "xl-shop", kind="jobshop", mapping={"Auftrag": "job", "Maschine": "machine",
                                                                    "Minuten": "duration"})
    assert res["jobs"] == 4 and res["operations"] == 12 and res["due_dates"] is False
    assert schedule_jobs("xl-shop", method="mwkr")["makespan"] > 0
    # flat JSON records, and a file already in the canonical format
    recs = [{"job": "A", "machine": "M1", "duration": 4}, {"job": "A", "machine": "M2", "duration": 3},
            {"job": "B", "machine": "M2", "duration": 2}]
    jpath = tmp_path / "ops.json"
    jpath.write_text(json.dumps({"operations": recs}), encoding="utf-8")
    assert import_dataset(jpath, "json-shop", kind="jobshop")["operations"] == 3
    demo = json.loads((Path(__file__).resolve().parents[1] / "tools/data/demo-shop.json").read_text(encoding="utf-8"))
    jpath.write_text(json.dumps(demo), encoding="utf-8")
    res = import_dataset(jpath, "my-shop", kind="jobshop")
    assert res["jobs"] == len(demo["jobs"]) and load_instance("my-shop").n_jobs == len(demo["jobs"])


def test_cli_import_jobshop_and_schedule(tmp_path: Path) -> None:
    from assistant.cli import app

    path = write_csv(tmp_path / "jobs.csv", ["工件", "工序", "设备", "工时(小时)", "交期"], ZH_ROWS)
    runner = CliRunner()
    r = runner.invoke(app, ["import", str(path), "--kind", "jobshop", "--name", "shift-b", "--shift", "08:00-18:00",
                            "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["jobs"] == 3
    r = runner.invoke(app, ["import", str(path), "--kind", "jobshop", "--name", "x", "--fleet", "f.csv", "--json"])
    assert r.exit_code == 2 and "only apply to --kind routing" in json.loads(r.stdout)["error"]
    r = runner.invoke(app, ["import", str(path), "--kind", "jobshop", "--name", "y", "--shift", "18:00-08:00"])
    assert r.exit_code == 2 and "--shift" in r.output
    r = runner.invoke(app, ["schedule", "shift-b", "--method", "fifo", "--json"])
    assert r.exit_code == 0, r.output
