# ===- _runtime.py - ctypes binding of the sparq model C ABI -------------=== #
#
# Loads a model shared object built by sparq-compile and wraps the
# sparq_model_* functions of sparq_runtime.h: signature queries, validated
# runs on numpy arrays, thread control. Depends on numpy only.
#
# ===---------------------------------------------------------------------=== #
"""ctypes wrapper over the C ABI of a compiled sparq model."""

import ctypes
import os
from collections import namedtuple

import numpy as np

__all__ = ["Model", "SparqRuntimeError", "TensorInfo", "load"]

# sparq_dtype enum value -> (numpy dtype, signature spelling)
_DTYPES = {
    1: (np.dtype(np.float32), "f32"),
    2: (np.dtype(np.float64), "f64"),
    3: (np.dtype(np.float16), "f16"),
    4: (None, "bf16"),  # numpy has no bfloat16; passed as raw uint16 bits
    5: (np.dtype(np.int8), "i8"),
    6: (np.dtype(np.int16), "i16"),
    7: (np.dtype(np.int32), "i32"),
    8: (np.dtype(np.int64), "i64"),
    9: (np.dtype(np.uint8), "u8"),
    10: (np.dtype(np.uint16), "u16"),
    11: (np.dtype(np.uint32), "u32"),
    12: (np.dtype(np.uint64), "u64"),
    13: (np.dtype(np.bool_), "bool"),
}
_BF16 = 4

_STATUS_NAMES = {
    0: "ok",
    1: "invalid argument",
    2: "shape mismatch",
    3: "dtype mismatch",
    4: "out of memory",
    5: "internal error",
}


class _Tensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("dtype", ctypes.c_int),
        ("rank", ctypes.c_int32),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
    ]


TensorInfo = namedtuple("TensorInfo", ["name", "dtype", "shape"])
TensorInfo.__doc__ = """A model input or output: name, numpy dtype (or the
string 'bf16' for bfloat16, held as uint16 arrays) and shape tuple."""


class SparqRuntimeError(RuntimeError):
    """A failure reported by the sparq runtime."""


def _bind(lib):
    c = ctypes
    p_model = c.c_void_p

    def fn(name, restype, *argtypes):
        try:
            f = getattr(lib, name)
        except AttributeError:
            raise OSError("model library does not export %s "
                          "(not built by sparq-compile?)" % name) from None
        f.restype = restype
        f.argtypes = list(argtypes)
        return f

    api = {
        "create": fn("sparq_model_create", c.c_int, c.c_int32,
                     c.POINTER(p_model)),
        "destroy": fn("sparq_model_destroy", None, p_model),
        "num_inputs": fn("sparq_model_num_inputs", c.c_int32, p_model),
        "num_outputs": fn("sparq_model_num_outputs", c.c_int32, p_model),
        "set_threads": fn("sparq_model_set_threads", c.c_int, p_model,
                          c.c_int32),
        "num_threads": fn("sparq_model_num_threads", c.c_int32, p_model),
        "run": fn("sparq_model_run", c.c_int, p_model, c.POINTER(_Tensor),
                  c.c_int32, c.POINTER(_Tensor), c.c_int32),
        "model_error": fn("sparq_model_last_error", c.c_char_p, p_model),
        "last_error": fn("sparq_last_error", c.c_char_p),
    }
    info_args = (p_model, c.c_int32, c.POINTER(c.c_char_p),
                 c.POINTER(c.c_int), c.POINTER(c.c_int32),
                 c.POINTER(c.POINTER(c.c_int64)))
    api["input_info"] = fn("sparq_model_input_info", c.c_int, *info_args)
    api["output_info"] = fn("sparq_model_output_info", c.c_int, *info_args)
    return api


