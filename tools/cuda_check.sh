#!/usr/bin/env bash
# The CUDA check, as run on a lent GPU machine (see docs/verification.md).
#
# Runs every claim test's torch-CUDA parametrization (CI profile) and the benchmarks, writing the
# claim report, a JUnit file, the log and build/benchmarks.json-style output under $OUT (default
# build/cuda). Pure-Python test dependencies missing on the machine travel as wheels in .whl/.
set -uo pipefail
OUT=${OUT:-build/cuda}
mkdir -p "$OUT"
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD CI=true PYTHONUNBUFFERED=1
nvidia-smi -L
python3 - <<'PY'
import hypothesis, numpy, torch
print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))
print("numpy", numpy.__version__, "hypothesis", hypothesis.__version__)
PY
DLCORE_CLAIM_REPORT="$OUT/cuda-claims-report.json" timeout "${TEST_TIMEOUT:-360}" \
  python3 -m pytest -m cuda tests/claims -q -p no:cacheprovider --durations=15 \
  --junitxml="$OUT/cuda-junit.xml" 2>&1 | tee "$OUT/cuda-tests.log"
rc=${PIPESTATUS[0]}
echo "pytest rc=$rc"
DLCORE_BENCH_REPORT="$OUT/cuda-benchmarks.json" timeout "${BENCH_TIMEOUT:-120}" \
  python3 -m benchmarks.run ${BENCH_ARGS:---quick} 2>&1 | tee "$OUT/cuda-bench.log"
exit "$rc"
