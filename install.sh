#!/usr/bin/env bash
# Installs everything the workflow and its tests need into ./.venv (Python 3.11+).
# PyTorch: requirements.txt pins torch 2.14.1 / torchvision 0.29.1 (CUDA build; runs on CPU too).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet -r requirements.txt
.venv/bin/python -m pip install --quiet --no-deps -e .
echo "installed: $(.venv/bin/python -c 'import torch, snakemake; print("torch", torch.__version__, "snakemake", snakemake.__version__)')"
