/* Convolutions on 1 x 1 planes (the squeeze-excite block's two 1 x 1 convolutions on a [N, C, 1, 1] vector after
 * GlobalAveragePool) as matrix-vector products with the fused epilogue: constant weights packed input-major in
 * blocks of 64 output channels (one sequential weight stream, eight accumulators, no horizontal sums), other
 * weights as AVX2 dot products four output channels at a time; small ones run on the caller alone (waking the
 * pool costs more than the work). */
#include "conv_vec.h"

#include <math.h>

#include "act.h"
#include "threadpool.h"
#include "util.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

/* Below this many multiply-adds a product runs on the caller: a pool job costs a few microseconds of wake-up,
 * as much as ~0.13 M multiply-adds take on one core. */
#define CONV_VEC_SERIAL_MACS 131072

/* Output channels per block of the packed layout: eight AVX2 accumulators, two FMAs a cycle despite each
 * one's latency. */
#define VEC_BLOCK 64

typedef struct conv_vec_job {
    const oc_kctx *c;
    const float *x, *w, *bias, *res;
    float *y;
    int64_t n, m, k, per_item; /* batch, output channels, input channels; output channels per item */
    bool act;                  /* apply c->fuse_act here */
    bool packed;               /* w is oc_conv_vec_pack's layout; per_item a multiple of VEC_BLOCK */
} conv_vec_job;

#if defined(__AVX2__) && defined(__FMA__)
static inline float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
#endif

/* out[r] = dot(w + r * k, x) for r < rows (rows <= 4), in the same order whichever rows are computed together. */
static void dots(const float *w, const float *x, int64_t k, int rows, float *out)
{
#if defined(__AVX2__) && defined(__FMA__)
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int64_t i = 0;
    for (; i + 8 <= k; i += 8) {
        const __m256 xv = _mm256_loadu_ps(x + i);
        for (int r = 0; r < rows; r++)
            acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps(w + r * k + i), xv, acc[r]);
    }
    if (i < k) {
        const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(k - i)), idx);
        const __m256 xv = _mm256_maskload_ps(x + i, mask);
        for (int r = 0; r < rows; r++)
            acc[r] = _mm256_fmadd_ps(_mm256_maskload_ps(w + r * k + i, mask), xv, acc[r]);
    }
    for (int r = 0; r < rows; r++)
        out[r] = hsum(acc[r]);
#else
    for (int r = 0; r < rows; r++) {
        float s = 0.0f;
        for (int64_t i = 0; i < k; i++)
            s += w[r * k + i] * x[i];
        out[r] = s;
    }
#endif
}

onnxc_status oc_conv_vec_pack(const float *w, int64_t m, int64_t k, float **out)
{
    const int64_t mp = (m + 7) / 8 * 8;
    float *p = oc_calloc((size_t)(mp * k), sizeof *p);
    *out = p;
    if (!p)
        return oc_err(ONNXC_E_NOMEM, "out of memory packing %lld x %lld weights", (long long)m, (long long)k);
    for (int64_t b0 = 0; b0 < mp; b0 += VEC_BLOCK) {
        const int64_t bw = mp - b0 < VEC_BLOCK ? mp - b0 : VEC_BLOCK;
        float *u = p + b0 * k;
        for (int64_t o = b0; o < b0 + bw && o < m; o++)
            for (int64_t i = 0; i < k; i++)
                u[i * bw + (o - b0)] = w[o * k + i];
    }
    return ONNXC_OK;
}

/* Outputs b0 .. b0 + bw (bw a multiple of 8, at most VEC_BLOCK; only those below m stored) of the packed
 * layout: each output one FMA chain over i in order from zero. */
