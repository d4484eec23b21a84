"""Train the edge scorer: ``python -m tools.routing.gnn.train`` (seeded, CPU, one thread).

Generates and labels the training set first when ``--data`` holds none (see
:mod:`tools.routing.gnn.label`), trains :class:`~tools.routing.gnn.model.EdgeScorer` with a
class-weighted binary cross-entropy on "edge is on a PyVRP route", keeps the epoch with the
best validation loss, and writes ``weights/edge_scorer.safetensors`` plus ``weights/meta.json``
(config, data hash, metrics). Validation metrics include the recall of solution edges among
each node's top-``m`` candidates by score, against the plain nearest-neighbour ranking: that
is what candidate-arc sparsification relies on.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from torch_geometric.loader import DataLoader

from tools.routing.gnn.generate import GenInstance
from tools.routing.gnn.model import EdgeScorer, ModelConfig, RoutingArrays, build_graph, edge_labels

log = logging.getLogger(__name__)

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


def arrays_of(inst: GenInstance) -> RoutingArrays:
    """The network's input arrays for a generated instance."""
    return RoutingArrays(inst.coords, inst.demand, inst.capacity, inst.distance_matrix(), inst.ready, inst.due,
                         inst.service)


def make_graphs(labelled: list[tuple[GenInstance, list[list[int]]]], k: int) -> tuple[list, dict]:
    """Graphs with labels ``y``; also the share of solution edges the kNN graph keeps."""
    graphs, kept, total = [], 0, 0
    for inst, routes in labelled:
        g = build_graph(arrays_of(inst), k)
        g.y = edge_labels(g.edge_index, routes)
        kept += int(g.y.sum().item()) // 2
        total += sum(len(r) + 1 for r in routes)
        g.name = inst.name
        graphs.append(g)
    return graphs, {"solution_edges_in_graph": round(kept / max(total, 1), 4)}


def topm_recall(graphs: list, logits_list: list[torch.Tensor], ms: tuple[int, ...] = (3, 5, 8, 10)) -> dict:
    """Share of customer-customer solution edges ``i -> j`` with ``j`` among ``i``'s top-m by score,
    for the model's scores and for plain distance rank (the baseline candidate list)."""
    out: dict[str, float] = {}
    for m in ms:
        hit_model = hit_dist = total = 0
        for g, logits in zip(graphs, logits_list, strict=True):
            src, dst = g.edge_index
            cust = (src > 0) & (dst > 0)
            n1 = g.num_nodes
            s = torch.full((n1, n1), -1e9)
            s[src[cust], dst[cust]] = logits[cust]
            r = torch.full((n1, n1), 1e9)
            r[src[cust], dst[cust]] = g.edge_attr[cust, 2]  # distance rank / k
            y = torch.zeros((n1, n1), dtype=torch.bool)
            y[src[cust], dst[cust]] = g.y[cust] > 0.5
            mm = min(m, n1 - 1)
            top_model = torch.zeros_like(y)
            top_model.scatter_(1, s.topk(mm, dim=1).indices, True)
            top_dist = torch.zeros_like(y)
            top_dist.scatter_(1, (-r).topk(mm, dim=1).indices, True)
            hit_model += int((top_model & y).sum())
            hit_dist += int((top_dist & y).sum())
            total += int(y.sum())
        out[f"recall_top{m}_model"] = round(hit_model / max(total, 1), 4)
        out[f"recall_top{m}_distance"] = round(hit_dist / max(total, 1), 4)
    return out


def evaluate(model: EdgeScorer, graphs: list, pos_weight: float) -> dict:
    """Validation loss, accuracy-type metrics and top-m recall."""
    model.eval()
    losses, logits_list = [], []
    with torch.inference_mode():
        for g in graphs:
            logits = model(g)
            logits_list.append(logits)
            losses.append(float(torch.nn.functional.binary_cross_entropy_with_logits(
                logits, g.y, pos_weight=torch.tensor(pos_weight))))
    model.train()
    y = torch.cat([g.y for g in graphs])
    p = torch.sigmoid(torch.cat(logits_list))
    pred = p > 0.5
    tp = int((pred & (y > 0.5)).sum())
    return {"val_loss": round(float(np.mean(losses)), 5),
            "precision@0.5": round(tp / max(int(pred.sum()), 1), 4),
            "recall@0.5": round(tp / max(int((y > 0.5).sum()), 1), 4),
            **topm_recall(graphs, logits_list)}


