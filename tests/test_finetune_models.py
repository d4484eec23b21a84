"""The shipped model artifacts load with the real transformers/peft code and produce tool calls;
the tokenizer never merges digits; the smoke pipeline runs end to end."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import torch

from finetune.chatformat import parse_assistant
from finetune.common import ARTIFACTS, HELDOUT
from tools.core.errors import DiaoduError

needs_artifacts = pytest.mark.skipif(not (ARTIFACTS / "teacher").is_dir(), reason="shipped artifacts absent")


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@needs_artifacts
def test_tokenizer_never_merges_digits_and_has_the_chat_template() -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(ARTIFACTS / "tokenizer")
    for text in ["X-n101-k25 with 2026 trucks", "north-2026-11-24", "用26辆车，预算120秒", '{"orders": [101, 99]}']:
        ids = tok.encode(text, add_special_tokens=False)
        pieces = [tok.decode([i]) for i in ids]
        assert all(not any(ch.isdigit() for ch in p) or p.strip().isdigit() and len(p.strip()) == 1 for p in pieces), pieces
        assert tok.decode(ids) == text
    for special in ("<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>"):
        assert len(tok.encode(special, add_special_tokens=False)) == 1
    assert "<tool_call>" in (tok.chat_template or "")


@needs_artifacts
def test_value_weighting_marks_exactly_the_copied_argument_values() -> None:
    from transformers import AutoTokenizer

    from finetune.common import encode_conversation, encode_weighted, masked_ce

    tok = AutoTokenizer.from_pretrained(ARTIFACTS / "tokenizer")
    conv = [{"role": "user", "content": "a spill at Kico Lane, zone-5-friday, 3 cases"},
            {"role": "assistant", "tool_calls": [{"name": "search_emergency_cases", "arguments": {
                "incident_type": "hazmat_spill", "location": "Kico Lane", "k": 3, "query": "a spill at Kico Lane"}}]},
            {"role": "tool", "content": '{"cases": []}'},
            {"role": "assistant", "content": "No similar case at Kico Lane."}]
    ids, labels, weights = encode_weighted(tok, conv, 4.0)
    assert (ids, labels) == encode_conversation(tok, conv)
    heavy = "".join(tok.decode([i]) for i, w in zip(ids, weights, strict=True) if w == 4.0)
    # the values, not the keys, the free-text query, the user's words or the answer
    assert "hazmat_spill" in heavy and "Kico Lane" in heavy and "3" in heavy
    assert heavy.count("Kico") == 1 and "location" not in heavy and "spill at" not in heavy
    assert all(w == 4.0 for i, w in zip(ids, weights, strict=True) if tok.decode([i]) == "hazmat_spill")

    # all-ones weights give the plain mean; a heavier token counts more
    logits = torch.randn(1, 6, 11)
    lab = torch.tensor([[-100, 3, 4, -100, 5, 6]])
    ones = torch.ones(1, 6)
    assert torch.allclose(masked_ce(logits, lab, ones), masked_ce(logits, lab))
    per = torch.nn.functional.cross_entropy(logits[0, :-1], lab[0, 1:], ignore_index=-100, reduction="none")
    heavier = ones.clone()
    heavier[0, 2] = 3.0
    expect = (per[0] + 3 * per[1] + per[3] + per[4]) / 6
    assert torch.allclose(masked_ce(logits, lab, heavier), expect)


@needs_artifacts
@pytest.mark.parametrize("value_weight", [1.0, 5.0])
def test_encoded_examples_round_trip_through_the_cache(tmp_path: Path, value_weight: float) -> None:
    from transformers import AutoTokenizer

    from finetune.common import encode_rows
    from finetune.data import data_hash, generate

    tok = AutoTokenizer.from_pretrained(ARTIFACTS / "tokenizer")
    rows = generate(40, seed=3, breadth=3)
    fresh = encode_rows(tok, rows, value_weight, tmp_path, data_hash(rows))
    assert len(list(tmp_path.glob("encoded-*.npz"))) == 1
    # a second sitting reads the cache: the same examples, even with the rows gone
    assert encode_rows(tok, [], value_weight, tmp_path, data_hash(rows)) == fresh
    assert all(len(ex) == (3 if value_weight != 1.0 else 2) for ex in fresh)
    # another key (other data) is encoded afresh, not served the cached examples
    assert encode_rows(tok, rows[:5], value_weight, tmp_path, data_hash(rows[:5])) == fresh[:5]
    assert len(list(tmp_path.glob("encoded-*.npz"))) == 2


@needs_artifacts
def test_teacher_loads_and_calls_a_tool() -> None:
    from finetune.inference import load_model

    model = load_model(ARTIFACTS / "teacher")
    out = model.generate([{"role": "user", "content": "plan routes for X-n101-k25 with 26 trucks"}], max_new_tokens=60)
    calls, _ = parse_assistant(out)
    assert calls and calls[0]["name"] == "plan_routes", out
    assert calls[0]["arguments"].get("dataset") == "X-n101-k25"


@needs_artifacts
def test_adapter_loads_with_peft_and_matches_the_merged_teacher() -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cfg = json.loads((ARTIFACTS / "adapter" / "adapter_config.json").read_text())
    assert not cfg.get("modules_to_save"), "vLLM cannot serve modules_to_save"
    base = AutoModelForCausalLM.from_pretrained(ARTIFACTS / "base", dtype=torch.float32)
    model = PeftModel.from_pretrained(base, ARTIFACTS / "adapter").eval()
    merged = AutoModelForCausalLM.from_pretrained(ARTIFACTS / "teacher", dtype=torch.float32).eval()
    # base + adapter, merged here, is the stored teacher: what differs is the bf16 rounding of each round's
    # merge, under 3 % of the adapter's whole update (a missing or wrong round would be far more)
    plain = AutoModelForCausalLM.from_pretrained(ARTIFACTS / "base", dtype=torch.float32).state_dict()
    ours, stored = model.merge_and_unload().state_dict(), merged.state_dict()
    names = [n for n in stored if n.endswith("_proj.weight")]
    off = sum((ours[n] - stored[n]).pow(2).sum() for n in names)
    update = sum((ours[n] - plain[n]).pow(2).sum() for n in names)
    assert float(update) > 0 and float((off / update).sqrt()) < 0.03
    from finetune.inference import load_model

    prompt = load_model(ARTIFACTS / "teacher").prompt([{"role": "user", "content": "plan X-n101-k25 with 26 trucks"}])
    ids = AutoTokenizer.from_pretrained(ARTIFACTS / "tokenizer")(prompt, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        a = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(ARTIFACTS / "base", dtype=torch.float32),
                                      ARTIFACTS / "adapter").eval()(input_ids=ids).logits
        b = merged(input_ids=ids).logits
    assert a.argmax(-1).eq(b.argmax(-1)).float().mean() >= 0.9


@needs_artifacts
def test_int8_student_is_small_and_runs() -> None:
    from finetune.inference import INT8_FILE, load_model

    size = (ARTIFACTS / "student-int8" / INT8_FILE).stat().st_size
    teacher = sum(f.stat().st_size for f in (ARTIFACTS / "teacher").glob("*.safetensors"))
    assert size * 8 <= teacher
    model = load_model(ARTIFACTS / "student-int8")
    out = model.generate([{"role": "user", "content": "schedule ft10 with cp-sat"}], max_new_tokens=40)
    assert isinstance(out, str)


@needs_artifacts
def test_batched_decoding_of_the_speed_race_gives_each_prompt_its_own_greedy_tokens() -> None:
    from finetune.evaluate import batched_greedy
    from finetune.inference import load_model

    model = load_model(ARTIFACTS / "student")
    prompts = [[{"role": "user", "content": text}] for text in
               ("plan routes for X-n101-k25 with 26 trucks", "schedule ft10 with cp-sat",
                "卡车 4 坏了", "hi")]  # prompts of different lengths: left padding
    tokens, seconds = batched_greedy(model, prompts, steps=12)
    assert tokens.shape == (4, 12) and seconds > 0
    for row, msgs in zip(tokens.tolist(), prompts, strict=True):
        alone = model._greedy(model.tokenizer(model.prompt(msgs), return_tensors="pt",
                                              add_special_tokens=False)["input_ids"], 12).tolist()
        assert row[:len(alone)] == alone, (msgs, row, alone)  # alone stops at the end of its reply


def test_smoke_pipeline(tmp_path: Path) -> None:
    """The CI pipeline: every phase at tiny sizes, into a temp folder, never the shipped artifacts."""
    from finetune import pipeline

    # a budget that the tiny sizes never reach: the budget's bookkeeping runs, nothing is cut short
    summary = pipeline.main(["--smoke", "--out", str(tmp_path / "out"), "--work", str(tmp_path / "work"),
                             "--set", "budget_minutes=600"])
    for name in ("tokenizer", "base", "adapter", "teacher", "student", "student-int8"):
        assert (tmp_path / "out" / name / "meta.json").is_file(), name
    res = summary["results"]
    assert {"teacher", "student", "student-ce", "student-int8"} <= set(res)
    assert res["student"]["params"] * 4 <= res["teacher"]["params"]
    assert 0.0 <= res["teacher"]["all"]["right_tool"] <= 100.0
    # the smoke plan's round is weighted and drawn at breadth 2; its students are weighted too
    rounds = json.loads((tmp_path / "out" / "adapter" / "meta.json").read_text())["config"]["rounds"]
    assert rounds[-1]["value_weight"] == 5.0
    # its data carries broad no-tool conversations and Chinese case searches after the seed's own (100 + 20 + 10)
    # (its round is two side by side, seeds 9 and 10, souped: one file each)
    for side in "ab":
        assert len((tmp_path / "work" / f"sft-round2{side}.jsonl").read_text(encoding="utf-8").splitlines()) == 130
    souped = json.loads((tmp_path / "out" / "teacher" / "meta.json").read_text())["soup"]
    assert souped["weights"] == pytest.approx([0.2, 0.4, 0.4]) and len(set(souped["round_data_hashes"])) == 2
    student = json.loads((tmp_path / "out" / "student" / "meta.json").read_text())["config"]
    assert student["value_weight"] == 5.0
    # the KD student had two sittings, the CE twin one; KD is compared with CE at the twin's steps,
    # from its own copy taken after its first sitting
    assert student["earlier_steps"]
    for twin in ("student-ce", pipeline.KD_AT_CE_STEPS):
        assert not json.loads((tmp_path / "work" / twin / "meta.json").read_text())["config"].get("earlier_steps"), twin
    assert pipeline.KD_AT_CE_STEPS in res and "kd_minus_ce_exact" in res["comparison"]
    # the speed race keeps every round, and the speed-up is the median of the per-round ratios
    speed = res["speed"]
    ratios = sorted(s / t for s, t in zip(speed["student"]["rounds_tokens_per_s"],
                                          speed["teacher"]["rounds_tokens_per_s"], strict=True))
    assert len(ratios) == 5 and res["comparison"]["student_speedup"] == round(ratios[2], 2)
    batched = sorted(s / t for s, t in zip(speed["student"]["rounds_batch_tokens_per_s"],
                                           speed["teacher"]["rounds_batch_tokens_per_s"], strict=True))
    assert speed["teacher"]["batch"] >= 2 and res["comparison"]["student_batch_speedup"] == round(batched[2], 2)
    caps = summary["budget"]["caps_given"]
    assert set(caps) == {"pretrain1", "pretrain2", "pretrain3", "pretrain4", "sft", "sft_round2", "distil"}
    # the plan's caps: nothing binds (the smoke plan's one-thread students run side by side on two cores)
    side_by_side = (os.cpu_count() or 1) >= 2
    assert caps["pretrain1"] == 60.0 and caps["distil"] == (60 + 30 if side_by_side else 60 + 30 + 60)
    assert json.loads((tmp_path / "out" / "base" / "meta.json").read_text())["train"]["stopped_by"] == "steps"
    # the smoke plan grows the tiny model from 2 to 3 layers before its round, and the round trains the token
    # embeddings too, writing them into base/; its two sides are souped: base + adapter is still the teacher
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tmp_path / "out" / "base", dtype=torch.float32)
    teacher = AutoModelForCausalLM.from_pretrained(tmp_path / "out" / "teacher", dtype=torch.float32)
    assert base.config.num_hidden_layers == teacher.config.num_hidden_layers == 3
    # and extends the tokenizer with common Han characters before it: tokenizer, base, teacher and the student
    # distilled after it share the wider vocabulary
    from transformers import AutoTokenizer

    extended = json.loads((tmp_path / "out" / "tokenizer" / "meta.json").read_text())["extended"]
    vocab = len(AutoTokenizer.from_pretrained(tmp_path / "out" / "tokenizer"))
    assert extended["added_tokens"] > 0 and vocab > 1200
    student_model = AutoModelForCausalLM.from_pretrained(tmp_path / "out" / "student")
    assert base.config.vocab_size == teacher.config.vocab_size == student_model.config.vocab_size == vocab
    assert json.loads((tmp_path / "out" / "base" / "meta.json").read_text())["embeddings_trained_in_sft"] == 1
    served = PeftModel.from_pretrained(base, tmp_path / "out" / "adapter").merge_and_unload()
    for name, w in teacher.state_dict().items():
        torch.testing.assert_close(served.state_dict()[name], w, rtol=0.02, atol=0.02, msg=name)


def test_budget_shares_the_time_left_by_expected_time_and_never_raises_a_plan_cap() -> None:
    from finetune import pipeline

    budget = pipeline.Budget(200.0, {"a": 100.0, "b": 300.0})
    assert budget.cap("a", 1000.0) == pytest.approx(50.0, abs=0.5)  # a quarter of the 200 s left
    assert budget.cap("b", 1000.0) == pytest.approx(200.0, abs=0.5)  # the last phase gets all that is left
    assert budget.cap("b", 20.0) == 20.0  # a plan cap below the share stands
    assert pipeline.Budget(None, {"a": 1.0}).cap("a", 7.0) == 7.0  # no budget: the plan's cap
    with pytest.raises(ValueError, match="must be positive"):
        pipeline.Budget(0.0, {})
    with pytest.raises(SystemExit, match="budget_minutes=-5"):
        pipeline.main(["--set", "budget_minutes=-5", "--phases", "eval"])
    # the default plan, two threads on two cores: the students one after the other
    plan = pipeline.Plan()
    expected = pipeline.expected_seconds(plan, list(pipeline.PHASES), 3, 1, side_by_side=False)
    assert list(expected) == ["data", "tokenizer", "pretrain1", "pretrain2", "pretrain3", "pretrain4", "sft",
                              "sft_round2", "sft_round3", "sft_round4", "sft_round5", "sft_round6", "sft_round7", "sft_round8",
                              "sft_round9", "sft_round10", "distil",
                              "quantize", "eval"]
    # the last three rounds run on the model grown from 6 to 8 layers
    assert expected["sft_round7"] == pytest.approx(expected["sft_round6"] * 8 / 6)
    assert expected["sft_round9"] == pytest.approx(expected["sft_round8"]) == pytest.approx(expected["sft_round7"])
    assert pipeline.jobs_cap([[60, 30], [60]], side_by_side=True) == 90
    assert pipeline.jobs_cap([[60, 30], [60]], side_by_side=False) == 150
    assert pipeline.jobs_cap([], side_by_side=False) == 0
    # the KD sittings learn from the grown teacher: its two extra layers (a third more) slow a step by a sixth
    kd_scale = 1 + pipeline.KD_TEACHER_SHARE * (8 / 6 - 1)
    assert kd_scale == pytest.approx(7 / 6)
    assert expected["distil"] == pytest.approx(15000 * pipeline.STEP_SECONDS["kd"] * kd_scale
                                               + 5000 * pipeline.STEP_SECONDS["ce"])
    # with no growth the teacher is as it was and a KD step costs its plain price
    flat = pipeline.expected_seconds(pipeline.Plan(grow_before_round=0), ["distil"], 3, 1, side_by_side=False)
    assert flat["distil"] == pytest.approx(15000 * pipeline.STEP_SECONDS["kd"] + 5000 * pipeline.STEP_SECONDS["ce"])


def test_a_time_capped_run_ends_annealed() -> None:
    from finetune.common import lr_at, train_steps

    assert lr_at(100, 1000, 1.0, 10) > 0.9  # early by steps and by the clock
    assert lr_at(100, 1000, 1.0, 10, time_fraction=1.0) == pytest.approx(0.1)  # the clock ran out
    assert lr_at(999, 1000, 1.0, 10, time_fraction=0.2) == pytest.approx(0.1, abs=1e-3)  # the steps ran out
    model = torch.nn.Linear(4, 1)
    batch = {"x": torch.ones(2, 4), "attention_mask": torch.ones(2, 4)}
    stream = iter(lambda: batch, None)
    stats = train_steps(model, stream, 10_000, [{"params": list(model.parameters()), "lr": 1e-3}],
                        lambda m, b: m(b["x"]).pow(2).mean(), max_seconds=0.3, bf16=False)
    assert stats["stopped_by"] == "time" and stats["steps"] < 10_000
    stats = train_steps(model, stream, 5, [{"params": list(model.parameters()), "lr": 1e-3}],
                        lambda m, b: m(b["x"]).pow(2).mean(), max_seconds=60, bf16=False)
    assert stats["stopped_by"] == "steps" and stats["steps"] == 5


def test_pipeline_refuses_per_round_settings_that_do_not_match_the_rounds() -> None:
    from finetune import pipeline

    with pytest.raises(SystemExit, match="sft_round_value_weight='1,5,5' has 3 value"):
        pipeline.main(["--set", "sft_round_seeds=9,10", "--set", "sft_round_breadth=1", "--set", "sft_round_lr=1e-3",
                       "--set", "sft_round_value_weight=1,5,5", "--phases", "eval"])
    for setting, message in (
            ("sft_round_lr=1e-3,x,3e-4,3e-4,3e-4,3e-4,3e-4,3e-4,3e-4",
             "sft_round_lr='1e-3,x,3e-4,3e-4,3e-4,3e-4,3e-4,3e-4,3e-4' must be comma-separated numbers"),
            ("sft_round_broad_no_tool=0,0,0,0,0,0,0,0,1.5",
             r"sft_round_broad_no_tool='0,0,0,0,0,0,0,0,1.5': each round's share must be in \[0, 1\]"),
            ("sft_round_embed_lr=0,0,0,0,0,0,0,0,-1e-4",
             r"sft_round_embed_lr='0,0,0,0,0,0,0,0,-1e-4': each round's rate must be >= 0"),
            ("sft_round_soup=1,1,1,1,1,1,1,1,0", r"sft_round_soup='1,1,1,1,1,1,1,1,0': each round's kept share must be in \(0, 1\]"),
            ("sft_round_seeds=9,10,12,14,15,16,17,18,19+x", r"joins them with '\+', e.g. 19\+20"),
            ("sft_round_seeds=9,10,12,14,15,16,17,18,19+19", "joins at most 10 different seeds"),
            ("sft_round_breadth=4", r"breadth must be one of \(1, 2, 3\)"),
            ("sft_round_emergency=fancy", r"sft_round_emergency='fancy': each round's shapes must be one of \('basic', 'places', 'rich', 'lean'\)"),
            ("sft_round_rank=32,32,32,32,32,32,32,32,0.5",
             r"sft_round_rank='32,32,32,32,32,32,32,32,0.5': each round's LoRA rank must be a whole number"),
            ("grow_before_round=10", r"grow_before_round=10: 0 \(never\) or a later round's number, 1..9"),
            ("sft_round_zh_searches=0,0,0,0,0,0,0,0,2",
             r"sft_round_zh_searches='0,0,0,0,0,0,0,0,2': each round's share must be in \[0, 1\]"),
            ("extend_before_round=12", r"extend_before_round=12: 0 \(never\) or a later round's number, 1..9"),
            ("grow_after=2,x", "grow_after / --after '2,x'"),
            ("grow_after=2,6", r"grow_after / --after '2,6': give distinct layer numbers in 0..5"),  # the teacher has 6 layers
    ):
        with pytest.raises(SystemExit, match=message):
            pipeline.main(["--set", setting, "--phases", "eval"])
    with pytest.raises(SystemExit, match=r"extend_top=0: how many of the most frequent Han characters"):
        pipeline.main(["--set", "extend_before_round=9", "--set", "extend_top=0", "--phases", "eval"])
    side = pipeline.sft_rounds(pipeline.Plan(sft_round_soup="1,1,1,1,1,1,1,1,0.7"))
    assert side[-1].seeds == (19, 20) and side[-1].soup == 0.7 and side[0].seeds == (9,)
    # the default plan's last round is two side by side: twice a round's expected time
    rounds_time = pipeline.expected_seconds(pipeline.Plan(), ["sft_rounds"], 1, 0, side_by_side=False)
    assert rounds_time["sft_round10"] == pytest.approx(2 * rounds_time["sft_round9"])
    with pytest.raises(SystemExit, match=r"sft_round_names='wide,huge'.*one of \('narrow', 'wide', 'wild', 'han'\)"):
        pipeline.main(["--set", "sft_round_seeds=9,10", "--set", "sft_round_breadth=1", "--set", "sft_round_lr=1e-3",
                       "--set", "sft_round_rank=32", "--set", "sft_round_embed_lr=0", "--set", "sft_round_names=wide,huge",
                       "--phases", "eval"])
    with pytest.raises(SystemExit, match="without any, set it to 0"):
        pipeline.main(["--set", "sft_round_seeds=", "--phases", "eval"])
    with pytest.raises(SystemExit, match="size='huge'"):
        pipeline.main(["--set", "size=huge", "--phases", "eval"])
    no_rounds = pipeline.Plan(sft_round_seeds="", grow_before_round=0)
    pipeline.check_plan(no_rounds)  # the documented one-round recipe
    with pytest.raises(SystemExit, match="sft_round_seeds='9,ten'"):
        pipeline.main(["--set", "sft_round_seeds=9,ten", "--set", "sft_round_lr=1e-3", "--set", "sft_round_breadth=1",
                       "--phases", "eval"])
    with pytest.raises(SystemExit, match="student_ce_sittings=-1"):
        pipeline.main(["--set", "student_ce_sittings=-1", "--phases", "eval"])
    pipeline.check_plan(pipeline.Plan())  # the default plan's per-round lists match its round seeds
    assert pipeline.per_round_text("narrow,wide", 2, "x") == ["narrow", "wide"]
    assert pipeline.per_round("5", 3, "x") == [5.0, 5.0, 5.0]
    assert pipeline.per_round("1,1", 0, "x") == []


def _random_lora(model: torch.nn.Module, seed: int, rank: int, alpha: int) -> torch.nn.Module:
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    cfg = LoraConfig(r=rank, lora_alpha=alpha, target_modules=["q_proj", "v_proj", "down_proj"],
                     init_lora_weights=False, task_type="CAUSAL_LM")
    return get_peft_model(model, cfg)


def test_stacked_adapter_equals_the_round_by_round_merge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Round 2 trained on the merge of round 1: the stacked adapter on the original base is that model."""
    from peft import PeftModel
    from transformers import LlamaConfig, LlamaForCausalLM

    from finetune.adapters import stack_adapters

    cfg = LlamaConfig(vocab_size=50, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64)
    torch.manual_seed(0)
    LlamaForCausalLM(cfg).save_pretrained(tmp_path / "base")
    round1 = _random_lora(LlamaForCausalLM.from_pretrained(tmp_path / "base"), 1, rank=4, alpha=8)
    round1.save_pretrained(tmp_path / "a1")
    round2 = _random_lora(round1.merge_and_unload(), 2, rank=2, alpha=8)  # another rank and scaling
    round2.save_pretrained(tmp_path / "a2")
    expected = round2.merge_and_unload().eval()

    stacked_cfg = stack_adapters(tmp_path / "a1", tmp_path / "a2", tmp_path / "stacked")
    assert stacked_cfg["r"] == 6
    stacked = PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(tmp_path / "base"), tmp_path / "stacked").eval()
    ids = torch.tensor([[1, 5, 9, 42, 7, 3]])
    with torch.no_grad():
        torch.testing.assert_close(stacked(input_ids=ids).logits, expected(input_ids=ids).logits, rtol=1e-4, atol=1e-4)
        plain = LlamaForCausalLM.from_pretrained(tmp_path / "base").eval()(input_ids=ids).logits
    assert not torch.allclose(plain, expected(input_ids=ids).logits, atol=1e-3)  # the adapters did change the model

    with pytest.raises(ValueError, match="not a PEFT LoRA adapter"):
        stack_adapters(tmp_path / "a1", tmp_path / "base", tmp_path / "bad")
    from finetune.adapters import main as adapters_main

    with pytest.raises(SystemExit, match=r"scale 1.5: the share of the second adapter's update must be in \[0, 1\]"):
        adapters_main(["--first", str(tmp_path / "a1"), "--second", str(tmp_path / "a2"), "--out", str(tmp_path / "x"),
                       "--scale", "1.5"])

    # ranks that add up past the layers' size (32 here): the same model at rank 32
    wide1 = _random_lora(LlamaForCausalLM.from_pretrained(tmp_path / "base"), 3, rank=24, alpha=24)
    wide1.save_pretrained(tmp_path / "w1")
    wide2 = _random_lora(wide1.merge_and_unload(), 4, rank=16, alpha=32)
    wide2.save_pretrained(tmp_path / "w2")
    assert stack_adapters(tmp_path / "w1", tmp_path / "w2", tmp_path / "wide")["r"] == 32
    adapters_main(["--first", str(tmp_path / "w1"), "--second", str(tmp_path / "w2"), "--out", str(tmp_path / "wide-cli"),
                   "--json"])
    assert json.loads(capsys.readouterr().out)["rank"] == 32
    wide = PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(tmp_path / "base"), tmp_path / "wide").eval()
    with torch.no_grad():
        torch.testing.assert_close(wide(input_ids=ids).logits, wide2.merge_and_unload().eval()(input_ids=ids).logits,
                                   rtol=1e-4, atol=1e-4)

    # the vLLM launcher reads the rank the stacked adapter needs
    from assistant.vllm_server import max_lora_rank

    assert max_lora_rank([str(tmp_path / "a1")]) == 8  # rank 4 -> vLLM's smallest bound above it
    assert max_lora_rank([str(tmp_path / "a1"), str(tmp_path / "stacked")]) == 8
    with pytest.raises(DiaoduError, match="cannot read its rank"):
        max_lora_rank([str(tmp_path / "base")])