static void packed_block(const float *u, const float *x, int64_t k, int64_t bw, int64_t b0, int64_t m, float *y)
{
#if defined(__AVX2__) && defined(__FMA__)
    __m256 acc[VEC_BLOCK / 8];
    const int nv = (int)(bw / 8);
    for (int v = 0; v < VEC_BLOCK / 8; v++)
        acc[v] = _mm256_setzero_ps();
    if (nv == VEC_BLOCK / 8) {
        for (int64_t i = 0; i < k; i++) {
            const __m256 xv = _mm256_broadcast_ss(x + i);
            const float *ui = u + i * VEC_BLOCK;
#pragma GCC unroll 8
            for (int v = 0; v < VEC_BLOCK / 8; v++)
                acc[v] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(ui + 8 * v), acc[v]);
        }
    } else {
        for (int64_t i = 0; i < k; i++) {
            const __m256 xv = _mm256_broadcast_ss(x + i);
            const float *ui = u + i * bw;
            for (int v = 0; v < nv; v++)
                acc[v] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(ui + 8 * v), acc[v]);
        }
    }
    float t[VEC_BLOCK];
    for (int v = 0; v < nv; v++)
        _mm256_storeu_ps(t + 8 * v, acc[v]);
    for (int64_t o = b0; o < b0 + bw && o < m; o++)
        y[o] = t[o - b0];
#else
    for (int64_t o = b0; o < b0 + bw && o < m; o++) {
        float s = 0.0f;
        for (int64_t i = 0; i < k; i++)
            s = fmaf(x[i], u[i * bw + (o - b0)], s);
        y[o] = s;
    }
#endif
}

static void conv_vec_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const conv_vec_job *j = arg;
    const oc_kctx *c = j->c;
    const int64_t blocks = (j->m + j->per_item - 1) / j->per_item;
    const int64_t b = item / blocks, m0 = (item % blocks) * j->per_item;
    const int64_t m1 = m0 + j->per_item < j->m ? m0 + j->per_item : j->m;
    const float *x = j->x + b * j->k;
    float *y = j->y + b * j->m;
    if (j->packed) {
        const int64_t mp = (j->m + 7) / 8 * 8;
        for (int64_t b0 = m0; b0 < m1; b0 += VEC_BLOCK) {
            const int64_t bw = mp - b0 < VEC_BLOCK ? mp - b0 : VEC_BLOCK;
            packed_block(j->w + b0 * j->k, x, j->k, bw, b0, j->m, y);
        }
    } else {
        for (int64_t o = m0; o < m1; o += 4) {
            const int rows = m1 - o < 4 ? (int)(m1 - o) : 4;
            dots(j->w + o * j->k, x, j->k, rows, y + o);
        }
    }
    const float *res = j->res ? j->res + b * j->m : NULL;
    for (int64_t o = m0; o < m1; o++) {
        float v = y[o];
        if (j->bias)
            v = v + j->bias[o];
        if (res)
            v = v + res[o];
        if (c->fuse_clamp) /* as Clip: NaN passes */
            v = v < c->fuse_lo ? c->fuse_lo : v > c->fuse_hi ? c->fuse_hi : v;
        y[o] = v;
    }
    if (j->act && c->fuse_act != OC_ACT_NONE) {
        if (c->fuse_act == OC_ACT_PRELU && c->fuse_slope_n > 1) {
            for (int64_t o = m0; o < m1; o++)
                oc_act_span(c->fuse_act, c->fuse_alpha, c->fuse_beta, c->fuse_slope[o], y + o, 1);
        } else {
            oc_act_span(c->fuse_act, c->fuse_alpha, c->fuse_beta, c->fuse_slope ? c->fuse_slope[0] : 0.0f, y + m0,
                        m1 - m0);
        }
    }
}

void oc_conv_vec_run(const oc_kctx *c, const float *x, const float *w, bool packed, const float *bias, float *y,
                     int64_t n, int64_t m, int64_t k, bool act)
{
    if (n <= 0 || m <= 0)
        return;
    conv_vec_job j = {c, x, w, bias, c->fuse_res ? c->fuse_res->data : NULL, y, n, m, k, m, act, packed};
    const double macs = (double)n * (double)m * (double)k;
    oc_threadpool *pool = macs < CONV_VEC_SERIAL_MACS ? NULL : c->pool;
    const int slots = pool ? oc_pool_threads(pool) : 1;
    if (slots > 1) {
        /* a few items per thread, whole groups of 4 channels (packed: whole blocks) */
        const int64_t unit = packed ? VEC_BLOCK : 4;
        int64_t per = (m + 4 * slots - 1) / (4 * slots);
        per = (per + unit - 1) / unit * unit;
        j.per_item = per < unit ? unit : per;
    }
    const int64_t blocks = (m + j.per_item - 1) / j.per_item;
    oc_pool_run(pool, n * blocks, conv_vec_item, &j);
}