def train(data_dir: Path, out_dir: Path, cfg: ModelConfig, *, epochs: int, max_minutes: float, lr: float,
          batch_size: int, seed: int, val_fraction: float = 0.1) -> dict:
    """Train and save; returns the metadata written to ``meta.json``."""
    from tools.routing.gnn.label import load_dataset

    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    data_meta = json.loads((data_dir / "meta.json").read_text())
    labelled = load_dataset(data_dir)
    graphs, coverage = make_graphs(labelled, cfg.k)
    order = list(range(len(graphs)))
    random.Random(seed).shuffle(order)
    n_val = max(1, int(len(graphs) * val_fraction))
    val = [graphs[i] for i in order[:n_val]]
    tr = [graphs[i] for i in order[n_val:]]
    ys = torch.cat([g.y for g in tr])
    pos_weight = float((len(ys) - ys.sum()) / ys.sum())
    model = EdgeScorer(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    loader = DataLoader(tr, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed))
    best, best_state, history = float("inf"), None, []
    t0 = time.perf_counter()
    for epoch in range(epochs):
        # cosine decay over whichever runs out first, the epochs or the time cap, so a capped run still anneals
        progress = max(epoch / epochs, (time.perf_counter() - t0) / 60.0 / max_minutes)
        for group in opt.param_groups:
            group["lr"] = lr * 0.5 * (1.0 + np.cos(np.pi * min(progress, 1.0))) + lr * 0.01
        total = 0.0
        for batch in loader:
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(batch), batch.y,
                                                                        pos_weight=torch.tensor(pos_weight))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total += loss.item() * batch.num_graphs
        metrics = evaluate(model, val, pos_weight)
        history.append({"epoch": epoch + 1, "train_loss": round(total / len(tr), 5), **metrics})
        log.info("epoch %d train %.4f val %.4f top5 %.3f (dist %.3f) %.0fs", epoch + 1, total / len(tr),
                 metrics["val_loss"], metrics["recall_top5_model"], metrics["recall_top5_distance"],
                 time.perf_counter() - t0)
        if metrics["val_loss"] < best:
            best = metrics["val_loss"]
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if (time.perf_counter() - t0) / 60.0 > max_minutes:
            log.info("stopping at the time cap (%.0f min)", max_minutes)
            break
    assert best_state is not None
    model.load_state_dict(best_state)
    final = evaluate(model, val, pos_weight)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in best_state.items()}, str(out_dir / "edge_scorer.safetensors"))
    meta = {"config": cfg.to_dict(), "seed": seed, "lr": lr, "batch_size": batch_size, "epochs_run": len(history),
            "epochs_planned": epochs, "max_minutes": max_minutes, "train_wall_s": round(time.perf_counter() - t0, 1),
            "pos_weight": round(pos_weight, 3), "num_train": len(tr), "num_val": len(val),
            "data": {k: v for k, v in data_meta.items() if k != "names"}, "graph": coverage,
            "val_metrics": final, "history": history,
            "params": sum(p.numel() for p in model.parameters()),
            "reproduce": "python -m tools.routing.gnn.train"}
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=1))
    return meta


def main(argv: list[str] | None = None) -> None:
    """CLI: label the data when missing, then train and save the weights."""
    p = argparse.ArgumentParser(description="Train the routing edge scorer (CPU, seeded).")
    p.add_argument("--data", type=Path, default=Path("/tmp/diaodu_gnn/data"))
    p.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    p.add_argument("--cvrp", type=int, default=300, help="training CVRP instances (when labelling)")
    p.add_argument("--vrptw", type=int, default=100, help="training VRPTW instances (when labelling)")
    p.add_argument("--seconds-per-100", type=float, default=1.5, help="PyVRP label budget per 100 customers")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--max-minutes", type=float, default=35.0)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=8)
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    if not (args.data / "meta.json").is_file():
        from tools.routing.gnn.label import build_dataset

        build_dataset(args.data, args.cvrp, args.vrptw, args.seed, args.seconds_per_100)
    meta = train(args.data, args.out, ModelConfig(args.hidden, args.layers, args.k), epochs=args.epochs,
                 max_minutes=args.max_minutes, lr=args.lr, batch_size=args.batch_size, seed=args.seed)
    log.info("saved %s: %s", args.out, json.dumps(meta["val_metrics"]))


if __name__ == "__main__":
    main()
