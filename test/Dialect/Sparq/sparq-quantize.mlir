// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-quantize{mode=w8}))' | FileCheck %s --check-prefix=W8
// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-quantize{mode=w4:g16}))' | FileCheck %s --check-prefix=W4
// RUN: echo '{"tensors": {"fc:input": [-1.0, 3.0], "fc:output": [0.0, 5.1], "conv:input": [0.5, 2.0], "conv:output": [-1.0, 1.0], "a:input": [-1.0, 1.0], "a:output": [0.0, 5.0], "b:input": [0.0, 5.0], "b:output": [-2.0, 2.0], "dup#0:input": [-1.0, 3.0], "dup#0:output": [0.0, 1.0], "dup#1:input": [0.0, 2.0], "dup#1:output": [0.0, 1.0]}}' > %t.json
// RUN: sparq-opt %s --pass-pipeline="builtin.module(func.func(sparq-quantize{mode=w8a8 ranges=%t.json}))" | FileCheck %s --check-prefix=QDQ
// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-quantize{mode=w8a8-calibration}))' | FileCheck %s --check-prefix=CALIB
// RUN: not sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-quantize{mode=w4:g24}))' 2>&1 | FileCheck %s --check-prefix=BADMODE
// RUN: not sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-quantize{mode=w8a8}))' 2>&1 | FileCheck %s --check-prefix=NORANGES
// RUN: not sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-quantize{mode=w8a8 ranges=%t.missing.json}))' 2>&1 | FileCheck %s --check-prefix=MISSING

// Expected values were worked out by hand from the weights below.
//
// w8: symmetric per row, scale = max|w| / 127, stored as q + 128 (the
// implicit MatMulNBits zero point). Row 0: scale 1/127, q = [127, -38.1 ->
// -38, 25.4 -> 25, 0] -> [255, 90, 153, 128]. Row 1: scale 2/127, q = [0,
// 127, -69.85 -> -70, 31.75 -> 32] -> [128, 255, 58, 160]. One block per row
// (block_size = K = 4). The epilogue stays: bias in the kernel, residual and
// ReLU as graph ops after it.
// W8-LABEL: func @mlp
// W8-SAME: sparq.quantization = [{bits = 8 : i64, granularity = "per output row", group_size = 4 : i64, kind = "fused_matmul", mode = "w8", name = "fc", quantized = true
// W8-DAG: %[[B:.+]] = sparq.constant dense<[5.000000e-01, -2.500000e-01]>
// W8-DAG: %[[Q:.+]] = sparq.constant dense<{{\[}}{{\[}}[255, 90, 153, 128]], {{\[}}[128, 255, 58, 160]]]> : tensor<2x1x4xui8>
// W8-DAG: %[[S:.+]] = sparq.constant dense<{{\[}}[0.00787401571], [0.0157480314]]> : tensor<2x1xf32>
// W8: %[[Y:.+]] = sparq.matmul_nbits %arg0, %[[Q]], %[[S]] bias %[[B]] {bits = 8 : i64, block_size = 4 : i64, k = 4 : i64, n = 2 : i64}
// W8: %[[R:.+]] = sparq.add %[[Y]], %arg1
// W8: %[[A:.+]] = sparq.relu %[[R]]
// W8: return %[[A]]
// W8-NOT: sparq.fused_matmul

// w4:g16: asymmetric per group. K = 4 is shorter than the group, so the
// group is the row (block_size 4, no padding bytes).
// Row 0: range [-0.3, 1] -> scale 1.3/15, zero point round(3.46) = 3, q =
// [15, 0, 5, 3]; packed low nibble first: [0x0F, 0x35] = [15, 53]. Row 1:
// range [-1.1, 2] -> scale 3.1/15, zero point 5, q = [5, 15, 0, 7] ->
// [0xF5, 0x70] = [245, 112].
// W4-LABEL: func @mlp
// W4-SAME: group_size = 4 : i64
// W4-SAME: zero_point_max = 5 : i64, zero_point_min = 3 : i64
// W4-DAG: %[[Q:.+]] = sparq.constant dense<{{\[}}{{\[}}[15, 53]], {{\[}}[245, 112]]]> : tensor<2x1x2xui8>
// W4-DAG: %[[S:.+]] = sparq.constant dense<{{\[}}[0.0866666659], [0.206666663]]> : tensor<2x1xf32>
// W4-DAG: %[[Z:.+]] = sparq.constant dense<{{\[}}[3], [5]]> : tensor<2x1xui8>
// W4: sparq.matmul_nbits %arg0, %[[Q]], %[[S]] zero_points %[[Z]] bias %{{.+}} {bits = 4 : i64, block_size = 4 : i64, k = 4 : i64, n = 2 : i64}

