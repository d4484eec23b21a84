"""A model soup of SFT rounds trained side by side from one teacher.

Rounds that start from the same teacher ``T`` (different data seeds, or the same seed) each move it by an
update ``Δi``. Their weighted average ``T + Σ wi·Δi`` (``w0 = 1 - Σ wi`` left on ``T``) often generalises
better than any one of them (Wortsman et al., 2022, "Model soups"): the rounds' idiosyncratic flips
(a request sent to the wrong tool by one round, not by the other) average out, what they agree on stays.
Session 23 measured it: two rounds from the session-22 teacher, averaged half and half, gained 2.1 points of
exact calls over the 905 independent turns where either round alone gained 0.8-1.1 and lost right tool
(see ``finetune/README.md``).

Every update is a LoRA, plus new token embeddings for a round trained with ``--embed-lr`` (written into
a copy of the base, :func:`finetune.sft.replace_embeddings`). So the soup is exactly a stacked adapter too:
the start's adapter plus each round's LoRA scaled by its weight, on a base whose weights are the same
weighted average of the rounds' bases. Base + adapter stays the merged teacher, and vLLM serves it with
``--lora-modules`` as before.

Each folder (``--start``, every ``--round``) holds ``teacher/``, ``base/`` and ``adapter/`` like
``finetune/artifacts``; a round's ``adapter/`` is that one round's LoRA trained on the start's teacher, its
``base/`` the start's base (with the round's embeddings, if it trained them).

``python -m finetune.soup --start finetune/artifacts --round A --round B --weights 0.35,0.35 --out DIR [--json]``
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from finetune.adapters import stack_adapters
from finetune.common import read_meta, run_cli, write_meta, written_beside

log = logging.getLogger(__name__)

PARTS = ("teacher", "base", "adapter")
WEIGHTS = "model.safetensors"


def parse_weights(text: str, n_rounds: int) -> list[float]:
    """The rounds' weights from ``"0.35,0.35"``: one per round, each in [0, 1], summing to at most 1 (the
    rest stays on the start)."""
    try:
        weights = [float(x) for x in str(text).split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"--weights {text!r}: expected numbers separated by commas, e.g. 0.35,0.35") from None
    if len(weights) != n_rounds:
        raise ValueError(f"--weights {text!r}: {len(weights)} weight(s) for {n_rounds} round(s); give one per round")
    if any(not 0.0 <= w <= 1.0 for w in weights) or sum(weights) > 1.0 + 1e-9:
        raise ValueError(f"--weights {text!r}: each weight must be in [0, 1] and together at most 1 "
                         "(the rest stays on the start)")
    return weights


def check_folder(folder: Path, what: str) -> None:
    """ValueError naming what is missing unless ``folder`` holds a teacher, a base and an adapter."""
    missing = [p for p in PARTS if not (Path(folder) / p).is_dir()]
    if missing:
        raise ValueError(f"{what} {folder}: no {', '.join(f'{p}/' for p in missing)} there "
                         f"(a folder like finetune/artifacts holds {', '.join(f'{p}/' for p in PARTS)})")
    for part in ("teacher", "base"):
        if not (Path(folder) / part / WEIGHTS).is_file():
            raise ValueError(f"{what} {folder}: {part}/ has no single {WEIGHTS}")


def average_models(models: list[Path], weights: list[float], out: Path) -> None:
    """Write to ``out`` the weighted average of model folders with the same tensors (the first folder's
    config, tokenizer and meta come along). A tensor equal in all of them is copied as is."""
    if len(models) != len(weights) or abs(sum(weights) - 1.0) > 1e-6:
        raise ValueError(f"average of {len(models)} models with weights {weights}: one weight each, summing to 1")
    tensors = [load_file(str(Path(m) / WEIGHTS)) for m in models]
    first = tensors[0]
    for model, t in zip(models[1:], tensors[1:], strict=True):
        if t.keys() != first.keys() or any(t[k].shape != first[k].shape for k in first):
            raise ValueError(f"{model} and {models[0]} hold different tensors; were they trained from the same model?")
    out_tensors: dict[str, torch.Tensor] = {}
    for key, ref in first.items():
        if all(torch.equal(t[key], ref) for t in tensors[1:]):
            out_tensors[key] = ref  # unchanged by every round: no rounding
            continue
        mean = sum(w * t[key].double() for w, t in zip(weights, tensors, strict=True))
        out_tensors[key] = torch.as_tensor(mean).to(ref.dtype).contiguous()
    with written_beside(out, seed_from=models[0]) as tmp:
        save_file(out_tensors, str(tmp / WEIGHTS), metadata={"format": "pt"})


def soup(start: Path, rounds: list[Path], weights: list[float], out: Path) -> dict[str, Any]:
    """Write ``out/{teacher,base,adapter}``: ``start`` plus each round's update times its weight.

    Returns what was written: the weights (the start's first) and the soup's meta fields."""
    check_folder(start, "--start")
    for r in rounds:
        check_folder(r, "--round")
    if len(weights) != len(rounds):
        raise ValueError(f"{len(weights)} weight(s) for {len(rounds)} round(s); give one per round")
    all_weights = [1.0 - sum(weights), *weights]
    out = Path(out)
    for part in ("teacher", "base"):
        average_models([Path(start) / part, *(Path(r) / part for r in rounds)], all_weights, out / part)
    stack_adapters(Path(start) / "adapter", Path(rounds[0]) / "adapter", out / "adapter", scale=weights[0])
    for r, w in zip(rounds[1:], weights[1:], strict=True):
        stack_adapters(out / "adapter", Path(r) / "adapter", out / "adapter", scale=w)

    start_meta = read_meta(Path(start) / "teacher")
    round_metas = [read_meta(Path(r) / "teacher") for r in rounds]
    round_seconds = [float((m.get("train") or {}).get("seconds") or 0) for m in round_metas]
    hashes = start_meta.get("data_hash")
    info = {"start": str(start), "rounds": [str(r) for r in rounds], "weights": all_weights,
            "round_data_hashes": [m.get("data_hash") for m in round_metas]}
    # a side-by-side round's meta counts its own start's training as pretraining; the start's meta is right
    write_meta(out / "teacher", soup=info, data_hash=[*(hashes if isinstance(hashes, list) else [hashes]),
                                                      *(m.get("data_hash") for m in round_metas)],
               train=start_meta.get("train"), rounds_train=[m.get("train") for m in round_metas], note=f"a model soup of {start} and {len(rounds)} round(s)",
               pretrain_time_s=start_meta.get("pretrain_time_s"),
               sft_time_s=round((start_meta.get("sft_time_s") or 0) + sum(round_seconds), 1),
               train_time_s=round((start_meta.get("train_time_s") or 0) + sum(round_seconds), 1))
    # a round that trained the embeddings counted itself in its base's meta; the soup's base carries them too
    trained = max(read_meta(Path(f) / "base").get("embeddings_trained_in_sft", 0) for f in (start, *rounds))
    write_meta(out / "adapter", stacked_from=[str(Path(f) / "adapter") for f in (start, *rounds)],
               scales=[1.0, *weights])
    write_meta(out / "base", soup=info, **({"embeddings_trained_in_sft": trained} if trained else {}))
    log.info("soup of %s and %d round(s), weights %s -> %s", start, len(rounds), all_weights, out)
    return info


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Average SFT rounds trained side by side from one teacher (a model soup).")
    ap.add_argument("--start", type=Path, required=True, help="teacher/, base/ and adapter/ the rounds started from")
    ap.add_argument("--round", type=Path, action="append", required=True, dest="rounds",
                    help="a round's teacher/, base/ and adapter/ (repeat for each round)")
    ap.add_argument("--weights", required=True, help="each round's share, e.g. 0.35,0.35 (the rest stays on --start)")
    ap.add_argument("--out", type=Path, required=True, help="where teacher/, base/ and adapter/ of the soup go")
    ap.add_argument("--json", action="store_true", help="print what was written as one JSON document")
    a = ap.parse_args(argv)
    run_cli(lambda: soup(a.start, a.rounds, parse_weights(a.weights, len(a.rounds)), a.out), a.json,
            lambda info: {**info, "out": str(a.out)})


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
