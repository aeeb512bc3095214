"""Model generators for sparq's end-to-end tests and benchmarks.

export_torch.py runs under Debian's /usr/bin/python3 (torch, torchvision);
make_onnx_models.py runs under the pip python3 (onnx package).
"""
