# An unsupported node is named in the error, the exit code is non-zero and no
# output (library, header, temporary) is left behind.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %S/Inputs/make_model.py unsupported %t/bad.onnx
# RUN: not sparq-compile %t/bad.onnx -o %t/out.so 2>&1 | FileCheck %s
# RUN: ls %t | FileCheck %s --check-prefix=FILES
# RUN: not sparq-compile %t/missing.onnx -o %t/out.so 2>&1 | FileCheck %s --check-prefix=MISSING
# RUN: not sparq-compile %t/bad.onnx -o %t/x.so --target=tpu 2>&1 | FileCheck %s --check-prefix=TARGET

# CHECK: error: {{.*}}bad.onnx: node 'the_lstm' (LSTM): unsupported op
# CHECK: compilation of '{{.*}}bad.onnx' failed

# FILES: bad.onnx
# FILES-NOT: out

# MISSING: missing.onnx': no such file
# TARGET: target 'tpu' is not supported
