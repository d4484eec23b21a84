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
from typing import cast

import torch
from torch import nn
from torch.nn import functional as F
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

    # Typed handles on the layers the decoder applies piecewise (properties, so the
    # state dict keeps one key per parameter).
    @property
    def dyn_first(self) -> nn.Linear:
        return cast(nn.Linear, self.dyn[0])

    @property
    def dyn_second(self) -> nn.Linear:
        return cast(nn.Linear, self.dyn[2])

    @property
    def actor_first(self) -> nn.Linear:
        return cast(nn.Linear, self.actor[0])

    @property
    def actor_out(self) -> nn.Linear:
        return cast(nn.Linear, self.actor[2])

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
        jobs_e = torch.cat([g.job_edges + o for g, o in zip(graphs, offs, strict=True)], dim=1)
        mach_e = torch.cat([g.mach_edges + o for g, o in zip(graphs, offs, strict=True)], dim=1)
        for layer in self.layers:
            h = layer(h, jobs_e, mach_e)
        return h.view(len(instances), -1, h.shape[-1])

    def project(self, op_emb: torch.Tensor) -> torch.Tensor:
        """Pre-project flattened operation embeddings ``[N, d]`` through the decoder's first layer.

        Returns ``[N + 1, d]``; row ``N`` is the "job finished" embedding. Done once per instance,
        so each step only adds the projection of the dynamic features (same maths, less work).
        """
        d = self.cfg.hidden
        w = self.dyn_first.weight[:, :d]
        return torch.cat([op_emb @ w.T, (self.pad @ w.T)[None]], dim=0)

    def forward(self, proj: torch.Tensor, node: torch.Tensor, finished: torch.Tensor, feats: torch.Tensor,
                mask: torch.Tensor, with_value: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Masked logits ``[B, n]`` (and values ``[B]`` when ``with_value``).

        ``proj`` comes from :meth:`project`; ``node [B, n]`` indexes each job's next operation in it
        (the last row for finished jobs); ``finished``/``mask`` ``[B, n]``; ``feats [B, n, F]``.
        """
        d = self.cfg.hidden
        first = self.dyn_first
        x = proj[node] + F.linear(feats, first.weight[:, d:], first.bias)
        x = self.dyn_second(torch.relu(x))
        x = self.norm(x + self.attn(x, finished))
        g = x.masked_fill(finished[..., None], 0.0).sum(1) / (~finished).sum(1, keepdim=True).clamp(min=1)
        # actor(cat[x, g]) with the weight split, so g's half is computed once per row.
        a0, a2 = self.actor_first, self.actor_out
        h = torch.relu(F.linear(x, a0.weight[:, :d]) + F.linear(g, a0.weight[:, d:], a0.bias)[:, None])
        logits = a2(h).squeeze(-1).masked_fill(~mask, -1e9)
        return logits, (self.critic(g).squeeze(-1) if with_value else None)