class Model:
    """A compiled model loaded from its shared object.

    ``Model(path, threads=None)``; ``threads`` <= 0 or None uses all hardware
    threads. Call it with the inputs positionally or by name; it returns the
    outputs as a list of numpy arrays (``run(..., as_dict=True)`` returns a
    dict keyed by output name).
    """

    def __init__(self, path, threads=None):
        self._handle = None
        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise FileNotFoundError("model library not found: %s" % self.path)
        # RTLD_LOCAL keeps several models' runtimes apart.
        self._lib = ctypes.CDLL(os.path.abspath(self.path),
                                mode=os.RTLD_NOW | os.RTLD_LOCAL)
        self._api = _bind(self._lib)
        handle = ctypes.c_void_p()
        status = self._api["create"](int(threads or 0), ctypes.byref(handle))
        if status != 0 or not handle.value:
            raise SparqRuntimeError("cannot create model %s: %s" % (
                self.path, self._api["last_error"]().decode(errors="replace")))
        self._handle = handle
        self.inputs, self._in_enums = self._describe(True)
        self.outputs, self._out_enums = self._describe(False)
        # Shape arrays kept alive for the ctypes tensors.
        self._in_shapes = [self._shape_array(t.shape) for t in self.inputs]
        self._out_shapes = [self._shape_array(t.shape) for t in self.outputs]

    @staticmethod
    def _shape_array(shape):
        return (ctypes.c_int64 * max(1, len(shape)))(*shape)

    def _describe(self, inputs):
        count = (self._api["num_inputs"] if inputs
                 else self._api["num_outputs"])(self._handle)
        query = self._api["input_info" if inputs else "output_info"]
        infos, enums = [], []
        for i in range(count):
            name = ctypes.c_char_p()
            dtype = ctypes.c_int()
            rank = ctypes.c_int32()
            shape = ctypes.POINTER(ctypes.c_int64)()
            status = query(self._handle, i, ctypes.byref(name),
                           ctypes.byref(dtype), ctypes.byref(rank),
                           ctypes.byref(shape))
            if status != 0:
                raise SparqRuntimeError(self._error())
            np_dtype, spelling = _DTYPES.get(dtype.value, (None, "unknown"))
            infos.append(TensorInfo(
                name.value.decode("utf-8", errors="replace"),
                np_dtype if np_dtype is not None else spelling,
                tuple(shape[d] for d in range(rank.value))))
            enums.append(dtype.value)
        return infos, enums

    def _error(self):
        msg = self._api["model_error"](self._handle)
        return msg.decode("utf-8", errors="replace") if msg else ""

    @property
    def threads(self):
        """Number of threads runs use."""
        return int(self._api["num_threads"](self._handle))

    @threads.setter
    def threads(self, n):
        if self._api["set_threads"](self._handle, int(n or 0)) != 0:
            raise SparqRuntimeError(self._error())

    def _prepare_input(self, info, value):
        if info.dtype == "bf16":
            arr = np.asarray(value)
            if arr.dtype != np.uint16:
                raise TypeError(
                    "input '%s': expected bfloat16 bits as a uint16 array, "
                    "got dtype %s" % (info.name, arr.dtype))
        else:
            arr = np.asarray(value)
            if arr.dtype != info.dtype:
                raise TypeError("input '%s': expected dtype %s but got %s" %
                                (info.name, info.dtype, arr.dtype))
        if tuple(arr.shape) != info.shape:
            raise ValueError("input '%s': expected shape %s but got %s" % (
                info.name, list(info.shape), list(arr.shape)))
        return np.ascontiguousarray(arr)

    def run(self, *args, as_dict=False, **kwargs):
        """Runs the model; see the class docstring for the calling forms."""
        if len(args) > len(self.inputs):
            raise TypeError("model takes %d inputs but %d were given" %
                            (len(self.inputs), len(args)))
        values = {}
        for info, value in zip(self.inputs, args):
            values[info.name] = value
        names = {info.name for info in self.inputs}
        for key, value in kwargs.items():
            if key not in names:
                raise TypeError("model has no input named %r (inputs: %s)" %
                                (key, ", ".join(repr(n) for n in
                                                sorted(names))))
            if key in values:
                raise TypeError("input %r given twice" % key)
            values[key] = value
        missing = [i.name for i in self.inputs if i.name not in values]
        if missing:
            raise TypeError("missing model inputs: %s" %
                            ", ".join(repr(n) for n in missing))

        arrays = [self._prepare_input(info, values[info.name])
                  for info in self.inputs]
        outputs = []
        for info in self.outputs:
            np_dtype = np.dtype(np.uint16) if info.dtype == "bf16" \
                else info.dtype
            outputs.append(np.empty(info.shape, dtype=np_dtype))

        c_in = (_Tensor * max(1, len(arrays)))()
        for i, (info, arr) in enumerate(zip(self.inputs, arrays)):
            c_in[i] = _Tensor(arr.ctypes.data, self._in_enums[i],
                              len(info.shape),
                              self._in_shapes[i])
        c_out = (_Tensor * max(1, len(outputs)))()
        for i, (info, arr) in enumerate(zip(self.outputs, outputs)):
            c_out[i] = _Tensor(arr.ctypes.data, self._out_enums[i],
                               len(info.shape),
                               self._out_shapes[i])
        status = self._api["run"](self._handle, c_in, len(arrays), c_out,
                                  len(outputs))
        if status != 0:
            raise SparqRuntimeError("model run failed (%s): %s" % (
                _STATUS_NAMES.get(status, str(status)), self._error()))
        if as_dict:
            return {info.name: arr for info, arr in zip(self.outputs, outputs)}
        return outputs

    __call__ = run

    def close(self):
        """Destroys the native model; further calls fail."""
        if self._handle is not None and self._handle.value:
            self._api["destroy"](self._handle)
        self._handle = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        def fmt(infos):
            return ", ".join("%s: %s%s" % (i.name, i.dtype, list(i.shape))
                             for i in infos)
        return "<sparq.Model %s inputs=(%s) outputs=(%s)>" % (
            self.path, fmt(self.inputs), fmt(self.outputs))


def load(path, threads=None):
    """Loads an already compiled model shared object."""
    return Model(path, threads=threads)
