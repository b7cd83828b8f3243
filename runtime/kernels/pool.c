/* MaxPool (with the optional Indices output), AveragePool, GlobalAveragePool and GlobalMaxPool for 1-D to 3-D
 * inputs: pads, auto_pad, strides, dilations, ceil_mode, count_include_pad, storage_order. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef __AVX2__
#include <immintrin.h>

#include "simd.h"
#endif

#include "kutil.h"
#include "threadpool.h"
#include "window.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

typedef struct pool_geom {
    oc_window w;
    int64_t planes; /* N * C */
} pool_geom;

static bool pool_dtype_ok(int32_t dt, bool allow_int8)
{
    return dt == ONNXC_FLOAT || dt == ONNXC_DOUBLE || dt == ONNXC_FLOAT16 ||
           (allow_int8 && (dt == ONNXC_INT8 || dt == ONNXC_UINT8));
}

static onnxc_status pool_check_x(const oc_kctx *c, bool allow_int8)
{
    if (c->n_in < 1 || !c->in[0])
        return oc_kerr(c, ONNXC_E_INVALID, "needs input X");
    const onnxc_tensor *X = c->in[0];
    if (!pool_dtype_ok(X->dtype, allow_int8))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input X is %s; supported: float, double, float16%s",
                       onnxc_dtype_name(X->dtype), allow_int8 ? ", int8, uint8" : "");
    if (X->rank < 3)
        return oc_kerr(c, ONNXC_E_INVALID, "input X has rank %d; expected N x C x spatial dims (rank >= 3)",
                       X->rank);
    return ONNXC_OK;
}

static onnxc_status pool_geometry(const oc_kctx *c, bool allow_int8, pool_geom *g)
{
    memset(g, 0, sizeof *g);
    onnxc_status st = pool_check_x(c, allow_int8);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *X = c->in[0];
    st = oc_window_attrs(c, X->rank - 2, NULL, &g->w);
    if (st != ONNXC_OK)
        return st;
    /* ceil_mode arrived in MaxPool-10 and AveragePool-10; absent earlier, which reads as the default 0 */
    bool ceil_mode = oc_attr_int(c->node, "ceil_mode", 0) != 0;
    st = oc_window_forward(c, X->dims + 2, ceil_mode, &g->w);
    if (st != ONNXC_OK)
        return st;
    if (!oc_mul_i64(X->dims[0], X->dims[1], &g->planes))
        return oc_kerr(c, ONNXC_E_INVALID, "N x C overflows");
    return ONNXC_OK;
}

static onnxc_status pool_set_output(oc_kctx *c, int slot, int32_t dtype, const oc_window *w)
{
    if (slot >= c->n_out || !c->out[slot])
        return ONNXC_OK;
    const onnxc_tensor *X = c->in[0];
    int64_t dims[ONNXC_MAX_RANK];
    dims[0] = X->dims[0];
    dims[1] = X->dims[1];
    for (int i = 0; i < w->nsp; i++)
        dims[2 + i] = w->out[OC_WIN_DIMS - w->nsp + i];
    return oc_set_shape(c->out[slot], dtype, X->rank, dims);
}

