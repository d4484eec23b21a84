"""``search_emergency_cases``: the contract tool over the emergency knowledge graph.

Returns the most similar past cases and the response protocol's steps, each carrying the id of
its node in the graph (``case-…``, ``proto-…-sN``) so that every recommendation can be traced.
The query is data: it is tokenised and embedded, never followed as an instruction.
"""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

from tools.contract import INCIDENT_TYPES
from tools.core.errors import DiaoduError, check_choice, check_int

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 2000
_TYPE_ZH = {"road_closure": "道路封闭", "traffic_accident": "交通事故", "hazmat_spill": "危化品泄漏", "flooding": "积水/内涝",
            "vehicle_fire": "车辆起火", "severe_weather": "恶劣天气", "power_outage": "停电", "cold_chain_failure": "冷链失效"}
MAX_K = 20
FACTS_BUDGET = 1450


def _check_text(arg: str, value: object, limit: int) -> str:
    if not isinstance(value, str):
        raise DiaoduError(f"{arg} must be text (a string); got {type(value).__name__} {value!r:.60}")
    text = value.strip()
    if not text:
        raise DiaoduError(f"{arg} is empty; describe the situation, e.g. 'tanker leaking on the G15 ramp'")
    if len(text) > limit:
        raise DiaoduError(f"{arg} is too long ({len(text)} characters; at most {limit})")
    return text


def search_emergency_cases(query: str, incident_type: str | None = None, location: str | None = None,
                           k: int = 3, mode: str = "hybrid_graph") -> dict[str, Any]:
    """Similar past cases and protocol steps for an emergency, each with its graph node id.

    ``incident_type`` (one of the contract's eight) fixes the type instead of inferring it;
    ``location`` names a road, district or site (matched to graph places, used for nearby cases
    and detour neighbours); ``k`` is the number of cases (1-20). ``mode`` is an extra for
    benchmarking (``bm25``, ``dense``, ``hybrid``, ``hybrid_graph``).
    """
    from knowledge_graph.retrieval import MODES, get_retriever, is_chinese

    text = _check_text("query", query, MAX_QUERY_CHARS)
    itype = check_choice("incident_type", incident_type, INCIDENT_TYPES) if incident_type is not None else None
    loc = _check_text("location", location, 200) if location is not None else None
    k = check_int("k", k, minimum=1, maximum=MAX_K)
    mode = check_choice("mode", mode, MODES)

    retriever = get_retriever()
    result = retriever.search(text, mode=mode, k=k, incident_type=itype, location=loc)
    store = retriever.store
    rows = retriever.cases
    cases = []
    for h in result.hits:
        r = rows[h.case_id]
        cases.append({"id": h.case_id, "node": f"PastCase:{h.case_id}", "incident_type": r["type"], "title": r["title_en"],
                      "title_zh": r["title_zh"], "location": r["place_en"], "location_zh": r["place_zh"],
                      "place_id": r["place"], "date": r["date"], "score": round(h.score, 4), "summary": r["summary_en"],
                      "summary_zh": r["summary_zh"], "actions": list(r["actions_en"]), "actions_zh": list(r["actions_zh"]),
                      "outcome": r["outcome_en"], "outcome_zh": r["outcome_zh"], "lessons": list(r["lessons_en"]),
                      "lessons_zh": list(r["lessons_zh"]), "protocol_id": r["protocol"], "source": r["source"]})

    protocol_id = _choose_protocol(store, [c for c in cases if c["incident_type"] == result.incident_type], result.incident_type)
    proto, steps = _protocol(store, protocol_id)
    places = _places(store, result.place_ids)

    type_given = itype is not None
    confidence = round(result.type_scores.get(result.incident_type, 0.0) / (sum(result.type_scores.values()) or 1.0), 2)
    zh = is_chinese(text)
    first = steps[0] if steps else None
    ids_txt = ", ".join(c["id"] for c in cases)
    message = (f"Found {len(cases)} similar past {result.incident_type.replace('_', ' ')} case(s) ({ids_txt}); "
               f"protocol {protocol_id} ({proto['title']}) has {len(steps)} steps"
               + (f", first: {first['text']} [{first['id']}]" if first else "") + ".")
    message_zh = (f"找到{len(cases)}个相似的历史{_TYPE_ZH[result.incident_type]}案例（{ids_txt}）；"
                  f"处置规程{protocol_id}（{proto['title_zh']}）共{len(steps)}步"
                  + (f"，第一步：{first['text_zh']}[{first['id']}]" if first else "") + "。")
    # What the assistant's model sees (facts + message, compact): the cases' titles and outcomes and
    # each step's text and time target in the dispatcher's language, all with their node ids.
    facts: dict[str, Any] = {
        "incident_type": result.incident_type, "incident_type_given": type_given, "type_confidence": confidence,
        "protocol_id": protocol_id, "n_steps": len(steps), "places": [p["id"] for p in places],
        "location_matched": bool(loc and retriever.match_places(loc)),
        "cases": [{"id": c["id"], "title": c["title_zh" if zh else "title"], "outcome": c["outcome_zh" if zh else "outcome"]}
                  for c in cases],
        "steps": [{"id": s["id"], "min": s["time_target_min"], "text": _short(s["text_zh" if zh else "text"], 40 if zh else 90)}
                  for s in steps],
    }

    # The assistant shows its model only facts + message, cut at 1500 characters: keep the facts
    # within budget by listing fewer steps there (all of them stay under "steps").
    def size() -> int:
        return len(json.dumps({"ok": True, "facts": facts, "message": message}, ensure_ascii=False))

    if size() > FACTS_BUDGET:
        for c in facts["cases"]:
            c.pop("outcome")
    while facts["steps"] and size() > FACTS_BUDGET:
        facts["steps"].pop()
    return {"query": text, "incident_type": result.incident_type, "incident_type_given": type_given,
            "type_confidence": confidence, "location": loc, "places": places, "cases": cases,
            "protocol_ref": {"id": protocol_id, "node": f"Protocol:{protocol_id}", "title": proto["title"],
                             "title_zh": proto["title_zh"], "source": proto["source"]},
            "steps": steps, "facts": facts, "message": message, "message_zh": message_zh, "mode": mode}


