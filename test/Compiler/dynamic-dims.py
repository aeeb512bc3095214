# Symbolic dims stay dynamic in the imported IR and are pinned for code
# generation by --input-shape or --default-dim.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %S/Inputs/make_model.py dynamic %t/d.onnx
# RUN: sparq-compile -q %t/d.onnx --emit=mlir -o - | FileCheck %s --check-prefix=DYN
# RUN: sparq-compile -q %t/d.onnx --emit=sparq --input-shape=x:5x8 -o - | FileCheck %s --check-prefix=PINNED
# RUN: sparq-compile -q %t/d.onnx --emit=sparq --default-dim=3 -o - | FileCheck %s --check-prefix=DEFAULT
# RUN: not sparq-compile -q %t/d.onnx --input-shape=x:5xq -o %t/d.so 2>&1 | FileCheck %s --check-prefix=BAD

# DYN: func.func @main(%{{.*}}: tensor<?x8xf32> {onnx.name = "x"}) -> (tensor<?x4xf32>
# DYN: sparq.matmul {{.*}} -> tensor<?x4xf32>
# PINNED: func.func @main(%{{.*}}: tensor<5x8xf32>
# PINNED: -> tensor<5x4xf32>
# DEFAULT: func.func @main(%{{.*}}: tensor<3x8xf32>
# BAD: bad dim 'q' in --input-shape 'x:5xq'
