#!/usr/bin/env bash
# One prepared check of the GPU path (issue 25), sized for one 10-minute call on a GPU machine:
#
#   bash bench/gpu_check.sh             # on the GPU machine (the device tool: carry .whl)
#   bash bench/gpu_check.sh --dry-run   # here, on the CPU: the same steps at small sizes
#   bash bench/gpu_check.sh sweep V1v   # other steps (tests, stats, all, sweep, V1v); the
#                                       # default, `tests stats all`, fits one 10-minute call
#
# 1. installs the wheels the GPU image lacks from .whl/ (hydra-core, omegaconf, open_clip_torch,
#    himalaya, wandb, thingsvision and their small pure-Python dependencies; see the list below
#    for the `pip download` that fetched them) into /tmp/site, without touching the image's torch;
# 2. the CUDA tests (skipped on CPU); the fold statistics at full scale, numpy against torch on
#    the GPU (bench/statistics_device.py);
# 3. `python -m bench.full_pipeline trainer=gpu training.batch_size=65536` at full size (9841
#    images, 5 folds x 10 epochs) for roi=all, then a 2-job joblib sweep with trainer=gpu on the
#    one GPU, then roi=V1v;
# Everything lands under $OUT (default outputs/gpu_check): gpu_check.log, the per-ROI JSON,
# nvidia-smi's utilisation trace. Each step has its own time limit, so one that overruns still
# leaves the others' results.
#
# Wheels (Python 3.12, the GPU image's), fetched here with
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --platform any -d .whl \
#     hydra-core==1.3.8 omegaconf==2.3.1 open_clip_torch==3.3.0 ftfy wcwidth himalaya==0.4.11 \
#     wandb==0.31.0 pydantic pydantic_core annotated-types typing-inspection typing_extensions \
#     gitpython gitdb smmap sentry-sdk platformdirs hydra-joblib-launcher==1.2.0 \
#     thingsvision==2.7.3 torchtyping==0.1.5 typeguard==2.13.3
#   pip wheel --no-deps -w .whl antlr4-python3-runtime==4.9.3     # sdist only on PyPI
set -uo pipefail
cd "$(dirname "$0")/.."
DRY=0
if [[ "${1:-}" == "--dry-run" ]]; then
    DRY=1
    shift
fi
STEPS=${*:-tests stats all}
OUT=${OUT:-outputs/gpu_check}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
LOG="$OUT/gpu_check.log"
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 WANDB_MODE=disabled
export FMRI_RDM_CACHE=${FMRI_RDM_CACHE:-/tmp/fmri_rdm_cache}
say() { echo "== $(date +%T) $*" | tee -a "$LOG"; }
step() { # step SECONDS NAME COMMAND...: run with a time limit, log everything, never stop the script
    local limit=$1 name=$2
    shift 2
    say "$name (limit ${limit}s): $*"
    local t0=$SECONDS
    timeout --signal=INT --kill-after=20 "$limit" "$@" 2>&1 | tee -a "$LOG"
    say "$name: exit ${PIPESTATUS[0]} after $((SECONDS - t0)) s"
}
wants() { [[ " $STEPS " == *" $1 "* ]]; }

if [[ $DRY == 1 ]]; then
    TRAINER=trainer=cpu SIZES=300 EPOCHS=1 BATCH=training.batch_size=4096
    LIMIT_ALL=300 LIMIT_V1=300 LIMIT_SWEEP=300
    SWEEP_DATA=(data.n_images=120 trainer.max_epochs=1)
else
    TRAINER=trainer=gpu SIZES=9841 EPOCHS=10 BATCH=training.batch_size=65536
    # a full subject took ~7 min on an H200 before the device batches (1 of 3 folds: ~80 s),
    # so roi=all fills one 10-minute call; run `V1v` (and `sweep`) in the next call
    LIMIT_ALL=480 LIMIT_V1=480 LIMIT_SWEEP=90
    SWEEP_DATA=(trainer.max_epochs=2)
