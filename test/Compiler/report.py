# --report records each kernel's decisions.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %S/Inputs/make_model.py mlp %t/m.onnx
# RUN: sparq-compile %t/m.onnx -o %t/m.so --report=%t/r.json 2>&1 | FileCheck %s --check-prefix=SUMMARY
# RUN: FileCheck %s < %t/r.json

# SUMMARY: [sparq] imported
# SUMMARY: [sparq] linked
# SUMMARY: [sparq] summary: 1 kernels, {{.*}} 0 of 1 layers sparse

# CHECK: "layers": [
# CHECK: "density": 1,
# CHECK: "flops": 1024,
# CHECK: "format": "dense",
# CHECK: "fused": [
# CHECK-NEXT: "bias",
# CHECK-NEXT: "relu"
# CHECK: "kernel": "sparq_uk_matmul_f32",
# CHECK: "kind": "fused_matmul",
# CHECK: "layer_code_bytes": 0,
# CHECK: "name": "fc",
# CHECK: "weight_bytes": 512
