//===- SparseKernelsAvx512.cpp - AVX-512 sparse kernels -------------------===//
//
// Placeholder: no AVX-512 sparse kernel set yet.
//
//===----------------------------------------------------------------------===//

#include "SparseKernels.h"

const sparq::rt::SparseKernelSet *sparq::rt::avx512SparseKernelSet() {
  return nullptr;
}
