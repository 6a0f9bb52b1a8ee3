#!/usr/bin/env bash
# The one check to run on a machine with a GPU: the conformance suite and the
# WebGPU primitive and ResNet-step tests on the GPU, then ResNet-32 training
# images/s at batch 128, WebGPU against WASM on that machine's CPUs.
#
# Two steps, because the GPU machine has no Node, no npm and no network:
#   here:   bash scripts/gpu-check.sh prepare
#           bundles the tests and the benchmark (esbuild), and packs Node,
#           Dawn's binary and the Vulkan loader (libvulkan1) into .gpu/ (~32 MB)
#   there:  bash scripts/gpu-check.sh run        (carry .gpu; results in $OUT or .gpu/out)
# Both steps also run here, on lavapipe (VK_ADD_DRIVER_FILES), to test the script.
set -euo pipefail
cd "$(dirname "$0")/.."
g=.gpu

prepare() {
  rm -rf "$g" && mkdir -p "$g/node_modules/webgpu/dist/linux-x64"
  [ -f dist/wasmtail.wasm ] || npm run build:wasm >/dev/null
  cp dist/*.wasm "$g/"
  for f in test/conformance/ops.test.ts test/webgpu/kernels.test.ts test/webgpu/resnet-step.test.ts bench/backends.bench.ts; do
    npx esbuild "$f" --bundle --platform=node --format=esm --target=node20 --external:webgpu --log-level=warning \
      --banner:js="import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" \
      --outfile="$g/$(basename "${f%.ts}").mjs"
  done
  cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$g/node_modules/webgpu/"
  xz -T2 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$g/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
  xz -T2 -6 -c "$(command -v node)" > "$g/node.xz"
  # The Vulkan loader, as Debian packages to unpack there (the NVIDIA ICD comes with the driver).
  (cd "$g" && apt-get download -qq libvulkan1 2>/dev/null || { apt-get update -qq && apt-get download -qq libvulkan1; })
  du -sh "$g"
}

run() {
  out="${OUT:-$g/out}"
  mkdir -p "$out"
  [ -x "$g/node" ] || { xz -d -c "$g/node.xz" > "$g/node" && chmod +x "$g/node"; }
  dawn="$g/node_modules/webgpu/dist/linux-x64/dawn.node"
  [ -f "$dawn" ] || xz -d -c "$dawn.xz" > "$dawn"
  if ! ldconfig -p | grep -q libvulkan.so.1; then
    for f in "$g"/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
  nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -z "${VK_ADD_DRIVER_FILES:-}" ] && [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nvidia_icd" ]; then
    export VK_DRIVER_FILES="$nvidia_icd"
  fi
  { nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
    lscpu | sed -n 's/^Model name:\s*//p'; nproc; "$g/node" --version; } | tee "$out/machine.txt"
  # CI=1: no adapter is a failure, not a skip.
  CI=1 "$g/node" --test --test-reporter=spec "$g"/ops.test.mjs "$g"/kernels.test.mjs "$g"/resnet-step.test.mjs 2>&1 \
    | grep -v '^Warning\|artificially reduced\|^ - While\|^    at \|^$\|XDG_RUNTIME_DIR' | tee "$out/tests.txt" | tail -12
  for backend in webgpu wasm; do
    "$g/node" "$g/backends.bench.mjs" "$backend" "${BATCH:-128}" "${STEPS:-10}" resnet32 2>/dev/null | tee -a "$out/bench.jsonl"
  done
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: $0 prepare|run" >&2; exit 2 ;;
esac