/* Taps j in [lo, hi) of a window starting at start (dilation dil, k taps) that land in [0, n). */
static inline void tap_span(int64_t start, int64_t dil, int64_t k, int64_t n, int64_t *lo, int64_t *hi)
{
    int64_t l = start >= 0 ? 0 : (-start + dil - 1) / dil;
    int64_t h = start > n - 1 ? 0 : (n - 1 - start) / dil + 1;
    if (h > k)
        h = k;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

static inline float load_f16(uint16_t v)
{
    return oc_half_to_float(v);
}

#define IDENT(v) (v)

/* The generic loops' arguments: each runs planes [lo, hi) of the input (oc_par_for splits over planes, which
 * are independent). */
typedef struct pool_gen_job {
    const oc_window *w;
    const void *x;
    void *y;
    int64_t *ind;      /* MaxPool's Indices, or NULL */
    int64_t vol;       /* global pools: elements per plane */
    bool col_major;    /* MaxPool storage_order = 1 */
    bool include_pad;  /* AveragePool count_include_pad */
    bool is_max;       /* global pools */
} pool_gen_job;

/* Max over each window; ties keep the first element in row-major order. Indices are flat positions in X
 * (N and C included); with storage_order = 1 the spatial part is column-major (MaxPool-8). A window lying wholly
 * in padding gives the lowest value and index -1. */
#define DEFINE_MAXPOOL(NAME, T, CT, LOAD, LOWEST)                                                          \
    static void NAME(void *arg, int64_t lo, int64_t hi, int slot)                                          \
    {                                                                                                      \
        (void)slot;                                                                                        \
        const pool_gen_job *j = arg;                                                                       \
        const oc_window *w = j->w;                                                                         \
        const T *x = j->x;                                                                                 \
        T *y = j->y;                                                                                       \
        int64_t *ind = j->ind;                                                                             \
        const bool col_major = j->col_major;                                                               \
        const int64_t in0 = w->in[0], in1 = w->in[1], in2 = w->in[2];                                      \
        for (int64_t p = lo; p < hi; p++) {                                                                \
            const T *xp = x + p * w->in_vol;                                                               \
            int64_t oi = p * w->out_vol;                                                                   \
            for (int64_t od = 0; od < w->out[0]; od++) {                                                   \
                int64_t s0 = od * w->stride[0] - w->pad0[0], l0, h0;                                       \
                tap_span(s0, w->dil[0], w->k[0], in0, &l0, &h0);                                           \
                for (int64_t oh = 0; oh < w->out[1]; oh++) {                                               \
                    int64_t s1 = oh * w->stride[1] - w->pad0[1], l1, h1;                                   \
                    tap_span(s1, w->dil[1], w->k[1], in1, &l1, &h1);                                       \
                    for (int64_t ow = 0; ow < w->out[2]; ow++, oi++) {                                     \
                        int64_t s2 = ow * w->stride[2] - w->pad0[2], l2, h2;                               \
                        tap_span(s2, w->dil[2], w->k[2], in2, &l2, &h2);                                   \
                        CT best = 0;                                                                       \
                        int64_t bi = -1;                                                                   \
                        for (int64_t j0 = l0; j0 < h0; j0++) {                                             \
                            int64_t id = s0 + j0 * w->dil[0];                                              \
                            for (int64_t j1 = l1; j1 < h1; j1++) {                                         \
                                int64_t row = (id * in1 + s1 + j1 * w->dil[1]) * in2;                      \
                                for (int64_t j2 = l2; j2 < h2; j2++) {                                     \
                                    int64_t at = row + s2 + j2 * w->dil[2];                                \
                                    CT v = LOAD(xp[at]);                                                   \
                                    if (bi < 0 || v > best) {                                              \
                                        best = v;                                                          \
                                        bi = at;                                                           \
                                    }                                                                      \
                                }                                                                          \
                            }                                                                              \
                        }                                                                                  \
                        y[oi] = bi >= 0 ? xp[bi] : (LOWEST);                                               \
                        if (ind) {                                                                         \
                            int64_t flat = bi;                                                             \
                            if (bi >= 0 && col_major) {                                                    \
                                int64_t id = bi / (in1 * in2), ih = bi / in2 % in1, iw = bi % in2;         \
                                flat = id + ih * in0 + iw * in0 * in1;                                     \
                            }                                                                              \
                            ind[oi] = bi >= 0 ? p * w->in_vol + flat : -1;                                 \
                        }                                                                                  \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }

DEFINE_MAXPOOL(maxpool_f32, float, float, IDENT, -INFINITY)
DEFINE_MAXPOOL(maxpool_f64, double, double, IDENT, -INFINITY)
DEFINE_MAXPOOL(maxpool_f16, uint16_t, float, load_f16, 0xFC00u)
DEFINE_MAXPOOL(maxpool_i8, int8_t, int8_t, IDENT, INT8_MIN)
DEFINE_MAXPOOL(maxpool_u8, uint8_t, uint8_t, IDENT, 0)

/* ---- float fast paths for the common 2-D windows (no dilation along the last two dims, one depth tap): per
 * output row, the window's input rows are first reduced elementwise into one row (loops GCC vectorises),
 * then each output takes its span of that row. Rows up to FAST_ROW floats wide. Built where AVX2 is not (the
 * AVX2 versions below do the same operations). ---- */

#define FAST_ROW 4096

#define FAST_PAD 64

static bool pool_fast_ok(const oc_window *w)
{
    return w->k[0] == 1 && w->out[0] == w->in[0] && w->stride[0] == 1 && w->pad0[0] == 0 && w->dil[1] == 1 &&
           w->dil[2] == 1 && w->in[2] <= FAST_ROW && w->pad0[2] <= FAST_PAD && w->pad1[2] <= FAST_PAD &&
           w->k[2] <= FAST_PAD && (w->out[2] - 1) * w->stride[2] + w->k[2] <= FAST_ROW + 2 * FAST_PAD;
}

typedef struct pool_job {
    const oc_window *w;
    const float *x;
    float *y;
    int64_t planes, per_item;
    bool include_pad;
} pool_job;

#ifndef __AVX2__
static void maxpool_fast_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const pool_job *j = arg;
    const oc_window *w = j->w;
    /* row: the input row's window maximum, -inf around it where the padding is; span: its running maximum
     * over k2 positions, so output ow is span[ow * stride] */
    float row[FAST_ROW + 2 * FAST_PAD], span[FAST_ROW + 2 * FAST_PAD];
    const int64_t in1 = w->in[1], in2 = w->in[2], o1 = w->out[1], o2 = w->out[2];
    const int64_t pl = w->pad0[2], k2 = w->k[2], s2 = w->stride[2];
    const int64_t n_span = (o2 - 1) * s2 + 1, n_row = n_span + k2 - 1;
    const int64_t p_end = (item + 1) * j->per_item < j->planes ? (item + 1) * j->per_item : j->planes;
    for (int64_t i = 0; i < n_row; i++)
        row[i] = -INFINITY;
    for (int64_t p = item * j->per_item; p < p_end; p++) {
        for (int64_t d = 0; d < w->out[0]; d++) {
            const float *xp = j->x + (p * w->in[0] + d) * in1 * in2;
            float *yp = j->y + (p * w->out[0] + d) * o1 * o2;
            for (int64_t oh = 0; oh < o1; oh++) {
                int64_t s1 = oh * w->stride[1] - w->pad0[1], l1, h1;
                tap_span(s1, 1, w->k[1], in1, &l1, &h1);
                float *yr = yp + oh * o2;
                if (l1 >= h1) {
                    for (int64_t ow = 0; ow < o2; ow++)
                        yr[ow] = -INFINITY; /* the window lies wholly in padding */
                    continue;
                }
                /* input columns that some window reads: [0, min(in2, n_row - pl)) */
                const int64_t used = in2 < n_row - pl ? in2 : n_row - pl;
                float *r = row + pl;
                memcpy(r, xp + (s1 + l1) * in2, (size_t)used * sizeof *r);
                for (int64_t t = l1 + 1; t < h1; t++) {
                    const float *xr = xp + (s1 + t) * in2;
                    for (int64_t i = 0; i < used; i++)
                        r[i] = xr[i] > r[i] ? xr[i] : r[i];
                }
                for (int64_t i = 0; i < n_span; i++)
                    span[i] = row[i];
                for (int64_t t = 1; t < k2; t++)
                    for (int64_t i = 0; i < n_span; i++)
                        span[i] = row[i + t] > span[i] ? row[i + t] : span[i];
                for (int64_t ow = 0; ow < o2; ow++)
                    yr[ow] = span[ow * s2];
            }
        }
    }
}

static void avgpool_fast_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const pool_job *j = arg;
    const oc_window *w = j->w;
    float row[FAST_ROW];
    const int64_t in1 = w->in[1], in2 = w->in[2], o1 = w->out[1], o2 = w->out[2];
    const int64_t p_end = (item + 1) * j->per_item < j->planes ? (item + 1) * j->per_item : j->planes;
    for (int64_t p = item * j->per_item; p < p_end; p++) {
        for (int64_t d = 0; d < w->out[0]; d++) {
            const float *xp = j->x + (p * w->in[0] + d) * in1 * in2;
            float *yp = j->y + (p * w->out[0] + d) * o1 * o2;
            for (int64_t oh = 0; oh < o1; oh++) {
                int64_t s1 = oh * w->stride[1] - w->pad0[1], l1, h1, c1;
                tap_span(s1, 1, w->k[1], in1, &l1, &h1);
                if (j->include_pad) {
                    int64_t pl, ph;
                    tap_span(s1 + w->pad0[1], 1, w->k[1], in1 + w->pad0[1] + w->pad1[1], &pl, &ph);
                    c1 = ph - pl;
                } else {
                    c1 = h1 - l1;
                }
                for (int64_t i = 0; i < in2; i++)
                    row[i] = 0.0f;
                for (int64_t t = l1; t < h1; t++) {
                    const float *xr = xp + (s1 + t) * in2;
                    for (int64_t i = 0; i < in2; i++)
                        row[i] += xr[i];
                }
                float *yr = yp + oh * o2;
                for (int64_t ow = 0; ow < o2; ow++) {
                    int64_t s2 = ow * w->stride[2] - w->pad0[2], l2, h2, c2;
                    tap_span(s2, 1, w->k[2], in2, &l2, &h2);
                    if (j->include_pad) {
                        int64_t pl, ph;
                        tap_span(s2 + w->pad0[2], 1, w->k[2], in2 + w->pad0[2] + w->pad1[2], &pl, &ph);
                        c2 = ph - pl;
                    } else {
                        c2 = h2 - l2;
                    }
                    float sum = 0.0f;
                    for (int64_t t = l2; t < h2; t++)
                        sum += row[s2 + t];
                    int64_t count = c1 * c2;
                    yr[ow] = count > 0 ? sum / (float)count : 0.0f;
                }
            }
        }
    }
}

#endif

#ifdef __AVX2__
/* ---- the same two fast paths with AVX2 written out: the window's rows reduced 8 columns at a time straight
 * from the input, then each output row from that reduced row, 8 outputs at a time for strides 1 and 2 (stride
 * 2: the even columns of 16 picked by one shuffle per tap, put in order once after the taps). The same
 * operations in the same order as the loops above (max(new, old) keeps old when either is NaN, like the
 * comparisons there; the mean adds +0 for a tap in the padding), so the outputs are the same bits but for the
 * sign of a zero mean; the loops above paid their setup per output row,
 * several times the work itself on GoogLeNet's 14 x 14 and 7 x 7 planes. ---- */

#define ROW_SLACK 48 /* floats past a reduced row that the vector loops may read: -inf for max, 0 for the mean */

static inline __m256i pool_lanes_below(int64_t n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 8 ? n : 8)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* columns 2i of p[0, 16), in order after pool_evens_order */
static inline __m256 pool_evens(const float *p)
{
    return _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), _MM_SHUFFLE(2, 0, 2, 0));
}

static inline __m256 pool_evens_order(__m256 v)
{
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), _MM_SHUFFLE(3, 1, 2, 0)));
}

