#!/usr/bin/env bash
# torchvision 0.14's six classifiers at full size and 224 px: exported by PyTorch, imported by
# @rxvision/onnx, their logits on 32 CIFAR-10 test images against onnxruntime's (the test prints each
# figure). Needs Debian's python3-torchvision; about 35 minutes on two cores (tfjs's cpu backend;
# ConvNeXt-T alone 17).
#   tools/torchvision/check_full_size.sh [CIFAR_TARBALL] [OUT_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
tarball="${1:-$root/../shared/data/cifar-10-binary.tar.gz}"
out="${2:-${TMPDIR:-/tmp}/rxvision-torchvision-full}"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$root/tools/torchvision/export_classifiers.py" "$tarball" "$out" --full
cd "$root/packages/onnx"
RXVISION_TORCHVISION_DIR="$out" npx vitest run test/torchvision.test.ts
