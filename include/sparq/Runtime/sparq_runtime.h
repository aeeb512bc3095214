/*===- sparq_runtime.h - C ABI of a sparq-compiled model ----------*- C -*-===*
 *
 * The public, pure-C interface of a model compiled by sparq-compile. Every
 * model shared object (model.so) exports these functions; they are
 * implemented by the sparq runtime library, which is linked statically into
 * the model. The header has no dependencies beyond the C standard library.
 *
 * A model object owns its scratch arena, a worker thread pool and a cache of
 * packed constant weights. One model object must not be used by two threads
 * at the same time (concurrent sparq_model_run calls on the same object are
 * serialized internally); create one object per concurrent caller instead.
 *
 * The second half declares the micro-kernels that generated code calls. They
 * are part of the ABI between the compiler and the runtime, not meant for
 * applications.
 *
 *===----------------------------------------------------------------------===*/

#ifndef SPARQ_RUNTIME_SPARQ_RUNTIME_H
#define SPARQ_RUNTIME_SPARQ_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define SPARQ_API
#else
#define SPARQ_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque handle of an instantiated model. */
typedef struct sparq_model sparq_model;

/* Result codes of the API functions. */
typedef enum sparq_status {
  SPARQ_OK = 0,
  SPARQ_ERR_INVALID_ARGUMENT = 1, /* NULL pointer, bad index or count */
  SPARQ_ERR_SHAPE_MISMATCH = 2,   /* rank or a dimension differs */
  SPARQ_ERR_DTYPE_MISMATCH = 3,   /* element type differs */
  SPARQ_ERR_OUT_OF_MEMORY = 4,    /* an allocation failed */
  SPARQ_ERR_INTERNAL = 5          /* bad embedded signature, thread failure */
} sparq_status;

/* Element types. BOOL is one byte holding 0 or 1. */
typedef enum sparq_dtype {
  SPARQ_DTYPE_F32 = 1,
  SPARQ_DTYPE_F64,
  SPARQ_DTYPE_F16,
  SPARQ_DTYPE_BF16,
  SPARQ_DTYPE_I8,
  SPARQ_DTYPE_I16,
  SPARQ_DTYPE_I32,
  SPARQ_DTYPE_I64,
  SPARQ_DTYPE_U8,
  SPARQ_DTYPE_U16,
  SPARQ_DTYPE_U32,
  SPARQ_DTYPE_U64,
  SPARQ_DTYPE_BOOL
} sparq_dtype;

/* A dense, row-major (C order) tensor provided by the caller. `shape` points
 * to `rank` dimensions; it may be NULL when rank is 0. The memory of `data`
 * and `shape` stays owned by the caller. */
typedef struct sparq_tensor {
  void *data;
  sparq_dtype dtype;
  int32_t rank;
  const int64_t *shape;
} sparq_tensor;

/*===----------------------------------------------------------------------===*
 * Model lifetime
 *===----------------------------------------------------------------------===*/

/* Instantiates the model linked into this shared object: parses its embedded
 * signature, allocates the scratch arena (64-byte aligned) and starts a pool
 * of num_threads - 1 worker threads (the caller of sparq_model_run is the
 * last one). num_threads <= 0 selects the hardware concurrency. On success
 * stores the new model in *out and returns SPARQ_OK; on failure stores NULL
 * (when out is not NULL) and the reason is available from
 * sparq_last_error(). */
SPARQ_API sparq_status sparq_model_create(int32_t num_threads,
                                          sparq_model **out);

/* Stops the worker threads and frees everything the model owns. NULL is
 * accepted and ignored. Must not be called while a run is in progress. */
SPARQ_API void sparq_model_destroy(sparq_model *m);

/*===----------------------------------------------------------------------===*
 * Signature queries
 *===----------------------------------------------------------------------===*/

/* Number of graph inputs / outputs; -1 when m is NULL. */
SPARQ_API int32_t sparq_model_num_inputs(const sparq_model *m);
SPARQ_API int32_t sparq_model_num_outputs(const sparq_model *m);

/* Describes input (output) number i. Each out-pointer may be NULL when the
 * caller does not need that field. The returned name and shape pointers stay
 * valid until the model is destroyed; `shape` has `rank` entries. Returns
 * SPARQ_ERR_INVALID_ARGUMENT when m is NULL or i is out of range. */
