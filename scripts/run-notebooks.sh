#!/usr/bin/env bash
# Executes the notebooks top to bottom, headless, with the tslab kernel, and fails on any cell error.
#
#   bash scripts/run-notebooks.sh                 all of notebooks/0*.ipynb, in order
#   bash scripts/run-notebooks.sh 01 03           only those (by prefix); later ones need earlier outputs
#   bash scripts/run-notebooks.sh --full          with the notebooks' own defaults (minutes, not seconds)
#
# Small parameters (environment variables the notebooks' parameter cells read) keep the four
# notebooks to a few minutes on two cores; set any of them to override. They write to their own
# folders (data/nb-test-captchas, models/nb-test-seed), so a full notebook run's results stay.
# Executed copies, outputs included, go to notebooks/.executed/ (gitignored); the browser check
# opens them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
OUT_DIR="$ROOT/notebooks/.executed"

if [[ ! -x $PY ]] || ! "$PY" -c "import nbclient" 2>/dev/null; then
  echo "run-notebooks: no Python venv with nbclient in .venv; run: npm run setup" >&2
  exit 1
fi
if [[ ! -f $ROOT/.venv/share/jupyter/kernels/tslab/kernel.json ]]; then
  echo "run-notebooks: the tslab kernel is not installed in .venv; run: npm run setup" >&2
  exit 1
fi

# The notebooks import the compiled library through notebooks/dist -> ../dist.
[[ -e notebooks/dist ]] || ln -sfn ../dist notebooks/dist
echo "[notebooks] building dist/ (tsc)"
if ! npx --no-install tsc -p tsconfig.json; then
  # tsc still emits on type errors; a notebook that needs something missing fails below.
  echo "[notebooks] WARNING: tsc reported errors (above); running the notebooks on what it emitted" >&2
fi

FULL=0
if [[ ${1:-} == --full ]]; then FULL=1; shift; fi
if ((!FULL)); then
  # 120 images leave 12 held out: exactly the prediction grid of notebook 04.
  export CAPTCHA_LAB_COUNT="${CAPTCHA_LAB_COUNT:-120}"
  export CAPTCHA_LAB_EPOCHS="${CAPTCHA_LAB_EPOCHS:-2}"
  export CAPTCHA_LAB_BATCH_SIZE="${CAPTCHA_LAB_BATCH_SIZE:-16}"
  export CAPTCHA_LAB_NB_DATA="${CAPTCHA_LAB_NB_DATA:-../data/nb-test-captchas}"
  export CAPTCHA_LAB_NB_RUN="${CAPTCHA_LAB_NB_RUN:-nb-test-seed}"
  export CAPTCHA_LAB_SHIFT_IMAGES="${CAPTCHA_LAB_SHIFT_IMAGES:-64}"
fi
# Quieter TensorFlow start-up logs in the cell outputs.
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"

mkdir -p "$OUT_DIR"
echo "[notebooks] parameters: $( (env | grep -E '^CAPTCHA_LAB_' || echo "the notebooks' defaults") | sort | tr '\n' ' ')"

"$PY" - "$ROOT/notebooks" "$OUT_DIR" "$@" <<'PY'
"""Runs each notebook with nbclient and prints one summary line per notebook."""
import glob, os, sys, time
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

src_dir, out_dir, *only = sys.argv[1:]
notebooks = sorted(glob.glob(os.path.join(src_dir, '[0-9][0-9]-*.ipynb')))
if only:
    notebooks = [nb for nb in notebooks if any(os.path.basename(nb).startswith(p) for p in only)]
if not notebooks:
    sys.exit(f'run-notebooks: no notebooks matched {only or "notebooks/NN-*.ipynb"}')

def kinds(nb):
    """Counts of the outputs a reader would look at, by kind."""
    count = {'chart': 0, 'image': 0, 'table': 0}
    for cell in nb.cells:
        for out in cell.get('outputs', []):
            data = out.get('data', {})
            if 'application/vnd.plotly.v1+json' in data: count['chart'] += 1
            elif 'image/png' in data: count['image'] += 1
            elif '<table' in ''.join(data.get('text/html', '')): count['table'] += 1
    return count

results = []
for path in notebooks:
    name = os.path.basename(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name='tslab', timeout=900, startup_timeout=120,
                            resources={'metadata': {'path': src_dir}})
    start = time.time()
    error = None
    try:
        client.execute()
    except CellExecutionError as err:
        # nbclient's message holds the cell source and the kernel's traceback.
        error = str(err)
    except (CellTimeoutError, DeadKernelError) as err:
        error = f'{type(err).__name__}: {err}'
    seconds = time.time() - start
    nbformat.write(nb, os.path.join(out_dir, name))
    results.append((name, error, seconds, kinds(nb)))
    k = results[-1][3]
    status = 'FAILED' if error else 'ok'
    print(f'[notebooks] {name:28} {status:6} {seconds:6.1f} s  '
          f'{k["chart"]} charts, {k["image"]} images, {k["table"]} tables', flush=True)
    if error:
        print(error, file=sys.stderr)
        break  # later notebooks read what this one should have written

failed = [r for r in results if r[1]]
skipped = len(notebooks) - len(results)
total = sum(r[2] for r in results)
print(f'[notebooks] {len(results) - len(failed)}/{len(notebooks)} passed'
      + (f', {skipped} not run after the failure' if skipped else '')
      + f' in {total:.1f} s; executed copies in {os.path.relpath(out_dir)}/')
sys.exit(1 if failed else 0)
PY
