/*===- fake_model.c - Hand-written stand-in for a compiled model ---------===*
 *
 * Defines the two symbols sparq-compile emits (sparq_model_entry and
 * sparq_model_signature) for a tiny graph, y = x * scale + 1 over a [2,3]
 * f32 input and a scalar, so the runtime's C ABI and sparq-run can be tested
 * without the compiler. Like generated code, it stages data in the arena and
 * calls back into the runtime through sparq_rt_parallel_for.
 *
 *===----------------------------------------------------------------------===*/

#include "sparq/Runtime/sparq_runtime.h"

const char sparq_model_signature[] =
    "sparq-signature 1\n"
    "arena 256\n"
    "input f32 2 2 3 x\n"
    "note this line uses a keyword the runtime must ignore\n"
    "input f32 0 the scale\n"
    "output f32 2 2 3 y\n";

struct scale_closure {
  const float *x;
  float scale;
  float *tmp;
};

static void scale_chunk(void *closure, int64_t begin, int64_t end) {
  struct scale_closure *c = (struct scale_closure *)closure;
  for (int64_t i = begin; i < end; ++i)
    c->tmp[i] = c->x[i] * c->scale;
}

void sparq_model_entry(void *ctx, void *arena, void **inputs, void **outputs) {
  struct scale_closure c;
  c.x = (const float *)inputs[0];
  c.scale = *(const float *)inputs[1];
  c.tmp = (float *)arena;
  sparq_rt_parallel_for(ctx, 6, scale_chunk, &c);
  float *y = (float *)outputs[0];
  for (int i = 0; i < 6; ++i)
    y[i] = c.tmp[i] + 1.0f;
}