SPARQ_API sparq_status sparq_model_input_info(const sparq_model *m, int32_t i,
                                              const char **name,
                                              sparq_dtype *dtype, int32_t *rank,
                                              const int64_t **shape);
SPARQ_API sparq_status sparq_model_output_info(const sparq_model *m, int32_t i,
                                               const char **name,
                                               sparq_dtype *dtype,
                                               int32_t *rank,
                                               const int64_t **shape);

/* Size in bytes of the model's scratch arena (the signature's `arena`). */
SPARQ_API int64_t sparq_model_arena_size(const sparq_model *m);

/*===----------------------------------------------------------------------===*
 * Execution
 *===----------------------------------------------------------------------===*/

/* Changes the number of threads used by later runs (n <= 0: hardware
 * concurrency). Restarts the worker pool; must not be called during a run. */
SPARQ_API sparq_status sparq_model_set_threads(sparq_model *m, int32_t n);

/* Number of threads the model currently runs with; -1 when m is NULL. */
SPARQ_API int32_t sparq_model_num_threads(const sparq_model *m);

/* Runs the model once. `inputs` must hold exactly num_inputs tensors in
 * signature order, `outputs` exactly num_outputs caller-allocated tensors.
 * Every tensor's dtype, rank and dimensions are checked against the
 * signature before anything runs; on a mismatch the call returns
 * SPARQ_ERR_SHAPE_MISMATCH or SPARQ_ERR_DTYPE_MISMATCH and
 * sparq_model_last_error() names the tensor, e.g.
 *   input 'data_0': expected shape [1,3,224,224] but got [2,3,224,224]
 * A NULL data pointer is rejected unless the tensor has zero elements.
 * Steady-state runs allocate no memory. */
SPARQ_API sparq_status sparq_model_run(sparq_model *m,
                                       const sparq_tensor *inputs,
                                       int32_t num_inputs,
                                       sparq_tensor *outputs,
                                       int32_t num_outputs);

/*===----------------------------------------------------------------------===*
 * Errors and helpers
 *===----------------------------------------------------------------------===*/

/* Message of the last failed call on m ("" when none failed). For m == NULL
 * returns the calling thread's last error, like sparq_last_error(). The
 * pointer is valid until the next call on m. */
SPARQ_API const char *sparq_model_last_error(const sparq_model *m);

/* Message of the calling thread's last failed API call ("" when none),
 * including failures without a model such as sparq_model_create. */
SPARQ_API const char *sparq_last_error(void);

/* Size in bytes of one element of dtype (0 for an unknown value). */
SPARQ_API size_t sparq_dtype_size(sparq_dtype dtype);

/* Short signature spelling of dtype ("f32", "i64", "bool", ...), or
 * "unknown". */
SPARQ_API const char *sparq_dtype_name(sparq_dtype dtype);

/* Version of this ABI; equal to the signature format version (1). */
SPARQ_API int32_t sparq_abi_version(void);

/*===----------------------------------------------------------------------===*
 * Symbols the compiler emits into every model object (defined by model.o)
 *===----------------------------------------------------------------------===*/

/* Runs the model: `ctx` is the runtime's sparq_model pointer, passed back to
 * the micro-kernels; `arena` is at least `arena` bytes, 64-byte aligned;
 * inputs[i] / outputs[i] are dense row-major data pointers. */
void sparq_model_entry(void *ctx, void *arena, void **inputs, void **outputs);

/* NUL-terminated signature text:
 *   sparq-signature 1
 *   arena <bytes>
 *   input <dtype> <rank> <dims...> <name>
 *   output <dtype> <rank> <dims...> <name>
 * Names run to the end of the line with "\n" and "\\" escaped; lines with
 * other leading keywords are ignored. */
extern const char sparq_model_signature[];

/*===----------------------------------------------------------------------===*
 * Micro-kernels called by generated code
 *===----------------------------------------------------------------------===*/

