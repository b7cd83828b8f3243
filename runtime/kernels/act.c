/* Fused activations over a kernel's output (see act.h): a vector exp (AVX2) for Sigmoid and SiLU, the rest
 * with the same float operations as the standalone ops, in items split across the pool. */
#include "act.h"

#include <math.h>

#include "threadpool.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

/* exp(x) for x in [-87.3, 88.7] (inputs clamped there): x = n ln2 + r, |r| <= ln2 / 2, 2^n built in the
 * exponent and exp(r) a degree-6 polynomial (Cephes' expf coefficients); a few units in the last place. */
static inline __m256 act_exp256(__m256 x)
{
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.33654f)), _mm256_set1_ps(88.72283f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    /* n in [-126, 128]: 2^n as two factors so that n = 128 (x near 88.7) does not overflow the exponent */
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i h = _mm256_srai_epi32(ni, 1);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, _mm256_set1_epi32(127)), 23));
    const __m256 s2 =
        _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, h), _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

static inline __m256 act_sigmoid256(__m256 x)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, act_exp256(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

static inline __m256 act_vec(int act, __m256 x, __m256 va, __m256 vb, __m256 vs)
{
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    switch (act) {
    case OC_ACT_SIGMOID:
        return act_sigmoid256(x);
    case OC_ACT_SILU:
        return _mm256_mul_ps(x, act_sigmoid256(x));
    case OC_ACT_HARDSIGMOID: /* operands in fminf/fmaxf's NaN order: NaN -> 1, as the unfused op */
        return _mm256_max_ps(_mm256_min_ps(_mm256_add_ps(_mm256_mul_ps(va, x), vb), one), zero);
    case OC_ACT_HARDSWISH:
        return _mm256_mul_ps(x, _mm256_max_ps(_mm256_min_ps(_mm256_add_ps(_mm256_mul_ps(va, x), vb), one), zero));
    case OC_ACT_HARDSWISH14:
        return _mm256_mul_ps(
            x, _mm256_max_ps(_mm256_min_ps(_mm256_add_ps(_mm256_div_ps(x, _mm256_set1_ps(6.0f)), vb), one), zero));
    case OC_ACT_LEAKYRELU:
        return _mm256_blendv_ps(x, _mm256_mul_ps(va, x), _mm256_cmp_ps(x, zero, _CMP_LT_OQ));
    default: /* OC_ACT_PRELU */
        return _mm256_blendv_ps(x, _mm256_mul_ps(vs, x), _mm256_cmp_ps(x, zero, _CMP_LT_OQ));
    }
}
#endif

/* As HardSigmoid and HardSwish compute it (no contraction into an fma: the build is ISO C) */
static inline float act_hardsigmoid(float alpha, float beta, float x)
{
    return fmaxf(0.0f, fminf(1.0f, alpha * x + beta));
}

static inline float act_one(int act, float alpha, float beta, float slope, float x)
{
    switch (act) {
    case OC_ACT_SIGMOID:
        return 1.0f / (1.0f + expf(-x));
    case OC_ACT_SILU:
        return x * (1.0f / (1.0f + expf(-x)));
    case OC_ACT_HARDSIGMOID:
        return act_hardsigmoid(alpha, beta, x);
    case OC_ACT_HARDSWISH:
        return x * act_hardsigmoid(alpha, beta, x);
    case OC_ACT_HARDSWISH14:
        return x * fmaxf(0.0f, fminf(1.0f, x / 6.0f + 0.5f));
    case OC_ACT_LEAKYRELU:
        return x < 0.0f ? alpha * x : x;
    default: /* OC_ACT_PRELU */
        return x < 0.0f ? slope * x : x;
    }
}

void oc_act_span(int act, float alpha, float beta, float slope, float *y, int64_t n)
{
    int64_t i = 0;
#if defined(__AVX2__) && defined(__FMA__)
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta), vs = _mm256_set1_ps(slope);
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, act_vec(act, _mm256_loadu_ps(y + i), va, vb, vs));
    if (i < n && act != OC_ACT_SIGMOID && act != OC_ACT_SILU) {
        /* the tail through the same vector code (one masked load and store), so every element is computed
         * the same way */
        const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)),
                                             _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        _mm256_maskstore_ps(y + i, m, act_vec(act, _mm256_maskload_ps(y + i, m), va, vb, vs));
        return;
    }
    if (i < n) {
        float t[8] = {0};
        for (int64_t k = i; k < n; k++)
            t[k - i] = y[k];
        _mm256_storeu_ps(t, act_vec(act, _mm256_loadu_ps(t), va, vb, vs));
        for (int64_t k = i; k < n; k++)
            y[k] = t[k - i];
        return;
    }
#endif
    for (; i < n; i++)
        y[i] = act_one(act, alpha, beta, slope, y[i]);
}

typedef struct act_job {
    const oc_kctx *c;
    float *y;
    int64_t planes, channels, plane, per_item; /* per_item: planes per item, or floats per item when chunked */
    bool chunked;
} act_job;

static void act_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const act_job *j = arg;
    const oc_kctx *c = j->c;
    if (j->chunked) {
        const int64_t total = j->planes * j->plane, a = item * j->per_item;
        const int64_t b = a + j->per_item < total ? a + j->per_item : total;
        oc_act_span(c->fuse_act, c->fuse_alpha, c->fuse_beta, c->fuse_slope ? c->fuse_slope[0] : 0.0f, j->y + a,
                    b - a);
        return;
    }
    const int64_t p0 = item * j->per_item, p1 = p0 + j->per_item < j->planes ? p0 + j->per_item : j->planes;
    for (int64_t p = p0; p < p1; p++) {
        const float slope = c->fuse_slope_n > 1 ? c->fuse_slope[p % j->channels] : c->fuse_slope[0];
        oc_act_span(c->fuse_act, c->fuse_alpha, c->fuse_beta, slope, j->y + p * j->plane, j->plane);
    }
}

void oc_act_apply(const oc_kctx *c, float *y, int64_t planes, int64_t channels, int64_t plane)
{
    if (c->fuse_act == OC_ACT_NONE || planes <= 0 || plane <= 0)
        return;
    const int64_t total = planes * plane, chunk = 16384; /* floats per item: claiming costs little */
    act_job j = {c, y, planes, channels, plane, 0, false};
    /* NCHW planes only when the slope differs by channel */
    int64_t items;
    if (c->fuse_act != OC_ACT_PRELU || c->fuse_slope_n <= 1) {
        j.chunked = true;
        j.per_item = chunk;
        items = (total + chunk - 1) / chunk;
    } else {
        j.per_item = plane >= chunk ? 1 : chunk / plane;
        items = (planes + j.per_item - 1) / j.per_item;
    }
    oc_pool_run(c->pool, items, act_item, &j);
}
