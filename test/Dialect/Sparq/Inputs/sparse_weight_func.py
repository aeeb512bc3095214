"""Prints a func with a 90%-sparse random 256x128 weight (as a hex dense
attribute) for the format-selection test; deterministic."""
import random
import struct

random.seed(1)
k, n = 256, 128
vals = []
for _ in range(k * n):
    vals.append(random.uniform(0.5, 1.5) if random.random() < 0.1 else 0.0)
hexdata = "".join(struct.pack("<f", v).hex().upper() for v in vals)
print("func.func @choose(%x: tensor<16x256xf32>, %y: tensor<16x4xf32>) -> "
      "(tensor<16x128xf32>, tensor<16x4xf32>) {")
print('  %%w = sparq.constant dense<"0x%s"> : tensor<256x128xf32>' % hexdata)
print("  %0 = sparq.fused_matmul %x, %w : (tensor<16x256xf32>, "
      "tensor<256x128xf32>) -> tensor<16x128xf32>")
print("  %v = sparq.constant dense<[[1.0, 0.0, 2.0, 0.0], [0.0, 1.0, 0.0, 2.0], "
      "[1.0, 0.0, 2.0, 0.0], [0.0, 1.0, 0.0, 2.0]]> : tensor<4x4xf32>")
print("  %1 = sparq.fused_matmul %y, %v : (tensor<16x4xf32>, tensor<4x4xf32>) "
      "-> tensor<16x4xf32>")
print("  return %0, %1 : tensor<16x128xf32>, tensor<16x4xf32>")
print("}")

# 95%-sparse convolutions, 64 -> 64 channels on a 28x28 map: 3x3 stride 1
# and stride 2 (the sparse kernel reads its inputs directly: row strips on
# 512-bit targets, padded phase planes on 256-bit ones), and 1x1 stride 2
# (im2col).
c = 64
def sparse_hex(n):
    vals = [random.uniform(0.5, 1.5) if random.random() < 0.05 else 0.0
            for _ in range(n)]
    return "".join(struct.pack("<f", v).hex().upper() for v in vals)
print("func.func @convs(%x: tensor<1x64x28x28xf32>) -> "
      "(tensor<1x64x28x28xf32>, tensor<1x64x14x14xf32>, "
      "tensor<1x64x14x14xf32>) {")
print('  %%w = sparq.constant dense<"0x%s"> : tensor<64x64x3x3xf32>'
      % sparse_hex(c * c * 9))
print('  %%p = sparq.constant dense<"0x%s"> : tensor<64x64x1x1xf32>'
      % sparse_hex(c * c))
for name, w, k, stride, pad, out in (("%0", "%w", 3, 1, 1, 28),
                                     ("%1", "%w", 3, 2, 1, 14),
                                     ("%2", "%p", 1, 2, 0, 14)):
    print("  %s = sparq.fused_conv %%x, %s {strides = array<i64: %d, %d>, "
          "pads = array<i64: %d, %d, %d, %d>, dilations = array<i64: 1, 1>} : "
          "(tensor<1x64x28x28xf32>, tensor<64x64x%dx%dxf32>) -> "
          "tensor<1x64x%dx%dxf32>" % (name, w, stride, stride, pad, pad, pad,
                                      pad, k, k, out, out))
print("  return %0, %1, %2 : tensor<1x64x28x28xf32>, tensor<1x64x14x14xf32>, "
      "tensor<1x64x14x14xf32>")
print("}")