static inline void pool_store(float *y, int64_t left, __m256 v)
{
    if (left >= 8)
        _mm256_storeu_ps(y, v);
    else
        oc_storen8(y, left, v);
}

/* r[0, used) = max (is_max) or 0 + sum of the nr rows x0, x0 + in2, ... elementwise */
static inline void pool_rows(const float *x0, int64_t in2, int64_t nr, int64_t used, bool is_max, float *r)
{
    for (int64_t i = 0; i < used; i += 8) {
        const __m256i m = pool_lanes_below(used - i);
        const bool full = used - i >= 8;
        __m256 v = full ? _mm256_loadu_ps(x0 + i) : _mm256_maskload_ps(x0 + i, m);
        if (!is_max)
            v = _mm256_add_ps(_mm256_setzero_ps(), v);
        for (int64_t t = 1; t < nr; t++) {
            const float *xt = x0 + t * in2 + i;
            const __m256 u = full ? _mm256_loadu_ps(xt) : _mm256_maskload_ps(xt, m);
            v = is_max ? _mm256_max_ps(u, v) : _mm256_add_ps(v, u);
        }
        pool_store(r + i, used - i, v);
    }
}

/* h[0, 8) = the window reduction of outputs ow.. ow + 7 over the padded row (first tap of output ow at
 * row[ow * s2]), s2 1 or 2 */