/* Fused epilogue activation codes: y = act(acc + bias + residual). */
enum {
  SPARQ_ACT_NONE = 0,
  SPARQ_ACT_RELU = 1,
  SPARQ_ACT_CLIP = 2,       /* clamp to [actA, actB] */
  SPARQ_ACT_LEAKY_RELU = 3, /* alpha = actA */
  SPARQ_ACT_SIGMOID = 4,
  SPARQ_ACT_TANH = 5,
  SPARQ_ACT_GELU = 6,         /* 0.5 x (1 + erf(x / sqrt 2)) */
  SPARQ_ACT_GELU_TANH = 7,    /* tanh approximation */
  SPARQ_ACT_HARD_SIGMOID = 8, /* max(0, min(1, actA x + actB)) */
  SPARQ_ACT_HARD_SWISH = 9    /* x * max(0, min(1, x / 6 + 1/2)) */
};

/* Kernel flag: the weight operand (B of matmul, W of conv) is a constant
 * whose address and contents never change; the runtime may pack it once and
 * cache the packed copy in the model. */
#define SPARQ_UK_CONST_WEIGHTS 1

/* Batched C[b] = act(A[b] * op(B[b]) + bias + residual[b]).
 * A is [M,K], C and residual [M,N] per batch, op(B) is [K,N]: B is stored
 * [K,N] when transB == 0 and [N,K] when transB == 1. strideA/strideB/strideC
 * are batch strides in elements; 0 broadcasts one matrix to every batch.
 * bias has N entries or is NULL; residual is batch*M*N contiguous or NULL. */
SPARQ_API void sparq_uk_matmul_f32(void *ctx, const float *A, const float *B,
                                   const float *bias, const float *residual,
                                   float *C, int64_t batch, int64_t M,
                                   int64_t N, int64_t K, int64_t strideA,
                                   int64_t strideB, int64_t strideC,
                                   int64_t transB, int64_t flags, int64_t act,
                                   float actA, float actB);

/* 2-D convolution, NCHW, zero padding. X is [N,C,H,Wd], W is
 * [K, C/groups, KH, KW], Y is [N,K,OH,OW]; bias has K entries or is NULL;
 * residual has Y's layout or is NULL. Bottom/right padding is implied by
 * OH/OW. */
SPARQ_API void
sparq_uk_conv2d_f32(void *ctx, const float *X, const float *W,
                    const float *bias, const float *residual, float *Y,
                    int64_t N, int64_t C, int64_t H, int64_t Wd, int64_t K,
                    int64_t OH, int64_t OW, int64_t KH, int64_t KW,
                    int64_t strideH, int64_t strideW, int64_t padTop,
                    int64_t padLeft, int64_t dilH, int64_t dilW, int64_t groups,
                    int64_t flags, int64_t act, float actA, float actB);

/* Sparse matmul: Y[M,N] = act(X[M,K] * W^T + bias + residual), where `w`
 * points to a packed sparse weight (sparq_sparse_format.h) with rows = N and
 * cols = K. X is row-major [M,K], Y row-major [M,N]; bias has N entries or
 * is NULL; residual is laid out like Y or NULL. act/actA/actB as for
 * sparq_uk_matmul_f32. The blob must stay at its address with unchanged
 * contents for the model's lifetime (it is validated once and the result
 * cached); a malformed blob leaves Y unwritten. */
SPARQ_API void sparq_uk_sparse_matmul_f32(void *ctx, const void *w,
                                          const float *X, const float *bias,
                                          const float *residual, float *Y,
                                          int64_t M, int64_t act, float actA,
                                          float actB);

/* Sparse 2-D convolution, NCHW, groups == 1, zero padding: the weight
 * [K, C, KH, KW] is a packed sparse matrix with rows = K and cols = C*KH*KW
 * (col index (c*KH + kh)*KW + kw). Geometry and epilogue as
 * sparq_uk_conv2d_f32 (Y is [N,K,OH,OW]). A malformed blob, or one whose
 * rows/cols do not match K and C*KH*KW, leaves Y unwritten. */
SPARQ_API void sparq_uk_sparse_conv2d_f32(
    void *ctx, const void *w, const float *X, const float *bias,
    const float *residual, float *Y, int64_t N, int64_t C, int64_t H,
    int64_t Wd, int64_t K, int64_t OH, int64_t OW, int64_t KH, int64_t KW,
    int64_t strideH, int64_t strideW, int64_t padTop, int64_t padLeft,
    int64_t dilH, int64_t dilW, int64_t act, float actA, float actB);

