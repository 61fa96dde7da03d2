#!/usr/bin/env bash
# Runs on the GPU machine (see device-env.sh): the seed network at batch 256, where the per-image
# filter gradient's patches once passed WebGPU's 2 GiB binding limit (validation errors, wrong
# gradients, a speed that meant nothing): the gradient against cpu at that batch, then the speed,
# with batch 64 beside it for comparison. Dawn's validation messages are counted, not kept.
source "$(dirname "$0")/device-env.sh"
run grad-seed-256 120 $B/webgpu-check.js grad --shapes seed --batch 256
run seed-256 120 $B/bench-train.js --backend webgpu --nets seed --batches 64,256 --groups 3 --seconds 3 --no-keras
echo "validation errors: $(cat "$OUT"/*.txt | grep -c '^validation:')" | tee "$OUT/validation.txt"
