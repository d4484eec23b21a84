"""The emergency knowledge graph in Kuzu: schema, idempotent loading and Cypher queries.

Nodes: ``IncidentType``, ``Place``, ``Resource``, ``Protocol``, ``Step``, ``PastCase`` (and one
``Meta`` node holding the content hash). Relations: ``OF_TYPE`` (PastCase->IncidentType), ``AT``
(PastCase->Place), ``USED`` (PastCase->Resource), ``FOLLOWED`` (PastCase->Protocol), ``FOR_TYPE``
(Protocol->IncidentType), ``HAS_STEP`` (Protocol->Step), ``NEEDS`` (Step->Resource),
``ADJACENT`` (Place->Place, stored both ways) and ``IN_DISTRICT`` (Place->Place).

The database file is named after the content hash (``graph-<hash>.kuzu`` under the store
folder), so loading the same content twice opens the same finished file and changes nothing;
new content builds a new file beside it and the old one is removed. Settings:

- ``DIAODU_KG_PATH``: the store folder (default ``<workspace>/kg``);
- ``DIAODU_KG_BACKEND``: ``embedded`` (default, Kuzu in-process) or ``server`` (an HTTP Cypher
  endpoint at ``DIAODU_KG_URL``, e.g. Kuzu's API server, for a shared deployment).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from tools.contract import INCIDENT_TYPES
from tools.core.errors import DiaoduError, check_choice
from tools.core.settings import workspace_dir

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
CONTENT_FILES = ("incident_types.json", "places.json", "resources.json", "protocols.json", "cases.jsonl")
SCHEMA_VERSION = "1"
BACKENDS = ("embedded", "server")

SCHEMA = [
    "CREATE NODE TABLE Meta(key STRING PRIMARY KEY, value STRING)",
    "CREATE NODE TABLE IncidentType(id STRING PRIMARY KEY, name_en STRING, name_zh STRING, source STRING)",
    "CREATE NODE TABLE Place(id STRING PRIMARY KEY, kind STRING, name_en STRING, name_zh STRING, aliases STRING[], source STRING)",
    "CREATE NODE TABLE Resource(id STRING PRIMARY KEY, name_en STRING, name_zh STRING, source STRING)",
    "CREATE NODE TABLE Protocol(id STRING PRIMARY KEY, title_en STRING, title_zh STRING, source STRING)",
    "CREATE NODE TABLE Step(id STRING PRIMARY KEY, ord INT64, role STRING, text_en STRING, text_zh STRING, time_target_min INT64, source STRING)",
    "CREATE NODE TABLE PastCase(id STRING PRIMARY KEY, date STRING, scenario STRING, title_en STRING, title_zh STRING, "
    "summary_en STRING, summary_zh STRING, actions_en STRING[], actions_zh STRING[], outcome_en STRING, outcome_zh STRING, "
    "lessons_en STRING[], lessons_zh STRING[], source STRING)",
    "CREATE REL TABLE OF_TYPE(FROM PastCase TO IncidentType)",
    "CREATE REL TABLE AT(FROM PastCase TO Place)",
    "CREATE REL TABLE USED(FROM PastCase TO Resource)",
    "CREATE REL TABLE FOLLOWED(FROM PastCase TO Protocol)",
    "CREATE REL TABLE FOR_TYPE(FROM Protocol TO IncidentType)",
    "CREATE REL TABLE HAS_STEP(FROM Protocol TO Step)",
    "CREATE REL TABLE NEEDS(FROM Step TO Resource)",
    "CREATE REL TABLE ADJACENT(FROM Place TO Place)",
    "CREATE REL TABLE IN_DISTRICT(FROM Place TO Place)",
]


# ---------------------------------------------------------------------------- content
def load_content(data_dir: Path = DATA_DIR) -> dict[str, list[dict[str, Any]]]:
    """Read the content files (JSON and JSONL) into lists of dicts, keyed by file stem."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name in CONTENT_FILES:
        path = data_dir / name
        text = path.read_text(encoding="utf-8")
        stem = name.split(".")[0]
        out[stem] = [json.loads(line) for line in text.splitlines() if line.strip()] if name.endswith(".jsonl") else json.loads(text)
    return out