def test_grown_model_and_adapter_compute_what_the_original_did(tmp_path: Path) -> None:
    """Zero-output layer copies change nothing: grown base + grown adapter == the original merged model,
    with and without the KV cache; a LoRA round can then train the copies."""
    from peft import PeftModel
    from transformers import LlamaConfig, LlamaForCausalLM

    from finetune.grow import grow_adapter, grow_model, parse_after
    from finetune.sft import TARGETS

    cfg = LlamaConfig(vocab_size=50, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64)
    torch.manual_seed(0)
    LlamaForCausalLM(cfg).save_pretrained(tmp_path / "base")
    from peft import LoraConfig, get_peft_model

    lora = get_peft_model(LlamaForCausalLM.from_pretrained(tmp_path / "base"),
                          LoraConfig(r=4, lora_alpha=8, target_modules=TARGETS, init_lora_weights=False))
    lora.save_pretrained(tmp_path / "adapter")
    teacher = lora.merge_and_unload().eval()
    ids = torch.tensor([[1, 5, 9, 42, 7, 3]])
    with torch.no_grad():
        before = teacher(input_ids=ids).logits
        before_tokens = teacher.generate(ids, max_new_tokens=8, do_sample=False)

    after = parse_after("1,0", 3)
    assert after == [0, 1]
    grown_teacher = grow_model(teacher, after).eval()
    assert grown_teacher.config.num_hidden_layers == 5
    assert [layer.self_attn.layer_idx for layer in grown_teacher.model.layers] == [0, 1, 2, 3, 4]
    grow_model(LlamaForCausalLM.from_pretrained(tmp_path / "base"), after).save_pretrained(tmp_path / "base5")
    grow_adapter(tmp_path / "adapter", tmp_path / "adapter5", after, n_layers=3)
    served = PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(tmp_path / "base5"), tmp_path / "adapter5").eval()
    with torch.no_grad():
        torch.testing.assert_close(grown_teacher(input_ids=ids).logits, before, rtol=0, atol=0)
        torch.testing.assert_close(served(input_ids=ids).logits, before, rtol=1e-5, atol=1e-5)
        assert torch.equal(grown_teacher.generate(ids, max_new_tokens=8, do_sample=False), before_tokens)

    # the copies' output projections are zero, but a LoRA round on them gets a gradient
    copy = grown_teacher.model.layers[1]
    assert not copy.self_attn.o_proj.weight.any() and not copy.mlp.down_proj.weight.any()
    round2 = get_peft_model(grown_teacher, LoraConfig(r=2, lora_alpha=4, target_modules=TARGETS))
    round2(input_ids=ids, labels=ids).loss.backward()
    grads = {n: p.grad for n, p in round2.named_parameters() if ".layers.1.self_attn.o_proj.lora_B" in n}
    assert grads and all(g is not None and g.abs().sum() > 0 for g in grads.values())

    for bad in ("", "3", "1,1", "x"):
        with pytest.raises(ValueError, match="--after"):
            parse_after(bad, 3)
    from finetune.grow import main as grow_main

    with pytest.raises(SystemExit, match="no model there"):
        grow_main(["--model", str(tmp_path / "nope"), "--out", str(tmp_path / "out")])
    with pytest.raises(SystemExit, match="give --adapter and --adapter-out together"):
        grow_main(["--model", str(tmp_path / "base"), "--out", str(tmp_path / "out"), "--adapter", str(tmp_path / "adapter")])
    assert not (tmp_path / "out").exists()


