#!/usr/bin/env bash
# Sourced by the scripts run on the GPU machine (device-run.sh, device-overhead.sh), from the
# repository root, with .dev/ made by scripts/gpu/carry.sh: unpacks Node, Dawn, the bundles and the
# Vulkan loader, and defines `run NAME SECONDS SCRIPT ARGS...` (output to $OUT/NAME.txt; at most 8
# files come back from a device run).
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
