#!/bin/bash
# MiniLM-init vs random-init at equal budget (finetune/README.md, "MiniLM embedding initialisation").
# Usage: finetune/scripts/minilm_ablation.sh minilm|random [OUT_DIR]   (run both side by side, one core each)
# Data: generate(30000, seed=7) for pretraining and generate(40000, seed=8) for SFT, as in the shipped run.
set -euo pipefail
init=${1:?minilm or random}
out=${2:-runs/minilm-ablation}/$init
py=${PYTHON:-.venv/bin/python}
mkdir -p "$out"
[ -f "$out/../pretrain.jsonl" ] || $py -m finetune.data --n 30000 --seed 7 --out "$out/../pretrain.jsonl"
[ -f "$out/../sft.jsonl" ] || $py -m finetune.data --n 40000 --seed 8 --out "$out/../sft.jsonl"
$py -m finetune.pretrain --data "$out/../pretrain.jsonl" --tokenizer finetune/artifacts/tokenizer --out "$out/base" \
  --size teacher --init "$init" --steps 1900 --max-seconds 1320 --threads 1 --tokens-per-batch 2048 --max-len 384 --seed 0
$py -m finetune.sft --data "$out/../sft.jsonl" --base "$out/base" --adapter-out "$out/adapter" --merged-out "$out/teacher" \
  --steps 1000 --max-seconds 800 --seed 1 --threads 1 --tokens-per-batch 2048 --max-len 384
$py -m finetune.evaluate --model "$out/teacher" --out "$out/eval-heldout.json" > /dev/null
$py -m finetune.evaluate --model "$out/teacher" --suite evals/suites/fresh.jsonl --out "$out/eval-fresh.json" > /dev/null
