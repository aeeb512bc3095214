# --quantize with --calibrate: the weight-only and w8a8 modes, the report's
# per-layer parameters and output error, the summary line, and clean errors
# that leave nothing behind.
# RUN: rm -rf %t && mkdir -p %t/out %t/empty
# RUN: %python %S/Inputs/make_model.py mlp %t/m.onnx
# RUN: %python %S/Inputs/quantize_inputs.py %t/cal 3 4x8
# RUN: sparq-compile %t/m.onnx -o %t/out/w4.so --quantize=w4 --calibrate=%t/cal --report=%t/w4.json 2>&1 | FileCheck %s --check-prefix=W4SUM
# RUN: FileCheck %s --check-prefix=W4 < %t/w4.json
# RUN: sparq-compile %t/m.onnx -o %t/out/q.so --quantize=w8a8 --calibrate=%t/cal --calibrate-method=percentile --report=%t/q.json 2>&1 | FileCheck %s --check-prefix=QSUM
# RUN: FileCheck %s --check-prefix=Q < %t/q.json
# RUN: sparq-compile %t/m.onnx -o - --emit=sparq --quantize=w8 -q | FileCheck %s --check-prefix=W8IR
# RUN: not sparq-compile %t/m.onnx -o %t/out/bad.so --quantize=w8a8 --report=%t/out/bad.json 2>&1 | FileCheck %s --check-prefix=NOCAL
# RUN: not sparq-compile %t/m.onnx -o %t/out/bad.so --quantize=w4:g8 2>&1 | FileCheck %s --check-prefix=BADMODE
# RUN: not sparq-compile %t/m.onnx -o %t/out/bad.so --quantize=w8 --calibrate=%t/empty 2>&1 | FileCheck %s --check-prefix=EMPTY
# RUN: ls %t/out | FileCheck %s --check-prefix=FILES

# W4SUM: [sparq] ran the fp32 model on 3 calibration input(s)
# W4SUM: [sparq] quantized 1 of 1 layers (w4:g128); output rel L2 vs fp32 on 3 calibration inputs: {{[0-9.]+e-[0-9]+}}, top-1 agreement

# The MatMul weight [8, 16]: a group of 128 is longer than a row (K = 8), so
# each of the 16 rows is one group of 8: 4 packed bytes + a 4-byte scale + a
# zero-point byte.
# W4: "format_reason": "int4 weight-only kernel (dense)"
# W4: "kind": "matmul_nbits"
# W4: "name": "fc"
# W4: "quantization": {
# W4: "bits": 4,
# W4: "group_size": 8,
# W4: "mode": "w4",
# W4: "quantized": true,
# W4: "weight_rel_l2":
# W4: "weight_bytes": 144,
# W4: "quantization": {
# W4: "calibration": {
# W4: "samples": 3
# W4: "mode": "w4:g128",
# W4: "output_error": [
# W4: "max_abs":
# W4: "name": "y",
# W4: "rel_l2":
# W4: "top1_agreement":
# W4: "quantized_layers": 1

# QSUM: [sparq] quantized 1 of 1 layers (w8a8); output rel L2 vs fp32 on 3 calibration inputs
# Q: "kind": "qmatmul"
# Q: "bias": "i32, scale x_scale * w_scale",
# Q: "input_zero_point":
# Q: "mode": "w8a8",
# Q: "output_zero_point":
# Q: "method": "percentile",
# Q: "percentile": 99.9

# W8IR: sparq.matmul_nbits {{.*}} {bits = 8 : i64, block_size = 8 : i64, k = 8 : i64, n = 16 : i64} : (tensor<4x8xf32>, tensor<16x1x8xui8>, tensor<16x1xf32>, tensor<16xf32>) -> tensor<4x16xf32>
# W8IR-NOT: fused_matmul

# NOCAL: error: --quantize=w8a8 needs --calibrate=DIR
# BADMODE: error: --quantize: bad quantization mode 'w4:g8': expected w8, w4, w4:gN (N a power of two >= 16) or w8a8
# EMPTY: error: --calibrate: no calibration inputs in '{{.*}}empty'

# FILES: q.h
# FILES-NEXT: q.so
# FILES-NEXT: w4.h
# FILES-NEXT: w4.so
# FILES-NOT: bad