/* ---- Integer (quantized) kernels ----------------------------------------
 * Exact integer semantics as ONNX defines them: 8-bit operands minus their
 * zero points, products accumulated in int32 without saturation. */

/* Element types of 8-bit operands (and of their zero points). */
enum { SPARQ_QTYPE_U8 = 0, SPARQ_QTYPE_S8 = 1 };

/* What an integer kernel writes, from acc = sum (a - aZero) * (b - bZero):
 *   I32: int32 acc (+ biasI32[n] when biasI32 is not NULL);
 *   F32: float act((float)(acc + biasI32[n]) * scale[n] + biasF32[n]);
 *   U8/S8: min(qmax, max(qmin, rne((float)(acc + biasI32[n]) * scale[n])
 *          + outZero)), rne = round half to even, the product in f32 (as
 *          onnxruntime's requantization). qmin/qmax are the storage range,
 *          narrowed by a fused Relu/Clip.
 * scale (and biasF32) hold one entry per output column/channel when
 * scalePerCol is 1, else one entry; biasI32/biasF32 may be NULL. */
enum {
  SPARQ_QOUT_I32 = 0,
  SPARQ_QOUT_F32 = 1,
  SPARQ_QOUT_U8 = 2,
  SPARQ_QOUT_S8 = 3
};

/* Batched integer matmul C[b] = out(A[b] * op(B[b])): A is [M,K] of aType,
 * op(B) is [K,N] of bType (B stored [K,N] when transB == 0, [N,K] when 1),
 * C is [M,N] of the outKind's type. Batch strides are in elements, 0
 * broadcasts. aZero points to one zero point (aType), or M of them when
 * aZeroPerRow; bZero to one (bType), or N when bZeroPerCol. flags:
 * SPARQ_UK_CONST_WEIGHTS lets the runtime pack B (with its column sums) once
 * and cache it. */
SPARQ_API void sparq_uk_qmatmul_i8(
    void *ctx, const void *A, const void *B, void *C, int64_t batch,
    int64_t M, int64_t N, int64_t K, int64_t strideA, int64_t strideB,
    int64_t strideC, int64_t transB, int64_t aType, int64_t bType,
    const void *aZero, int64_t aZeroPerRow, const void *bZero,
    int64_t bZeroPerCol, int64_t outKind, const int32_t *biasI32,
    const float *scale, int64_t scalePerCol, const float *biasF32,
    int64_t outZero, int64_t qmin, int64_t qmax, int64_t act, float actA,
    float actB, int64_t flags);

/* Integer matmul with a packed sparse int8 weight: C[M,N] = out(A * W^T),
 * where `w` is a SPARQ_SPARSE_BLOCK_I8 blob (sparq_sparse_format.h) with
 * rows = N and cols = K: symmetric s8 weights (zero point 0) in 1 x 4 blocks
 * along K, with their row sums. A is row-major [M,K] of aType with the one
 * zero point aZero; C is row-major [M,N] of the outKind's type. The
 * epilogue arguments are sparq_uk_qmatmul_i8's (scalePerCol: one entry or
 * N). The blob must stay at its address with unchanged contents for the
 * model's lifetime (validated once, then cached); a malformed blob leaves C
 * unwritten. */
SPARQ_API void sparq_uk_sparse_qmatmul_i8(
    void *ctx, const void *w, const void *A, void *C, int64_t M,
    int64_t aType, const void *aZero, int64_t outKind, const int32_t *biasI32,
    const float *scale, int64_t scalePerCol, const float *biasF32,
    int64_t outZero, int64_t qmin, int64_t qmax, int64_t act, float actA,
    float actB);

/* Integer 1x1 convolution (NCHW, groups 1, no padding) with a packed
 * sparse int8 weight: `w` is a SPARQ_SPARSE_BLOCK_I8 blob with rows = K
 * output channels and cols = C (as for sparq_uk_sparse_qmatmul_i8). X is
 * [N,C,H,Wd] of xType with the one zero point xZero; Y is [N,K,OH,OW] of
 * the outKind's type, output pixel (oh, ow) reading input (oh * strideH,
 * ow * strideW). Epilogue as sparq_uk_qconv2d_i8's. A malformed blob, or
 * one whose cols differ from C, leaves Y unwritten. */
