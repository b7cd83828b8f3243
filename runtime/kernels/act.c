/* Fused activations over a kernel's output (see act.h): the same code as the standalone ops (vmath for the
 * sigmoid and hard-sigmoid families, the same select for LeakyRelu and PRelu), in items split across the pool. */
#include "act.h"


#include "threadpool.h"
#include "vmath.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

/* LeakyRelu and PRelu: the select the standalone ops compute */
static inline __m256 act_vec(int act, __m256 x, __m256 va, __m256 vs)
{
    const __m256 zero = _mm256_setzero_ps();
    return _mm256_blendv_ps(x, _mm256_mul_ps(act == OC_ACT_LEAKYRELU ? va : vs, x),
                            _mm256_cmp_ps(x, zero, _CMP_LT_OQ));
}
#endif

/* The exported exact GELU over n floats, op by op as the unfused Div (or Mul), Erf, Add 1, Mul by x and Mul by 0.5
 * compute it (IEEE operations in the same order, and vmath's erf, which computes each element alone), so the
 * fused chain gives the unfused chain's bits. */
static void act_gelu_erf(float *y, int64_t n, float k, bool div)
{
    float t[256];
    for (int64_t a = 0; a < n; a += 256) {
        const int64_t m = n - a < 256 ? n - a : 256;
        float *ya = y + a;
        for (int64_t i = 0; i < m; i++)
            t[i] = div ? ya[i] / k : ya[i] * k;
        oc_vm_erf(t, t, m);
        for (int64_t i = 0; i < m; i++) {
            const float g = t[i] + 1.0f;
            const float p = ya[i] * g;
            ya[i] = p * 0.5f;
        }
    }
}

/* The sigmoid and hard-sigmoid families go through vmath, the code the standalone Sigmoid, HardSigmoid and
 * HardSwish ops and the Mul of x by them run, so a fused chain gives the unfused chain's bits. */
void oc_act_span(int act, float alpha, float beta, float slope, float *y, int64_t n)
{
    switch (act) {
    case OC_ACT_SIGMOID:
        oc_vm_sigmoid(y, y, n);
        return;
    case OC_ACT_SILU:
        oc_vm_silu(y, y, n); /* mul_sigmoid(y, y, y)'s bits (test_vmath), one load a vector */
        return;
    case OC_ACT_HARDSIGMOID:
        oc_vm_hardsigmoid(y, y, n, alpha, beta);
        return;
    case OC_ACT_HARDSWISH:
        oc_vm_mul_hardsigmoid(y, y, y, n, alpha, beta);
        return;
    case OC_ACT_HARDSWISH14:
        oc_vm_hardswish(y, y, n);
        return;
    case OC_ACT_GELU_ERF:
        act_gelu_erf(y, n, alpha, beta != 0.0f);
        return;
    default:
        break;
    }
    const float k = act == OC_ACT_LEAKYRELU ? alpha : slope;
    int64_t i = 0;
#if defined(__AVX2__) && defined(__FMA__)
    const __m256 va = _mm256_set1_ps(alpha), vs = _mm256_set1_ps(slope);
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, act_vec(act, _mm256_loadu_ps(y + i), va, vs));
#endif
    (void)beta;
    for (; i < n; i++)
        y[i] = y[i] < 0.0f ? k * y[i] : y[i];
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
