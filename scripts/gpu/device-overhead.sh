#!/usr/bin/env bash
# Runs on the GPU machine (see device-env.sh): where the time of the networks that are still slow
# on webgpu goes (the CRNN's CTC loss and batch normalisation: many small kernels), and whether
# tfjs-webgpu's flags for submitting and for small tensors change it; the seed network up to batch
# 256. Six output files (a device run returns at most 8), four with FLAGS=0, which skips the flag comparisons.
source "$(dirname "$0")/device-env.sh"
run crnn 120 $B/bench-crnn.js --backend webgpu --heads conv1d --batch 64 --steps 5 --profile
FLAG_SETS="WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=256 WEBGPU_CPU_FORWARD=false"; [[ ${FLAGS:-1} == 0 ]] && FLAG_SETS=
for flags in $FLAG_SETS; do
  echo "== flags $flags" >> "$OUT/crnn-flags.txt"
  CAPTCHA_LAB_TFJS_FLAGS=$flags timeout 60 $N $B/bench-crnn.js --backend webgpu --heads conv1d --batch 64 --steps 5 2>&1 | grep -v '^Warning: max' | tee -a "$OUT/crnn-flags.txt"
done
run bench 90 $B/bench-train.js --backend webgpu --nets bench,seed-bn --batches 64 --groups 2 --seconds 3 --no-keras --profile
for flags in $FLAG_SETS; do
  echo "== flags $flags" >> "$OUT/bench-flags.txt"
  CAPTCHA_LAB_TFJS_FLAGS=$flags timeout 60 $N $B/bench-train.js --backend webgpu --nets bench,seed --batches 64 --groups 2 --seconds 3 --no-keras 2>&1 | grep -v '^Warning: max' | tee -a "$OUT/bench-flags.txt"
done
run seed 90 $B/bench-train.js --backend webgpu --nets seed --batches 64,128,256 --groups 3 --seconds 3 --no-keras
