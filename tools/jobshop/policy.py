"""The scheduling policy: a GAT encoder over the disjunctive graph plus an attention decoder.

- Encoder (torch-geometric, run once per instance): operations are nodes; job-route arcs and
  machine cliques (the disjunctive arcs) are two edge sets, each with its own ``GATConv``, summed
  with a residual per layer, as in L2D's disjunctive-graph encoders but with attention.
- Decoder (every step): each job's next operation embedding joined with that job's dynamic
  features (:meth:`BatchJobShop.job_features`), one self-attention layer across jobs, then
  an actor head (a logit per job, masked to the Giffler–Thompson candidates) and a critic head
  (a scalar state value, used as an optional baseline).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch_geometric.data import Batch, Data
from torch_geometric.nn import GATConv

from tools.jobshop.env import N_JOB_FEATURES, static_op_features
from tools.jobshop.instance import JobShopInstance

N_OP_FEATURES = 8


@dataclass
class PolicyConfig:
    """Sizes of the policy network."""

    hidden: int = 64
    layers: int = 2
    heads: int = 4
    dec_heads: int = 4

    def to_dict(self) -> dict:
        return asdict(self)


class EncoderLayer(nn.Module):
    """One round of message passing over job arcs and machine arcs."""

    def __init__(self, d: int, heads: int):
        super().__init__()
        self.job = GATConv(d, d // heads, heads=heads, add_self_loops=True)
        self.mach = GATConv(d, d // heads, heads=heads, add_self_loops=True)
        self.lin = nn.Linear(d, d)
        self.norm = nn.LayerNorm(d)

    def forward(self, h: torch.Tensor, job_edges: torch.Tensor, mach_edges: torch.Tensor) -> torch.Tensor:
        out = self.lin(h) + self.job(h, job_edges) + self.mach(h, mach_edges)
        return self.norm(h + torch.relu(out))


def _softmax(x: torch.Tensor) -> torch.Tensor:
    # torch.softmax is slow on CPU for many short rows (here: jobs); this is ~5x faster.
    e = (x - x.amax(-1, keepdim=True)).exp()
    return e / e.sum(-1, keepdim=True)


class JobAttention(nn.Module):
    """Multi-head self-attention across jobs, ignoring finished jobs as keys."""

    def __init__(self, d: int, heads: int):
        super().__init__()
        self.h = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)

    def forward(self, x: torch.Tensor, finished: torch.Tensor) -> torch.Tensor:
        B, n, d = x.shape
        q, k, v = self.qkv(x).view(B, n, 3, self.h, d // self.h).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / (d // self.h) ** 0.5
        scores = scores.masked_fill(finished[:, None, None, :], -1e9)
        return self.out((_softmax(scores) @ v).transpose(1, 2).reshape(B, n, d))


class JobShopPolicy(nn.Module):
    """Actor-critic policy over job-shop states."""

    def __init__(self, cfg: PolicyConfig = PolicyConfig()):
        super().__init__()
        d = cfg.hidden
        self.cfg = cfg
        self.embed = nn.Linear(N_OP_FEATURES, d)
        self.layers = nn.ModuleList([EncoderLayer(d, cfg.heads) for _ in range(cfg.layers)])
        self.pad = nn.Parameter(torch.zeros(d))  # embedding of "job finished"
        self.dyn = nn.Sequential(nn.Linear(d + N_JOB_FEATURES, d), nn.ReLU(), nn.Linear(d, d))
        self.attn = JobAttention(d, cfg.dec_heads)
        self.norm = nn.LayerNorm(d)
        self.actor = nn.Sequential(nn.Linear(2 * d, d), nn.ReLU(), nn.Linear(d, 1))
        self.critic = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, 1))

    def encode(self, instances: list[JobShopInstance]) -> torch.Tensor:
        """Operation embeddings ``[I, n*L, d]`` of same-shaped instances (one batched GNN pass)."""
        graphs = []
        for inst in instances:
            x, je, me = static_op_features(inst)
            graphs.append(Data(x=torch.from_numpy(x), job_edges=torch.from_numpy(je), mach_edges=torch.from_numpy(me),
                               num_nodes=x.shape[0]))
        batch = Batch.from_data_list(graphs)
        h = self.embed(batch.x)
        # Batch.from_data_list offsets only edge_index; shift the two edge sets by hand.
        offs = batch.ptr[:-1]
        je = torch.cat([g.job_edges + o for g, o in zip(graphs, offs, strict=True)], dim=1)
        me = torch.cat([g.mach_edges + o for g, o in zip(graphs, offs, strict=True)], dim=1)
        for layer in self.layers:
            h = layer(h, je, me)
        return h.view(len(instances), -1, h.shape[-1])

    def forward(self, op_emb: torch.Tensor, node: torch.Tensor, finished: torch.Tensor, feats: torch.Tensor,
                mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Masked logits ``[B, n]`` and values ``[B]``.

        ``op_emb [N, d]`` are all operation embeddings (flattened over instances); ``node [B, n]``
        indexes each job's next operation in it; ``finished``/``mask`` ``[B, n]``; ``feats [B, n, F]``.
        """
        e = op_emb[node]
        e = torch.where(finished[..., None], self.pad.expand_as(e), e)
        x = self.dyn(torch.cat([e, feats], dim=-1))
        a = self.attn(x, finished)
        x = self.norm(x + a)
        g = x.masked_fill(finished[..., None], 0.0).sum(1) / (~finished).sum(1, keepdim=True).clamp(min=1)
        logits = self.actor(torch.cat([x, g[:, None].expand_as(x)], dim=-1)).squeeze(-1)
        logits = logits.masked_fill(~mask, -1e9)
        return logits, self.critic(g).squeeze(-1)