def test_a_round_that_trains_the_embeddings_must_write_them_where_the_adapter_sits(tmp_path: Path,
                                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A LoRA adapter cannot carry embeddings (vLLM serves no modules_to_save): ``--embed-lr`` needs
    ``--embeddings-into``, and ``replace_embeddings`` swaps exactly the embedding matrix of that folder."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from finetune import sft

    common = ["--data", str(tmp_path / "none.jsonl"), "--base", str(tmp_path), "--adapter-out", str(tmp_path / "a"),
              "--merged-out", str(tmp_path / "m")]
    with pytest.raises(SystemExit):
        sft.main([*common, "--embed-lr", "1e-4"])
    assert "--embed-lr > 0 and --embeddings-into DIR go together" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        sft.main([*common, "--embed-lr", "-1"])
    assert "--embed-lr -1.0: a learning rate is >= 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # refused before any training, not after it
        sft.main([*common, "--embed-lr", "1e-4", "--embeddings-into", str(tmp_path)])
    assert "no single model.safetensors" in capsys.readouterr().err

    cfg = LlamaConfig(vocab_size=50, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64, tie_word_embeddings=True)
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg)
    model.save_pretrained(tmp_path / "base")
    new = torch.randn(50, 32)
    sft.replace_embeddings(tmp_path / "base", new)
    back = LlamaForCausalLM.from_pretrained(tmp_path / "base", dtype=torch.float32)
    torch.testing.assert_close(back.get_input_embeddings().weight, new)
    torch.testing.assert_close(back.get_output_embeddings().weight, new)  # tied: the output layer follows
    torch.testing.assert_close(back.model.layers[0].mlp.up_proj.weight, model.model.layers[0].mlp.up_proj.weight)
    assert json.loads((tmp_path / "base" / "meta.json").read_text())["embeddings_trained_in_sft"] == 1
    with pytest.raises(ValueError, match="no single model.safetensors"):
        sft.replace_embeddings(tmp_path, new)
    with pytest.raises(ValueError, match=r"no token embeddings of shape \(60, 32\)"):
        sft.replace_embeddings(tmp_path / "base", torch.randn(60, 32))
    torch.testing.assert_close(LlamaForCausalLM.from_pretrained(tmp_path / "base").get_input_embeddings().weight, new)


