"""Reading a user's table (CSV, Excel, JSON) and finding its columns by name.

A :class:`Table` is the header row plus data rows, each row remembering its row number in the
file (CSV/Excel: the spreadsheet row a user sees, header = row 1; JSON: the record number), so
every validation problem can point at the row and column to fix.

Columns are found by name with English and Chinese synonyms (:data:`ORDER_FIELDS`,
:data:`FLEET_FIELDS`, :data:`JOB_FIELDS`); ``--map COLUMN=FIELD`` overrides. A unit written in
the header (``Demand (t)``, ``服务时间(小时)``) is read and converted to the stated units (kg, minutes).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import re
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from tools.core.errors import DiaoduError

log = logging.getLogger(__name__)

FORMATS = ("csv", "xlsx", "json")
MAX_ROWS = 20_000

# field -> synonyms (compared after :func:`normalise`). Order matters only for the error hints.
ORDER_FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("id", "order", "orderid", "orderno", "ordernumber", "no", "number", "ref", "reference", "stopid",
           "customerid", "订单号", "订单编号", "编号", "订单", "单号", "序号", "客户编号"),
    "name": ("name", "customer", "customername", "client", "shop", "store", "consignee", "site",
             "客户", "客户名称", "名称", "门店", "收货人", "网点"),
    "address": ("address", "addr", "street", "地址", "收货地址", "详细地址"),
    "district": ("district", "area", "zone", "region", "区域", "片区", "区"),
    "type": ("type", "kind", "role", "nodetype", "类型", "节点类型"),
    "x": ("x", "xkm", "coordx", "easting", "横坐标", "x坐标"),
    "y": ("y", "ykm", "coordy", "northing", "纵坐标", "y坐标"),
    "lat": ("lat", "latitude", "纬度"),
    "lon": ("lon", "lng", "long", "longitude", "经度"),
    "demand": ("demand", "qty", "quantity", "weight", "load", "amount", "volume", "kg", "数量", "重量", "需求",
               "需求量", "货量", "载货量", "件数"),
    "ready": ("ready", "readytime", "earliest", "windowstart", "twstart", "start", "from", "open", "opens",
              "timefrom", "最早", "最早时间", "最早到达", "开始时间", "时间窗开始", "起始时间"),
    "due": ("due", "duetime", "latest", "windowend", "twend", "end", "to", "close", "closes", "deadline",
            "timeto", "最晚", "最晚时间", "最晚到达", "截止时间", "时间窗结束", "结束时间"),
    "window": ("window", "timewindow", "tw", "时间窗", "送货时间", "配送时间"),
    "service": ("service", "servicemin", "servicetime", "servicemins", "servicedur", "stoptime", "dwell",
                "unload", "unloadtime", "服务时间", "卸货时间", "停留时间", "作业时间"),
}
FLEET_FIELDS: dict[str, tuple[str, ...]] = {
    "vehicle": ("vehicle", "vehicleid", "vehiclename", "truck", "van", "plate", "name", "id", "type",
                "车辆", "车号", "车牌", "车牌号", "车辆编号", "车型", "名称"),
    "capacity": ("capacity", "cap", "maxload", "payload", "capacitykg", "载重", "容量", "核载", "载重量", "额定载重"),
    "count": ("count", "number", "qty", "quantity", "vehicles", "units", "fleet", "数量", "台数", "辆数", "车辆数"),
}
JOB_FIELDS: dict[str, tuple[str, ...]] = {
    "job": ("job", "jobid", "jobname", "order", "orderid", "part", "workorder", "wo", "工件", "工件号", "订单",
            "作业", "工单", "产品"),
    "op": ("op", "operation", "opno", "seq", "sequence", "step", "order_of_op", "routing", "工序", "工序号",
           "顺序", "步骤"),
    "machine": ("machine", "resource", "station", "workcenter", "workcentre", "equipment", "机器", "设备",
                "机床", "工位", "工作中心"),
    "duration": ("duration", "time", "proctime", "processingtime", "minutes", "mins", "worktime", "工时",
                 "加工时间", "时长", "用时"),
    "due": ("due", "duedate", "deadline", "duetime", "交期", "交货期", "截止时间"),
    "release": ("release", "releasetime", "ready", "arrival", "释放时间", "到达时间", "开始时间"),
}

# header unit -> factor to the stated unit (kg for demand and capacity, minutes for times)
MASS_UNITS = {"kg": 1.0, "公斤": 1.0, "千克": 1.0, "t": 1000.0, "ton": 1000.0, "tons": 1000.0, "tonne": 1000.0,
              "tonnes": 1000.0, "吨": 1000.0, "g": 0.001, "克": 0.001, "lb": 0.45359237, "lbs": 0.45359237}
TIME_UNITS = {"min": 1.0, "mins": 1.0, "minute": 1.0, "minutes": 1.0, "分": 1.0, "分钟": 1.0, "m": 1.0,
              "h": 60.0, "hr": 60.0, "hrs": 60.0, "hour": 60.0, "hours": 60.0, "小时": 60.0, "时": 60.0,
              "s": 1 / 60, "sec": 1 / 60, "secs": 1 / 60, "second": 1 / 60, "seconds": 1 / 60, "秒": 1 / 60}
LENGTH_UNITS = {"km": 1.0, "公里": 1.0, "千米": 1.0, "m": 0.001, "米": 0.001, "mi": 1.609344, "mile": 1.609344,
                "miles": 1.609344}

_UNIT_RE = re.compile(r"^(?P<base>.*?)\s*[\(\[（【](?P<unit>[^\)\]）】]*)[\)\]）】]\s*$")


def normalise(header: str) -> str:
    """Header -> comparison key: lower case, no spaces, underscores, dashes, dots or unit suffix."""
    base, _ = split_unit(header)
    return re.sub(r"[\s_\-\.:/#]+", "", base.strip().lower())


def split_unit(header: str) -> tuple[str, str]:
    """``"Demand (kg)"`` -> ``("Demand", "kg")``; ``"x_km"`` keeps its name (the field table knows it)."""
    m = _UNIT_RE.match(str(header))
    if m:
        return m.group("base"), m.group("unit").strip().lower()
    return str(header), ""


@dataclass
class Row:
    """One data row: its number in the file and ``{header: value}``."""

    number: int
    values: dict[str, Any]


@dataclass
class Table:
    """A header and rows read from one file (or one sheet / one JSON list)."""

    source: str  # file name (and sheet) for messages
    headers: list[str]
    rows: list[Row]
    row_word: str = "row"  # "row" (CSV/Excel) or "record" (JSON)
    extra: dict[str, Any] = field(default_factory=dict)  # JSON: the document's other keys


@dataclass
class Problem:
    """One thing wrong with the input, located by file, row and column."""

    message: str
    source: str = ""
    row: int | None = None
    column: str | None = None
    row_word: str = "row"

    def __str__(self) -> str:
        where = []
        if self.source:
            where.append(self.source)
        if self.row is not None:
            where.append(f"{self.row_word} {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "row": self.row, "column": self.column, "message": self.message}


class ImportProblems(DiaoduError):
    """Every problem found in the input at once; nothing was stored."""

    def __init__(self, problems: list[Problem], max_listed: int = 30):
        # file by file (in the order met), then row by row, so the list reads like the file
        first = {src: k for k, src in reversed(list(enumerate(p.source for p in problems)))}
        problems = sorted(problems, key=lambda p: (first[p.source], p.row or 0))
        lines = [str(p) for p in problems[:max_listed]]
        more = f"\n  ... and {len(problems) - max_listed} more" if len(problems) > max_listed else ""
        noun = "problem" if len(problems) == 1 else "problems"
        msg = f"nothing imported: {len(problems)} {noun} in the input\n  " + "\n  ".join(lines) + more
        super().__init__(msg, code="invalid_import", details={"problems": [p.to_dict() for p in problems]})
        self.problems = problems


# ---------------------------------------------------------------------------
# reading files

def file_format(path: Path) -> str:
    """``csv`` | ``xlsx`` | ``json`` from the file name; a clear error otherwise."""
    suffix = path.suffix.lower().lstrip(".")
    fmt = {"csv": "csv", "txt": "csv", "tsv": "csv", "xlsx": "xlsx", "xlsm": "xlsx", "json": "json"}.get(suffix)
    if fmt is None:
        raise DiaoduError(f"{path.name}: unsupported file type {path.suffix or '(none)'!r}; use one of "
                          ".csv, .xlsx, .json (save .xls files as .xlsx)", code="bad_file")
    return fmt


def read_text(path: Path) -> str:
    """File text; UTF-8 (with or without BOM), falling back to GB18030 as Excel writes in China."""
    data = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DiaoduError(f"{path.name}: not a text file in UTF-8 or GBK", code="bad_file")


def read_csv(path: Path) -> Table:
    """A CSV (comma, semicolon or tab separated) as a :class:`Table`; blank lines are skipped."""
    text = read_text(path)
    if not text.strip():
        raise ImportProblems([Problem("the file is empty", path.name)])
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    headers: list[str] | None = None
    raw: list[tuple[int, list[Any]]] = []
    for lineno, cells in enumerate(reader, start=1):
        if not any(c.strip() for c in cells):
            continue
        if headers is None:
            headers = [c.strip() for c in cells]
            continue
        raw.append((lineno, [c.strip() for c in cells]))
        if len(raw) > MAX_ROWS:
            raise DiaoduError(f"{path.name}: more than {MAX_ROWS} rows; split the file", code="too_large")
    headers = _name_blank_headers(headers or [], raw)
    rows = [Row(n, {h: (cells[k] if k < len(cells) else "") for k, h in enumerate(headers) if h}) for n, cells in raw]
    return _checked(Table(path.name, [h for h in headers if h], rows))


def read_xlsx(path: Path, sheet_names: tuple[str, ...] = ()) -> Table:
    """A sheet of an Excel workbook (the first one named in ``sheet_names`` if present, else the first)."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException on non-xlsx files
        raise DiaoduError(f"{path.name}: not a readable .xlsx workbook ({type(exc).__name__})", code="bad_file") from None
    try:
        ws = next((wb[s] for s in wb.sheetnames if normalise(s) in {normalise(n) for n in sheet_names}), wb.worksheets[0])
        headers: list[str] | None = None
        raw: list[tuple[int, list[Any]]] = []
        for rowno, cells in enumerate(ws.iter_rows(values_only=True), start=1):
            if not any(c is not None and str(c).strip() for c in cells):
                continue
            if headers is None:
                headers = ["" if c is None else str(c).strip() for c in cells]
                continue
            raw.append((rowno, [c.strip() if isinstance(c, str) else c for c in cells]))
            if len(raw) > MAX_ROWS:
                raise DiaoduError(f"{path.name}: more than {MAX_ROWS} rows; split the file", code="too_large")
        title = ws.title
    finally:
        wb.close()
    headers = _name_blank_headers(headers or [], raw)
    rows = [Row(n, {h: (cells[k] if k < len(cells) else None) for k, h in enumerate(headers) if h}) for n, cells in raw]
    return _checked(Table(f"{path.name} (sheet {title})", [h for h in headers if h], rows))


