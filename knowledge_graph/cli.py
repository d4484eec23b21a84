"""``diaodu cases`` (search the emergency knowledge graph) and ``diaodu bench kg``."""

from __future__ import annotations

from typing import Any

import typer

from tools.core.cli import JSON_OPTION, console, guarded, print_json, simple_table


def _one_thread() -> None:
    # The project's machines are shared: the encoder runs on one thread.
    import torch

    torch.set_num_threads(1)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    @app.command("cases")
    @guarded
    def cases(query: str = typer.Argument("", help="The situation in the dispatcher's words."),
              incident_type: str = typer.Option(None, "--type", "-t", help="Fix the incident type instead of inferring it."),
              location: str = typer.Option(None, "--location", "-l", help="Road, district or site."),
              k: int = typer.Option(3, "-k", help="How many past cases."),
              mode: str = typer.Option("hybrid_graph", help="Retrieval mode: bm25, dense, hybrid, hybrid_graph."),
              stats: bool = typer.Option(False, "--stats", help="Load the graph and print node and relation counts."),
              as_json: bool = JSON_OPTION) -> None:
        """Find similar past emergency cases and the response protocol's steps (with graph node ids)."""
        if stats:
            from knowledge_graph.store import counts, ensure_loaded, open_store

            path, built = ensure_loaded()
            graph_counts = counts(open_store())
            out = {"path": str(path), "built_now": built, "counts": graph_counts}
            if as_json:
                print_json(out)
            else:
                console.print(f"graph: {path} ({'built now' if built else 'already loaded'})")
                console.print(simple_table("Knowledge graph", [{"label": a, "count": b} for a, b in graph_counts.items()]))
            return
        _one_thread()
        from knowledge_graph.tool import search_emergency_cases

        result = search_emergency_cases(query, incident_type=incident_type, location=location, k=k, mode=mode)
        if as_json:
            print_json(result)
            return
        _render(result)

    @bench_app.command("kg")
    @guarded
    def bench_kg(as_json: bool = JSON_OPTION) -> None:
        """Recall@3, MRR and type accuracy for BM25, dense, hybrid and hybrid + graph; warm latency."""
        _one_thread()
        from knowledge_graph.bench import run_bench

        out = run_bench()
        if as_json:
            print_json(out)
            return
        console.print(simple_table(f"Knowledge-graph retrieval ({out['rows'][0]['queries']} held-out queries)", out["rows"],
                                   ["mode", "recall@3", "hit@3", "mrr", "type_accuracy"]))
        by_lang = [{"lang": lang, **row} for lang, row in out["by_language"].items()]
        console.print(simple_table("hybrid + graph by language", by_lang, ["lang", "queries", "recall@3", "mrr", "type_accuracy"]))
        lat = out["latency"]
        console.print(f"warm latency over {lat['calls']} calls: p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms wall; "
                      f"CPU p50 {lat['cpu_p50_ms']} ms (load average {lat['load_avg_1m']} on {lat['cpus']} CPUs); "
                      f"start-up {out['startup_s']} s")


def _render(result: dict[str, Any]) -> None:
    where = f" near {', '.join(p['name'] for p in result['places'])}" if result["places"] else ""
    console.print(f"[bold]{result['incident_type']}[/]{where} "
                  f"({'given' if result['incident_type_given'] else 'inferred'}, confidence {result['type_confidence']})")
    rows = [{"case": c["id"], "title": c["title"], "place": c["location"], "date": c["date"], "outcome": c["outcome"]}
            for c in result["cases"]]
    console.print(simple_table("Similar past cases", rows))
    for c in result["cases"]:
        console.print(f"[dim]{c['id']} lessons:[/] " + " ".join(c["lessons"]), highlight=False)
    ref = result["protocol_ref"]
    steps = [{"step": s["id"], "role": s["role"], "within_min": s["time_target_min"], "action": s["text"],
              "resources": ", ".join(r["name"] for r in s["resources"])} for s in result["steps"]]
    console.print(simple_table(f"Protocol {ref['id']}: {ref['title']} ({ref['source']})", steps))
