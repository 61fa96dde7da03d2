#!/usr/bin/env bash
# Runs on the GPU machine, from the repository root, with .dev/ made by scripts/gpu/carry.sh:
# the fast kernels against the cpu backend and the backend's own kernels, training speed of the
# seed and bench networks (webgpu kernels off and on) and of the CRNN, and a seed-bn network
# learning from 4,500 real CAPTCHAs. Results go to $OUT (or ./gpu-out).
set -u
OUT=${OUT:-gpu-out}; mkdir -p "$OUT"
D=.dev; B=/tmp/bundle; N=/tmp/node
mkdir -p $B; for f in $D/bundle/*.js.xz; do xz -dc "$f" > "$B/$(basename "$f" .xz)"; done
xz -dc $D/node.xz > $N && chmod +x $N
xz -dc $D/dawn.node.xz > /tmp/dawn.node
for f in $D/gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
export CAPTCHA_LAB_DAWN_NODE=/tmp/dawn.node
nvidia-smi -L | tee "$OUT/gpu.txt"
run() { local name=$1 limit=$2; shift 2; echo "== $name: $*"; timeout "$limit" $N "$@" 2>&1 | grep -v '^Warning: max' | tee "$OUT/$name.txt"; }
run grad-tiny 45 $B/webgpu-check.js grad --shapes tiny
run smoke 45 $B/webgpu-check.js smoke
run grad-seed 75 $B/webgpu-check.js grad --shapes seed --batch 64
run bench 140 $B/bench-train.js --backend webgpu --nets seed,bench --batches 64,128 --compare --groups 3 --seconds 3 --no-keras --profile
# the filter gradient as one matrix product per image (not yet measured on a GPU): correctness, then speed
CAPTCHA_LAB_WEBGPU_FILTER_GRAD=per-image run grad-seed-per-image 75 $B/webgpu-check.js grad --shapes seed --batch 64
CAPTCHA_LAB_WEBGPU_FILTER_GRAD=per-image run bench-per-image 90 $B/bench-train.js --backend webgpu --nets seed --batches 64 --groups 3 --seconds 3 --no-keras --profile
run crnn 50 $B/bench-crnn.js --backend webgpu --heads conv1d --batch 64 --steps 5
run learn 130 $B/webgpu-check.js learn --data $D/gpu-data --net seed-bn --seconds 105 --every 15