def xlsx_sheets(path: Path) -> list[str]:
    """The sheet names of a workbook."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True)
    except Exception:
        return []
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def read_json_records(path: Path, records: Any, key: str = "") -> Table:
    """A JSON list of flat objects as a :class:`Table` (record numbers from 1)."""
    src = f"{path.name}{f' ({key})' if key else ''}"
    if not isinstance(records, list):
        raise ImportProblems([Problem(f"expected a list of records; got {type(records).__name__}", src)])
    headers: list[str] = []
    rows: list[Row] = []
    problems: list[Problem] = []
    for k, rec in enumerate(records, start=1):
        if not isinstance(rec, dict):
            problems.append(Problem(f"each record must be an object; got {rec!r:.40}", src, k, row_word="record"))
            continue
        for h in rec:
            if str(h) not in headers:
                headers.append(str(h))
        rows.append(Row(k, {str(h): v for h, v in rec.items()}))
    if problems:
        raise ImportProblems(problems)
    return _checked(Table(src, headers, rows, row_word="record"))


def load_json(path: Path) -> Any:
    """Parse a JSON file; a syntax error names its line."""
    text = read_text(path)
    if not text.strip():
        raise ImportProblems([Problem("the file is empty", path.name)])
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DiaoduError(f"{path.name}, line {exc.lineno}: invalid JSON: {exc.msg}", code="bad_file") from None


def read_table(path: Path, sheet_names: tuple[str, ...] = ()) -> Table:
    """Read a CSV or Excel file (JSON documents are handled by the importers, which know their keys)."""
    fmt = file_format(path)
    if fmt == "csv":
        return read_csv(path)
    if fmt == "xlsx":
        return read_xlsx(path, sheet_names)
    data = load_json(path)
    return read_json_records(path, data)


def _name_blank_headers(headers: list[str], raw_rows: list[tuple[int, list[Any]]]) -> list[str]:
    """A blank header over a column with data (a matrix's id column) becomes ``column N``; blank empty
    columns (trailing commas, Excel's formatted-but-empty cells) stay blank and are dropped."""
    out = list(headers)
    for k, h in enumerate(headers):
        if not h and any(k < len(cells) and cells[k] not in (None, "") for _, cells in raw_rows):
            out[k] = f"column {k + 1}"
    return out


def _checked(table: Table) -> Table:
    if not table.headers:
        raise ImportProblems([Problem("the file is empty (no header row)", table.source)])
    if not table.rows:
        raise ImportProblems([Problem("the file has a header but no data rows", table.source)])
    return table


# ---------------------------------------------------------------------------
# columns

def parse_mapping(items: list[str] | None) -> dict[str, str]:
    """``["Kunde=name", "Gewicht=demand"]`` -> ``{"Kunde": "name", ...}`` (the field names are checked later)."""
    out: dict[str, str] = {}
    for item in items or []:
        col, sep, fld = str(item).partition("=")
        if not sep or not col.strip() or not fld.strip():
            raise DiaoduError(f"--map must look like COLUMN=FIELD (e.g. Gewicht=demand); got {item!r}")
        out[col.strip()] = fld.strip().lower()
    return out


@dataclass
class Columns:
    """Which header holds which field in one table, and the unit factors read from the headers."""

    found: dict[str, str]  # field -> header
    ignored: list[str]  # headers that matched no field
    factors: dict[str, float] = field(default_factory=dict)  # field -> factor to stated unit

    def get(self, row: Row, fld: str) -> Any:
        header = self.found.get(fld)
        if header is None:
            return None
        value = row.values.get(header)
        if isinstance(value, str) and not value.strip():
            return None
        return value

    def header(self, fld: str) -> str:
        return self.found.get(fld, fld)


def match_columns(table: Table, fields: dict[str, tuple[str, ...]], mapping: dict[str, str],
                  problems: list[Problem], unit_kinds: dict[str, dict[str, float]] | None = None,
                  strict: bool = True) -> Columns:
    """Match ``table``'s headers to ``fields`` (mapping first, then synonyms); problems are appended.

    ``strict``: a mapping to a field this table does not have is a problem (else the caller checks
    mappings across its tables, e.g. orders and fleet)."""
    found: dict[str, str] = {}
    taken: set[str] = set()
    by_norm = {normalise(h): h for h in table.headers}
    for col, fld in mapping.items():
        if col not in table.headers and normalise(col) not in by_norm:
            continue  # the mapping may be meant for the other table (orders vs fleet)
        header = col if col in table.headers else by_norm[normalise(col)]
        if fld not in fields:
            if not strict:
                continue
            problems.append(Problem(f"--map {col}={fld}: unknown field {fld!r}; fields here are "
                                    f"{', '.join(fields)}", table.source))
            continue
        found[fld] = header
        taken.add(header)
    for fld, synonyms in fields.items():
        if fld in found:
            continue
        for syn in synonyms:
            match = by_norm.get(normalise(syn))
            if match is not None and match not in taken:
                found[fld] = match
                taken.add(match)
                break
    factors: dict[str, float] = {}
    for fld, header in found.items():
        units = (unit_kinds or {}).get(fld)
        if units is None:
            continue
        _, unit = split_unit(header)
        if not unit:
            continue
        if unit not in units:
            problems.append(Problem(f"unknown unit {unit!r} for {fld}; use one of {', '.join(sorted(units))}",
                                    table.source, column=header))
            continue
        factors[fld] = units[unit]
    ignored = [h for h in table.headers if h not in taken]
    if ignored:
        log.info("%s: ignoring columns %s", table.source, ignored)
    return Columns(found, ignored, factors)


def column_hint(table: Table, fields: dict[str, tuple[str, ...]], fld: str) -> str:
    """Advice for a missing column: the ignored headers that look closest, and the --map syntax."""
    allsyn = {normalise(s) for s in fields[fld]}
    close = [h for h in table.headers if get_close_matches(normalise(h), list(allsyn), n=1, cutoff=0.6)]
    cols = ", ".join(table.headers[:12])
    near = f"; maybe {close[0]!r}? " if close else "; "
    return f"columns are {cols}{near}name one with --map COLUMN={fld}"


def ignored_hints(cols: Columns, fields: dict[str, tuple[str, ...]]) -> list[str]:
    """For each ignored header, a hint when it looks like a known field (a typo or an unknown synonym)."""
    hints = []
    pool = {normalise(s): f for f, syns in fields.items() if f not in cols.found for s in syns}
    for h in cols.ignored:
        near = get_close_matches(normalise(h), list(pool), n=1, cutoff=0.75)
        if near:
            hints.append(f"column {h!r} was ignored; if it is the {pool[near[0]]}, pass --map {h}={pool[near[0]]}")
    return hints


# ---------------------------------------------------------------------------
# cell values

def as_number(value: Any) -> float | None:
    """A cell as a number (``"1,200"`` and ``"12.5"`` too), or None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if value == value else None
    text = str(value).strip().replace("，", ",").replace(" ", "").replace("\u00a0", "")
    if "," in text:
        if "." in text and text.rfind(",") > text.rfind("."):  # 1.234,5 (European)
            text = text.replace(".", "").replace(",", ".")
        elif re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?", text):  # 1,200 or 1,234,567.5
            text = text.replace(",", "")
        elif re.fullmatch(r"[+-]?\d+,\d+", text):  # 12,5 (decimal comma)
            text = text.replace(",", ".")
        else:
            return None
    try:
        return float(text)
    except ValueError:
        return None


_ZH_CLOCK_RE = re.compile(r"^\s*(上午|早上|中午|下午|晚上)?\s*(\d{1,2})\s*[点时]\s*(?:(半)|(\d{1,2})\s*分?)?\s*$")
_CLOCK_RE = re.compile(r"^\s*(\d{1,2})[:：.](\d{2})(?:[:：](\d{2}))?\s*([ap]\.?m\.?)?\s*$", re.IGNORECASE)


def as_clock(value: Any) -> int | None:
    """A cell as minutes after midnight: ``"09:30"``, ``"9:30 AM"``, ``"09:30:00"``, an Excel time
    (``datetime.time`` / ``datetime``) or an Excel day fraction (0 <= v < 1); None when unparseable."""
    if isinstance(value, dt.datetime):
        return value.hour * 60 + value.minute + (1 if value.second >= 30 else 0)
    if isinstance(value, dt.time):
        return value.hour * 60 + value.minute + (1 if value.second >= 30 else 0)
    if isinstance(value, dt.timedelta):
        minutes = round(value.total_seconds() / 60)
        return minutes if 0 <= minutes <= 24 * 60 else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 0 <= value < 1:  # an Excel time cell read as a fraction of a day
            return int(round(value * 24 * 60))
        return None
    if not isinstance(value, str):
        return None
    zh = _ZH_CLOCK_RE.match(value)
    if zh:  # 9点, 9点30, 下午3点半
        hour = int(zh.group(2))
        minute = 30 if zh.group(3) else int(zh.group(4) or 0)
        if zh.group(1) in ("下午", "晚上") and hour < 12:
            hour += 12
        return hour * 60 + minute if hour < 24 and minute < 60 else None
    m = _CLOCK_RE.match(value)
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2))
    ampm = (m.group(4) or "").lower().replace(".", "")
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        return None
    return hour * 60 + minute


def clock_text(minutes: int) -> str:
    """Minutes after midnight -> ``HH:MM``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_window(value: Any) -> tuple[int, int] | None:
    """``"09:00-11:00"`` (also ``~``, ``–``, ``至``, ``到``) -> (start, end) minutes; None when unparseable."""
    if not isinstance(value, str):
        return None
    parts = re.split(r"\s*(?:-|~|–|—|至|到|to)\s*", value.strip(), maxsplit=1)
    if len(parts) != 2:
        return None
    a, b = as_clock(parts[0]), as_clock(parts[1])
    return None if a is None or b is None else (a, b)


def as_text(value: Any) -> str:
    """A cell as display text (``12.0`` -> ``"12"``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
