"""Gantt charts of schedules (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tools.core.errors import DiaoduError
from tools.jobshop.instance import JobShopInstance


def plot_gantt(inst: JobShopInstance, start: np.ndarray, path: str | Path, title: str | None = None) -> Path:
    """Draw one bar per operation on its machine's row, coloured by job; returns the file path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(path)
    if out.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise DiaoduError(f"--plot must end in .png, .svg or .pdf; got {str(out)!r}")
    if not out.parent.exists():
        raise DiaoduError(f"folder {str(out.parent)!r} does not exist")
    cmap = plt.get_cmap("tab20")
    fig, ax = plt.subplots(figsize=(12, 0.45 * inst.n_machines + 1.6))
    for j in range(inst.n_jobs):
        for k in range(int(inst.n_ops[j])):
            m, s, d = int(inst.machine[j, k]), int(start[j, k]), int(inst.duration[j, k])
            ax.barh(m, d, left=s, color=cmap(j % 20), edgecolor="black", linewidth=0.3)
            if inst.n_jobs <= 20 and d > 0:
                ax.text(s + d / 2, m, str(j + 1), ha="center", va="center", fontsize=6)
    ax.set_yticks(range(inst.n_machines), inst.machine_names)
    ax.invert_yaxis()
    ax.set_xlabel(f"time ({inst.time_unit})" if inst.time_unit else "time")
    ms = int(max(start[j, k] + inst.duration[j, k] for j in range(inst.n_jobs) for k in range(int(inst.n_ops[j]))))
    ax.axvline(ms, color="red", linewidth=0.8)
    ax.set_title(title or f"{inst.name}: makespan {ms}")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
