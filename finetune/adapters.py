"""Stack LoRA adapters trained in rounds into one adapter on the original base.

A later SFT round trains a fresh LoRA on the merged model of the earlier rounds. Its update adds to
the earlier one, and two low-rank updates add up exactly to one of the summed rank:
``s1·B1A1 + s2·B2A2 = [s1·B1, s2·B2] · [A1; A2]``. So the stacked adapter (rank r1 + r2, scaling 1)
on the original base equals the round-by-round merge, and vLLM serves it on ``base/`` with
``--lora-modules`` like a single round's adapter.

``python -m finetune.adapters --first DIR --second DIR --out DIR [--scale S] [--json]``
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from finetune.common import read_meta, run_cli, write_meta, written_beside

log = logging.getLogger(__name__)

WEIGHTS = "adapter_model.safetensors"
CONFIG = "adapter_config.json"
# the only settings stacking understands: plain LoRA on the same modules, no extra trained weights
_MUST_BE_EMPTY = ("modules_to_save", "rank_pattern", "alpha_pattern", "trainable_token_indices")


def _read(folder: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    cfg_path, w_path = folder / CONFIG, folder / WEIGHTS
    for p in (cfg_path, w_path):
        if not p.is_file():
            raise ValueError(f"{folder} is not a PEFT LoRA adapter: {p.name} is missing")
    cfg = json.loads(cfg_path.read_text())
    if cfg.get("peft_type") != "LORA":
        raise ValueError(f"{folder}: peft_type is {cfg.get('peft_type')!r}; only 'LORA' adapters can be stacked")
    for key in _MUST_BE_EMPTY:
        if cfg.get(key):
            raise ValueError(f"{folder}: {key} is set ({cfg[key]!r}); stacking supports plain LoRA only")
    if cfg.get("use_dora") or cfg.get("use_rslora"):
        raise ValueError(f"{folder}: DoRA / rsLoRA adapters cannot be stacked")
    return cfg, load_file(str(w_path))


def _compress(weights: dict[str, torch.Tensor], rank: int) -> tuple[dict[str, torch.Tensor], int]:
    """Stacked ranks can pass a layer's own size (the update of a 192 x 576 matrix has rank <= 192). Then
    rewrite every update ``B @ A`` by its SVD at the largest such size: the same updates, a smaller rank
    (vLLM's ``--max-lora-rank`` and the adapter's bytes follow it). Below that size, nothing changes."""
    pairs = [(a, a.replace(".lora_A.", ".lora_B.")) for a in weights if ".lora_A." in a]
    cap = max(min(weights[a].shape[1], weights[b].shape[0]) for a, b in pairs)
    if rank <= cap:
        return weights, rank
    out: dict[str, torch.Tensor] = {}
    for a, b in pairs:
        dtype = weights[a].dtype
        u, s, vh = torch.linalg.svd(weights[b].double() @ weights[a].double(), full_matrices=False)
        root = s.sqrt()  # split evenly, so neither factor carries all of the scale
        new_b = torch.zeros(u.shape[0], cap, dtype=torch.float64)
        new_a = torch.zeros(cap, vh.shape[1], dtype=torch.float64)
        new_b[:, :s.numel()], new_a[:s.numel()] = u * root, root[:, None] * vh
        out[a], out[b] = new_a.to(dtype).contiguous(), new_b.to(dtype).contiguous()
    log.info("stacked rank %d exceeds the layers' size: rewritten exactly at rank %d", rank, cap)
    return out, cap


def stack_adapters(first: Path, second: Path, out: Path, scale: float = 1.0) -> dict:
    """Write to ``out`` one adapter equal to ``first`` then ``second`` (``second`` trained on the
    merge of ``first``); the result's base is ``first``'s base. ``scale`` multiplies ``second``'s update
    (a model soup takes a share of each round, :mod:`finetune.soup`). Returns the new adapter config."""
    if not 0.0 <= scale <= 1.0:
        raise ValueError(f"scale {scale}: the share of the second adapter's update must be in [0, 1]")
    cfg1, w1 = _read(first)
    cfg2, w2 = _read(second)
    if set(cfg1["target_modules"]) != set(cfg2["target_modules"]):
        raise ValueError(f"target modules differ: {sorted(cfg1['target_modules'])} vs {sorted(cfg2['target_modules'])}")
    if set(w1) != set(w2):
        raise ValueError(f"{first} and {second} hold different LoRA weights; were they trained on the same model?")
    s1, s2 = cfg1["lora_alpha"] / cfg1["r"], scale * cfg2["lora_alpha"] / cfg2["r"]
    merged: dict[str, torch.Tensor] = {}
    for key in w1:
        if ".lora_A." in key:  # [r, in]: stacked rows
            merged[key] = torch.cat([w1[key], w2[key]], dim=0).contiguous()
        elif ".lora_B." in key:  # [out, r]: stacked columns, each carrying its own scaling
            merged[key] = torch.cat([w1[key] * s1, w2[key] * s2], dim=1).contiguous()
        else:
            raise ValueError(f"unexpected tensor {key!r} in {first}; only lora_A / lora_B weights can be stacked")
    merged, rank = _compress(merged, cfg1["r"] + cfg2["r"])
    cfg = {**cfg1, "r": rank, "lora_alpha": rank}  # scaling 1: the scalings live in lora_B
    m1, m2 = read_meta(first), read_meta(second)
    with written_beside(out, seed_from=first) as tmp:  # tokenizer files, chat template, README
        save_file(merged, str(tmp / WEIGHTS))
        (tmp / CONFIG).write_text(json.dumps(cfg, indent=2) + "\n")
        second_cfg = m2.get("config", {}) if scale == 1.0 else {**m2.get("config", {}), "scale": scale}
        rounds = [*(m1.get("config", {}).get("rounds") or [m1.get("config", {})]), second_cfg]
        hashes = [*(m1["data_hash"] if isinstance(m1.get("data_hash"), list) else [m1.get("data_hash")]),
                  m2.get("data_hash")]
        write_meta(tmp, kind="adapter", config={"rank": rank, "alpha": rank, "targets": cfg["target_modules"],
                                                "rounds": rounds},
                   data_hash=hashes, stacked_from=[str(first), str(second)],
                   lora_params=sum(t.numel() for t in merged.values()),
                   train_time_s=round((m1.get("train_time_s") or 0) + (m2.get("train_time_s") or 0), 1),
                   train={"rounds": [*(m1.get("train", {}).get("rounds") or [m1.get("train")]), m2.get("train")]})
    log.info("stacked %s (r=%d) + %s%s (r=%d) -> %s (r=%d)", first, cfg1["r"], "" if scale == 1.0 else f"{scale:g} x ",
             second, cfg2["r"], out, rank)
    return cfg


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Stack two LoRA adapters (second trained on the merge of the first).")
    ap.add_argument("--first", type=Path, required=True, help="the adapter on the original base")
    ap.add_argument("--second", type=Path, required=True, help="the adapter trained on the merge of --first")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--scale", type=float, default=1.0, help="share of --second's update to keep, in [0, 1] (default 1)")
    ap.add_argument("--json", action="store_true", help="print the stacked adapter's config as one JSON document")
    a = ap.parse_args(argv)
    run_cli(lambda: stack_adapters(a.first, a.second, a.out, scale=a.scale), a.json,
            lambda cfg: {"out": str(a.out), "rank": cfg["r"], "scale": a.scale, "target_modules": cfg["target_modules"]})


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
