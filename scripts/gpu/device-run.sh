#!/usr/bin/env bash
# Runs on the GPU machine, from the repository root, with .dev/ made by scripts/gpu/carry.sh:
# the fast kernels against the cpu backend and the backend's own kernels, training speed of the
# seed network with each filter-gradient strategy, of the bench network and the CRNN, and a seed-bn network
# learning from 4,500 real CAPTCHAs. Results go to $OUT (or ./gpu-out).
source "$(dirname "$0")/device-env.sh"
# The filter gradient three ways (forward-conv; per-image; by-size, the default: per image for the large
# first layers), each checked against cpu on the seed network's shapes, then timed in the same run.
CAPTCHA_LAB_WEBGPU_FILTER_GRAD=by-size run grad-seed-by-size 75 $B/webgpu-check.js grad --shapes seed --batch 64
for g in forward-conv per-image by-size; do
  CAPTCHA_LAB_WEBGPU_FILTER_GRAD=$g run "bench-$g" 75 $B/bench-train.js --backend webgpu --nets seed --batches 64,128 --groups 3 --seconds 3 --no-keras --profile
done
CAPTCHA_LAB_WEBGPU_FILTER_GRAD=by-size run bench-bn-by-size 60 $B/bench-train.js --backend webgpu --nets bench --batches 64 --groups 2 --seconds 3 --no-keras
CAPTCHA_LAB_WEBGPU_FILTER_GRAD=by-size run crnn-by-size 50 $B/bench-crnn.js --backend webgpu --heads conv1d --batch 64 --steps 5
CAPTCHA_LAB_WEBGPU_FILTER_GRAD=by-size run learn-by-size 130 $B/webgpu-check.js learn --data $D/gpu-data --net seed-bn --seconds 105 --every 15 --batch 32