static inline __m256 pool_span8(const float *row, int64_t ow, int64_t k2, int64_t s2, bool is_max)
{
    __m256 v;
    if (s2 == 1) {
        v = _mm256_loadu_ps(row + ow);
        if (!is_max)
            v = _mm256_add_ps(_mm256_setzero_ps(), v);
        for (int64_t t = 1; t < k2; t++) {
            const __m256 u = _mm256_loadu_ps(row + ow + t);
            v = is_max ? _mm256_max_ps(u, v) : _mm256_add_ps(v, u);
        }
        return v;
    }
    const float *b = row + 2 * ow;
    v = pool_evens(b);
    if (!is_max)
        v = _mm256_add_ps(_mm256_setzero_ps(), v);
    for (int64_t t = 1; t < k2; t++) {
        const __m256 u = pool_evens(b + t);
        v = is_max ? _mm256_max_ps(u, v) : _mm256_add_ps(v, u);
    }
    return pool_evens_order(v);
}

static void maxpool_avx2_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const pool_job *j = arg;
    const oc_window *w = j->w;
    _Alignas(32) float row[FAST_ROW + 2 * FAST_PAD + ROW_SLACK];
    const int64_t in1 = w->in[1], in2 = w->in[2], o1 = w->out[1], o2 = w->out[2];
    const int64_t pl = w->pad0[2], k2 = w->k[2], s2 = w->stride[2];
    const int64_t n_span = (o2 - 1) * s2 + 1, n_row = n_span + k2 - 1;
    const int64_t used = in2 < n_row - pl ? in2 : n_row - pl;
    const int64_t p_end = (item + 1) * j->per_item < j->planes ? (item + 1) * j->per_item : j->planes;
    for (int64_t i = 0; i < n_row + ROW_SLACK; i++)
        row[i] = -INFINITY;
    for (int64_t p = item * j->per_item; p < p_end; p++) {
        for (int64_t d = 0; d < w->out[0]; d++) {
            const float *xp = j->x + (p * w->in[0] + d) * in1 * in2;
            float *yp = j->y + (p * w->out[0] + d) * o1 * o2;
            for (int64_t oh = 0; oh < o1; oh++) {
                int64_t s1 = oh * w->stride[1] - w->pad0[1], l1, h1;
                tap_span(s1, 1, w->k[1], in1, &l1, &h1);
                float *yr = yp + oh * o2;
                if (l1 >= h1) {
                    for (int64_t ow = 0; ow < o2; ow++)
                        yr[ow] = -INFINITY; /* the window lies wholly in padding */
                    continue;
                }
                pool_rows(xp + (s1 + l1) * in2, in2, h1 - l1, used, true, row + pl);
                if (s2 <= 2) {
                    for (int64_t ow = 0; ow < o2; ow += 8)
                        pool_store(yr + ow, o2 - ow, pool_span8(row, ow, k2, s2, true));
                    continue;
                }
                for (int64_t ow = 0; ow < o2; ow++) {
                    float v = row[ow * s2];
                    for (int64_t t = 1; t < k2; t++)
                        v = row[ow * s2 + t] > v ? row[ow * s2 + t] : v;
                    yr[ow] = v;
                }
            }
        }
    }
}