SPARQ_API void sparq_uk_sparse_qconv2d_i8(
    void *ctx, const void *w, const void *X, void *Y, int64_t N, int64_t C,
    int64_t H, int64_t Wd, int64_t OH, int64_t OW, int64_t strideH,
    int64_t strideW, int64_t xType, const void *xZero, int64_t outKind,
    const int32_t *biasI32, const float *scale, int64_t scalePerChannel,
    const float *biasF32, int64_t outZero, int64_t qmin, int64_t qmax,
    int64_t act, float actA, float actB);

/* Integer 2-D convolution, NCHW: X [N,C,H,Wd] of xType, W [K, C/groups, KH,
 * KW] of wType, Y [N,K,OH,OW] of the outKind's type; geometry as
 * sparq_uk_conv2d_f32. Padding contributes 0 to acc (it reads xZero). xZero
 * is one zero point; wZero one, or K when wZeroPerChannel. Output as for
 * sparq_uk_qmatmul_i8 with channels in place of columns. */
SPARQ_API void sparq_uk_qconv2d_i8(
    void *ctx, const void *X, const void *W, void *Y, int64_t N, int64_t C,
    int64_t H, int64_t Wd, int64_t K, int64_t OH, int64_t OW, int64_t KH,
    int64_t KW, int64_t strideH, int64_t strideW, int64_t padTop,
    int64_t padLeft, int64_t dilH, int64_t dilW, int64_t groups,
    int64_t xType, int64_t wType, const void *xZero, const void *wZero,
    int64_t wZeroPerChannel, int64_t outKind, const int32_t *biasI32,
    const float *scale, int64_t scalePerChannel, const float *biasF32,
    int64_t outZero, int64_t qmin, int64_t qmax, int64_t act, float actA,
    float actB, int64_t flags);

/* Requantizing add of two 8-bit tensors of n elements with per-tensor
 * parameters (QDQ's dequantize -> add -> quantize): A, B and Y all of
 * `type` (SPARQ_QTYPE_*), and for each i, in f32 exactly as written,
 *   y[i] = min(qmax, max(qmin, rne(((float)(a[i] - aZero) * aScale
 *                              + (float)(b[i] - bZero) * bScale) / yScale)
 *                              + yZero))
 * (a true division; rne = round half to even). qmin/qmax are the storage
 * range, narrowed by a fused Relu/Clip. */
SPARQ_API void sparq_uk_qadd_i8(void *ctx, const void *A, const void *B,
                                void *Y, int64_t n, int64_t type, float aScale,
                                int64_t aZero, float bScale, int64_t bZero,
                                float yScale, int64_t yZero, int64_t qmin,
                                int64_t qmax);

/* Multi-head scaled dot-product attention (sparq.attention), f32: Q and Y
 * [B,S,H,D], K and V [B,T,H,D], row-major. For each b, h and query s, with
 * score[t] = scale * <Q[b,s,h,:], K[b,t,h,:]>, then score[t] +=
 * addMask[b*amB + h*amH + s*amS + t*amT] when addMask is not NULL, then
 * score[t] = fill where fillMask[b*fmB + h*fmH + s*fmS + t*fmT] != 0 when
 * fillMask is not NULL (a stride 0 broadcasts that dim):
 *   Y[b,s,h,:] = sum_t softmax(score)[t] * V[b,t,h,:]. */
SPARQ_API void sparq_uk_attention_f32(
    void *ctx, const float *Q, const float *K, const float *V, float *Y,
    int64_t B, int64_t S, int64_t T, int64_t H, int64_t D, float scale,
    const float *addMask, int64_t amB, int64_t amH, int64_t amS, int64_t amT,
    const uint8_t *fillMask, int64_t fmB, int64_t fmH, int64_t fmS,
    int64_t fmT, float fill);

