#!/usr/bin/env python3
"""sparse_unrolled_probe.py - Does fully unrolled sparse code pay off here?

Issue 3 asks for layers whose sparsity pattern is known at compile time to
be emitted as straight-line code with the indices (and weights) as
immediates, where that is faster than loops over packed metadata. This
probe measures the question on the machine it runs on, outside the
compiler: for an unstructured (CSR) weight of N x K at density D it
generates
  - unrolled: one vector FMA per stored weight, the activation row offset
    as an immediate and the weight as a constant (one function per 16 rows,
    so that clang's compile time stays linear), and
  - loop: the same products as a loop over CSR metadata (what sparq's
    runtime kernels do),
both vectorized over a 16-wide activation tile (AVX-512 when the CPU has it,
else AVX2), compiles them with clang-22 -O2, and prints the best time of
each, its multiply-adds per ns, code bytes and compile seconds.
Not a test; the numbers inform the format-choice cost model.
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time

HEADER = "#include <immintrin.h>\n"


def vec(avx512):
    if avx512:
        return dict(target="avx512f,avx512vl,fma", t="__m512",
                    zero="_mm512_setzero_ps()", fma="_mm512_fmadd_ps",
                    set1="_mm512_set1_ps", load="_mm512_loadu_ps",
                    store="_mm512_storeu_ps", add="_mm512_add_ps", lanes=16)
    return dict(target="avx2,fma", t="__m256", zero="_mm256_setzero_ps()",
                fma="_mm256_fmadd_ps", set1="_mm256_set1_ps",
                load="_mm256_loadu_ps", store="_mm256_storeu_ps",
                add="_mm256_add_ps", lanes=8)


def generate(rows, v):
    """C source of unrolled() and loop() for the CSR rows [(k, w), ...]."""
    per = 16 // v["lanes"]  # vectors per 16-wide tile row
    out = [HEADER]
    attr = '__attribute__((target("%s"), noinline))' % v["target"]
    group = 16
    for g in range(0, len(rows), group):
        out.append("static %s void rows%d(const float *xt, float *o) {\n" % (attr, g))
        for n in range(g, min(g + group, len(rows))):
            accs = ["a%d_%d" % (s, i) for s in range(2) for i in range(per)]
            out.append("{%s %s;\n" % (v["t"], ", ".join(
                "%s = %s" % (a, v["zero"]) for a in accs)))
            for j, (k, w) in enumerate(rows[n]):
                s = j % 2
                out.append("{%s wv = %s(%rf);" % (v["t"], v["set1"], w))
                for i in range(per):
                    out.append(" a%d_%d = %s(wv, %s(xt + %d), a%d_%d);" % (
                        s, i, v["fma"], v["load"], k * 16 + i * v["lanes"], s, i))
                out.append("}\n")
            for i in range(per):
                out.append("%s(o + %d, %s(a0_%d, a1_%d));\n" % (
                    v["store"], n * 16 + i * v["lanes"], v["add"], i, i))
            out.append("}\n")
        out.append("}\n")
    out.append("void unrolled(const float *xt, float *o) {\n")
    out += [" rows%d(xt, o);\n" % g for g in range(0, len(rows), group)]
    out.append("}\n")
    rp, col, val = [0], [], []
    for r in rows:
        col += [k for k, _ in r]
        val += [w for _, w in r]
        rp.append(len(col))
    out.append("static const unsigned rp[] = {%s};\n" % ",".join(map(str, rp)))
    out.append("static const unsigned short col[] = {%s};\n" % ",".join(map(str, col)))
    out.append("static const float val[] = {%s};\n" % ",".join("%rf" % x for x in val))
    out.append("""%(attr)s void loop(const float *xt, float *o) {
  for (int n = 0; n < %(rows)d; ++n) {
    %(t)s acc0[%(per)d], acc1[%(per)d];
    for (int i = 0; i < %(per)d; ++i) acc0[i] = acc1[i] = %(zero)s;
    unsigned b = rp[n], e = rp[n + 1];
    for (; b + 2 <= e; b += 2) {
      %(t)s w0 = %(set1)s(val[b]), w1 = %(set1)s(val[b + 1]);
      for (int i = 0; i < %(per)d; ++i) {
        acc0[i] = %(fma)s(w0, %(load)s(xt + col[b] * 16 + i * %(lanes)d), acc0[i]);
        acc1[i] = %(fma)s(w1, %(load)s(xt + col[b + 1] * 16 + i * %(lanes)d), acc1[i]);
      }
    }
    for (; b < e; ++b)
      for (int i = 0; i < %(per)d; ++i)
        acc0[i] = %(fma)s(%(set1)s(val[b]), %(load)s(xt + col[b] * 16 + i * %(lanes)d), acc0[i]);
    for (int i = 0; i < %(per)d; ++i)
      %(store)s(o + n * 16 + i * %(lanes)d, %(add)s(acc0[i], acc1[i]));
  }
}
""" % dict(v, attr=attr, rows=len(rows), per=per))
    return "".join(out)


MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
void unrolled(const float *, float *);
void loop(const float *, float *);
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
  int K = atoi(argv[1]), N = atoi(argv[2]);
  float *xt = aligned_alloc(64, (size_t)K * 16 * 4), *o1 = aligned_alloc(64, (size_t)N * 64), *o2 = aligned_alloc(64, (size_t)N * 64);
  for (int i = 0; i < K * 16; ++i) xt[i] = (float)(i % 97) * 1e-2f;
  void (*fn[2])(const float *, float *) = {unrolled, loop};
  double best[2] = {1e9, 1e9};
  for (int r = 0; r < 40; ++r)
    for (int f = 0; f < 2; ++f) {
      double t0 = now();
      for (int it = 0; it < 20; ++it) fn[f](xt, f ? o2 : o1);
      double dt = (now() - t0) / 20;
      if (dt < best[f]) best[f] = dt;
    }
  for (int i = 0; i < N * 16; ++i) {
    float d = o1[i] - o2[i];
    if (d > 1e-3f || d < -1e-3f) { printf("MISMATCH at %d\n", i); return 1; }
  }
  printf("%.3f %.3f\n", best[0] * 1e6, best[1] * 1e6);
  return 0;
}
"""


