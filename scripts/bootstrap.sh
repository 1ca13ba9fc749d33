#!/usr/bin/env bash
# Set up everything the studio needs, idempotently: a venv with the project and its dev tools,
# a CPU build of PyTorch where no NVIDIA GPU is present, and the npm toolchains in contracts/
# and tests/provenance/node/.
set -euo pipefail
cd "$(dirname "$0")/.."

pick_python() {
  for p in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [ -n "$p" ] || continue
    if command -v "$p" >/dev/null 2>&1 &&
       "$p" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$p"; return 0
    fi
  done
  echo "bootstrap: Python 3.11 or newer is required (apt-get install python3 python3-venv)" >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  py=$(pick_python)
  echo "bootstrap: creating .venv with $py"
  "$py" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check)

if ! .venv/bin/python -c 'import torch' 2>/dev/null; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "bootstrap: NVIDIA GPU found, installing PyTorch with CUDA"
    "${PIP[@]}" install -q torch
  else
    # Without a GPU a CUDA build is gigabytes for nothing: pin the CPU build.
    echo "bootstrap: no NVIDIA GPU, installing the CPU build of PyTorch"
    "${PIP[@]}" install -q "torch==2.13.0"
  fi
fi

# Re-install the project only when its declared dependencies change.
stamp=.venv/.stamp-deps
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || ! .venv/bin/python -c 'import studio' 2>/dev/null; then
  echo "bootstrap: installing provenance-studio and its dependencies"
  "${PIP[@]}" install -q -e ".[dev]"
  echo "$want" > "$stamp"
fi

# Bytecode for the package now: with PYTHONDONTWRITEBYTECODE set (common in dev shells and
# sandboxes) every start would otherwise compile the studio again (~30 ms of first paint).
# Cheap when nothing changed: compileall only rewrites stale .pyc files.
.venv/bin/python -m compileall -q studio >/dev/null

# Upscaler models load through spandrel (the "upscale" extra). PyPI's torchvision wheels, which
# spandrel requires, need a CUDA torch and would replace a CPU one, so with no torchvision
# spandrel goes in without dependencies: the studio never calls torchvision for the ESRGAN
# family (studio/core/generation/upscale.py, import_spandrel).
if ! .venv/bin/python -c 'import importlib.util as u, sys; sys.exit(u.find_spec("spandrel") is None)'; then
  if .venv/bin/python -c 'import torchvision' 2>/dev/null; then
    "${PIP[@]}" install -q "spandrel>=0.4.2,<0.5"
  else
    "${PIP[@]}" install -q --no-deps "spandrel>=0.4.2,<0.5" "einops>=0.7"
  fi
fi

# blind-watermark declares opencv-python (GUI build, bundles a Qt that clashes with PySide6);
# its real dependencies (opencv-python-headless, PyWavelets, numpy) are in pyproject.toml.
if ! .venv/bin/python -c 'import importlib.util as u; exit(u.find_spec("blind_watermark") is None)'; then
  echo "bootstrap: installing blind-watermark (without its opencv-python pin)"
  "${PIP[@]}" install -q --no-deps "blind-watermark>=0.4.4,<0.5"
fi

# npm toolchains, each re-installed only when its lock changes: the contracts toolchain and
# c2pa-wasm, the independent C2PA reader the provenance tests check outputs against.
npm_install() {
  local dir=$1 what=$2 lock
  [ -f "$dir/package-lock.json" ] || return 0
  lock=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$dir/node_modules/.stamp-lock" 2>/dev/null)" != "$lock" ]; then
    command -v npm >/dev/null 2>&1 || {
      echo "bootstrap: npm is required for $what (apt-get install nodejs npm)" >&2
      exit 1
    }
    echo "bootstrap: installing $what (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock" > "$dir/node_modules/.stamp-lock"
  fi
}
npm_install contracts "the contracts toolchain"
npm_install tests/provenance/node "the independent C2PA reader (c2pa-wasm)"
echo "bootstrap: ready"
