#!/usr/bin/env bash
# The GPU check of issue 17 in one go (bench/gpu/check.ts says what it measures). Usage, from
# anywhere:  bench/gpu/run.sh [--providers cuda,webgpu] [--no-full] [--no-peer] [--repeats N] [--out FILE]
# Figures go to $OUT/gpu-check.json (OUT defaults to ./gpu-check-out). Exit codes: 0 ok, 1 a bound
# failed or a run broke, 2 bad arguments, 3 no requested GPU provider started (one line says why;
# nothing measured), 4 this machine lacks what the check needs to start (one line says what).
set -uo pipefail
cd "$(dirname "$0")/../.."
export LINGUASCOPE_ROOT=$PWD
export OUT=${OUT:-$PWD/gpu-check-out}
mkdir -p "$OUT"
missing() { echo "gpu-check: $*; nothing was measured" >&2; exit 4; }

# The check: this checkout's build (npm ci and npm run build done), else what bench/gpu/pack.sh
# prepared, unpacked once (an archive may arrive in an earlier call: the unpacked folder stays
# while the machine does).
unpack() {
  for archive in gpu-check node; do
    if [ -f ".gpu-carry/$archive.tar.xz" ] && [ ! -f ".gpu-carry/run/$archive.unpacked" ]; then
      mkdir -p .gpu-carry/run && tar -C .gpu-carry/run -xJf ".gpu-carry/$archive.tar.xz" && touch ".gpu-carry/run/$archive.unpacked" || missing "could not unpack .gpu-carry/$archive.tar.xz"
    fi
  done
}
if [ "${1:-}" = "--unpack-only" ]; then
  unpack
  echo "gpu-check: unpacked: $(ls .gpu-carry/run 2>/dev/null | tr '\n' ' ')"
  exit 0
fi
if [ -f out/main/bench.js ] && [ -d node_modules/onnxruntime-node ]; then
  entry=(out/main/bench.js gpu)
  ort_bin=node_modules/onnxruntime-node/bin/napi-v6/linux/x64
else
  unpack
  [ -f .gpu-carry/run/gpu-check.mjs ] || missing "neither a built checkout (npm ci && npm run build) nor .gpu-carry (bench/gpu/pack.sh) is here"
  entry=(.gpu-carry/run/gpu-check.mjs)
  ort_bin=.gpu-carry/run/node_modules/onnxruntime-node/bin/napi-v6/linux/x64
fi
node=${LINGUASCOPE_NODE:-}
# A Node on PATH older than 20 cannot run the check (ES2022 bundle); the carried one then.
modern() { "$1" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null; }
[ -z "$node" ] && node=$(command -v node || true) && [ -n "$node" ] && ! modern "$node" && node=""
[ -z "$node" ] && [ -x .gpu-carry/run/node/bin/node ] && node=$PWD/.gpu-carry/run/node/bin/node
[ -n "$node" ] || missing "no Node.js (put Node 20 on PATH, set LINGUASCOPE_NODE, or carry .gpu-carry/node.tar.xz from bench/gpu/pack.sh)"
[ -x "$node" ] || missing "$node is not an executable Node.js (LINGUASCOPE_NODE)"

# CUDA: onnxruntime-node loads its CUDA provider from beside its own library. With internet the
# user's install puts it there (ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install);
# offline, ORT_CUDA_LIBS may name a folder holding libonnxruntime_providers_{shared,cuda}.so of
# onnxruntime 1.30 for CUDA 12. It needs CUDA 12's and cuDNN 9's libraries on the loader path.
if [ -n "${ORT_CUDA_LIBS:-}" ]; then
  cp "$ORT_CUDA_LIBS"/libonnxruntime_providers_shared.so "$ORT_CUDA_LIBS"/libonnxruntime_providers_cuda.so "$ort_bin/" || missing "ORT_CUDA_LIBS=$ORT_CUDA_LIBS lacks libonnxruntime_providers_{shared,cuda}.so"
fi
libs=""
for d in /usr/local/cuda/lib64 /usr/local/cuda-12/lib64; do [ -d "$d" ] && libs="$libs:$d"; done
py_libs=$(python3 -c 'import glob, os, nvidia; print(":".join(sorted(glob.glob(os.path.join(list(nvidia.__path__)[0], "*", "lib")))))' 2>/dev/null || true)
[ -n "$py_libs" ] && libs="$libs:$py_libs"
export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}$libs"

# WebGPU runs over Vulkan: the loader (Debian libvulkan1, carried as .gl/*.deb where the machine
# lacks it) and the NVIDIA driver's ICD.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' && ls .gl/*.deb >/dev/null 2>&1; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=${VK_DRIVER_FILES:-$icd}

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv >"$OUT/nvidia-smi.csv" 2>&1
export BENCH_DIR=${BENCH_DIR:-/tmp/linguascope-bench}
exec "$node" "${entry[@]}" "$@"
