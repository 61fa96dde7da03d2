#!/usr/bin/env bash
# captcha-lab setup: installs everything the project needs, idempotently.
#
#   bash scripts/setup.sh            system packages, npm packages, native TensorFlow binding,
#                                    Python venv with JupyterLab + nbclient, the tslab kernel
#   bash scripts/setup.sh --gpu      also builds @tensorflow/tfjs-node-gpu against the GPU wheel
#   bash scripts/setup.sh --keras    also installs tensorflow-cpu into the venv (Keras reference bench)
#   bash scripts/setup.sh --webgpu   also installs the WebGPU route to a GPU (no CUDA): the npm package
#                                    webgpu (Dawn, ~130 MB) and the Vulkan loader; see docs/backends.md
#   bash scripts/setup.sh --test     what the tests need: --webgpu plus Mesa's software Vulkan driver
#                                    (llvmpipe, from bookworm-backports), so the WebGPU kernels are
#                                    tested on the CPU
#
# Each step first checks whether its result is already there, so a second run changes nothing
# and takes a few seconds. Why the native binding is built by hand: tfjs-node's install script
# downloads libtensorflow from a host that is unreachable here (and answers 403 elsewhere), so
# we take the TensorFlow C library out of the pip wheel and compile the binding against it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TF_VERSION=2.21.0
WANT_GPU=0
WANT_KERAS=0
WANT_WEBGPU=0
WANT_SOFTWARE_VULKAN=0
for arg in "$@"; do
  case "$arg" in
    --gpu) WANT_GPU=1 ;;
    --keras) WANT_KERAS=1 ;;
    --webgpu) WANT_WEBGPU=1 ;;
    --test) WANT_WEBGPU=1; WANT_SOFTWARE_VULKAN=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "setup: unknown option '$arg' (known: --gpu, --keras, --webgpu, --test)" >&2; exit 2 ;;
  esac
done

CACHE="$ROOT/.cache"
VENV="$ROOT/.venv"
PIP_FLAGS=(--retries 0 --timeout 5 --disable-pip-version-check -q)
START=$(date +%s)
step() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# ---------------------------------------------------------------------------------------------
# 1. System packages: canvas's build dependencies, the CAPTCHA font, Python venv, Chromium.
# ---------------------------------------------------------------------------------------------
APT_PACKAGES=(build-essential python3 python3-venv python3-pip unzip
  libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev
  fonts-noto-mono chromium)
((WANT_WEBGPU)) && APT_PACKAGES+=(libvulkan1)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for p in "${APT_PACKAGES[@]}"; do
  installed "$p" || missing+=("$p")
done
# Dawn refuses Debian 12's own Mesa 22.3 lavapipe; Mesa 25 from bookworm-backports works.
BACKPORTS_CMD=""
if ((WANT_SOFTWARE_VULKAN)) && ! dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -q bpo12; then
  if grep -q 'VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; then
    BACKPORTS_CMD="echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/captcha-lab-backports.list && apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -t bookworm-backports mesa-vulkan-drivers libvulkan1"
  else
    echo "[setup] note: the software Vulkan driver for the WebGPU tests is installed automatically on Debian 12 only; install Mesa >= 25 (mesa-vulkan-drivers) yourself" >&2
  fi
