"""Draw a plan's routes with matplotlib (headless, Agg backend)."""

from __future__ import annotations

from pathlib import Path

from tools.core.errors import DiaoduError
from tools.routing.instance import RoutingInstance


def plot_routes(instance: RoutingInstance, node_routes: list[list[int]], path: str | Path, title: str = "") -> Path:
    """Write a PNG (or any format matplotlib knows by suffix) of the routes; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    if path.suffix.lower() not in {".png", ".svg", ".pdf", ".jpg", ".jpeg"}:
        raise DiaoduError(f"--plot must end in .png, .svg, .pdf or .jpg; got {str(path)!r}")
    if not path.parent.exists():
        raise DiaoduError(f"folder {str(path.parent)!r} for the plot does not exist")
    xy = instance.coords
    fig, ax = plt.subplots(figsize=(9, 8), dpi=110)
    for road in instance.roads:  # demo data: draw the named roads under the routes
        pts = road.get("points") or []
        if len(pts) >= 2:
            xs, ys = zip(*pts, strict=True)
            ax.plot(xs, ys, color="#cccccc", lw=2.5, zorder=0)
            # label halfway along the first segment: centres of several roads coincide at junctions
            mid = ((pts[0][0] + pts[1][0]) / 2, (pts[0][1] + pts[1][1]) / 2)
            ax.annotate(road.get("name", ""), mid, fontsize=7, color="#888888", zorder=0)
    cmap = plt.get_cmap("tab20")
    used = [r for r in node_routes if r]
    for k, (v, route) in enumerate((v, r) for v, r in enumerate(node_routes) if r):
        path_nodes = [0, *route, 0]
        ax.plot(xy[path_nodes, 0], xy[path_nodes, 1], "-", lw=1.3, color=cmap(k % 20), label=f"vehicle {v + 1}",
                zorder=2)
    ax.scatter(xy[1:, 0], xy[1:, 1], s=14, c="#333333", zorder=3)
    ax.scatter(xy[:1, 0], xy[:1, 1], s=160, marker="*", c="red", zorder=4, label="depot")
    if len(used) <= 20:
        ax.legend(fontsize=7, loc="best", ncol=2)
    ax.set_title(title or f"{instance.name}: {len(used)} routes")
    ax.set_aspect("equal", adjustable="datalim")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