static void avgpool_avx2_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const pool_job *j = arg;
    const oc_window *w = j->w;
    _Alignas(32) float row[FAST_ROW + 2 * FAST_PAD + ROW_SLACK];
    int32_t cnt2[FAST_ROW + 2 * FAST_PAD + ROW_SLACK];
    const int64_t in1 = w->in[1], in2 = w->in[2], o1 = w->out[1], o2 = w->out[2];
    const int64_t pl = w->pad0[2], k2 = w->k[2], s2 = w->stride[2];
    const int64_t n_span = (o2 - 1) * s2 + 1, n_row = n_span + k2 - 1;
    const int64_t used = in2 < n_row - pl ? in2 : n_row - pl;
    const int64_t p_end = (item + 1) * j->per_item < j->planes ? (item + 1) * j->per_item : j->planes;
    /* zeros around the data: a tap in the padding adds +0, which leaves every sum as it was but a -0 */
    for (int64_t i = 0; i < n_row + ROW_SLACK; i++)
        row[i] = 0.0f;
    for (int64_t ow = 0; ow < o2 + 8; ow++) {
        int64_t c2 = 0;
        if (ow < o2) {
            const int64_t st = ow * s2 - pl;
            int64_t l2, h2;
            if (j->include_pad)
                tap_span(st + pl, 1, k2, in2 + pl + w->pad1[2], &l2, &h2);
            else
                tap_span(st, 1, k2, in2, &l2, &h2);
            c2 = h2 - l2;
        }
        cnt2[ow] = (int32_t)c2;
    }
    for (int64_t p = item * j->per_item; p < p_end; p++) {
        for (int64_t d = 0; d < w->out[0]; d++) {
            const float *xp = j->x + (p * w->in[0] + d) * in1 * in2;
            float *yp = j->y + (p * w->out[0] + d) * o1 * o2;
            for (int64_t oh = 0; oh < o1; oh++) {
                int64_t s1 = oh * w->stride[1] - w->pad0[1], l1, h1, c1;
                tap_span(s1, 1, w->k[1], in1, &l1, &h1);
                if (j->include_pad) {
                    int64_t a, b;
                    tap_span(s1 + w->pad0[1], 1, w->k[1], in1 + w->pad0[1] + w->pad1[1], &a, &b);
                    c1 = b - a;
                } else {
                    c1 = h1 - l1;
                }
                float *yr = yp + oh * o2;
                if (l1 < h1) {
                    pool_rows(xp + (s1 + l1) * in2, in2, h1 - l1, used, false, row + pl);
                } else {
                    for (int64_t i = 0; i < used; i++)
                        row[pl + i] = 0.0f;
                }
                const __m256i vc1 = _mm256_set1_epi32((int)c1);
                for (int64_t ow = 0; ow < o2; ow += 8) {
                    __m256 s;
                    if (s2 <= 2) {
                        s = pool_span8(row, ow, k2, s2, false);
                    } else {
                        _Alignas(32) float t8[8];
                        for (int q = 0; q < 8; q++) {
                            float v = 0.0f;
                            for (int64_t t = 0; t < k2 && ow + q < o2; t++)
                                v += row[(ow + q) * s2 + t];
                            t8[q] = v;
                        }
                        s = _mm256_load_ps(t8);
                    }
                    const __m256 den = _mm256_cvtepi32_ps(
                        _mm256_mullo_epi32(vc1, _mm256_loadu_si256((const __m256i *)(cnt2 + ow))));
                    /* no tap inside: 0, as the loops above give */
                    const __m256 q = _mm256_and_ps(_mm256_div_ps(s, den),
                                                   _mm256_cmp_ps(den, _mm256_setzero_ps(), _CMP_NEQ_UQ));
                    pool_store(yr + ow, o2 - ow, q);
                }
            }
        }
    }
}
#endif

#ifdef __AVX2__
#define POOL_FAST(op) op##_avx2_item
#else
#define POOL_FAST(op) op##_fast_item
#endif

/* Run a fast path over all planes in items of at least ~32k window taps. */
static void pool_fast_run(const oc_kctx *c, const pool_geom *g, bool include_pad, oc_pool_fn fn)
{
    pool_job j = {&g->w, c->in[0]->data, c->out[0]->data, g->planes, 1, include_pad};
    int64_t per_plane = g->w.out_vol * g->w.k_vol;
    j.per_item = per_plane >= 32768 ? 1 : 32768 / (per_plane > 0 ? per_plane : 1);
    oc_pool_run(c->pool, (g->planes + j.per_item - 1) / j.per_item, fn, &j);
}

static onnxc_status maxpool_infer(oc_kctx *c)
{
    pool_geom g;
    onnxc_status st = pool_geometry(c, true, &g);
    if (st != ONNXC_OK)
        return st;
    int64_t order = oc_attr_int(c->node, "storage_order", 0);
    if (order != 0 && order != 1)
        return oc_kerr(c, ONNXC_E_INVALID, "storage_order = %lld; must be 0 or 1", (long long)order);
    st = pool_set_output(c, 0, c->in[0]->dtype, &g.w);
    if (st == ONNXC_OK)
        st = pool_set_output(c, 1, ONNXC_INT64, &g.w);
    return st;
}

