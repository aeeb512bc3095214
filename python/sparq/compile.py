# ===- compile.py - Python front end of sparq-compile --------------------=== #
#
# sparq.compile(): runs the sparq-compile binary on an ONNX model and loads
# the resulting shared object as a sparq.Model. Locates the compiler through
# $SPARQ_COMPILE, the repository's build/bin, or PATH.
#
# ===---------------------------------------------------------------------=== #
"""Compile ONNX models with sparq-compile and load them."""

import os
import shutil
import subprocess
import tempfile

from ._runtime import Model

__all__ = ["CompileError", "compile", "find_compiler"]


class CompileError(RuntimeError):
    """sparq-compile failed; the message carries its stderr."""

    def __init__(self, message, stderr="", returncode=None, command=None):
        super().__init__(message)
        self.stderr = stderr
        self.returncode = returncode
        self.command = command


def find_compiler():
    """Path of the sparq-compile executable, or raise CompileError."""
    env = os.environ.get("SPARQ_COMPILE")
    if env:
        if os.path.isfile(env) and os.access(env, os.X_OK):
            return env
        raise CompileError("SPARQ_COMPILE=%s is not an executable file" % env)
    # <repo>/python/sparq/compile.py -> <repo>/build/bin/sparq-compile
    repo = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    candidate = os.path.join(repo, "build", "bin", "sparq-compile")
    if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which("sparq-compile")
    if found:
        return found
    raise CompileError("cannot find sparq-compile: set $SPARQ_COMPILE, build "
                       "the repository (build/bin/sparq-compile) or put it "
                       "on PATH")


def _option_args(options):
    args = []
    for key, value in sorted(options.items()):
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            args.extend("%s=%s" % (flag, v) for v in value)
        else:
            args.append("%s=%s" % (flag, value))
    return args


def compile(model, output=None, threads=None, **options):  # noqa: A001
    """Compiles an ONNX model and returns the loaded sparq.Model.

    ``model`` is the path of an .onnx file. ``output`` is where the shared
    object goes (default: a temporary directory kept alive with the model).
    ``threads`` sets the runtime thread count of the returned model (the
    compiled code itself is thread-count agnostic). Every other keyword becomes
    a compiler flag: ``target="cpu"`` -> ``--target=cpu``, ``opt_level=3``
    -> ``--opt-level=3``; True gives a bare ``--flag``, False/None omit it.
    """
    model = os.fspath(model)
    if not os.path.isfile(model):
        raise FileNotFoundError("ONNX model not found: %s" % model)
    compiler = find_compiler()
    tmpdir = None
    if output is None:
        tmpdir = tempfile.TemporaryDirectory(prefix="sparq-")
        base = os.path.splitext(os.path.basename(model))[0] or "model"
        output = os.path.join(tmpdir.name, base + ".so")
    output = os.fspath(output)
    flags = dict(options)
    cmd = [compiler, model, "-o", output] + _option_args(flags)
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    except OSError as e:
        raise CompileError("cannot run %s: %s" % (compiler, e),
                           command=cmd) from None
    if proc.returncode != 0 or not os.path.isfile(output):
        stderr = proc.stderr.strip()
        raise CompileError(
            "sparq-compile failed on %s (exit %d):\n%s" %
            (model, proc.returncode, stderr or proc.stdout.strip()),
            stderr=proc.stderr, returncode=proc.returncode, command=cmd)
    m = Model(output, threads=threads)
    # The temporary directory lives as long as the model object.
    m._tmpdir = tmpdir
    return m
