# Code is generated for the host CPU by default; --mcpu/--mattr pick another.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %S/Inputs/make_model.py mlp %t/m.onnx
# RUN: sparq-compile -q %t/m.onnx --emit=llvm --mcpu=x86-64 --mattr=+avx2,+fma -o - | FileCheck %s --check-prefix=GENERIC
# RUN: sparq-compile -q %t/m.onnx --emit=llvm -o - | FileCheck %s --check-prefix=HOST

# GENERIC: "target-cpu"="x86-64"
# GENERIC-SAME: "target-features"="+avx2,+fma"
# HOST: "target-cpu"=
# HOST-NOT: "target-cpu"="x86-64"
