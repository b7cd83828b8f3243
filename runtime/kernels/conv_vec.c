/* Convolutions on 1 x 1 planes (the squeeze-excite block's two 1 x 1 convolutions on a [N, C, 1, 1] vector after
 * GlobalAveragePool) as matrix-vector products: AVX2 dot products, four output channels at a time, with the
 * fused epilogue; small ones run on the caller alone (waking the pool costs more than the work). */
#include "conv_vec.h"

#include "act.h"
#include "threadpool.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

/* Below this many multiply-adds a product runs on the caller: a pool job costs a few microseconds of wake-up,
 * as much as ~0.13 M multiply-adds take on one core. */
#define CONV_VEC_SERIAL_MACS 131072

typedef struct conv_vec_job {
    const oc_kctx *c;
    const float *x, *w, *bias, *res;
    float *y;
    int64_t n, m, k, per_item; /* batch, output channels, input channels; output channels per item */
    bool act;                  /* apply c->fuse_act here */
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
    for (int64_t o = m0; o < m1; o += 4) {
        const int rows = m1 - o < 4 ? (int)(m1 - o) : 4;
        dots(j->w + o * j->k, x, j->k, rows, y + o);
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

void oc_conv_vec_run(const oc_kctx *c, const float *x, const float *w, const float *bias, float *y, int64_t n,
                     int64_t m, int64_t k, bool act)
{
    if (n <= 0 || m <= 0)
        return;
    conv_vec_job j = {c, x, w, bias, c->fuse_res ? c->fuse_res->data : NULL, y, n, m, k, m, act};
    const double macs = (double)n * (double)m * (double)k;
    oc_threadpool *pool = macs < CONV_VEC_SERIAL_MACS ? NULL : c->pool;
    const int slots = pool ? oc_pool_threads(pool) : 1;
    if (slots > 1) {
        /* a few items per thread, whole groups of 4 channels */
        int64_t per = (m + 4 * slots - 1) / (4 * slots);
        per = (per + 3) / 4 * 4;
        j.per_item = per < 4 ? 4 : per;
    }
    const int64_t blocks = (m + j.per_item - 1) / j.per_item;
    oc_pool_run(pool, n * blocks, conv_vec_item, &j);
}