// w8a8: u8 activations (input [-1, 3]: scale 4/255, zero point 64; output
// [0, 5.1]: scale 0.02, zero point 0), s8 per-row weights, i32 bias with
// scale x_scale * w_scale: 0.5 / (4/255 / 127) = 4048.1 -> 4048.
// QDQ-LABEL: func @mlp
// QDQ-DAG: %[[XS:.+]] = sparq.constant dense<0.0156862754> : tensor<f32>
// QDQ-DAG: %[[XZ:.+]] = sparq.constant dense<64> : tensor<ui8>
// QDQ: %[[XQ:.+]] = sparq.quantize_linear %arg0, %[[XS]], %[[XZ]]
// QDQ: %[[X:.+]] = sparq.dequantize_linear %[[XQ]], %[[XS]], %[[XZ]]
// QDQ-DAG: %[[WQ:.+]] = sparq.constant dense<{{\[}}[127, -38, 25, 0], [0, 127, -70, 32]]> : tensor<2x4xi8>
// QDQ-DAG: %[[WS:.+]] = sparq.constant dense<[0.00787401571, 0.0157480314]> : tensor<2xf32>
// QDQ-DAG: %[[WZ:.+]] = sparq.constant dense<0> : tensor<2xi8>
// QDQ: %[[W:.+]] = sparq.dequantize_linear %[[WQ]], %[[WS]], %[[WZ]] {axis = 0 : i64}
// QDQ-DAG: %[[BQ:.+]] = sparq.constant dense<[4048, -1012]> : tensor<2xi32>
// QDQ-DAG: %[[BS:.+]] = sparq.constant dense<[1.23513979E-4, 2.47027958E-4]> : tensor<2xf32>
// QDQ: %[[B:.+]] = sparq.dequantize_linear %[[BQ]], %[[BS]], %{{.+}} {axis = 0 : i64} : (tensor<2xi32>
// The residual add and the ReLU after it leave the kernel (integer kernels
// take no residual); the output range applies to the kernel's own result.
// QDQ: %[[Y:.+]] = sparq.fused_matmul %[[X]], %[[W]] bias %[[B]] {trans_b = true}
// QDQ-DAG: %[[YS:.+]] = sparq.constant dense<2.000000e-02> : tensor<f32>
// QDQ-DAG: %[[YZ:.+]] = sparq.constant dense<0> : tensor<ui8>
// QDQ: %[[YQ:.+]] = sparq.quantize_linear %[[Y]], %[[YS]], %[[YZ]]
// QDQ: %[[YD:.+]] = sparq.dequantize_linear %[[YQ]], %[[YS]], %[[YZ]]
// QDQ: %[[SUM:.+]] = sparq.add %[[YD]], %arg1
// QDQ: %[[ACT:.+]] = sparq.relu %[[SUM]]
// QDQ: return %[[ACT]]
// The calibration model splits the residual the same way and quantizes
// nothing.
// CALIB-LABEL: func @mlp
// CALIB-NOT: sparq.quantization
// CALIB: %[[Y:.+]] = sparq.fused_matmul %arg0, %{{.+}} bias %{{.+}} {sparq.calibration_key = "fc", trans_b = true}
// CALIB: %[[SUM:.+]] = sparq.add %[[Y]], %arg1
// CALIB: %[[ACT:.+]] = sparq.relu %[[SUM]]
// CALIB: return %[[ACT]]
// CALIB-NOT: quantize_linear
func.func @mlp(%x: tensor<3x4xf32>, %r: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = sparq.constant dense<[[1.0, -0.3, 0.2, 0.0], [0.0, 2.0, -1.1, 0.5]]> : tensor<2x4xf32>
  %b = sparq.constant dense<[0.5, -0.25]> : tensor<2xf32>
  %0 = sparq.fused_matmul %x, %w bias %b residual %r {trans_b = true, activation = #sparq.activation<relu>} : (tensor<3x4xf32>, tensor<2x4xf32>, tensor<2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32> loc("fc")
  return %0 : tensor<3x2xf32>
}

// w4:g16 with K = 20: two groups, the second holding 4 values and padded
// with its zero point. Group 0: [1.5, 0 x 15] -> range [0, 1.5], scale 0.1,
// zero point 0, q = [15, 0...] -> bytes [15, 0...]. Group 1: [0.3, -0.3,
// 0.6, 0] -> scale 0.9/15 = 0.06, zero point 5, q = [10, 0, 15, 5, 5...] ->
// bytes [0x0A, 0x5F, 0x55...] = [10, 95, 85...]; zero points packed low
// nibble first: 0 | 5 << 4 = 80.
// W4-LABEL: func @padded
// W4-DAG: %[[Q:.+]] = sparq.constant dense<{{\[}}{{\[}}[15, 0, 0, 0, 0, 0, 0, 0], [10, 95, 85, 85, 85, 85, 85, 85]]]> : tensor<1x2x8xui8>
// W4-DAG: %[[S:.+]] = sparq.constant dense<{{\[}}[1.000000e-01, 0.0600000024]]> : tensor<1x2xf32>
// W4-DAG: %[[Z:.+]] = sparq.constant dense<80> : tensor<1x1xui8>
// W4: sparq.matmul_nbits %arg0, %[[Q]], %[[S]] zero_points %[[Z]] {bits = 4 : i64, block_size = 16 : i64, k = 20 : i64, n = 1 : i64}
func.func @padded(%x: tensor<2x20xf32>) -> tensor<2x1xf32> {
  %w = sparq.constant dense<[[1.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, -0.3, 0.6, 0.0]]> : tensor<1x20xf32>
  %0 = sparq.fused_matmul %x, %w {trans_b = true} : (tensor<2x20xf32>, tensor<1x20xf32>) -> tensor<2x1xf32> loc("padded")
  return %0 : tensor<2x1xf32>
}

// Weight-only modes keep convolutions in f32 and say why; w8a8 quantizes
// them per output channel (input range [0.5, 2] widened to [0, 2]: zero
// point 0; output [-1, 1]: zero point 127).
// W8-LABEL: func @conv
// W8-SAME: {kind = "fused_conv", name = "conv", quantized = false, reason = "convolution: no weight-only conv kernel, kept f32"}
// W8: sparq.fused_conv %arg0, %{{.+}} {
// W4-LABEL: func @conv
// W4: sparq.fused_conv %arg0, %{{.+}} {
// QDQ-LABEL: func @conv
// QDQ-SAME: input_zero_point = 0 : i64
// QDQ-SAME: output_zero_point = 127 : i64
// QDQ: %[[XQ:.+]] = sparq.quantize_linear %arg0
// QDQ: %[[X:.+]] = sparq.dequantize_linear %[[XQ]]
// QDQ: %[[WQ:.+]] = sparq.constant dense<127> : tensor<3x2x1x1xi8>
// QDQ: %[[W:.+]] = sparq.dequantize_linear %[[WQ]], %{{.+}}, %{{.+}} {axis = 0 : i64}
// QDQ: %[[Y:.+]] = sparq.fused_conv %[[X]], %[[W]] {
// QDQ: sparq.quantize_linear %[[Y]]
func.func @conv(%x: tensor<1x2x4x4xf32>) -> tensor<1x3x4x4xf32> {
  %w = sparq.constant dense<0.5> : tensor<3x2x1x1xf32>
  %0 = sparq.fused_conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<3x2x1x1xf32>) -> tensor<1x3x4x4xf32> loc("conv")
  return %0 : tensor<1x3x4x4xf32>
}