fi
if ((${#missing[@]})) || [[ -n $BACKPORTS_CMD ]]; then
  cmd="true"
  ((${#missing[@]})) && cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  [[ -n $BACKPORTS_CMD ]] && cmd="$cmd && $BACKPORTS_CMD"
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      step "installing system packages with sudo: ${missing[*]}"
      sudo bash -c "$cmd"
    else
      echo "setup: missing system packages: ${missing[*]}" >&2
      echo "setup: run this as root, then run setup again:" >&2
      echo "  sudo bash -c '$cmd'" >&2
      exit 1
    fi
  else
    step "installing system packages: ${missing[*]}${BACKPORTS_CMD:+ and the Mesa 25 software Vulkan driver from bookworm-backports}"
    bash -c "$cmd" >/dev/null
  fi
fi

# ---------------------------------------------------------------------------------------------
# 2. npm packages. Install scripts are skipped (they try to download binaries); the two native
#    modules are built below. A stamp of package-lock.json makes a second run a no-op.
# ---------------------------------------------------------------------------------------------
LOCK_HASH=$(sha256sum package-lock.json | cut -d' ' -f1)
STAMP=node_modules/.captcha-lab-lock
if [[ ! -f $STAMP || "$(cat $STAMP)" != "$LOCK_HASH" ]]; then
  step "npm ci (install scripts skipped; native modules are built next)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$LOCK_HASH" > "$STAMP"
fi
# Fixes to dependencies, from patches/ (patch-package; a no-op when already applied). npm ci's
# install scripts are skipped above, so the postinstall hook that does this for `npm install` does
# not run: tslab's kernel otherwise can hang at start (patches/README.md).
npx --no-install patch-package >/dev/null || { echo "setup: patch-package failed; run: npx patch-package" >&2; exit 1; }

# The WebGPU route (optional): Dawn's Node bindings. Not in package.json, so that the default
# install stays lean (the package holds binaries for every platform, ~130 MB); installed without
# saving, after npm ci (which would remove it again). Version pinned: the one measured.
WEBGPU_VERSION=0.6.2
if ((WANT_WEBGPU)) && ! node -e "if (require('webgpu/package.json').version !== '$WEBGPU_VERSION') process.exit(1)" >/dev/null 2>&1; then
  step "installing webgpu@$WEBGPU_VERSION (Dawn's WebGPU for Node, the GPU route without CUDA)"
  npm install --no-save --ignore-scripts --no-audit --no-fund --loglevel=error "webgpu@$WEBGPU_VERSION"
fi

loads() { node -e "require('$1')" >/dev/null 2>&1; }

if ! loads canvas; then
  step "building canvas from source (~1 min)"
  (cd node_modules/canvas && npx --no-install node-gyp rebuild --loglevel=error >/dev/null)
  loads canvas || { echo "setup: canvas still fails to load; see: node -e \"require('canvas')\"" >&2; exit 1; }
fi

# ---------------------------------------------------------------------------------------------
# 3. Python venv: JupyterLab, nbclient (headless notebook runs), plotly (its lab extension
#    renders our charts), and the TensorFlow wheel whose C library the binding links against.
# ---------------------------------------------------------------------------------------------
PYTHON=${PYTHON:-python3}
if [[ ! -x $VENV/bin/python ]]; then
  step "creating Python venv in .venv"
  "$PYTHON" -m venv "$VENV" 2>/dev/null || /usr/bin/python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import jupyterlab, nbclient, ipykernel, plotly" 2>/dev/null; then
  step "installing JupyterLab, nbclient, ipykernel, plotly into .venv"
  "$VENV/bin/pip" install "${PIP_FLAGS[@]}" jupyterlab nbclient nbconvert ipykernel plotly
fi
if ((WANT_KERAS)) && ! "$VENV/bin/python" -c "import tensorflow" 2>/dev/null; then
  step "installing tensorflow-cpu==$TF_VERSION into .venv (Keras reference benchmark)"
  "$VENV/bin/pip" install "${PIP_FLAGS[@]}" "tensorflow-cpu==$TF_VERSION"
fi

# wheel_for NAME: prints the path of the downloaded wheel of NAME==TF_VERSION (cached in .cache).
wheel_for() {
  local name=$1 dir="$CACHE/wheels/$1"
  mkdir -p "$dir"
  local whl
  whl=$(ls "$dir"/*.whl 2>/dev/null | head -1 || true)
  if [[ -z $whl ]]; then
    step "downloading the $name==$TF_VERSION wheel for its TensorFlow C library" >&2
    "$VENV/bin/pip" download "${PIP_FLAGS[@]}" --no-deps --only-binary=:all: "$name==$TF_VERSION" -d "$dir" >&2
    whl=$(ls "$dir"/*.whl | head -1)
  fi
  echo "$whl"
}

# build_binding PKG WHEEL_NAME: compiles PKG's native binding against the wheel's libtensorflow.
build_binding() {
  local pkg=$1 wheel_name=$2
  local dir="node_modules/@tensorflow/$pkg"
  local whl; whl=$(wheel_for "$wheel_name")
  step "building the $pkg binding against TensorFlow $TF_VERSION from $(basename "$whl")"
  local tmp; tmp=$(mktemp -d)
  unzip -q -o "$whl" 'tensorflow/include/*' 'tensorflow/libtensorflow_cc.so.2' \
    'tensorflow/libtensorflow_framework.so.2' -d "$tmp"
  rm -rf "$dir/deps" && mkdir -p "$dir/deps/lib"
  mv "$tmp/tensorflow/include" "$dir/deps/include"
  mv "$tmp"/tensorflow/*.so.2 "$dir/deps/lib/"
  rm -rf "$tmp"
  # The binding's gyp file links -ltensorflow and expects libtensorflow.so.2.9.1 at run time;
  # libtensorflow_cc.so.2 exports the same TF_* / TFE_* C API.
  (cd "$dir/deps/lib" &&
    for l in libtensorflow.so libtensorflow.so.2 libtensorflow.so.2.9.1; do ln -sf libtensorflow_cc.so.2 $l; done &&
    ln -sf libtensorflow_framework.so.2 libtensorflow_framework.so)
  (cd "$dir" && npm_config_nodedir="${npm_config_nodedir:-/usr}" npx --no-install node-pre-gyp install \
    --build-from-source --loglevel=error >/dev/null)
}

if ! node -e "const tf=require('@tensorflow/tfjs-node'); if (tf.getBackend()!=='tensorflow') process.exit(1)" >/dev/null 2>&1; then
  build_binding tfjs-node tensorflow-cpu
  node -e "require('@tensorflow/tfjs-node')" >/dev/null 2>&1 ||
    { echo "setup: @tensorflow/tfjs-node still fails to load; see: node -e \"require('@tensorflow/tfjs-node')\"" >&2; exit 1; }
fi

if ((WANT_GPU)); then
  # Not verifiable on the CPU-only development machines: see docs/backends.md#gpu.
  if ! node -e "require('@tensorflow/tfjs-node-gpu')" >/dev/null 2>&1; then
    build_binding tfjs-node-gpu tensorflow
  fi
  if ! "$VENV/bin/python" -c "import nvidia.cudnn" 2>/dev/null; then
    step "installing the CUDA 12 libraries (tensorflow[and-cuda]) into .venv"
    "$VENV/bin/pip" install "${PIP_FLAGS[@]}" "tensorflow[and-cuda]==$TF_VERSION"
  fi
  echo "[setup] GPU: run with  source scripts/gpu-env.sh  so the CUDA libraries in .venv are found"
fi

# ---------------------------------------------------------------------------------------------
# 4. The tslab Jupyter kernel, installed into the venv (absolute path: no PATH needed).
# ---------------------------------------------------------------------------------------------
KERNEL_JSON="$VENV/share/jupyter/kernels/tslab/kernel.json"
if [[ ! -f $KERNEL_JSON ]] || ! grep -q "$ROOT/node_modules/.bin/tslab" "$KERNEL_JSON"; then
  step "installing the tslab kernel into .venv"
  node_modules/.bin/tslab install --python="$VENV/bin/python" --binary="$ROOT/node_modules/.bin/tslab" \
    --sys-prefix >/dev/null
fi

# tslab only compiles files under the notebook's folder; the notebooks import the compiled library.
[[ -L notebooks/dist ]] || ln -sfn ../dist notebooks/dist

step "ready in $(($(date +%s) - START)) s"
