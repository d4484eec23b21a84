"""Train the byte-level BPE tokenizer (English + Chinese) with chat template and tool-call markers.

Digits are always single tokens and every Han character is its own pre-token: the lead's
experiments showed that a tokenizer which merges numbers ("2026", "101") makes a small model
miscopy them, and per-character Chinese keeps copied place names token-identical to the user's
text. Byte-level fallback means there is never an unknown token.

``--space-split`` (session 14) also makes every space its own token, so a word never carries the
space before it. Why: a name the user typed after a space ("for bomo-liwivuxe-d" -> " bo", "mo", ...)
and the same name inside the JSON call ('"bomo-liwivuxe-d"' -> "bo", "mo", ...) then share every
token; with the GPT-2 split they differ in the first one, and the shipped teacher's miscopied names
are mostly a wrong first token.

``python -m finetune.tokenizer --data train.jsonl --out DIR [--vocab 6144]``
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from finetune.chatformat import CHAT_TEMPLATE, EOS, IM_END, IM_START, TOOL_CLOSE, TOOL_OPEN, render_prompt
from finetune.common import save_tokenizer, write_meta
from finetune.data import data_hash, read_jsonl

log = logging.getLogger(__name__)

HAN = "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]"


def pre_tokenizer(space_split: bool = False) -> pre_tokenizers.PreTokenizer:
    """Han characters and CJK punctuation isolated, digits one by one, (with ``space_split``) every
    space on its own, then GPT-2 byte-level split."""
    steps = [pre_tokenizers.Split(Regex(HAN), behavior="isolated"), pre_tokenizers.Digits(individual_digits=True)]
    if space_split:
        steps.append(pre_tokenizers.Split(" ", behavior="isolated"))
    return pre_tokenizers.Sequence([*steps, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])


def splits_spaces(tok: Any) -> bool:
    """Whether ``tok`` keeps every space as its own token (``--space-split``)."""
    return [tok.decode([i]) for i in tok.encode(" ab", add_special_tokens=False)][:1] == [" "]


def train_tokenizer(texts: Iterable[str], vocab_size: int, space_split: bool = False) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained on ``texts``, wrapped for transformers."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizer(space_split)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2,
                                  special_tokens=[EOS, IM_START, IM_END, TOOL_OPEN, TOOL_CLOSE],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=IM_END, pad_token=EOS,
                                   additional_special_tokens=[IM_START], chat_template=CHAT_TEMPLATE,
                                   clean_up_tokenization_spaces=False, model_max_length=1024)
    return fast


def corpus_texts(rows: list[dict], extra: list[str]) -> list[str]:
    return [render_prompt(r["messages"], add_generation_prompt=False) for r in rows] + extra


def reference_texts() -> list[str]:
    """The shared reference paper (Chinese) and tool spec, when present: broader domain text."""
    from tools.core.settings import REPO_ROOT

    out = []
    for p in sorted((REPO_ROOT.parent / "shared").glob("*/*.txt")) + sorted((REPO_ROOT.parent / "shared" / "spec").glob("*.md")):
        try:
            out += [para.strip() for para in p.read_text(encoding="utf-8").split("\n\n") if para.strip()]
        except OSError:
            continue
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Train the byte-level BPE tokenizer.")
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--vocab", type=int, default=6144)
    ap.add_argument("--space-split", action="store_true", help="every space its own token (see the module doc)")
    a = ap.parse_args(argv)
    rows = read_jsonl(a.data)
    tok = train_tokenizer(corpus_texts(rows, reference_texts()), a.vocab, a.space_split)
    save_tokenizer(tok, a.out)
    split = " + spaces isolated" if a.space_split else ""
    write_meta(a.out, kind="tokenizer", config={"type": "byte-level BPE", "vocab_size": len(tok),
                                                  "pre_tokenizer": f"Han isolated + digits individual{split} + ByteLevel",
                                                  "space_split": a.space_split},
               data_hash=data_hash(rows))
    log.info("tokenizer with %d tokens -> %s", len(tok), a.out)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
