/* Helpers shared by kernels: shape checks, broadcasting and the broadcast walker, splitting a loop over the
 * session's pool, vectorizable exp/sigmoid/tanh/erf (element access and half / bfloat16 conversions come from
 * the core's dtype.h; hot loops should not use those generic accessors). */
#ifndef ONNXC_KUTIL_H
#define ONNXC_KUTIL_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dtype.h"
#include "kernel.h"

/* Set t's dtype and shape (rank dims) with checks; nbytes is computed. ONNXC_E_INVALID on bad dims. */
onnxc_status oc_set_shape(onnxc_tensor *t, int32_t dtype, int rank, const int64_t *dims);

/* Numpy-style multidirectional broadcast of a set of shapes. ONNXC_E_INVALID naming the node if they clash. */
onnxc_status oc_broadcast_shapes(const oc_kctx *c, int n, const onnxc_tensor *const *ts, int *rank, int64_t *dims);

/* Strides (in elements) of t broadcast to an output of rank/dims: 0 along broadcast dims. */
void oc_broadcast_strides(const onnxc_tensor *t, int rank, const int64_t *dims, int64_t *strides);

/* Contiguous row-major strides of a shape. */
void oc_strides(int rank, const int64_t *dims, int64_t *strides);

/* Product of d[from..to), the dims of an already checked shape (no overflow check). */
int64_t oc_dims_prod(const int64_t *d, int from, int to);

/* oc_set_shape for an output of node c: the error message names the node. */
onnxc_status oc_kset_shape(const oc_kctx *c, onnxc_tensor *t, int32_t dtype, int rank, const int64_t *dims);

/* Element size of a dtype that kernels moving raw bytes (shape ops, Pad) can handle: string tensors need deep
 * copies the planned arena cannot hold, so they and unknown types get ONNXC_E_UNSUPPORTED naming the node. */
onnxc_status oc_kmove_size(const oc_kctx *c, int32_t dtype, size_t *es);

/* Fill n elements of es bytes at dst with copies of the element at v. */
void oc_fill_elems(void *dst, const void *v, int64_t n, size_t es);

/* ---- splitting a loop over the session's pool ---- */

/* Below about this many elements of work a loop runs on the caller: handing items to the pool's workers costs
 * microseconds, which such a loop does not win back. */
#define OC_PAR_MIN 32768

/* Chunks per thread a split loop is cut into: items are claimed one at a time, so a thread the OS delays or a
 * chunk that costs more than others only shifts the remaining chunks to the other threads. */
#define OC_PAR_CHUNKS 4

/* A split loop's body: items [lo, hi), run by thread slot (0 = the caller, < oc_pool_threads) for per-thread
 * scratch. */
typedef void (*oc_range_fn)(void *arg, int64_t lo, int64_t hi, int slot);

/* Run fn over items [0, n) that are independent of each other (each writes its own outputs), about work
 * elements in all: on the caller when the pool is NULL or has one thread, n < 2 or work < OC_PAR_MIN, else
 * cut into contiguous chunks (OC_PAR_CHUNKS per thread, at most one per item) that the pool's threads claim.
 * What an item computes never depends on the cut, so the output does not depend on the thread count. */
void oc_par_for(struct oc_threadpool *pool, int64_t n, int64_t work, oc_range_fn fn, void *arg);

/* ---- the broadcasting element walker: collapses an output and up to three broadcast inputs into the fewest
 * dims, then hands rows of contiguous output to a typed row loop (split over the pool on big work) ---- */

#define OC_WALK_MAXIN 3

/* A row loop: writes n contiguous outputs at o from inputs in[k] read with element strides st[k] (0 when the
 * input is broadcast along the row). ctx is whatever the op needs (attributes, dtypes). */
typedef void (*oc_row_fn)(void *o, const void *const *in, const int64_t *st, int64_t n, const void *ctx);

typedef struct oc_walk {
    int rank;  /* collapsed rank, >= 1 */
    int n;     /* inputs */
    int64_t dims[ONNXC_MAX_RANK];
    int64_t st[OC_WALK_MAXIN][ONNXC_MAX_RANK];
} oc_walk;

/* Prepare a walk of out (already shaped) over n inputs broadcast to it. */
void oc_walk_init(oc_walk *w, const onnxc_tensor *out, int n, const onnxc_tensor *const *in);

/* Run f over every row of the walk: out data of out_dtype, input k's data in[k] of dtype in_dtype[k]; rows (or
 * blocks of a long row) are split over pool (NULL: all on the caller). */
void oc_walk_run(const oc_walk *w, void *out, int32_t out_dtype, const void *const *in, const int32_t *in_dtype,
                 oc_row_fn f, const void *ctx, struct oc_threadpool *pool);

/* ---- vectorizable float32 transcendental helpers (GCC vectorizes loops that call them) ----
 * Selects go through oc_selectf, a bitwise blend of two already computed values: written as a ?: GCC sinks the
 * unused side's arithmetic into a branch and, under the default -ftrapping-math, then refuses to vectorize. */
