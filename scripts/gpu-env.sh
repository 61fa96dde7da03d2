# Source this before running with --gpu: puts the CUDA 12 libraries that `setup.sh --gpu`
# installed into .venv (tensorflow[and-cuda]) on the loader path of tfjs-node-gpu's binding.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_site=$(ls -d "$_root"/.venv/lib/python3*/site-packages 2>/dev/null | head -1)
if [[ -n $_site && -d $_site/nvidia ]]; then
  for _lib in "$_site"/nvidia/*/lib; do LD_LIBRARY_PATH="$_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; done
  export LD_LIBRARY_PATH
  export CAPTCHA_LAB_BACKEND=gpu
else
  echo "gpu-env: no CUDA libraries in .venv; run: bash scripts/setup.sh --gpu" >&2
fi
unset _root _site _lib
