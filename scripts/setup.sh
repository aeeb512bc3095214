#!/usr/bin/env bash
#===- setup.sh - Install everything sparq needs on a fresh machine ----------===#
#
# Idempotent and fast when everything is present: it checks first and only
# calls apt-get / pip for what is missing.
#   - Debian packages: LLVM/MLIR 22, clang-22, ONNX (headers, protobuf,
#     backend test data), protobuf, ninja, ccache, and Debian's CPU-only
#     torch/torchvision for the system python3 (used to export test models;
#     pip's torch wheel would pull gigabytes of CUDA libraries).
#   - pip (for the default python3): onnx, onnxruntime, numpy, lit, onnx_ir
#     (onnxruntime.quantization's MatMulNBits quantizer imports it).
#   - CUDA: the machine's own toolkit is used when nvcc is on PATH; nothing
#     is installed for it.
#===------------------------------------------------------------------------===#
set -euo pipefail

APT_PACKAGES=(
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22
  libonnx-dev libonnx-testdata protobuf-compiler libprotobuf-dev
  cmake ninja-build ccache g++ python3-torch python3-torchvision
)
PIP_PACKAGES=(onnx onnxruntime numpy lit onnx_ir)
PY="${SPARQ_PYTHON:-python3}"

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages present"
fi

pip_missing=()
for p in "${PIP_PACKAGES[@]}"; do
  "$PY" -m pip show -q "$p" >/dev/null 2>&1 || pip_missing+=("$p")
done
if ((${#pip_missing[@]})); then
  echo "setup: installing pip packages: ${pip_missing[*]}"
  "$PY" -m pip install --quiet "${pip_missing[@]}"
else
  echo "setup: pip packages present"
fi

if command -v nvcc >/dev/null 2>&1; then
  echo "setup: CUDA toolkit: $(nvcc --version | tail -n 1)"
else
  echo "setup: nvcc not on PATH (GPU code generation checks will be skipped)"
fi