// BADMODE: bad quantization mode 'w4:g24': expected w8, w4, w4:gN (N a power of two >= 16) or w8a8
// NORANGES: w8a8 needs calibrated activation ranges
// MISSING: calibration ranges '{{.*}}missing.json': {{.*}}o such file

// A chain of kernels: a's output and b's input are one tensor, quantized
// once.
// QDQ-LABEL: func @chain
// QDQ: sparq.quantize_linear %arg0
// QDQ: %[[A:.+]] = sparq.fused_matmul
// QDQ: %[[AQ:.+]] = sparq.quantize_linear %[[A]]
// QDQ: %[[AD:.+]] = sparq.dequantize_linear %[[AQ]]
// QDQ-NOT: sparq.quantize_linear %[[AD]]
// QDQ: %[[B:.+]] = sparq.fused_matmul %[[AD]], %{{.+}} {trans_b = true}
// QDQ: sparq.quantize_linear %[[B]]
func.func @chain(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = sparq.constant dense<[[1.0, -0.3, 0.2, 0.0], [0.0, 2.0, -1.1, 0.5]]> : tensor<2x4xf32>
  %v = sparq.constant dense<[[1.0, -0.5], [0.25, 2.0]]> : tensor<2x2xf32>
  %0 = sparq.fused_matmul %x, %w {trans_b = true} : (tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<3x2xf32> loc("a")
  %1 = sparq.fused_matmul %0, %v {trans_b = true} : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32> loc("b")
  return %1 : tensor<3x2xf32>
}

// Kernels sharing an ONNX node name get their ranges under NAME#INDEX (walk
// order), which the calibration mode writes on each kernel for
// sparq-compile's instrumentation: dup#0's input range [-1, 3] gives zero
// point 64, dup#1's [0, 2] zero point 0.
// CALIB-LABEL: func @dup
// CALIB: sparq.fused_matmul %arg0, {{.*}}sparq.calibration_key = "dup#0"
// CALIB: sparq.fused_matmul %arg1, {{.*}}sparq.calibration_key = "dup#1"
// QDQ-LABEL: func @dup
// QDQ-SAME: {bias = "none", bits = 8 : i64, calibration_key = "dup#0"{{.*}}input_zero_point = 64 : i64
// QDQ-SAME: {bias = "none", bits = 8 : i64, calibration_key = "dup#1"{{.*}}input_zero_point = 0 : i64
func.func @dup(%x: tensor<3x2xf32>, %y: tensor<3x2xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>) {
  %v = sparq.constant dense<[[1.0, -0.5], [0.25, 2.0]]> : tensor<2x2xf32>
  %0 = sparq.fused_matmul %x, %v {trans_b = true} : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32> loc("dup")
  %1 = sparq.fused_matmul %y, %v {trans_b = true} : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32> loc("dup")
  return %0, %1 : tensor<3x2xf32>, tensor<3x2xf32>
}
