//===- SparqQuantKernelOps.td - integer kernel ops ------------*- tablegen -*-===//
//
// (Being implemented.) Kernel-level integer ops formed by sparq-qdq-to-integer
// and lowered to the runtime's int8 kernels. Included by SparqOps.td.
//
//===----------------------------------------------------------------------===//
