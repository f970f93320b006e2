#!/usr/bin/env bash
# The GPU check (issue 28), prepared on the CPU and run in one go on a machine with a
# GPU (the device tool's: nothing can be installed there from outside). What it needs
# travels in .gpu/ (ignored by git): the MNIST files and wheels the machine lacks
# (GPU_DIR names that folder where the checkout run is not the one holding it).
#   1. the CUDA tests (the CUDA-graph path's included), and the tests whose
#      parametrizations include CUDA
#   2. benchmarks/bench_gpu.py --device cuda: the CUDA-graph path and the eager one
#      (timings, microseconds per step, PSNR against the CPU's, targets, a RESULTS.md
#      section); BENCH_ARGS adds options (default: --variants)
#   3. the whole suite with CUDA visible (SUITE_S=0 skips it)
# Each step has its time limit (CUDA_TESTS_S, BENCH_S, SUITE_S seconds; 0 skips);
# CUDA_TESTS_MORE names the further test files of step 1 ('' for none).
# Results go to $OUT (the device tool brings that folder back).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/skdae-gpu}"
mkdir -p "$OUT"
GPU_DIR="${GPU_DIR:-$PWD/.gpu}"
export PYTHONUNBUFFERED=1 SKDAE_DATA="${SKDAE_DATA:-$GPU_DIR/data}"
if compgen -G "$GPU_DIR/whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site "$GPU_DIR"/whl/*.whl && export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD:$PWD/benchmarks${PYTHONPATH:+:$PYTHONPATH}"
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  python3 -c "import torch, sklearn, numpy, sys; print(sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0), 'sklearn', sklearn.__version__, 'numpy', numpy.__version__)"
  python3 -c "from skdae._precision import measure_precision as m; print('float32 on cuda measured: products', m('float32', 'cuda', convolutions=False), '/ with convolutions', m('float32', 'cuda'))"
} >"$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

if [ "${CUDA_TESTS_S:-150}" != 0 ]; then
  echo "== 1. CUDA tests"
  timeout "${CUDA_TESTS_S:-150}" python3 -m pytest -q --tb=short -p no:cacheprovider -o addopts="-ra" \
    tests/test_cuda.py tests/test_cuda_graph.py tests/test_dense_step.py tests/test_precision.py \
    ${CUDA_TESTS_MORE-tests/test_corruption.py tests/test_persistence.py tests/test_device.py} 2>&1 \
    | tee "$OUT/cuda_tests.log" | grep -E "FAILED|ERROR|passed|failed|^E " | tail -40
fi

if [ "${BENCH_S:-240}" != 0 ]; then
  echo "== 2. benchmark"
  timeout "${BENCH_S:-240}" python3 benchmarks/bench_gpu.py --device cuda ${BENCH_ARGS---variants --profile $OUT/profile.txt} \
    --json "$OUT/gpu.json" --markdown "$OUT/GPU.md" 2>&1 | tee "$OUT/bench.log" | tail -40
fi

[ "${SUITE_S:-150}" = 0 ] && exit 0
echo "== 3. the whole suite"
# Verbose, so that each failure is on record even if the time runs out before the summary.
timeout "${SUITE_S:-150}" python3 -m pytest -v --tb=line -p no:cacheprovider --maxfail=30 \
  --ignore=tests/test_cuda.py --ignore=tests/test_dense_step.py --ignore=tests/test_corruption.py \
  --ignore=tests/test_persistence.py --ignore=tests/test_precision.py --ignore=tests/test_device.py 2>&1 \
  | tee "$OUT/suite.log" | grep -E "FAILED|ERROR|^E |passed|failed" | tail -60
