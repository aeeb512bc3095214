#!/usr/bin/env bash
#===- test.sh - The single test command for sparq ---------------------------===#
#
# setup -> configure + build -> lit -> unit tests -> end-to-end suites
# (models vs onnxruntime, ONNX node tests, malformed inputs, Python API).
# Each suite's result is taken from its own summary line; a suite that
# crashes or prints none counts as 1 failed. Prints a per-suite table and,
# as the very last line, `N passed, M failed`. Exits non-zero iff anything
# failed (a failed build included).
#
# Env: SPARQ_PYTHON (default python3, the pip interpreter with onnxruntime),
#      SPARQ_NODE_JOBS (default 2), SPARQ_NODE_BUDGET_S (default 1200).
#===------------------------------------------------------------------------===#
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build"
LOGS="$BUILD/test-logs"
PY="${SPARQ_PYTHON:-python3}"
NODE_JOBS="${SPARQ_NODE_JOBS:-2}"
NODE_BUDGET="${SPARQ_NODE_BUDGET_S:-1200}"
cd "$ROOT"
mkdir -p "$LOGS"
START=$SECONDS

SUITES=() PASSES=() FAILS=() NOTES=()
record() { SUITES+=("$1"); PASSES+=("$2"); FAILS+=("$3"); NOTES+=("${4:-}"); }

finish() {
  local p=0 f=0 i
  echo
  echo "=== summary ($((SECONDS - START))s, logs in ${LOGS#$ROOT/}) ==="
  printf '%-14s %8s %8s  %s\n' suite passed failed note
  for i in "${!SUITES[@]}"; do
    printf '%-14s %8s %8s  %s\n' "${SUITES[$i]}" "${PASSES[$i]}" "${FAILS[$i]}" "${NOTES[$i]}"
    p=$((p + PASSES[i])); f=$((f + FAILS[i]))
  done
  echo "$p passed, $f failed"
  [ "$f" -eq 0 ]
  exit $?
}

step() { echo; echo "=== $* ==="; }

# run_logged LOG TIMEOUT CMD... : run with a hard timeout, tee to LOG, return rc.
run_logged() {
  local log="$1" limit="$2"; shift 2
  timeout -k 10 "$limit" "$@" 2>&1 | tee "$log"
  return "${PIPESTATUS[0]}"
}

# suite NAME TAG TIMEOUT CMD... : run a script ending in `TAG: N passed, M failed`.
suite() {
  local name="$1" tag="$2" limit="$3"; shift 3
  local log="$LOGS/$name.log" rc line
  step "$name"
  run_logged "$log" "$limit" "$@"; rc=$?
  line="$(grep -E "^$tag: [0-9]+ passed, [0-9]+ failed\$" "$log" | tail -n 1)"
  if [ -z "$line" ]; then
    record "$name" 0 1 "no summary line (exit $rc)"
    return
  fi
  local np nf
  np="$(sed -E 's/^.*: ([0-9]+) passed.*$/\1/' <<<"$line")"
  nf="$(sed -E 's/^.*, ([0-9]+) failed$/\1/' <<<"$line")"
  if [ "$nf" -eq 0 ] && [ "$rc" -ne 0 ]; then
    record "$name" "$np" 1 "exit $rc despite 0 failures"
  else
    record "$name" "$np" "$nf" "exit $rc"
  fi
}

# --- (a) setup ---------------------------------------------------------------
step "setup"
if [ -x "$ROOT/scripts/setup.sh" ] || [ -f "$ROOT/scripts/setup.sh" ]; then
  if ! bash "$ROOT/scripts/setup.sh" 2>&1 | tee "$LOGS/setup.log"; then
    record setup 0 1 "scripts/setup.sh failed"
    finish
  fi
else
  echo "note: scripts/setup.sh not found; skipping"
fi

# --- (b) configure + build ---------------------------------------------------
step "build"
if ! { cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release &&
       cmake --build build; } 2>&1 | tee "$LOGS/build.log"; then
  record build 0 1 "configure/build failed, see ${LOGS#$ROOT/}/build.log"
  finish
fi

# --- (c) lit -----------------------------------------------------------------
step "lit"
if [ ! -e "$BUILD/test/lit.site.cfg.py" ]; then
  record lit 0 1 "build/test/lit.site.cfg.py missing"
else
  run_logged "$LOGS/lit.log" 1200 lit -v "$BUILD/test"; rc=$?
  # lit prints e.g. "  Passed           : 12 (100.00%)" or "  Passed: 12".
  lit_count() {
    local n
    n="$(grep -E "^[[:space:]]*$1[[:space:]]*:[[:space:]]*[0-9]+" "$LOGS/lit.log" |
         tail -n 1 | sed -E 's/^[^:]*:[[:space:]]*([0-9]+).*$/\1/')"
    echo "${n:-0}"
  }
  lp=$(lit_count 'Passed'); lx=$(lit_count 'Expectedly Failed')
  lf=$(lit_count 'Failed'); lu=$(lit_count 'Unexpectedly Passed')
  lt=$(lit_count 'Timed Out'); lr=$(lit_count 'Unresolved')
  lun=$(lit_count 'Unsupported')
  pass=$((lp + lx)); fail=$((lf + lu + lt + lr))
  if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
  if [ $((pass + fail)) -eq 0 ]; then fail=1; fi
  record lit "$pass" "$fail" "unsupported $lun, xfail $lx, exit $rc"
fi

# --- (d) unit tests ----------------------------------------------------------
if [ -x "$BUILD/bin/sparq-unit-tests" ]; then
  suite unit unit 600 "$BUILD/bin/sparq-unit-tests"
else
  record unit 0 1 "build/bin/sparq-unit-tests missing"
fi

# --- (e) end-to-end ----------------------------------------------------------
step "test models"
if run_logged "$LOGS/models.log" 900 "$PY" python/sparq_models/harness.py; then
  suite e2e-models e2e-models 1800 "$PY" test/e2e/compare_models.py
else
  record e2e-models 0 1 "model generation failed, see ${LOGS#$ROOT/}/models.log"
fi
suite node-tests node-tests $((NODE_BUDGET + 300)) \
  "$PY" test/e2e/run_node_tests.py --jobs "$NODE_JOBS" --budget "$NODE_BUDGET"
suite bad-inputs bad-inputs 600 "$PY" test/e2e/bad_inputs.py
# Quantization: com.microsoft contrib ops and exact Q/DQ forms; QDQ/QOperator/
# dynamic small nets; compile-time quantization; real models quantized by
# onnxruntime's own tools -- each against onnxruntime on the same model.
suite contrib-ops contrib-ops 600 "$PY" test/e2e/contrib_ops.py
suite qdq-small qdq-small 600 "$PY" test/e2e/qdq_small.py
suite ptq ptq 600 "$PY" test/e2e/ptq.py
suite quant-models quant-models 1200 "$PY" test/e2e/quant_models.py
suite sparse-quant sparse-quant 900 "$PY" test/e2e/sparse_quant.py
suite python python 600 "$PY" test/python/test_python_api.py

finish