/* Weight-only low-bit matmul (com.microsoft MatMulNBits layout):
 * Y[M,N] = act(X[M,K] * dequant(W)^T + bias). bits is 4 or 8. blockSize is
 * any positive even number (blockSize >= K: one block per row, i.e.
 * per-channel scales). W holds, for each of the N rows, ceil(K / blockSize)
 * blocks of blockSize * bits / 8 bytes (the last one padded); 4-bit values
 * are packed two per byte, the even k in the low nibble. scales is
 * [N, nBlocks] f32. zeroPoints is NULL (zero point 2^(bits-1)) or
 * [N, ceil(nBlocks * bits / 8)] bytes packed like W.
 * dequant(w) = (w - zero) * scale. bias has N entries or is NULL. W,
 * scales and zeroPoints are constants; the f32 weight is never
 * materialized. */
SPARQ_API void sparq_uk_matmul_nbits_f32(
    void *ctx, const float *X, const uint8_t *W, const float *scales,
    const uint8_t *zeroPoints, const float *bias, float *Y, int64_t M,
    int64_t N, int64_t K, int64_t bits, int64_t blockSize, int64_t act,
    float actA, float actB);

/* ONNX DynamicQuantizeLinear to u8 over n floats: y = saturate(rne(x /
 * scale) + zero) with scale = (max(0, max x) - min(0, min x)) / 255 (1 / 255
 * when the range is empty) and zero = rne(clamp(-min(0, min x) / scale, 0,
 * 255)), all in f32; NaN elements do not widen the range. Writes y[n],
 * *scale and *zero. */
SPARQ_API void sparq_rt_dynamic_quantize_u8(void *ctx, const float *x,
                                            int64_t n, uint8_t *y,
                                            float *scale, uint8_t *zero);

/* The model whose sparq_model_run is executing on the calling thread, or
 * NULL. Generated code passes it as `ctx` to the micro-kernels. */
SPARQ_API void *sparq_rt_current_context(void);

/* Splits [0, n) into chunks and calls fn(closure, begin, end) for each on
 * the model's thread pool; returns when all chunks are done. Nested calls
 * from inside fn run serially on the calling thread. */
SPARQ_API void sparq_rt_parallel_for(void *ctx, int64_t n,
                                     void (*fn)(void *closure, int64_t begin,
                                                int64_t end),
                                     void *closure);

/* 2-D max pooling, NCHW: X is [N,C,H,Wd], Y is [N,C,OH,OW], both of
 * elemType (SPARQ_DTYPE_F32, SPARQ_DTYPE_U8 or SPARQ_DTYPE_I8; any other
 * type leaves Y unwritten). Y[n,c,oh,ow] is the max of X[n,c,ih,iw] over
 * ih = oh*strideH - padTop + kh*dilH, iw = ow*strideW - padLeft + kw*dilW
 * (kh < KH, kw < KW) inside the input: padding never wins, and a window
 * entirely in padding yields -inf (f32) or the type's lowest value. NaN
 * propagates. Bottom/right padding (ceil_mode included) is implied by
 * OH/OW. */
SPARQ_API void sparq_uk_max_pool2d(void *ctx, const void *X, void *Y,
                                   int64_t elemType, int64_t N, int64_t C,
                                   int64_t H, int64_t Wd, int64_t OH,
                                   int64_t OW, int64_t KH, int64_t KW,
                                   int64_t strideH, int64_t strideW,
                                   int64_t padTop, int64_t padLeft,
                                   int64_t dilH, int64_t dilW);

/* Layer normalization of the rows of X [rows, n] (row-major) along the
 * last axis: y = (x - mean) / sqrt(var + eps) * gamma + beta, with mean and
 * biased variance over the row's n elements (two passes). gamma and beta
 * have n entries; either may be NULL (1 and 0). Y may alias X. */
SPARQ_API void sparq_uk_layer_norm_f32(void *ctx, const float *X,
                                       const float *gamma, const float *beta,
                                       float *Y, int64_t rows, int64_t n,
                                       float eps);

/* Softmax of the rows of X [rows, n] along the last axis, max-shifted:
 * y = exp(x - max) / sum exp(x - max); with log != 0 log-softmax,
 * y = x - max - log(sum exp(x - max)). Y may alias X. */
SPARQ_API void sparq_uk_softmax_f32(void *ctx, const float *X, float *Y,
                                    int64_t rows, int64_t n, int64_t log);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SPARQ_RUNTIME_SPARQ_RUNTIME_H */