static onnxc_status maxpool_run(oc_kctx *c)
{
    pool_geom g;
    onnxc_status st = pool_geometry(c, true, &g);
    if (st != ONNXC_OK)
        return st;
    bool col_major = oc_attr_int(c->node, "storage_order", 0) == 1;
    const void *x = c->in[0]->data;
    void *y = c->out[0] ? c->out[0]->data : NULL;
    int64_t *ind = c->n_out > 1 && c->out[1] ? c->out[1]->data : NULL;
    if (!y && !ind)
        return ONNXC_OK;
    if (c->in[0]->dtype == ONNXC_FLOAT && y && !ind && pool_fast_ok(&g.w)) {
        pool_fast_run(c, &g, false, POOL_FAST(maxpool));
        return ONNXC_OK;
    }
    void *ybuf = NULL;
    if (!y) {
        /* only Indices were asked for: the values still need a home */
        size_t n;
        if (!oc_mul_size((size_t)(g.planes * g.w.out_vol), onnxc_dtype_size(c->in[0]->dtype), &n) ||
            !(ybuf = oc_malloc(n ? n : 1)))
            return oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
        y = ybuf;
    }
    pool_gen_job j = {.w = &g.w, .x = x, .y = y, .ind = ind, .col_major = col_major};
    oc_range_fn fn;
    switch (c->in[0]->dtype) {
    case ONNXC_FLOAT: fn = maxpool_f32; break;
    case ONNXC_DOUBLE: fn = maxpool_f64; break;
    case ONNXC_FLOAT16: fn = maxpool_f16; break;
    case ONNXC_INT8: fn = maxpool_i8; break;
    default: fn = maxpool_u8; break;
    }
    oc_par_for(c->pool, g.planes, g.planes * g.w.out_vol * g.w.k_vol, fn, &j);
    oc_free(ybuf);
    return ONNXC_OK;
}

/* Mean over each window. The divisor counts the taps inside X, or with count_include_pad the taps inside the
 * padded X (so a ceil_mode window hanging past the end padding is not charged for it, as in PyTorch). */