def has_avx512():
    try:
        with open("/proc/cpuinfo") as f:
            return " avx512f" in f.read()
    except OSError:
        return False


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shapes", default="64x256,256x256,1024x256",
                   help="comma-separated NxK weight shapes")
    p.add_argument("--density", type=float, default=0.1)
    p.add_argument("--isa", choices=["auto", "avx2", "avx512"], default="auto")
    args = p.parse_args(argv)
    avx512 = has_avx512() if args.isa == "auto" else args.isa == "avx512"
    v = vec(avx512)
    rng = random.Random(0)
    print("ISA %s, density %.2f, 16-wide activation tile" % (
        "avx512" if avx512 else "avx2", args.density))
    print("| N x K | stored | unrolled us | loop us | unrolled MAC/ns | loop MAC/ns "
          "| unrolled/loop time | code bytes | compile s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="sparq-unrolled-") as work:
        main_o = os.path.join(work, "main.o")
        with open(os.path.join(work, "main.c"), "w") as f:
            f.write(MAIN)
        subprocess.run(["clang-22", "-O2", "-c", os.path.join(work, "main.c"),
                        "-o", main_o], check=True)
        for shape in args.shapes.split(","):
            n, k = (int(x) for x in shape.split("x"))
            keep = max(1, int(round(k * args.density)))
            rows = [[(c, rng.uniform(-1, 1)) for c in sorted(rng.sample(range(k), keep))]
                    for _ in range(n)]
            src = os.path.join(work, "gen_%s.c" % shape)
            obj = src[:-2] + ".o"
            with open(src, "w") as f:
                f.write(generate(rows, v))
            t0 = time.time()
            subprocess.run(["clang-22", "-O2", "-c", src, "-o", obj], check=True)
            compile_s = time.time() - t0
            exe = src[:-2]
            subprocess.run(["clang-22", main_o, obj, "-o", exe], check=True)
            size = subprocess.run(["size", obj], check=True, capture_output=True,
                                  text=True).stdout.splitlines()[-1].split()[0]
            out = subprocess.run([exe, str(k), str(n)], check=True,
                                 capture_output=True, text=True).stdout.split()
            t_unr, t_loop = float(out[0]), float(out[1])
            macs = n * keep * 16
            print("| %dx%d | %d | %.2f | %.2f | %.1f | %.1f | %.2fx | %s | %.1f |" % (
                n, k, n * keep, t_unr, t_loop, macs / t_unr / 1e3,
                macs / t_loop / 1e3, t_unr / t_loop, size, compile_s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