def _short(text: str, limit: int) -> str:
    # Step texts are cut for the model's compact view only; the full text is under "steps".
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _choose_protocol(store: Any, cases: list[dict[str, Any]], itype: str) -> str:
    # The protocol most of the matching cases followed; else the type's first (general) protocol.
    if cases:
        counts: dict[str, int] = {}
        for c in cases:
            counts[c["protocol_id"]] = counts.get(c["protocol_id"], 0) + 1
        return max(counts, key=lambda p: (counts[p], -[c["protocol_id"] for c in cases].index(p)))
    rows = _cached(store, ("type_protocols", itype), lambda: store.query(
        "MATCH (p:Protocol)-[:FOR_TYPE]->(:IncidentType {id: $t}) RETURN p.id AS id ORDER BY p.id", {"t": itype}))
    if not rows:
        raise DiaoduError(f"no protocol for incident type {itype!r} in the knowledge graph", code="kg_incomplete")
    general = [r["id"] for r in rows if r["id"] == f"proto-{itype.replace('_', '-')}"]
    return general[0] if general else rows[0]["id"]


_CACHE: dict[tuple[str, ...], Any] = {}


def _cached(store: Any, key: tuple[str, ...], make: Any) -> Any:
    # Protocols and places are static for a content version (the graph is read-only), so a
    # Cypher answer is kept per (content hash, key) and copied out to the caller.
    full = (store.content_hash, *key)
    if full not in _CACHE:
        _CACHE[full] = make()
    return copy.deepcopy(_CACHE[full])


def _protocol(store: Any, protocol_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    def make() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        head = store.query("MATCH (p:Protocol {id: $id}) RETURN p.title_en AS title, p.title_zh AS title_zh, "
                           "p.source AS source", {"id": protocol_id})[0]
        return head, _protocol_steps(store, protocol_id)

    return _cached(store, ("protocol", protocol_id), make)


def _protocol_steps(store: Any, protocol_id: str) -> list[dict[str, Any]]:
    rows = store.query(
        "MATCH (p:Protocol {id: $id})-[:HAS_STEP]->(s:Step) OPTIONAL MATCH (s)-[:NEEDS]->(r:Resource) "
        "RETURN s.id AS id, s.ord AS ord, s.role AS role, s.text_en AS text, s.text_zh AS text_zh, "
        "s.time_target_min AS minutes, s.source AS source, collect(r.id) AS res_ids, collect(r.name_en) AS res_en, "
        "collect(r.name_zh) AS res_zh ORDER BY ord", {"id": protocol_id})
    return [{"id": r["id"], "node": f"Step:{r['id']}", "protocol": protocol_id, "order": r["ord"], "role": r["role"],
             "text": r["text"], "text_zh": r["text_zh"], "time_target_min": r["minutes"],
             "resources": [{"id": i, "name": e, "name_zh": z} for i, e, z in zip(r["res_ids"] or [], r["res_en"] or [], r["res_zh"] or [], strict=True)],
             "source": r["source"]} for r in rows]


def _places(store: Any, place_ids: list[str]) -> list[dict[str, Any]]:
    if not place_ids:
        return []
    return _cached(store, ("places", *place_ids), lambda: _places_query(store, place_ids))


def _places_query(store: Any, place_ids: list[str]) -> list[dict[str, Any]]:
    rows = store.query(
        "MATCH (p:Place) WHERE p.id IN $ids OPTIONAL MATCH (p)-[:ADJACENT]->(q:Place) "
        "RETURN p.id AS id, p.kind AS kind, p.name_en AS name, p.name_zh AS name_zh, collect(q.id) AS adjacent", {"ids": place_ids})
    order = {pid: i for i, pid in enumerate(place_ids)}
    return sorted(({"id": r["id"], "node": f"Place:{r['id']}", "kind": r["kind"], "name": r["name"], "name_zh": r["name_zh"],
                    # a place without neighbours collects to null on some store backends, not to []
                    "adjacent": sorted(q for q in (r["adjacent"] or []) if q is not None)} for r in rows),
                  key=lambda p: order[p["id"]])
