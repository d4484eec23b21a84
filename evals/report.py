"""The HTML report of an evaluation run: headline numbers, plots, and every failure."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _confusion_plot(confusion: dict[str, dict[str, int]]) -> str:
    labels = sorted(set(confusion) | {g for row in confusion.values() for g in row})
    grid = [[confusion.get(e, {}).get(g, 0) for g in labels] for e in labels]
    fig, ax = plt.subplots(figsize=(1.1 * len(labels) + 2, 0.9 * len(labels) + 1.5))
    ax.imshow(grid, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted tool")
    ax.set_ylabel("expected tool")
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            if v:
                ax.text(j, i, str(v), ha="center", va="center", color="black")
    return _png(fig)


def _bar_plot(values: dict[str, float | None], title: str) -> str:
    items = [(k, v) for k, v in values.items() if v is not None]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(items) + 1.2))
    ax.barh([k for k, _ in items], [v for _, v in items], color="#3b7dd8")
    ax.set_xlim(0, 1)
    ax.set_title(title)
    ax.invert_yaxis()
    return _png(fig)


def _latency_plot(latencies: list[float]) -> str:
    fig, ax = plt.subplots(figsize=(6, 2.5))
    ax.hist(latencies, bins=30, color="#d8893b")
    ax.set_xlabel("turn latency (s)")
    return _png(fig)


def write_report(path: str | Path, metrics: dict[str, Any], *, suite: str, config: dict[str, Any],
                 latencies: list[float], bad_lines: list[dict[str, Any]]) -> None:
    """Write a self-contained HTML report (plots embedded)."""
    e = html.escape
    head = [("turn accuracy", metrics["turn_accuracy"]), ("scenario accuracy", metrics["scenario_accuracy"]),
            ("tool accuracy", metrics["tool_accuracy"]),
            ("model-alone turn accuracy (before grounding)", metrics.get("model_alone_turn_accuracy")), ("faithfulness", metrics["faithfulness"]),
            ("latency p50 (s)", metrics["latency_p50_s"]), ("latency p95 (s)", metrics["latency_p95_s"])]
    rows = "".join(f"<tr><th>{e(k)}</th><td>{'-' if v is None else v}</td></tr>" for k, v in head)
    lang_rows = "".join(f"<tr><td>{e(k)}</td><td>{v['turns']}</td><td>{v['turn_accuracy']}</td><td>{v['tool_accuracy']}</td></tr>"
                        for k, v in metrics["by_language"].items())
    tool_rows = "".join(f"<tr><td>{e(k)}</td><td>{v['turns']}</td><td>{v['turn_accuracy']}</td><td>{v['tool_accuracy']}</td></tr>"
                        for k, v in metrics["by_tool"].items())
    plots = []
    if metrics["confusion"]:
        plots.append(("Tool confusion", _confusion_plot(metrics["confusion"])))
    if metrics["argument_accuracy"]:
        plots.append(("Argument accuracy", _bar_plot({k: v["accuracy"] for k, v in metrics["argument_accuracy"].items()}, "per-argument accuracy")))
    if latencies:
        plots.append(("Latency", _latency_plot(latencies)))
    imgs = "".join(f"<h3>{e(t)}</h3><img src='{src}'/>" for t, src in plots)
    fails = "".join(
        f"<tr><td>{e(str(f['scenario']))}#{f['turn']}</td><td>{e(f['lang'])}</td><td>{e(f['user'])}</td>"
        f"<td><code>{e(json.dumps(f['expected'], ensure_ascii=False))}</code></td>"
        f"<td><code>{e(json.dumps(f['got'], ensure_ascii=False, default=str))}</code></td>"
        f"<td>{e(str(f.get('answer') or ''))[:400]}</td><td><code>{e(json.dumps(f.get('model_output'), ensure_ascii=False))[:400]}</code></td></tr>"
        for f in metrics["failures"][:500])
    bad = "".join(f"<li>line {b['line']}: {e(b['error'])}</li>" for b in bad_lines)
    doc = f"""<!doctype html><html><head><meta charset="utf-8"><title>Diaodu eval: {e(suite)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top;font-size:13px}}code{{font-size:12px}}</style></head>
<body><h1>Evaluation: {e(suite)}</h1><p>config: <code>{e(json.dumps(config, default=str))}</code>;
{metrics['scenarios']} scenarios, {metrics['turns']} turns.</p>
<table>{rows}</table>
<h2>By language</h2><table><tr><th>lang</th><th>turns</th><th>turn acc.</th><th>tool acc.</th></tr>{lang_rows}</table>
<h2>By expected tool</h2><table><tr><th>tool</th><th>turns</th><th>turn acc.</th><th>tool acc.</th></tr>{tool_rows}</table>
{imgs}
<h2>Bad suite lines ({len(bad_lines)})</h2><ul>{bad}</ul>
<h2>Failures ({len(metrics['failures'])})</h2>
<table><tr><th>turn</th><th>lang</th><th>user</th><th>expected</th><th>got</th><th>answer</th><th>model output</th></tr>{fails}</table>
</body></html>"""
    Path(path).write_text(doc, encoding="utf-8")