static inline float oc_selectf(int cond, float a, float b)
{
    uint32_t ua, ub;
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    uint32_t m = 0u - (uint32_t)(cond != 0);
    uint32_t r = (ua & m) | (ub & ~m);
    float f;
    memcpy(&f, &r, sizeof f);
    return f;
}

/* e^x within 1e-7 relative (about 1 ulp) for x in [-87.3, 88]; below, it returns e^-87.3 (about 1.2e-38) instead
 * of a subnormal or 0; above 88 it saturates at e^88; NaN gives NaN. Meant for arguments <= 0 (softmax after max
 * subtraction, sigmoid and tanh of -|x|), where the clamps never matter beyond 1e-38. No floorf and no float to
 * int conversion: under the default -ftrapping-math GCC will not vectorize either. */
static inline float oc_fast_expf(float x)
{
    /* clamps as bitwise selects too (a ?: here gets jump-threaded into branches); NaN goes to the low bound here
     * and is put back at the end */
    float xc = oc_selectf(x >= -87.33654f, x, -87.33654f);
    xc = oc_selectf(xc <= 88.0f, xc, 88.0f);
    /* n = round(x / ln 2): adding 1.5 * 2^23 leaves n in the low mantissa bits of t */
    float t = xc * 1.44269504088896341f + 12582912.0f;
    float n = t - 12582912.0f;
    uint32_t tb;
    memcpy(&tb, &t, sizeof tb);
    uint32_t ni = tb - 0x4B400000u; /* n as a two's complement integer, n in [-126, 127] */
    /* Cody-Waite: ln 2 split into a part exact in float times any n, and the remainder */
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    /* Cephes' minimax polynomial for e^r on [-ln2/2, ln2/2] */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    uint32_t eb = (ni + 127u) << 23; /* 2^n as float bits */
    float s;
    memcpy(&s, &eb, sizeof s);
    return oc_selectf(x != x, x, p * s);
}

/* 1 / (1 + e^-x) from e^-|x|, so the exponential never overflows; below x = -103 the true value is under float's
 * smallest subnormal and 0 is returned. */
static inline float oc_fast_sigmoidf(float x)
{
    float e = oc_fast_expf(-fabsf(x));
    float r = 1.0f / (1.0f + e);
    float neg = oc_selectf(x < -103.0f, 0.0f, e * r);
    return oc_selectf((x >= 0) | (x != x), r, neg); /* | not ||: no branch */
}

/* tanh from e^-2|x|; below |x| = 1/16, where 1 - e^-2|x| would cancel, the odd Taylor series to x^7 (its error
 * there is under 1e-12 relative). NaN stays NaN. */
static inline float oc_fast_tanhf(float x)
{
    float a = fabsf(x);
    float e = oc_fast_expf(-2.0f * a);
    float t = (1.0f - e) / (1.0f + e);
    float x2 = x * x;
    float small = x * (1.0f + x2 * (-1.0f / 3.0f + x2 * (2.0f / 15.0f + x2 * (-17.0f / 315.0f))));
    float big = oc_selectf(x < 0, -t, t);
    big = oc_selectf(x != x, x, big);
    return oc_selectf(a < 0.0625f, small, big);
}

/* erf(x) within 4.3e-7 absolute (the largest error near |x| = 3.6; relative error is as small near 0, where
 * erf(x) ~ 2x / sqrt(pi)), as a rational function of x on [-4, 4], outside which float erf is +-1 within
 * 1.6e-8: Eigen's fast erf for float. libm's erff branches on the range of x and GCC cannot vectorize a loop
 * calling it, which made Erf (GELU's core in exported transformers and ConvNeXt) the slowest op of such models.
 * NaN stays NaN. */
static inline float oc_fast_erff(float x)
{
    float xc = oc_selectf(x >= -4.0f, x, -4.0f);
    xc = oc_selectf(xc <= 4.0f, xc, 4.0f);
    float x2 = xc * xc;
    float p = -2.72614225801306e-10f;
    p = p * x2 + 2.77068142495902e-08f;
    p = p * x2 + -2.10102402082508e-06f;
    p = p * x2 + -5.69250639462346e-05f;
    p = p * x2 + -7.34990630326855e-04f;
    p = p * x2 + -2.95459980854025e-03f;
    p = p * x2 + -1.60960333262415e-02f;
    p = p * xc;
    float q = -1.45660718464996e-05f;
    q = q * x2 + -2.13374055278905e-04f;
    q = q * x2 + -1.68282697438203e-03f;
    q = q * x2 + -7.37332916720468e-03f;
    q = q * x2 + -1.42647390514189e-02f;
    return oc_selectf(x != x, x, p / q);
}

/* Normalise an axis attribute against rank (negative counts from the end). ONNXC_E_INVALID naming the node
 * when out of range. */
onnxc_status oc_norm_axis(const oc_kctx *c, int64_t axis, int rank, int *out);

/* Error for this node: "node 'name' (Op): message". Returns st. */
onnxc_status oc_kerr(const oc_kctx *c, onnxc_status st, const char *fmt, ...) OC_PRINTF(3, 4);

#endif
