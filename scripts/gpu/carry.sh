#!/usr/bin/env bash
# Prepares .dev/ for a run on a GPU machine that has a GPU driver and Python but no Node.js and no
# network (docs/backends.md, "Running on a GPU machine without Node.js"): this machine's Node binary, Dawn's dawn.node,
# the Vulkan loader and GL dispatch libraries as .debs, esbuild bundles of the check and bench
# scripts, and a small dataset. Everything is compressed to stay under the 64 MiB a run may carry.
#
#   bash scripts/gpu/carry.sh            then ship .dev/ and run scripts/gpu/device-run.sh there
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ -d node_modules/webgpu ]] || { echo "carry: run bash scripts/setup.sh --webgpu first" >&2; exit 1; }
npx tsc -p tsconfig.json
mkdir -p .dev/bundle .dev/gl
[[ -f .dev/node.xz ]] || xz -T2 -6 -c "$(command -v node)" > .dev/node.xz
[[ -f .dev/dawn.node.xz ]] || xz -T2 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > .dev/dawn.node.xz
# Without libglvnd the NVIDIA Vulkan ICD fails with "Could not get 'vkCreateInstance'".
(cd .dev/gl && [[ -n "$(ls ./*.deb 2>/dev/null)" ]] || apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
for s in webgpu-check bench-train bench-crnn cpu-profile-summary; do
  # --main-fields=module,main keeps one copy of tfjs-core; the native packages are never loaded there.
  npx --yes esbuild@0.25.12 "dist/scripts/$s.js" --bundle --minify --platform=node --main-fields=module,main \
    --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu --external:canvas \
    --log-level=error --outfile=".dev/bundle/$s.js" && xz -f -T2 -6 ".dev/bundle/$s.js"
done
[[ -f .dev/gpu-data/labels.txt ]] || node dist/src/cli/main.js generate --out .dev/gpu-data --count 5000 --seed gpu-learn \
  --width 170 --height 80 --word-space-probability 0 --workers 1
du -sh .dev
