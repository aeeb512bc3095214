# The report names the residual adds that run on 8-bit values.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %S/Inputs/make_model.py qdq_add %t/m.onnx
# RUN: sparq-compile %t/m.onnx -o %t/m.so --report=%t/r.json 2>&1 | FileCheck %s --check-prefix=SUMMARY
# RUN: FileCheck %s < %t/r.json

# SUMMARY: [sparq] summary: 0 kernels, {{.*}}; 1 residual adds in 8-bit

# CHECK: "integer_adds": [
# CHECK-NEXT: "skip_add"
# CHECK-NEXT: ]
