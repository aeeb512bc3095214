#!/usr/bin/env bash
#===- demo.sh - Compile and run one real model end to end -------------------===#
#
# setup -> build -> export the example model (resnet18 by default; set
# SPARQ_DEMO_MODEL=mlp for a quick one) -> sparq-compile it -> sparq-run it on
# a random input and print the outputs -> benchmark it against onnxruntime.
#===------------------------------------------------------------------------===#
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${SPARQ_PYTHON:-python3}"
MODEL="${SPARQ_DEMO_MODEL:-resnet18}"
BIN="${SPARQ_BIN_DIR:-$ROOT/build/bin}"
DEMO="$ROOT/build/demo"
cd "$ROOT"

say() { echo; echo "=== $* ==="; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

say "setup"
if [ -f scripts/setup.sh ]; then bash scripts/setup.sh; else echo "(no scripts/setup.sh)"; fi

say "build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build

say "export $MODEL"
"$PY" python/sparq_models/harness.py --models "$MODEL"
ONNX="$ROOT/build/test-models/$MODEL.onnx"
rm -rf "$DEMO" && mkdir -p "$DEMO/outputs"

say "sparq-compile $MODEL"
t0=$(now)
"$BIN/sparq-compile" "$ONNX" -o "$DEMO/$MODEL.so"
COMPILE_S=$(since "$t0")
ls -l "$DEMO/$MODEL.so" "$DEMO/$MODEL.h"
echo "compiled in ${COMPILE_S}s"

say "sparq-run $MODEL"
# Seeded inputs; prints one --input NAME=FILE argument per line.
mapfile -t INPUT_ARGS < <("$PY" - "$ONNX" "$DEMO" <<'PYEOF'
import os, sys
sys.path.insert(0, os.path.join(os.getcwd(), "python"))
import numpy as np
from sparq_models import harness
model, out = sys.argv[1], sys.argv[2]
feeds = harness.make_feeds(model, harness.ort_session(model, 1), seed=0)
for i, (name, arr) in enumerate(feeds.items()):
    path = os.path.join(out, "input_%d.npy" % i)
    np.save(path, arr)
    print("--input")
    print("%s=%s" % (name, path))
PYEOF
)
t0=$(now)
"$BIN/sparq-run" "$DEMO/$MODEL.so" "${INPUT_ARGS[@]}" --threads 2 \
  --save-outputs "$DEMO/outputs"
RUN_S=$(since "$t0")
"$PY" - "$DEMO/outputs" <<'PYEOF'
import os, sys
import numpy as np
out = sys.argv[1]
for name in sorted(os.listdir(out)):
    y = np.load(os.path.join(out, name))
    print("%s: shape %s dtype %s mean %.5f std %.5f" % (name, list(y.shape), y.dtype,
                                                        y.mean(), y.std()))
    flat = y.reshape(y.shape[0], -1) if y.ndim > 1 else y[None]
    top = np.argsort(-flat[0])[:5]
    print("  top-5 of row 0: " + ", ".join("%d:%.4f" % (i, flat[0][i]) for i in top))
PYEOF
echo "sparq-run (process start + load + one inference) took ${RUN_S}s"

say "benchmark $MODEL vs onnxruntime"
"$PY" benchmarks/bench_models.py --models "$MODEL" --rounds 3 --threads 2

say "done"
echo "model $MODEL: compile ${COMPILE_S}s, first run ${RUN_S}s; artifacts in ${DEMO#$ROOT/}"
