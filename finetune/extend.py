"""Extend a trained model's vocabulary with common Han characters (session 25).

The shipped tokenizer has 697 Han characters: the ones its training corpus used often. Every other
character is two or three byte tokens, and the model garbles them when it copies a name: over the 905
turns of the independent suites, all 20 whose expected arguments hold such a character were wrong
("嘉兴", "昆山", "杭州湾"...). ``extend`` adds the ``top`` most frequent Han characters (by their
frequency in jieba's dictionary) that the tokenizer lacks, as ordinary byte-level BPE tokens: each gets the
merges that join its current pieces, appended after the trained merges, so every text made only of
characters the tokenizer already had keeps its tokens exactly. Each new token's embedding row (tied, so
also its output row) starts as the mean of the rows of the pieces it replaces; a training round with
``sft --embed-lr`` (or :mod:`finetune.warm_rows`, the new rows alone) then trains them. Measured in session 25
(finetune/README.md): a round on the extended teacher beat the same round on the old tokens by one point of
exact calls, but still copied none of those 20 places; the shipped models keep the old tokenizer.

``python -m finetune.extend --model DIR --out DIR [--top 2000] [--json]`` (a folder with only a tokenizer
extends the tokenizer alone; base, teacher and student extended alike get the same token ids).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer
from tokenizers.decoders import ByteLevel
from transformers import AutoModelForCausalLM, AutoTokenizer

from finetune.common import param_count, read_meta, run_cli, save_tokenizer, write_meta, written_beside
from finetune.data import han_by_frequency

log = logging.getLogger(__name__)


def _pieces(backend: Tokenizer, ch: str) -> list[str]:
    """The BPE pieces (byte-level strings) of one character under ``backend``."""
    (word, _span), = backend.pre_tokenizer.pre_tokenize_str(ch)
    return [t.value for t in backend.model.tokenize(word)]


def _with_merges(pieces: list[str], rank: dict[tuple[str, str], int]) -> list[str]:
    """``pieces`` after the appended merges, as BPE applies them (lowest rank first; the trained merges,
    ranked before them, have nothing left to join)."""
    while len(pieces) > 1:
        ranked = [(r, i) for i in range(len(pieces) - 1) if (r := rank.get((pieces[i], pieces[i + 1]))) is not None]
        if not ranked:
            break
        _r, i = min(ranked)
        pieces = [*pieces[:i], pieces[i] + pieces[i + 1], *pieces[i + 2:]]
    return pieces


def extend_spec(spec_text: str, top: int) -> tuple[str, list[tuple[str, list[int]]]]:
    """A ``tokenizer.json`` with the ``top`` most frequent Han characters it lacks added as BPE tokens.

    Returns the new JSON text and, for each new token in id order, its byte-level string and the old token
    ids it replaces (for its embedding row). A character already one token adds nothing.
    """
    if top < 1:
        raise ValueError(f"--top {top}: give how many of the most frequent Han characters to cover (>= 1)")
    spec = json.loads(spec_text)
    model = spec["model"]
    if model.get("type") != "BPE" or model.get("byte_fallback"):
        raise ValueError(f"the tokenizer's model is {model.get('type')!r}; only a byte-level BPE can be extended")
    original = Tokenizer.from_str(spec_text)
    vocab: dict[str, int] = model["vocab"]
    next_id = max([*vocab.values(), *(t["id"] for t in spec["added_tokens"])]) + 1
    rank: dict[tuple[str, str], int] = {}  # the appended merges, in order
    added: list[str] = []
    for ch in han_by_frequency()[:top]:
        pieces = _with_merges(_pieces(original, ch), rank)
        if len(pieces) == 1:
            continue
        # join left to right, (p1, p2) then (p1p2, p3): no merge joined any of these pairs before, or BPE
        # would have used it, so the appended merges change no text the tokenizer already had tokens for
        merged = pieces[0]
        for nxt in pieces[1:]:
            rank[(merged, nxt)] = len(rank)
            model["merges"].append([merged, nxt])
            merged += nxt
            if merged not in vocab:
                vocab[merged] = next_id
                next_id += 1
                added.append(merged)
    replaced = [(s, [original.model.token_to_id(t.value) for t in original.model.tokenize(s)]) for s in added]
    return json.dumps(spec, ensure_ascii=False), replaced


def extend_embeddings(model: Any, replaced: list[tuple[str, list[int]]]) -> None:
    """Append one (tied) embedding row per new token: the mean of the rows of the pieces it replaces."""
    old = model.get_input_embeddings().weight.detach().clone()
    model.resize_token_embeddings(old.shape[0] + len(replaced), mean_resizing=False)
    weight = model.get_input_embeddings().weight
    with torch.no_grad():
        for k, (_s, ids) in enumerate(replaced):
            weight[old.shape[0] + k] = old[ids].mean(dim=0)


def extend(model_dir: Path, out: Path, top: int = 2000) -> dict[str, Any]:
    """Extend the tokenizer in ``model_dir`` (and its model's embeddings, when it has one) into ``out``."""
    src = Path(model_dir)
    if not (src / "tokenizer.json").is_file():
        raise ValueError(f"--model {model_dir}: no tokenizer.json there (a model or tokenizer folder is needed)")
    spec_text, replaced = extend_spec((src / "tokenizer.json").read_text(encoding="utf-8"), top)
    has_model = (src / "config.json").is_file()
    info: dict[str, Any] = {"top": top, "added_tokens": len(replaced), "source": str(model_dir),
                            "new_chars": "".join(c for s, _ in replaced if len(c := _text(s)) == 1 and "\u4e00" <= c <= "\u9fff")}
    model: Any = AutoModelForCausalLM.from_pretrained(src, dtype=torch.float32) if has_model else None
    if model is not None:
        known = Tokenizer.from_file(str(src / "tokenizer.json")).get_vocab_size(with_added_tokens=True)
        if model.config.vocab_size != known:
            # the new tokens' ids follow the tokenizer's last one; they must be the rows appended to the model
            raise ValueError(f"--model {model_dir}: the model has {model.config.vocab_size} embedding rows but its "
                             f"tokenizer {known} tokens; only a model with one row per token can be extended")
        info["vocab_from"] = model.config.vocab_size
        extend_embeddings(model, replaced)
        info["vocab_to"] = model.config.vocab_size
    with written_beside(out, seed_from=src) as tmp:  # ``out`` may be ``model_dir`` itself
        (tmp / "tokenizer.json").write_text(spec_text, encoding="utf-8")
        tok = AutoTokenizer.from_pretrained(tmp)
        save_tokenizer(tok, tmp)
        fields: dict[str, Any] = {"extended": info}
        if model is not None:
            model.to(torch.bfloat16).save_pretrained(tmp)
            fields["params"] = param_count(model)
        write_meta(tmp, **{**read_meta(src), **fields})
    log.info("added %d Han tokens to %s -> %s", len(replaced), model_dir, out)
    return info


def extend_stack(folder: Path, top: int) -> None:
    """Extend ``folder``'s ``tokenizer``, ``base`` and ``teacher`` alike, in place (the adapter, LoRA on the
    attention and MLP only, is unchanged: base + adapter stays the teacher)."""
    for part in ("tokenizer", "base", "teacher"):
        extend(Path(folder) / part, Path(folder) / part, top)


def _text(byte_level: str) -> str:
    """The text of a byte-level token string."""
    return ByteLevel().decode([byte_level])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Add the most frequent Han characters a tokenizer lacks as tokens "
                                             "(and embedding rows to its model).")
    ap.add_argument("--model", type=Path, required=True, help="a model folder, or a folder with only a tokenizer")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--top", type=int, default=2000, help="cover this many of jieba's most frequent Han characters")
    ap.add_argument("--json", action="store_true", help="print what was added as one JSON document")
    a = ap.parse_args(argv)
    run_cli(lambda: extend(a.model, a.out, a.top), a.json, lambda info: {**info, "out": str(a.out)})


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