def content_hash(data_dir: Path = DATA_DIR) -> str:
    """SHA-256 over the schema version and every content file's bytes (first 16 hex digits)."""
    h = hashlib.sha256(SCHEMA_VERSION.encode())
    for name in CONTENT_FILES:
        h.update(name.encode())
        h.update((data_dir / name).read_bytes())
    return h.hexdigest()[:16]


def validate_content(content: dict[str, list[dict[str, Any]]]) -> None:
    """Check referential integrity (types, places, resources, protocols) before loading."""
    types = {t["id"] for t in content["incident_types"]}
    if types != set(INCIDENT_TYPES):
        raise DiaoduError(f"incident types in the data {sorted(types)} differ from the contract's {list(INCIDENT_TYPES)}")
    places = {p["id"] for p in content["places"]}
    resources = {r["id"] for r in content["resources"]}
    protocols = {p["id"] for p in content["protocols"]}
    for p in content["protocols"]:
        if p["incident_type"] not in types:
            raise DiaoduError(f"protocol {p['id']}: unknown incident type {p['incident_type']!r}")
        for s in p["steps"]:
            bad = [r for r in s["resources"] if r not in resources]
            if bad:
                raise DiaoduError(f"protocol step {s['id']}: unknown resources {bad}")
    for c in content["cases"]:
        if c["incident_type"] not in types or c["place"] not in places or c["protocol"] not in protocols:
            raise DiaoduError(f"case {c['id']}: unknown type, place or protocol")
        bad = [r for r in c["resources"] if r not in resources]
        if bad:
            raise DiaoduError(f"case {c['id']}: unknown resources {bad}")
    for node in [*content["places"], *content["resources"], *content["protocols"], *content["cases"]]:
        if not node.get("source"):
            raise DiaoduError(f"node {node['id']} has no source")


# ---------------------------------------------------------------------------- settings
def kg_dir() -> Path:
    """The folder holding the graph database files (``DIAODU_KG_PATH`` or ``<workspace>/kg``)."""
    env = os.environ.get("DIAODU_KG_PATH")
    path = Path(env).expanduser() if env else workspace_dir() / "kg"
    path.mkdir(parents=True, exist_ok=True)
    return path


def backend() -> str:
    """The configured store backend (``DIAODU_KG_BACKEND``: embedded or server)."""
    return check_choice("DIAODU_KG_BACKEND", os.environ.get("DIAODU_KG_BACKEND", "embedded"), BACKENDS)


# ---------------------------------------------------------------------------- stores
class GraphStore(Protocol):
    """Anything that answers a Cypher query with rows of named columns."""

    content_hash: str

    def query(self, cypher: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]: ...