fi

say "gpu_check: dry_run=$DRY steps='$STEPS' commit=${GIT_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}"
if compgen -G ".whl/*.whl" >/dev/null && [[ $DRY == 0 ]] && [[ ! -f /tmp/site/.fmri_rdm_wheels ]]; then
    step 120 wheels "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        --upgrade --target /tmp/site .whl/*.whl && touch /tmp/site/.fmri_rdm_wheels
fi
export PYTHONPATH=$PWD/src:$PWD
[[ -d /tmp/site ]] && export PYTHONPATH=/tmp/site:$PYTHONPATH
{
    nvidia-smi 2>&1 || echo "no nvidia-smi"
    "$PY" -c "import torch, sys; print(sys.version); print('torch', torch.__version__, \
'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
    echo "cores: $(nproc)"
} >"$OUT/env.txt" 2>&1
cat "$OUT/env.txt" >>"$LOG"
if command -v nvidia-smi >/dev/null; then
    nvidia-smi dmon -s um -d 1 >>"$OUT/dmon.txt" 2>&1 &
    DMON=$!
fi

# The full-size synthetic subject is generated (CPU only) while the CUDA tests run; the
# pipeline then finds it in the cache. Real data is read, not generated: not part of the run.
GEN=""
if wants all || wants V1v; then
    say "generating the synthetic subject ($SIZES images) in the background"
    (t0=$SECONDS && "$PY" -c "import os, logging; logging.basicConfig(level=logging.INFO)
from fmri_rdm.data.synthetic import ensure_synthetic_dataset
ensure_synthetic_dataset(os.environ['FMRI_RDM_CACHE'], n_images=max(600, $SIZES))" &&
        echo "== $(date +%T) generation done in $((SECONDS - t0)) s") >>"$LOG" 2>&1 &
    GEN=$!
fi
if wants tests; then
    step 150 cuda_tests "$PY" -m pytest -q -p no:cacheprovider -rs -o addopts="" \
        tests/embeddings/test_clip.py tests/embeddings/test_thingsvision.py -k cuda
fi
[[ -n "$GEN" ]] && wait "$GEN"

if wants stats; then  # the fold statistics at full scale: numpy (CPU) against torch (GPU)
    if [[ $DRY == 1 ]]; then STATS_ARGS=(--images 1200 --test 300 --resamples 40 --device cpu)
    else STATS_ARGS=(--device cuda); fi
    step 120 statistics "$PY" -m bench.statistics_device "${STATS_ARGS[@]}"
fi
if wants all; then
    step "$LIMIT_ALL" pipeline_all "$PY" -m bench.full_pipeline --sizes "$SIZES" --rois all \
        --epochs "$EPOCHS" --json "$OUT/pipeline_all.json" "$TRAINER" "$BATCH"
fi
if wants sweep; then
    step "$LIMIT_SWEEP" sweep "$PY" train.py -m hydra/launcher=joblib hydra.launcher.n_jobs=2 \
        experiment=demo logger=none "$TRAINER" trainer.enable_progress_bar=false \
        "${SWEEP_DATA[@]}" seed=0,1 "hydra.sweep.dir=$OUT/../gpu_check_sweep"
    for m in "$OUT"/../gpu_check_sweep/*/metrics.json; do
        "$PY" -c "import json, sys; m = json.load(open(sys.argv[1])); print(sys.argv[1], \
'test pearson', round(m['test']['pearson']['mean'], 4), 'seconds', round(m['seconds']['total'], 1))" \
            "$m" 2>&1 | tee -a "$LOG"
    done
fi
if wants V1v; then
    step "$LIMIT_V1" pipeline_V1v "$PY" -m bench.full_pipeline --sizes "$SIZES" --rois V1v \
        --epochs "$EPOCHS" --json "$OUT/pipeline_V1v.json" "$TRAINER" "$BATCH"
fi

[[ -n "${DMON:-}" ]] && kill "$DMON" 2>/dev/null
say "gpu_check done"
