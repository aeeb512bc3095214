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

# 95%-sparse 3x3 convolutions, 64 -> 64 channels on a 28x28 map: stride 1
# (the sparse kernel reads the padded image directly) and stride 2 (im2col).
c = 64
conv = []
for _ in range(c * c * 9):
    conv.append(random.uniform(0.5, 1.5) if random.random() < 0.05 else 0.0)
hexconv = "".join(struct.pack("<f", v).hex().upper() for v in conv)
print("func.func @convs(%x: tensor<1x64x28x28xf32>) -> "
      "(tensor<1x64x28x28xf32>, tensor<1x64x14x14xf32>) {")
print('  %%w = sparq.constant dense<"0x%s"> : tensor<64x64x3x3xf32>' % hexconv)
for name, stride, out in (("%0", 1, 28), ("%1", 2, 14)):
    print("  %s = sparq.fused_conv %%x, %%w {strides = array<i64: %d, %d>, "
          "pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : "
          "(tensor<1x64x28x28xf32>, tensor<64x64x3x3xf32>) -> "
          "tensor<1x64x%dx%dxf32>" % (name, stride, stride, out, out))
print("  return %0, %1 : tensor<1x64x28x28xf32>, tensor<1x64x14x14xf32>")
print("}")
