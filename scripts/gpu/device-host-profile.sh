#!/usr/bin/env bash
# Runs on the GPU machine (see device-env.sh): the next step for the CRNN clause of issue 14.
# 1. A longer, repeated measurement of crnn-wide (the shipped model's network) on one machine:
#    20 timed steps, three times each at batch 64 and 128 (crnn-wide-repeat.txt), since machines
#    differed by 1.7x and 5 steps were few.
# 2. Where a step's host time goes: node --cpu-prof over a batch-64 run, summarised by
#    cpu-profile-summary (host-profile.txt: self time by file and function; the profile itself is
#    too large to come back).
source "$(dirname "$0")/device-env.sh"
CRNN_WIDE=(--backend webgpu --heads conv1d --filters 32,64,192,256 --steps 20)
for batch in 64 128; do
  for round in 1 2 3; do
    echo "== batch $batch, round $round" | tee -a "$OUT/crnn-wide-repeat.txt"
    timeout 150 $N $B/bench-crnn.js "${CRNN_WIDE[@]}" --batch "$batch" 2>&1 | grep -v '^Warning: max' | tee -a "$OUT/crnn-wide-repeat.txt"
  done
done
rm -rf /tmp/prof
timeout 200 $N --cpu-prof --cpu-prof-dir=/tmp/prof $B/bench-crnn.js "${CRNN_WIDE[@]}" --batch 64 2>&1 | grep -v '^Warning: max' | tail -3
$N $B/cpu-profile-summary.js /tmp/prof --top 40 | tee "$OUT/host-profile.txt"