class EmbeddedStore:
    """A Kuzu database file opened read-only (many processes may read it at once)."""

    def __init__(self, path: Path, digest: str):
        import kuzu

        self.path = path
        self.content_hash = digest
        self._db = kuzu.Database(str(path), read_only=True)
        self._conn = kuzu.Connection(self._db, num_threads=1)

    def query(self, cypher: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one Cypher query and return its rows as dicts."""
        result = self._conn.execute(cypher, params or {})
        if isinstance(result, list):  # several statements: the last one's rows
            result = result[-1]
        cols = result.get_column_names()
        rows = []
        while result.has_next():
            rows.append(dict(zip(cols, result.get_next(), strict=True)))
        return rows


class ServerStore:
    """A Cypher-over-HTTP endpoint (Kuzu API server: ``POST {url}/cypher``), for a shared graph.

    The server is loaded once with the same content (``export_cypher`` writes the statements);
    this client only reads. It is not exercised by the test-suite, which uses the embedded store.
    """

    def __init__(self, url: str, digest: str):
        self.url = url.rstrip("/")
        self.content_hash = digest

    def query(self, cypher: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        import httpx

        try:
            resp = httpx.post(f"{self.url}/cypher", json={"query": cypher, "params": params or {}}, timeout=10.0)
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            raise DiaoduError(f"knowledge-graph server at {self.url} failed: {exc}", code="kg_unavailable") from exc
        return list(resp.json().get("rows", []))


@contextmanager
def _lock(folder: Path) -> Iterator[None]:
    with open(folder / ".lock", "a") as fh:  # "a": taking the lock must not touch the folder
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def graph_path(folder: Path | None = None, data_dir: Path = DATA_DIR) -> Path:
    """Where the database for the current content lives (it may not exist yet)."""
    return (folder or kg_dir()) / f"graph-{content_hash(data_dir)}.kuzu"


def ensure_loaded(folder: Path | None = None, data_dir: Path = DATA_DIR) -> tuple[Path, bool]:
    """Build the database for the current content unless it already exists.

    Returns the database path and whether it was built now. Idempotent: a finished database
    carries its content hash in ``Meta`` and is never rewritten; stale ones are removed.
    """
    folder = folder or kg_dir()
    digest = content_hash(data_dir)
    path = folder / f"graph-{digest}.kuzu"
    with _lock(folder):
        if path.exists() and (folder / f"graph-{digest}.done").exists():
            return path, False
        content = load_content(data_dir)
        validate_content(content)
        for old in folder.glob("graph-*"):
            if old.is_dir():
                shutil.rmtree(old)
            else:
                old.unlink()
        _build(path, content, digest)
        (folder / f"graph-{digest}.done").write_text(digest)
        log.info("built knowledge graph %s", path)
        return path, True


def _build(path: Path, content: dict[str, list[dict[str, Any]]], digest: str) -> None:
    import kuzu

    db = kuzu.Database(str(path))
    conn = kuzu.Connection(db, num_threads=1)
    try:
        for stmt in SCHEMA:
            conn.execute(stmt)
        run = conn.execute
        run("CREATE (:Meta {key: 'content_hash', value: $v})", {"v": digest})
        run("UNWIND $rows AS r CREATE (:IncidentType {id: r.id, name_en: r.name_en, name_zh: r.name_zh, source: r.source})",
            {"rows": content["incident_types"]})
        run("UNWIND $rows AS r CREATE (:Place {id: r.id, kind: r.kind, name_en: r.name_en, name_zh: r.name_zh, "
            "aliases: r.aliases, source: r.source})",
            {"rows": [{k: p[k] for k in ("id", "kind", "name_en", "name_zh", "aliases", "source")} for p in content["places"]]})
        run("UNWIND $rows AS r CREATE (:Resource {id: r.id, name_en: r.name_en, name_zh: r.name_zh, source: r.source})",
            {"rows": content["resources"]})
        protos = content["protocols"]
        run("UNWIND $rows AS r CREATE (:Protocol {id: r.id, title_en: r.title_en, title_zh: r.title_zh, source: r.source})",
            {"rows": [{k: p[k] for k in ("id", "title_en", "title_zh", "source")} for p in protos]})
        steps = [s for p in protos for s in p["steps"]]
        run("UNWIND $rows AS r CREATE (:Step {id: r.id, ord: r.ord, role: r.role, text_en: r.text_en, text_zh: r.text_zh, "
            "time_target_min: r.time_target_min, source: r.source})",
            {"rows": [{"ord": s["order"], **{k: s[k] for k in ("id", "role", "text_en", "text_zh", "time_target_min", "source")}} for s in steps]})
        case_keys = ("id", "date", "scenario", "title_en", "title_zh", "summary_en", "summary_zh", "actions_en", "actions_zh",
                     "outcome_en", "outcome_zh", "lessons_en", "lessons_zh", "source")
        run("UNWIND $rows AS r CREATE (:PastCase {" + ", ".join(f"{k}: r.{k}" for k in case_keys) + "})",
            {"rows": [{k: c[k] for k in case_keys} for c in content["cases"]]})

        def rel(name: str, src: str, dst: str, pairs: list[tuple[str, str]]) -> None:
            run(f"UNWIND $rows AS r MATCH (a:{src} {{id: r.s}}), (b:{dst} {{id: r.t}}) CREATE (a)-[:{name}]->(b)",
                {"rows": [{"s": s, "t": t} for s, t in pairs]})

        for name, src, dst, pairs in _relations(content):
            rel(name, src, dst, pairs)
    finally:
        conn.close()
        db.close()


def _relations(content: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    cases, protos, places = content["cases"], content["protocols"], content["places"]
    steps = [s for p in protos for s in p["steps"]]
    return [
        ("OF_TYPE", "PastCase", "IncidentType", [(c["id"], c["incident_type"]) for c in cases]),
        ("AT", "PastCase", "Place", [(c["id"], c["place"]) for c in cases]),
        ("USED", "PastCase", "Resource", [(c["id"], r) for c in cases for r in c["resources"]]),
        ("FOLLOWED", "PastCase", "Protocol", [(c["id"], c["protocol"]) for c in cases]),
        ("FOR_TYPE", "Protocol", "IncidentType", [(p["id"], p["incident_type"]) for p in protos]),
        ("HAS_STEP", "Protocol", "Step", [(p["id"], s["id"]) for p in protos for s in p["steps"]]),
        ("NEEDS", "Step", "Resource", [(s["id"], r) for s in steps for r in s["resources"]]),
        ("ADJACENT", "Place", "Place", [(p["id"], q) for p in places for q in p["adjacent"]]),
        ("IN_DISTRICT", "Place", "Place", [(p["id"], p["district"]) for p in places if p.get("district")]),
    ]


@lru_cache(maxsize=4)
def _open_embedded(path: str, digest: str) -> EmbeddedStore:
    return EmbeddedStore(Path(path), digest)


def open_store() -> GraphStore:
    """The configured graph store, loading the embedded database first if needed."""
    if backend() == "server":
        url = os.environ.get("DIAODU_KG_URL")
        if not url:
            raise DiaoduError("DIAODU_KG_BACKEND=server needs DIAODU_KG_URL (e.g. http://localhost:8000)", code="kg_unavailable")
        return ServerStore(url, content_hash())
    path, _ = ensure_loaded()
    return _open_embedded(str(path), content_hash())


def counts(store: GraphStore) -> dict[str, int]:
    """Node and relation counts by label (used by tests and ``diaodu cases --stats``)."""
    out: dict[str, int] = {}
    for label in ("IncidentType", "Place", "Resource", "Protocol", "Step", "PastCase"):
        out[label] = int(store.query(f"MATCH (n:{label}) RETURN count(n) AS n")[0]["n"])
    for rel in ("OF_TYPE", "AT", "USED", "FOLLOWED", "FOR_TYPE", "HAS_STEP", "NEEDS", "ADJACENT", "IN_DISTRICT"):
        out[rel] = int(store.query(f"MATCH ()-[r:{rel}]->() RETURN count(r) AS n")[0]["n"])
    return out


def export_cypher(content: dict[str, list[dict[str, Any]]] | None = None) -> str:
    """The schema plus ``CREATE``/``MATCH..CREATE`` statements that load the content into a Cypher server.

    Used to seed a server-backed graph (Kuzu API server, or Neo4j/Memgraph after dropping the
    Kuzu-only ``CREATE NODE/REL TABLE`` lines).
    """
    content = content or load_content()
    lines = [s + ";" for s in SCHEMA]

    def lit(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False)

    def node(label: str, props: dict[str, Any]) -> str:
        return f"CREATE (:{label} {{" + ", ".join(f"{k}: {lit(v)}" for k, v in props.items()) + "});"

    for t in content["incident_types"]:
        lines.append(node("IncidentType", t))
    for p in content["places"]:
        lines.append(node("Place", {k: p[k] for k in ("id", "kind", "name_en", "name_zh", "aliases", "source")}))
    for r in content["resources"]:
        lines.append(node("Resource", r))
    for p in content["protocols"]:
        lines.append(node("Protocol", {k: p[k] for k in ("id", "title_en", "title_zh", "source")}))
        for s in p["steps"]:
            lines.append(node("Step", {"id": s["id"], "ord": s["order"], **{k: s[k] for k in ("role", "text_en", "text_zh", "time_target_min", "source")}}))
    for c in content["cases"]:
        lines.append(node("PastCase", {k: v for k, v in c.items() if k not in ("incident_type", "place", "protocol", "resources")}))
    for name, src, dst, pairs in _relations(content):
        lines.extend(f"MATCH (a:{src} {{id: {lit(a)}}}), (b:{dst} {{id: {lit(b)}}}) CREATE (a)-[:{name}]->(b);" for a, b in pairs)
    return "\n".join(lines) + "\n"
