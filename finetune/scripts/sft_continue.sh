#!/bin/bash
# A second LoRA SFT round on the shipped teacher with fresh conversations (finetune/README.md, session 4).
# Usage: finetune/scripts/sft_continue.sh [OUT_DIR]   (one core, about 25 min + 3 min of evaluation)
# Not yet in the pipeline: its adapter sits on the merged teacher, not on base/, and the student
# would need distilling again from the new teacher.
set -euo pipefail
out=${1:-runs/sft-continue}
py=${PYTHON:-.venv/bin/python}
mkdir -p "$out"
$py -m finetune.data --n 20000 --seed 9 --out "$out/sft9.jsonl"
$py -m finetune.sft --data "$out/sft9.jsonl" --base finetune/artifacts/teacher --adapter-out "$out/adapter" \
  --merged-out "$out/teacher" --steps 2000 --max-seconds 1380 --lr 1e-3 --seed 2 --threads 1 --tokens-per-batch 2048 --max-len 384
$py -m finetune.evaluate --model "$out/teacher" --out "$out/eval-heldout.json" > /dev/null
$py -m finetune.evaluate --model "$out/teacher" --suite evals/suites/fresh.jsonl --out "$out/eval-fresh.json" > /dev/null