#define DEFINE_AVGPOOL(NAME, T, ACC, LOAD, STORE)                                                          \
    static void NAME(void *arg, int64_t lo, int64_t hi, int slot)                                          \
    {                                                                                                      \
        (void)slot;                                                                                        \
        const pool_gen_job *j = arg;                                                                       \
        const oc_window *w = j->w;                                                                         \
        const T *x = j->x;                                                                                 \
        T *y = j->y;                                                                                       \
        const bool include_pad = j->include_pad;                                                           \
        for (int64_t p = lo; p < hi; p++) {                                                                \
            const T *xp = x + p * w->in_vol;                                                               \
            int64_t oi = p * w->out_vol;                                                                   \
            int64_t l[3], h[3], s[3], cnt[3];                                                              \
            for (int64_t od = 0; od < w->out[0]; od++) {                                                   \
                for (int64_t oh = 0; oh < w->out[1]; oh++) {                                               \
                    for (int64_t ow = 0; ow < w->out[2]; ow++, oi++) {                                     \
                        int64_t o[3] = {od, oh, ow};                                                       \
                        for (int d = 0; d < 3; d++) {                                                      \
                            s[d] = o[d] * w->stride[d] - w->pad0[d];                                       \
                            tap_span(s[d], w->dil[d], w->k[d], w->in[d], &l[d], &h[d]);                    \
                            if (include_pad) {                                                             \
                                int64_t pl, ph;                                                            \
                                tap_span(s[d] + w->pad0[d], w->dil[d], w->k[d],                            \
                                         w->in[d] + w->pad0[d] + w->pad1[d], &pl, &ph);                    \
                                cnt[d] = ph - pl;                                                          \
                            } else {                                                                       \
                                cnt[d] = h[d] - l[d];                                                      \
                            }                                                                              \
                        }                                                                                  \
                        ACC sum = 0;                                                                       \
                        for (int64_t j0 = l[0]; j0 < h[0]; j0++) {                                         \
                            int64_t id = s[0] + j0 * w->dil[0];                                            \
                            for (int64_t j1 = l[1]; j1 < h[1]; j1++) {                                     \
                                int64_t row = (id * w->in[1] + s[1] + j1 * w->dil[1]) * w->in[2] + s[2];   \
                                for (int64_t j2 = l[2]; j2 < h[2]; j2++)                                   \
                                    sum += LOAD(xp[row + j2 * w->dil[2]]);                                 \
                            }                                                                              \
                        }                                                                                  \
                        int64_t count = cnt[0] * cnt[1] * cnt[2];                                          \
                        y[oi] = STORE(count > 0 ? sum / (ACC)count : (ACC)0);                              \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }

static inline uint16_t store_f16(float v)
{
    return oc_float_to_half(v);
}

DEFINE_AVGPOOL(avgpool_f32, float, float, IDENT, IDENT)
DEFINE_AVGPOOL(avgpool_f64, double, double, IDENT, IDENT)
DEFINE_AVGPOOL(avgpool_f16, uint16_t, float, load_f16, store_f16)

static onnxc_status avgpool_infer(oc_kctx *c)
{
    pool_geom g;
    onnxc_status st = pool_geometry(c, false, &g);
    if (st != ONNXC_OK)
        return st;
    return pool_set_output(c, 0, c->in[0]->dtype, &g.w);
}

static onnxc_status avgpool_run(oc_kctx *c)
{
    if (!c->out[0])
        return ONNXC_OK;
    pool_geom g;
    onnxc_status st = pool_geometry(c, false, &g);
    if (st != ONNXC_OK)
        return st;
    bool include_pad = oc_attr_int(c->node, "count_include_pad", 0) != 0;
    const void *x = c->in[0]->data;
    void *y = c->out[0]->data;
    if (c->in[0]->dtype == ONNXC_FLOAT && pool_fast_ok(&g.w)) {
        pool_fast_run(c, &g, include_pad, POOL_FAST(avgpool));
        return ONNXC_OK;
    }
    pool_gen_job j = {.w = &g.w, .x = x, .y = y, .include_pad = include_pad};
    oc_range_fn fn = c->in[0]->dtype == ONNXC_FLOAT ? avgpool_f32 : c->in[0]->dtype == ONNXC_DOUBLE ? avgpool_f64
                   : avgpool_f16;
    oc_par_for(c->pool, g.planes, g.planes * g.w.out_vol * g.w.k_vol, fn, &j);
    return ONNXC_OK;
}

/* ---- GlobalAveragePool, GlobalMaxPool: one value per (n, c) plane ---- */

#define DEFINE_GLOBAL(NAME, T, ACC, LOAD, STORE)                                                           \
    static void NAME(void *arg, int64_t lo, int64_t hi, int slot)                                          \
    {                                                                                                      \
        (void)slot;                                                                                        \
        const pool_gen_job *j = arg;                                                                       \
        const T *x = j->x;                                                                                 \
        T *y = j->y;                                                                                       \
        const int64_t vol = j->vol;                                                                        \
        const bool is_max = j->is_max;                                                                     \
        for (int64_t p = lo; p < hi; p++) {                                                                \
            const T *xp = x + p * vol;                                                                     \
            ACC acc = LOAD(xp[0]);                                                                         \
            if (is_max) {                                                                                  \
                for (int64_t i = 1; i < vol; i++) {                                                        \
                    ACC v = LOAD(xp[i]);                                                                   \
                    if (v > acc)                                                                           \
                        acc = v;                                                                           \
                }                                                                                          \
            } else {                                                                                       \
                for (int64_t i = 1; i < vol; i++)                                                          \
                    acc += LOAD(xp[i]);                                                                    \
                acc /= (ACC)vol;                                                                           \
            }                                                                                              \
            y[p] = STORE(acc);                                                                             \
        }                                                                                                  \
    }

DEFINE_GLOBAL(global_f64, double, double, IDENT, IDENT)
DEFINE_GLOBAL(global_f16, uint16_t, float, load_f16, store_f16)

static onnxc_status global_geometry(const oc_kctx *c, int64_t *planes, int64_t *vol)
{
    onnxc_status st = pool_check_x(c, false);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *X = c->in[0];
    if (!oc_mul_i64(X->dims[0], X->dims[1], planes) || !oc_numel(X->dims + 2, X->rank - 2, vol))
        return oc_kerr(c, ONNXC_E_INVALID, "input size overflows");
    if (*vol < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "input X has an empty spatial dim");
    return ONNXC_OK;
}

static onnxc_status global_infer(oc_kctx *c)
{
    int64_t planes, vol;
    onnxc_status st = global_geometry(c, &planes, &vol);
    if (st != ONNXC_OK || !c->out[0])
        return st;
    const onnxc_tensor *X = c->in[0];
    int64_t dims[ONNXC_MAX_RANK];
    dims[0] = X->dims[0];
    dims[1] = X->dims[1];
    for (int i = 2; i < X->rank; i++)
        dims[i] = 1;
    return oc_set_shape(c->out[0], X->dtype, X->rank, dims);
}

/* float planes through the session's pool, in items of at least ~32k elements (the arithmetic of DEFINE_GLOBAL
 * for float) */
typedef struct global_job {
    const float *x;
    float *y;
    int64_t planes, vol, per_item;
    bool is_max;
} global_job;

/* Lanes of the float32 plane loops: independent partial results the compiler keeps in vector registers (four
 * AVX2 vectors, eight SSE ones), so the loop runs at load speed instead of one add's latency per element. The
 * lanes are combined in a fixed order: a plane's result does not depend on the thread count. */
#define GLOBAL_LANES 32

#if defined(__AVX2__) && defined(__FMA__)
/* The same lanes as four AVX2 vectors (lane k of the 32 gets elements i + k), then the last whole vectors into
 * vector 0 and the last elements (masked) into vector 1, the 32 lanes summed in double as a tree: no serial
 * chain of adds, so the small planes of squeeze-excite blocks (7 x 7, 14 x 14) cost about their loads. */
static double global_sum_f32(const float *x, int64_t n)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
        a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + 8));
        a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + i + 16));
        a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + i + 24));
    }
    for (; i + 8 <= n; i += 8)
        a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
    if (i < n) {
        const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        a1 = _mm256_add_ps(a1, _mm256_maskload_ps(x + i, m));
    }
    const __m256d d0 = _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(a0)), _mm256_cvtps_pd(_mm256_extractf128_ps(a0, 1)));
    const __m256d d1 = _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(a1)), _mm256_cvtps_pd(_mm256_extractf128_ps(a1, 1)));
    const __m256d d2 = _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(a2)), _mm256_cvtps_pd(_mm256_extractf128_ps(a2, 1)));
    const __m256d d3 = _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(a3)), _mm256_cvtps_pd(_mm256_extractf128_ps(a3, 1)));
    const __m256d d = _mm256_add_pd(_mm256_add_pd(d0, d1), _mm256_add_pd(d2, d3));
    const __m128d h = _mm_add_pd(_mm256_castpd256_pd128(d), _mm256_extractf128_pd(d, 1));
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}
#else
static double global_sum_f32(const float *x, int64_t n)
{
    float acc[GLOBAL_LANES] = {0};
    int64_t i = 0;
    for (; i + GLOBAL_LANES <= n; i += GLOBAL_LANES)
        for (int k = 0; k < GLOBAL_LANES; k++)
            acc[k] += x[i + k];
    double s = 0;
    for (int k = 0; k < GLOBAL_LANES; k++)
        s += acc[k];
    for (; i < n; i++)
        s += x[i];
    return s;
}
#endif

