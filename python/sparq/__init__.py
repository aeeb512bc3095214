# ===- __init__.py - The sparq Python package -----------------------------=== #
#
# Public entry points: compile() an ONNX model with sparq-compile, or load()
# an existing compiled shared object; both return a Model that runs on numpy
# arrays through the sparq C ABI.
#
# ===---------------------------------------------------------------------=== #
"""sparq: an ahead-of-time ONNX compiler; Python front end."""

from ._runtime import Model, SparqRuntimeError, TensorInfo, load
from .compile import CompileError, compile, find_compiler

__all__ = [
    "CompileError",
    "Model",
    "SparqRuntimeError",
    "TensorInfo",
    "compile",
    "find_compiler",
    "load",
]
