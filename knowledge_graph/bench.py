"""``diaodu bench kg``: recall@3, MRR and type accuracy per retrieval mode, and warm latency.

Metrics over the held-out queries in ``eval/queries.jsonl`` (each lists its relevant cases):

- recall@3: ``|relevant ∩ top-3| / min(|relevant|, 3)`` averaged over queries (1.0 means the three
  returned cases are all relevant);
- hit@3: share of queries with at least one relevant case in the top 3;
- MRR: mean of ``1 / rank`` of the first relevant case (0 when none in the top 50);
- type accuracy: share of queries whose inferred incident type is the labelled one.

Latency is the full ``search_emergency_cases`` call (hybrid + graph, protocol steps included),
timed after one warm-up call; p50 and p95 in milliseconds of wall time and of this process's
CPU time (with the machine's load average, since a shared machine inflates wall time).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from knowledge_graph.retrieval import MODES, get_retriever

QUERIES = Path(__file__).resolve().parent / "eval" / "queries.jsonl"


def load_queries(path: Path = QUERIES) -> list[dict[str, Any]]:
    """The held-out queries, one dict per line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(modes: tuple[str, ...] = MODES, queries: list[dict[str, Any]] | None = None,
             lang: str | None = None) -> dict[str, Any]:
    """Score every mode on the query set (optionally only ``en`` or ``zh`` queries)."""
    queries = queries if queries is not None else load_queries()
    if lang:
        queries = [q for q in queries if q["lang"] == lang]
    retriever = get_retriever()
    rows = []
    for mode in modes:
        rec, hit, rr, acc = [], [], [], []
        for q in queries:
            rel = set(q["relevant"])
            res = retriever.search(q["query"], mode=mode, k=50)
            ids = [h.case_id for h in res.hits]
            top3 = ids[:3]
            rec.append(len(rel & set(top3)) / min(len(rel), 3))
            hit.append(1.0 if rel & set(top3) else 0.0)
            first = next((i for i, c in enumerate(ids, start=1) if c in rel), None)
            rr.append(1.0 / first if first else 0.0)
            acc.append(1.0 if res.incident_type == q["incident_type"] else 0.0)
        n = len(queries) or 1
        rows.append({"mode": mode, "recall@3": round(sum(rec) / n, 3), "hit@3": round(sum(hit) / n, 3),
                     "mrr": round(sum(rr) / n, 3), "type_accuracy": round(sum(acc) / n, 3), "queries": len(queries)})
    return {"rows": rows}


def latency(queries: list[dict[str, Any]] | None = None, repeats: int = 1) -> dict[str, float]:
    """Warm latency of the full tool call (ms): one warm-up call, then every query ``repeats`` times."""
    from knowledge_graph.tool import search_emergency_cases

    queries = queries if queries is not None else load_queries()
    search_emergency_cases(queries[0]["query"])
    times, cpu = [], []
    for _ in range(repeats):
        for q in queries:
            t0, c0 = time.perf_counter(), time.process_time()
            search_emergency_cases(q["query"])
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
    times.sort()
    cpu.sort()
    # Wall time depends on how busy the machine is; CPU time of this process is the steadier figure.
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
            "cpu_p50_ms": round(statistics.median(cpu), 1), "cpu_p95_ms": round(cpu[int(0.95 * (len(cpu) - 1))], 1),
            "calls": len(times), "load_avg_1m": round(os.getloadavg()[0], 2), "cpus": float(os.cpu_count() or 0)}


def run_bench() -> dict[str, Any]:
    """Everything ``diaodu bench kg`` reports."""
    t0 = time.perf_counter()
    get_retriever()
    cold_s = time.perf_counter() - t0
    queries = load_queries()
    out = evaluate(queries=queries)
    out["by_language"] = {lang: evaluate(("hybrid_graph",), queries, lang)["rows"][0] for lang in ("en", "zh")}
    out["latency"] = latency(queries)
    out["startup_s"] = round(cold_s, 2)
    out["goal"] = {"recall@3": 0.90, "type_accuracy": 0.95, "p50_ms": 50}
    return out
