"""Grow a trained model deeper without changing what it computes (depth up-scaling).

Each new decoder layer is a copy of the layer it follows, with its two output projections
(``self_attn.o_proj`` and ``mlp.down_proj``) set to zero: a zeroed layer adds nothing to the residual
stream, so the grown model gives the same logits as before. A later LoRA round then trains the new
layers (LoRA on a zero matrix is an ordinary update) as well as the old ones: more depth for copying
names and numbers, which a full-rank LoRA on the original depth no longer improves.

The same growth applies to a PEFT adapter trained on the original base (:func:`grow_adapter`): the copy
of layer ``i`` gets layer ``i``'s LoRA weights on the input projections and none on the zeroed output
projections, so ``grown base + grown adapter == grown(base + adapter)``.

``python -m finetune.grow --model DIR --out DIR --after 2,3 [--adapter DIR --adapter-out DIR] [--json]``
"""

from __future__ import annotations

import argparse
import copy
import logging
import re
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from finetune.common import param_count, read_meta, run_cli, save_tokenizer, write_meta, written_beside

log = logging.getLogger(__name__)

ZEROED = ("self_attn.o_proj", "mlp.down_proj")  # the projections that write into the residual stream
_LAYER = re.compile(r"(\.layers\.)(\d+)(\.)")


def parse_after(text: str, n_layers: int | None = None) -> list[int]:
    """The layers to copy, from ``"2,3"``: at least one, none twice, each in ``0..n_layers-1`` (when known)."""
    try:
        after = [int(x) for x in str(text).split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"grow_after / --after {text!r}: expected layer numbers separated by commas, e.g. 2,3") from None
    top = n_layers if n_layers is not None else float("inf")
    bad = [i for i in after if not 0 <= i < top]
    if not after or bad or len(set(after)) != len(after):
        where = f"0..{n_layers - 1} (the model has {n_layers} layers)" if n_layers is not None else "0 or more"
        raise ValueError(f"grow_after / --after {text!r}: give distinct layer numbers in {where}")
    return sorted(after)


def new_order(n_layers: int, after: list[int]) -> list[tuple[int, bool]]:
    """The grown stack as (source layer, is a zeroed copy) pairs, a copy right after its source."""
    order: list[tuple[int, bool]] = []
    for i in range(n_layers):
        order.append((i, False))
        if i in after:
            order.append((i, True))
    return order


def grow_model(model: Any, after: list[int]) -> Any:
    """Insert a zero-output copy of each layer in ``after`` right after it (in place; returns ``model``)."""
    layers = model.model.layers
    order = new_order(len(layers), after)
    grown = []
    for src, is_copy in order:
        layer = copy.deepcopy(layers[src]) if is_copy else layers[src]
        if is_copy:
            with torch.no_grad():
                for name in ZEROED:
                    layer.get_submodule(name).weight.zero_()
        grown.append(layer)
    for idx, layer in enumerate(grown):
        layer.self_attn.layer_idx = idx  # the KV cache is indexed by it
    model.model.layers = torch.nn.ModuleList(grown)
    model.config.num_hidden_layers = len(grown)
    if getattr(model.config, "layer_types", None):
        model.config.layer_types = [model.config.layer_types[src] for src, _ in order]
    return model


def grow_adapter(adapter: Path, out: Path, after: list[int], n_layers: int) -> None:
    """Write ``adapter`` remapped onto the grown base (see the module docstring)."""
    weights = load_file(str(adapter / "adapter_model.safetensors"))
    order = new_order(n_layers, after)
    grown: dict[str, torch.Tensor] = {}
    for key, tensor in weights.items():
        m = _LAYER.search(key)
        if not m:
            raise ValueError(f"{adapter}: unexpected tensor {key!r}; only per-layer LoRA weights can be grown")
        src = int(m.group(2))
        for idx, (s, is_copy) in enumerate(order):
            if s != src:
                continue
            new_key = f"{key[:m.start(2)]}{idx}{key[m.end(2):]}"
            zero = is_copy and any(z in key for z in ZEROED) and ".lora_B." in key
            grown[new_key] = torch.zeros_like(tensor) if zero else tensor.clone()
    meta = read_meta(adapter)
    with written_beside(out, seed_from=adapter) as tmp:  # its config is the same: the copy keeps it
        save_file(grown, str(tmp / "adapter_model.safetensors"))
        write_meta(tmp, **{**meta, "grown": {"after": after, "from_layers": n_layers, "to_layers": len(order)}})


def grow(model_dir: Path, out: Path, after_text: str, adapter: Path | None = None,
         adapter_out: Path | None = None) -> dict[str, Any]:
    """Grow the model in ``model_dir`` (and optionally its adapter) and save it to ``out``."""
    if (adapter is None) != (adapter_out is None):
        raise ValueError("give --adapter and --adapter-out together")
    if not (Path(model_dir) / "config.json").is_file():
        raise ValueError(f"--model {model_dir}: no model there (a local folder with config.json is needed)")
    tok = AutoTokenizer.from_pretrained(model_dir)
    model: Any = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    n_layers = model.config.num_hidden_layers
    after = parse_after(after_text, n_layers)
    grow_model(model, after)
    meta = read_meta(model_dir)
    info = {"after": after, "from_layers": n_layers, "to_layers": model.config.num_hidden_layers,
            "zeroed": list(ZEROED), "source": str(model_dir)}
    with written_beside(out) as tmp:  # ``out`` may be ``model_dir`` itself (the pipeline grows in place)
        model.to(torch.bfloat16).save_pretrained(tmp)
        save_tokenizer(tok, tmp)
        write_meta(tmp, **{**meta, "params": param_count(model), "grown": info})
    if adapter is not None and adapter_out is not None:
        grow_adapter(adapter, adapter_out, after, n_layers)
    log.info("grew %s from %d to %d layers -> %s", model_dir, n_layers, info["to_layers"], out)
    return info


def grow_stack(folder: Path, after: str) -> None:
    """Grow ``folder``'s ``base``, ``adapter`` and ``teacher`` alike, in place: base + adapter stays the teacher."""
    grow(folder / "base", folder / "base", after)
    grow(folder / "teacher", folder / "teacher", after, folder / "adapter", folder / "adapter")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Grow a model deeper with zero-output layer copies (same logits).")
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--after", default="2,3", help="copy these layers, each right after itself (default 2,3)")
    ap.add_argument("--adapter", type=Path, default=None, help="a PEFT adapter on --model to grow alike")
    ap.add_argument("--adapter-out", type=Path, default=None)
    ap.add_argument("--json", action="store_true", help="print what was grown as one JSON document")
    a = ap.parse_args(argv)
    run_cli(lambda: grow(a.model, a.out, a.after, a.adapter, a.adapter_out), a.json,
            lambda info: {**info, "out": str(a.out), "adapter_out": str(a.adapter_out) if a.adapter_out else None})


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
