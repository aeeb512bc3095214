# Every --emit stage of sparq-compile stops where it says.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %S/Inputs/make_model.py mlp %t/m.onnx
# RUN: sparq-compile -q %t/m.onnx --emit=mlir -o - | FileCheck %s --check-prefix=MLIR
# RUN: sparq-compile -q %t/m.onnx --emit=sparq -o - | FileCheck %s --check-prefix=SPARQ
# RUN: sparq-compile -q %t/m.onnx --emit=llvm-mlir -o - | FileCheck %s --check-prefix=LLVMMLIR
# RUN: sparq-compile -q %t/m.onnx --emit=llvm -o %t/m.ll
# RUN: FileCheck %s --check-prefix=LLVM < %t/m.ll
# RUN: sparq-compile -q %t/m.onnx --emit=obj -o %t/m.o
# RUN: llvm-nm %t/m.o | FileCheck %s --check-prefix=OBJ

# MLIR: func.func @main
# MLIR: sparq.matmul
# MLIR: sparq.add
# MLIR: sparq.relu

# SPARQ: sparq.fused_matmul %{{.*}}, %{{.*}} bias %{{.*}} {activation = #sparq.activation<relu>, sparq.format = "dense"
# SPARQ-NOT: sparq.relu

# LLVMMLIR: llvm.func @main(
# LLVMMLIR: llvm.call @sparq_uk_matmul_f32

# LLVM: @sparq_model_signature = {{.*}}constant [{{[0-9]+}} x i8] c"sparq-signature 1\0Aarena {{[0-9]+}}\0Ainput f32 2 4 8 x\0Aoutput f32 2 4 16 y\0A\00"
# LLVM: define void @sparq_model_entry(ptr

# OBJ: T sparq_model_entry
# OBJ: R sparq_model_signature
# OBJ: U sparq_uk_matmul_f32