def test_a_soup_of_rounds_is_their_weighted_average_and_base_plus_adapter_serves_it(tmp_path: Path,
                                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Two rounds from one teacher (one also trained the embeddings): the soup's teacher is the weighted
    average of the teachers, and the soup's base + stacked adapter computes it."""
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import LlamaConfig, LlamaForCausalLM

    from finetune import soup
    from finetune.sft import replace_embeddings

    cfg = LlamaConfig(vocab_size=50, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                      num_key_value_heads=2, max_position_embeddings=64, tie_word_embeddings=True)
    torch.manual_seed(0)
    start = tmp_path / "start"
    LlamaForCausalLM(cfg).save_pretrained(start / "base")
    first = _random_lora(LlamaForCausalLM.from_pretrained(start / "base"), 1, rank=4, alpha=8)
    first.save_pretrained(start / "adapter")
    first.merge_and_unload().save_pretrained(start / "teacher")
    for name, seed, new_embeddings in (("a", 2, False), ("b", 3, True)):
        r = tmp_path / name
        lora = _random_lora(LlamaForCausalLM.from_pretrained(start / "teacher"), seed, rank=2, alpha=4)
        lora.save_pretrained(r / "adapter")
        teacher = lora.merge_and_unload()
        LlamaForCausalLM.from_pretrained(start / "base").save_pretrained(r / "base")
        if new_embeddings:  # as sft --embed-lr does: the merged teacher and the round's base take them
            emb = torch.randn(50, 32)
            teacher.get_input_embeddings().weight.data.copy_(emb)
            replace_embeddings(r / "base", emb)
        teacher.save_pretrained(r / "teacher")

    info = soup.soup(start, [tmp_path / "a", tmp_path / "b"], [0.3, 0.5], tmp_path / "soup")
    assert info["weights"] == pytest.approx([0.2, 0.3, 0.5])
    parts = [load_file(str(f / "teacher" / "model.safetensors")) for f in (start, tmp_path / "a", tmp_path / "b")]
    got = load_file(str(tmp_path / "soup" / "teacher" / "model.safetensors"))
    for key, value in got.items():
        torch.testing.assert_close(value, 0.2 * parts[0][key] + 0.3 * parts[1][key] + 0.5 * parts[2][key])
    ids = torch.tensor([[1, 5, 9, 42, 7, 3]])
    souped = LlamaForCausalLM.from_pretrained(tmp_path / "soup" / "teacher").eval()
    served = PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(tmp_path / "soup" / "base"),
                                       tmp_path / "soup" / "adapter").eval()
    with torch.no_grad():
        expected = souped(input_ids=ids).logits
        torch.testing.assert_close(served(input_ids=ids).logits, expected, rtol=1e-4, atol=1e-4)
        one_round = LlamaForCausalLM.from_pretrained(tmp_path / "b" / "teacher").eval()(input_ids=ids).logits
    assert not torch.allclose(one_round, expected, atol=1e-3)  # the soup is not just one of its rounds
    assert [r.get("scale") for r in json.loads((tmp_path / "soup" / "adapter" / "meta.json").read_text())
            ["config"]["rounds"]][-2:] == [0.3, 0.5]

    for bad, message in (("0.3", "1 weight"), ("0.7,0.5", "at most 1"), ("x,1", "numbers separated"),
                         ("-0.1,0.2", "in \\[0, 1\\]")):
        with pytest.raises(ValueError, match=message):
            soup.parse_weights(bad, 2)
    with pytest.raises(SystemExit, match="no teacher/, base/, adapter/ there"):
        soup.main(["--start", str(start), "--round", str(tmp_path / "nope"), "--weights", "0.5", "--out",
                   str(tmp_path / "x")])
    soup.main(["--start", str(start), "--round", str(tmp_path / "a"), "--weights", "0.5", "--out", str(tmp_path / "half"),
               "--json"])
    assert json.loads(capsys.readouterr().out)["weights"] == [0.5, 0.5]


