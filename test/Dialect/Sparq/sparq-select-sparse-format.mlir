// RUN: %python %S/Inputs/sparse_weight_func.py > %t.mlir
// RUN: sparq-opt %t.mlir --pass-pipeline='builtin.module(func.func(sparq-sparsity-analysis,sparq-select-sparse-format))' | FileCheck %s --check-prefix=AUTO
// RUN: sparq-opt %t.mlir --pass-pipeline='builtin.module(func.func(sparq-sparsity-analysis,sparq-select-sparse-format{mode=off}))' | FileCheck %s --check-prefix=OFF
// RUN: sparq-opt %t.mlir --pass-pipeline='builtin.module(func.func(sparq-sparsity-analysis,sparq-select-sparse-format{mode=force}))' | FileCheck %s --check-prefix=FORCE
// RUN: sparq-opt %t.mlir --pass-pipeline='builtin.module(func.func(sparq-sparsity-analysis,sparq-select-sparse-format{vector-bits=256}))' | FileCheck %s --check-prefix=AVX2
// RUN: sparq-opt %t.mlir --pass-pipeline='builtin.module(func.func(sparq-sparsity-analysis,sparq-select-sparse-format{vector-bits=512}))' | FileCheck %s --check-prefix=AVX512
// RUN: not sparq-opt %t.mlir --pass-pipeline='builtin.module(func.func(sparq-select-sparse-format{vector-bits=128}))' 2>&1 | FileCheck %s --check-prefix=BADBITS

// A 90%-sparse 256x128 weight at 16 rows per call is estimated faster as
// CSR; a half-empty 4x4 weight is too small to gain anything.
// AUTO: sparq.fused_matmul {{.*}}sparq.format = "csr", sparq.format_reason = "density 0.{{[0-9]+}}, 16 rows/call: estimated dense
// AUTO: sparq.fused_matmul {{.*}}sparq.format = "dense", sparq.format_reason = "sparse not faster:
// OFF: sparq.format = "dense", sparq.format_reason = "sparse kernels disabled (--sparsity=off)"
// FORCE: sparq.format = "csr", sparq.format_reason = "forced;
// FORCE: sparq.format = "{{csr|nm 2:4}}", sparq.format_reason = "forced;

// k x k convolutions, strided or not, are costed on the direct path (no
// im2col; CSR ones on the 512-bit row strips); strided 1x1 ones with the
// im2col copy.
// AUTO-LABEL: func.func @convs
// AUTO: sparq.fused_conv {{.*}}sparq.format = "csr", sparq.format_reason = "density 0.0{{[0-9]+}}, 784 rows/call: {{.*}} us (direct convolution{{(, row strips)?}}) [{{[0-9]+}}-bit sparse kernels]"
// AUTO: sparq.fused_conv {{.*}}sparq.format = "csr", sparq.format_reason = "density 0.0{{[0-9]+}}, 196 rows/call: {{.*}} us (direct convolution{{(, row strips)?}}) [{{[0-9]+}}-bit sparse kernels]"
// AUTO: sparq.fused_conv {{.*}}sparq.format = "csr", sparq.format_reason = "density 0.0{{[0-9]+}}, 196 rows/call: {{.*}} us (im2col) [{{[0-9]+}}-bit sparse kernels]"

// The estimate follows the target's sparse kernel width: the AVX-512 set
// has higher CSR rates, so the same layer is estimated faster.
// AVX2: sparq.fused_matmul {{.*}}sparq.format = "csr", sparq.format_reason = "density {{.*}} csr {{[0-9.]+}} us [256-bit sparse kernels]"
// AVX512: sparq.fused_matmul {{.*}}sparq.format = "csr", sparq.format_reason = "density {{.*}} csr {{[0-9.]+}} us [512-bit sparse kernels]"
// AVX2-LABEL: func.func @convs
// AVX2: sparq.fused_conv {{.*}}784 rows/call: {{.*}} us (direct convolution) [256-bit sparse kernels]"
// AVX2: sparq.fused_conv {{.*}}196 rows/call: {{.*}} us (direct convolution) [256-bit sparse kernels]"
// AVX512-LABEL: func.func @convs
// AVX512: sparq.fused_conv {{.*}}784 rows/call: {{.*}} us (direct convolution, row strips) [512-bit sparse kernels]"
// AVX512: sparq.fused_conv {{.*}}196 rows/call: {{.*}} us (direct convolution, row strips) [512-bit sparse kernels]"
// BADBITS: vector-bits must be 0, 256 or 512, got 128
