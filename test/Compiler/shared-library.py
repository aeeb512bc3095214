# The shared library exports the C ABI and the header describes the model.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %S/Inputs/make_model.py mlp %t/m.onnx
# RUN: sparq-compile -q %t/m.onnx -o %t/m.so
# RUN: llvm-nm -D --defined-only %t/m.so | FileCheck %s --check-prefix=SYMS
# RUN: FileCheck %s --check-prefix=HEADER < %t/m.h

# SYMS-DAG: T sparq_model_create
# SYMS-DAG: T sparq_model_run
# SYMS-DAG: T sparq_model_destroy
# SYMS-DAG: T sparq_model_input_info
# SYMS-DAG: T sparq_model_set_threads
# SYMS-DAG: T sparq_model_entry

# HEADER: #ifndef SPARQ_MODEL_M_H
# HEADER: input  'x': f32 [4, 8]
# HEADER: output 'y': f32 [4, 16]
# HEADER: #define SPARQ_MODEL_NUM_INPUTS 1
# HEADER: #define SPARQ_MODEL_INPUT0_ELEMENTS 32
# HEADER: sparq_status sparq_model_run(