def _tiny_model_on_the_shipped_tokenizer(folder: Path) -> tuple[Any, Any]:
    """A one-layer tied-embedding Llama with the shipped tokenizer in ``folder`` (bf16, as the shipped models)."""
    import shutil

    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tok = AutoTokenizer.from_pretrained(ARTIFACTS / "tokenizer")
    shutil.copytree(ARTIFACTS / "tokenizer", folder)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512, tie_word_embeddings=True)
    torch.manual_seed(0)
    LlamaForCausalLM(cfg).to(torch.bfloat16).save_pretrained(folder)
    return tok, cfg


@needs_artifacts
def test_extended_tokenizer_adds_common_han_characters_and_keeps_every_old_tokenization(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Characters the tokenizer lacked become one token each; text made of what it had keeps its tokens;
    the model's old rows and logits stay, each new row is the mean of the rows it replaces."""

    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from finetune import extend as ext

    old_tok, cfg = _tiny_model_on_the_shipped_tokenizer(tmp_path / "m")
    info = ext.extend(tmp_path / "m", tmp_path / "e", top=300)
    new_tok = AutoTokenizer.from_pretrained(tmp_path / "e")
    assert info["vocab_from"] == len(old_tok) and info["vocab_to"] == len(new_tok) == len(old_tok) + info["added_tokens"]
    assert "海" in info["new_chars"] and "州" in info["new_chars"] and "的" not in info["new_chars"]

    def one_token(tok: Any, ch: str) -> bool:
        return len(tok.encode(ch, add_special_tokens=False)) == 1

    for ch in "海州嘉昆杭":
        assert not one_token(old_tok, ch) and (one_token(new_tok, ch) or ch not in info["new_chars"])
    lines = (HELDOUT.parent / "blind2.jsonl").read_text(encoding="utf-8").splitlines()
    unchanged = 0
    for line in lines:
        ids = new_tok.encode(line, add_special_tokens=False)
        assert new_tok.decode(ids) == line
        if all(one_token(old_tok, ch) for ch in line if "\u4e00" <= ch <= "\u9fff"):
            assert ids == old_tok.encode(line, add_special_tokens=False)
            unchanged += 1
    assert unchanged > 100  # the English lines and the Chinese ones of known characters

    before = LlamaForCausalLM.from_pretrained(tmp_path / "m").eval()
    after = LlamaForCausalLM.from_pretrained(tmp_path / "e").eval()
    emb_old, emb_new = before.get_input_embeddings().weight, after.get_input_embeddings().weight
    assert torch.equal(emb_new[:len(old_tok)], emb_old)
    hai = new_tok.convert_tokens_to_ids(new_tok.tokenize("海")[0])
    pieces = old_tok.encode("海", add_special_tokens=False)
    torch.testing.assert_close(emb_new[hai], emb_old[pieces].mean(0), rtol=0.02, atol=2e-3)  # stored in bf16
    ids = torch.tensor([old_tok.encode("route X-n101-k25 with 26 trucks", add_special_tokens=False)])
    with torch.no_grad():
        torch.testing.assert_close(after(input_ids=ids).logits[..., :len(old_tok)], before(input_ids=ids).logits)

    # a tokenizer folder alone gets the same tokenizer; bad input is a clear error
    ext.main(["--model", str(ARTIFACTS / "tokenizer"), "--out", str(tmp_path / "t"), "--top", "300", "--json"])
    assert json.loads(capsys.readouterr().out)["added_tokens"] == info["added_tokens"]
    assert (tmp_path / "t" / "tokenizer.json").read_text() == (tmp_path / "e" / "tokenizer.json").read_text()
    with pytest.raises(SystemExit, match=r"--top 0: give how many"):
        ext.main(["--model", str(tmp_path / "m"), "--out", str(tmp_path / "x"), "--top", "0"])
    with pytest.raises(SystemExit) as exited:  # with --json the error is the one JSON document
        ext.main(["--model", str(tmp_path / "m"), "--out", str(tmp_path / "x"), "--top", "0", "--json"])
    assert exited.value.code == 2
    assert json.loads(capsys.readouterr().out) == {"error": "--top 0: give how many of the most frequent Han "
                                                   "characters to cover (>= 1)", "code": "bad_input"}
    with pytest.raises(SystemExit, match="no tokenizer.json there"):
        ext.main(["--model", str(tmp_path / "nothing"), "--out", str(tmp_path / "x")])
    padded = LlamaConfig(**{**cfg.to_dict(), "vocab_size": len(old_tok) + 8})
    LlamaForCausalLM(padded).save_pretrained(tmp_path / "m")  # more rows than tokens: ids and rows would part
    with pytest.raises(ValueError, match=rf"has {len(old_tok) + 8} embedding rows but its tokenizer {len(old_tok)}"):
        ext.extend(tmp_path / "m", tmp_path / "x", top=300)


@needs_artifacts
def test_warm_rows_trains_only_the_rows_an_extension_added(tmp_path: Path) -> None:
    import shutil

    from safetensors.torch import load_file

    from finetune import extend as ext
    from finetune import warm_rows
    from finetune.data import generate, write_jsonl

    old_tok, _ = _tiny_model_on_the_shipped_tokenizer(tmp_path / "m")
    with pytest.raises(ValueError, match="records no vocabulary extension"):
        warm_rows.first_new_row(tmp_path / "m")
    ext.extend(tmp_path / "m", tmp_path / "e", top=300)
    shutil.copytree(tmp_path / "e", tmp_path / "base")
    write_jsonl(generate(40, seed=3, breadth=2, names="han", zh_searches=1.0), tmp_path / "d.jsonl")
    info = warm_rows.warm_rows(tmp_path / "e", [tmp_path / "d.jsonl"], tmp_path / "w", steps=3, lr=1e-2, seed=0,
                               threads=1, tokens_per_batch=1024, max_len=384, embeddings_into=tmp_path / "base")
    assert info["from_row"] == len(old_tok) and info["train"]["steps"] == 3

    def rows(folder: str) -> torch.Tensor:
        weights = load_file(str(tmp_path / folder / "model.safetensors"))
        return next(w for k, w in weights.items() if k.endswith("embed_tokens.weight"))

    before, after = rows("e"), rows("w")
    assert torch.equal(after[:len(old_tok)], before[:len(old_tok)])  # the old rows, exactly
    assert not torch.equal(after[len(old_tok):], before[len(old_tok):])  # the new ones trained
    assert torch.equal(rows("base"), after)  # and the base the adapter sits on has them
    with pytest.raises(SystemExit, match=r"--from-row 9999: the model has \d+ rows"):
        warm_rows.main(["--model", str(tmp_path / "e"), "--data", str(tmp_path / "d.jsonl"), "--out",
                        str(tmp_path / "x"), "--from-row", "9999", "--steps", "1"])