/* max with NaN propagated (numpy.max, the ONNX reference): a lane keeps the first NaN it meets */
static float global_max_f32(const float *x, int64_t n)
{
    float acc[GLOBAL_LANES];
    int64_t i = 0;
    float m = x[0];
    if (n >= GLOBAL_LANES) {
        for (int k = 0; k < GLOBAL_LANES; k++)
            acc[k] = x[k];
        for (i = GLOBAL_LANES; i + GLOBAL_LANES <= n; i += GLOBAL_LANES)
            for (int k = 0; k < GLOBAL_LANES; k++) {
                float v = x[i + k];
                acc[k] = ((acc[k] != acc[k]) | (acc[k] > v)) ? acc[k] : v;
            }
        m = acc[0];
        for (int k = 1; k < GLOBAL_LANES; k++)
            m = ((m != m) | (m > acc[k])) ? m : acc[k];
    }
    for (; i < n; i++)
        m = ((m != m) | (m > x[i])) ? m : x[i];
    return m;
}

static void global_f32_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const global_job *j = arg;
    const int64_t p_end = (item + 1) * j->per_item < j->planes ? (item + 1) * j->per_item : j->planes;
    for (int64_t p = item * j->per_item; p < p_end; p++)
        j->y[p] = j->is_max ? global_max_f32(j->x + p * j->vol, j->vol)
                            : (float)(global_sum_f32(j->x + p * j->vol, j->vol) / (double)j->vol);
}

static onnxc_status global_run(oc_kctx *c, bool is_max)
{
    if (!c->out[0])
        return ONNXC_OK;
    int64_t planes, vol;
    onnxc_status st = global_geometry(c, &planes, &vol);
    if (st != ONNXC_OK)
        return st;
    const void *x = c->in[0]->data;
    void *y = c->out[0]->data;
    switch (c->in[0]->dtype) {
    case ONNXC_FLOAT: {
        if (vol < 1)
            break;
        global_job j = {x, y, planes, vol, vol >= 32768 ? 1 : 32768 / vol, is_max};
        oc_pool_run(c->pool, (planes + j.per_item - 1) / j.per_item, global_f32_item, &j);
        break;
    }
    default: {
        pool_gen_job j = {.x = x, .y = y, .vol = vol, .is_max = is_max};
        oc_par_for(c->pool, planes, planes * vol, c->in[0]->dtype == ONNXC_DOUBLE ? global_f64 : global_f16, &j);
        break;
    }
    }
    return ONNXC_OK;
}

static onnxc_status global_avg_run(oc_kctx *c)
{
    return global_run(c, false);
}

static onnxc_status global_max_run(oc_kctx *c)
{
    return global_run(c, true);
}

const oc_kernel oc_kernels_pool[] = {
    {"MaxPool", NULL, 1, 0, 0, maxpool_infer, NULL, maxpool_run, NULL, 0},
    {"AveragePool", NULL, 1, 0, 0, avgpool_infer, NULL, avgpool_run, NULL, 0},
    {"GlobalAveragePool", NULL, 1, 0, 0, global_infer, NULL, global_avg_run, NULL, 0},
    {"GlobalMaxPool", NULL, 1, 0, 0, global_infer, NULL, global_max_run, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
