"""INT8 quantisation of the student for edge devices.

Every 2-D weight (embeddings, attention and MLP projections) is stored as int8 with one fp16
scale per output row (symmetric, ``w ~= q * scale``); norms stay fp16. The file is
``model.int8.safetensors`` beside the config and tokenizer. :func:`finetune.inference.load_int8`
dequantises it and runs the linear layers with torch dynamic INT8 quantisation.

``python -m finetune.quantize --model STUDENT_DIR --out DIR``
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from finetune.common import read_meta, save_tokenizer, write_meta

log = logging.getLogger(__name__)


def quantize_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """int8 rows + fp16 ``.scale`` per row for 2-D tensors, fp16 for the rest."""
    out: dict[str, torch.Tensor] = {}
    for name, w in state.items():
        w = w.float()
        if w.dim() == 2:
            # the scale is rounded to fp16 first so that quantising and dequantising use the same value
            scale = (w.abs().amax(dim=1, keepdim=True).clamp(min=1e-6) / 127.0).to(torch.float16)
            out[name] = torch.round(w / scale.float()).clamp(-127, 127).to(torch.int8).contiguous()
            out[name + ".scale"] = scale.squeeze(1).contiguous()
        else:
            out[name] = w.to(torch.float16).contiguous()
    return out


def dequantize_state(q: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The inverse of :func:`quantize_state` (fp32 tensors)."""
    out: dict[str, torch.Tensor] = {}
    for name, t in q.items():
        if name.endswith(".scale"):
            continue
        if t.dtype == torch.int8:
            out[name] = t.float() * q[name + ".scale"].float().unsqueeze(1)
        else:
            out[name] = t.float()
    return out


def quantize_model(src: Path, out: Path) -> dict[str, float]:
    """Write the INT8 copy of ``src`` into ``out``; returns sizes and the weight error."""
    from finetune.inference import INT8_FILE

    model = AutoModelForCausalLM.from_pretrained(src, dtype=torch.float32)
    state = {k: v for k, v in model.state_dict().items() if k != "lm_head.weight"}  # tied
    q = quantize_state(state)
    out.mkdir(parents=True, exist_ok=True)
    save_file(q, str(out / INT8_FILE))
    model.config.save_pretrained(out)
    save_tokenizer(AutoTokenizer.from_pretrained(src), out)
    deq = dequantize_state(q)
    err = max(float((deq[k] - v.float()).abs().max()) for k, v in state.items())
    return {"bytes": (out / INT8_FILE).stat().st_size, "max_abs_weight_error": err}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="INT8 quantisation of the student.")
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    stats = quantize_model(a.model, a.out)
    src_meta = read_meta(a.model)
    write_meta(a.out, kind="student-int8", config={"scheme": "per-output-channel symmetric int8 weights, fp16 scales; "
                                                   "runtime: dequantise + torch dynamic INT8 linears",
                                                   "source": str(a.model)},
               params=src_meta.get("params"), data_hash=src_meta.get("data_hash"), quantization=stats,
               train_time_s=src_meta.get("train_time_s"))
    log.info("INT8 student -> %s (%d bytes)", a.out, stats["bytes"])


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
