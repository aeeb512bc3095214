# Code is generated for the host CPU by default; --mcpu/--mattr pick another.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %S/Inputs/make_model.py mlp %t/m.onnx
# RUN: sparq-compile -q %t/m.onnx --emit=llvm --mcpu=x86-64 --mattr=+avx2,+fma -o - | FileCheck %s --check-prefix=GENERIC
# RUN: sparq-compile -q %t/m.onnx --emit=llvm -o - | FileCheck %s --check-prefix=HOST

# GENERIC: "target-cpu"="x86-64"
# GENERIC-SAME: "target-features"="+avx2,+fma"
# HOST: "target-cpu"=
# HOST-NOT: "target-cpu"="x86-64"

# The sparse cost model assumes the sparse kernel width of the target:
# AVX-512 targets (znver4) use the 512-bit rates, AVX2 targets the 256-bit
# ones.
# RUN: %python %S/Inputs/make_model.py sparse %t/s.onnx
# RUN: sparq-compile -q %t/s.onnx -o %t/s512.so --mcpu=znver4 --report=%t/r512.json
# RUN: FileCheck %s --check-prefix=W512 < %t/r512.json
# RUN: sparq-compile -q %t/s.onnx -o %t/s256.so --mcpu=x86-64-v3 --report=%t/r256.json
# RUN: FileCheck %s --check-prefix=W256 < %t/r256.json
# W512: "format_reason": "density {{.*}} [512-bit sparse kernels]"
# W256: "format_reason": "density {{.*}} [256-bit sparse kernels]"
