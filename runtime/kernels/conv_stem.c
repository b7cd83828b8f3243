/* Direct 2-D convolutions with few input channels: the first convolution of a CNN on the 3-channel image
 * (3 x 3 stride 2 in MobileNet / EfficientNet / RegNet, 7 x 7 stride 2 in ResNet / DenseNet / GoogLeNet). The GEMM
 * paths' depth is only c_in x kh x kw there (27 for 3 x 3), too short to repay their B blocks and tile set-up.
 * Here the input rows of a group of output rows are first copied, zero-padded and split into column phases of
 * the stride, into a small per-thread buffer, so every tap reads a contiguous run of it; then tiles of width output
 * channels x up to three vectors of output positions of one row stay in registers over all the taps, each
 * weight broadcast and multiplied into a vector of positions. The rows are written plain NCHW with the epilogue
 * (bias first, as the accumulator's start; then residual, clamp) in registers and the fused activation by the
 * unfused code while the row is in cache. */
#include "conv_stem.h"

#include <string.h>

#include "act.h"
#include "threadpool.h"
#include "util.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#define STEM_VL 16 /* positions per vector */
#define STEM_M 8   /* output channels per tile: 8 x 3 accumulators of the 32 registers */
typedef __m512 sv;
#define SV_LOAD(p) _mm512_loadu_ps(p)
#define SV_SET1(x) _mm512_set1_ps(x)
#define SV_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define SV_ADD(a, b) _mm512_add_ps(a, b)
#define SV_MAX(a, b) _mm512_max_ps(a, b)
#define SV_MIN(a, b) _mm512_min_ps(a, b)
static inline void sv_storen(float *p, int64_t n, sv v)
{
    if (n >= STEM_VL)
        _mm512_storeu_ps(p, v);
    else
        _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), v);
}
static inline sv sv_loadn(const float *p, int64_t n)
{
    return n >= STEM_VL ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
}
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include "simd.h"
#define STEM_VL 8
#define STEM_M 4 /* 4 x 3 accumulators of the 16 registers */
typedef __m256 sv;
#define SV_LOAD(p) _mm256_loadu_ps(p)
#define SV_SET1(x) _mm256_set1_ps(x)
#define SV_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define SV_ADD(a, b) _mm256_add_ps(a, b)
#define SV_MAX(a, b) _mm256_max_ps(a, b)
#define SV_MIN(a, b) _mm256_min_ps(a, b)
static inline void sv_storen(float *p, int64_t n, sv v)
{
    if (n >= STEM_VL)
        _mm256_storeu_ps(p, v);
    else
        oc_storen8(p, n, v);
}
static inline sv sv_loadn(const float *p, int64_t n)
{
    if (n >= STEM_VL)
        return _mm256_loadu_ps(p);
    float t[STEM_VL] = {0};
    memcpy(t, p, (size_t)n * sizeof *t);
    return _mm256_loadu_ps(t);
}
#endif

/* Vectors of positions per tile, at most. */
#define STEM_P 3
/* Output rows whose input rows are buffered together (each input row copied once per group, not once per output
 * row reading it: 1.5 times for 3 x 3 stride 2, 3.5 times for 7 x 7 stride 2). */
#define STEM_GROUP_ROWS 8

bool oc_stem_ok(int64_t c_in, int64_t m, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw)
{
#ifdef STEM_VL
    return c_in >= 1 && c_in <= 4 && c_in * kh * kw <= 160 && m >= 8 && sh >= 1 && sh <= 4 && sw >= 1 && sw <= 4 &&
           dh >= 1 && dh <= 4 && dw >= 1 && dw <= 4;
#else
    (void)c_in, (void)m, (void)kh, (void)kw, (void)sh, (void)sw, (void)dh, (void)dw;
    return false;
#endif
}

void oc_stem_free(oc_stem *s)
{
    oc_free(s->off);
    oc_free(s->w);
    s->off = NULL;
    s->w = NULL;
}

#ifdef STEM_VL

onnxc_status oc_stem_plan(oc_stem *s, const float *w, int64_t c_in, int64_t m, int64_t ih, int64_t iw, int64_t oh,
                          int64_t ow, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw,
                          int64_t ph, int64_t pw)
{
    memset(s, 0, sizeof *s);
    s->c_in = c_in, s->m = m, s->ih = ih, s->iw = iw, s->oh = oh, s->ow = ow;
    s->kh = kh, s->kw = kw, s->sh = sh, s->sw = sw, s->dh = dh, s->dw = dw, s->ph = ph, s->pw = pw;
    s->ntaps = c_in * kh * kw;
    const int64_t ovec = (ow + STEM_VL - 1) / STEM_VL * STEM_VL;
    s->wq = (ovec + ((kw - 1) * dw) / sw + 15) / 16 * 16;
    s->group_rows = STEM_GROUP_ROWS;
    s->nr = (s->group_rows - 1) * sh + (kh - 1) * dh + 1;
    s->row_floats = c_in * s->nr * sw * s->wq;
    s->mblocks = (m + STEM_M - 1) / STEM_M;
    s->off = oc_calloc((size_t)s->ntaps, sizeof *s->off);
    s->w = oc_calloc((size_t)(s->mblocks * s->ntaps * STEM_M), sizeof *s->w);
    if (!s->off || !s->w)
        return oc_err(ONNXC_E_NOMEM, "out of memory for the convolution plan");
    for (int64_t ci = 0; ci < c_in; ci++)
        for (int64_t a = 0; a < kh; a++)
            for (int64_t b = 0; b < kw; b++) {
                const int64_t t = (ci * kh + a) * kw + b, tw = b * dw;
                s->off[t] = ((ci * s->nr + a * dh) * sw + tw % sw) * s->wq + tw / sw;
            }
    for (int64_t o = 0; o < m; o++)
        for (int64_t t = 0; t < s->ntaps; t++)
            s->w[((o / STEM_M) * s->ntaps + t) * STEM_M + o % STEM_M] = w[o * s->ntaps + t];
    return ONNXC_OK;
}

int64_t oc_stem_work_floats(const oc_stem *s)
{
    return (s->row_floats + 15) / 16 * 16;
}

/* The nin input rows from ir0 on, zero-padded, split by column phase: buffer row (ci, i), phase q, entry j holds
 * padded column j * sw + q of input row ir0 + i of channel ci. */
static void fill_rows(const oc_stem *s, const float *x, int64_t ir0, int64_t nin, float *buf)
{
    for (int64_t ci = 0; ci < s->c_in; ci++) {
        for (int64_t a = 0; a < nin; a++) {
            const int64_t ir = ir0 + a;
            float *dst = buf + (ci * s->nr + a) * s->sw * s->wq;
            if (ir < 0 || ir >= s->ih) {
                memset(dst, 0, (size_t)(s->sw * s->wq) * sizeof *dst);
                continue;
            }
            const float *src = x + (ci * s->ih + ir) * s->iw;
            for (int64_t q = 0; q < s->sw; q++) {
                float *d = dst + q * s->wq;
                /* entries j whose input column j * sw + q - pw lies in [0, iw) */
                int64_t lo = q >= s->pw ? 0 : (s->pw - q + s->sw - 1) / s->sw;
                int64_t hi = s->iw - 1 + s->pw - q < 0 ? 0 : (s->iw - 1 + s->pw - q) / s->sw + 1;
                if (hi > s->wq)
                    hi = s->wq;
                if (lo > hi)
                    lo = hi;
                memset(d, 0, (size_t)lo * sizeof *d);
                const float *sr = src + lo * s->sw + q - s->pw;
                if (s->sw == 1) {
                    memcpy(d + lo, sr, (size_t)(hi - lo) * sizeof *d);
                } else if (s->sw == 2) {
                    for (int64_t i = 0; i < hi - lo; i++) /* a constant stride GCC vectorises */
                        d[lo + i] = sr[2 * i];
                } else {
                    for (int64_t i = 0; i < hi - lo; i++)
                        d[lo + i] = sr[i * s->sw];
                }
                memset(d + hi, 0, (size_t)(s->wq - hi) * sizeof *d);
            }
        }
    }
}

typedef struct stem_job {
    const oc_kctx *c;
    const oc_stem *s;
    const float *x, *bias, *res;
    float *y, *work;
    int64_t n, rows_per_item, items_per_image;
} stem_job;

/* Output channels o0 .. o0 + STEM_M (those below m stored) x np vectors of positions from column c0 of output
 * row r: the accumulators start at the bias, take every tap in order, then + res and the clamp. */
static inline __attribute__((always_inline)) void tile(const stem_job *j, const float *buf, const float *wb,
                                                     int64_t o0, int64_t r, int64_t c0, const int np)
{
    const oc_stem *s = j->s;
    const oc_kctx *c = j->c;
    sv acc[STEM_M][STEM_P];
#pragma GCC unroll 8
    for (int i = 0; i < STEM_M; i++) {
        const sv b0 = SV_SET1(j->bias && o0 + i < s->m ? j->bias[o0 + i] : 0.0f);
#pragma GCC unroll 3
        for (int v = 0; v < np; v++)
            acc[i][v] = b0;
    }
    const float *bp = buf + c0;
    for (int64_t t = 0; t < s->ntaps; t++) {
        const float *xr = bp + s->off[t];
        const float *wt = wb + t * STEM_M;
        sv xv[STEM_P];
#pragma GCC unroll 3
        for (int v = 0; v < np; v++)
            xv[v] = SV_LOAD(xr + v * STEM_VL);
#pragma GCC unroll 8
        for (int i = 0; i < STEM_M; i++) {
            const sv wv = SV_SET1(wt[i]);
#pragma GCC unroll 3
            for (int v = 0; v < np; v++)
                acc[i][v] = SV_FMA(wv, xv[v], acc[i][v]);
        }
    }
    const int64_t ov = s->oh * s->ow;
    const sv vlo = SV_SET1(c->fuse_lo), vhi = SV_SET1(c->fuse_hi);
#pragma GCC unroll 8
    for (int i = 0; i < STEM_M; i++) {
        if (o0 + i >= s->m)
            break;
        float *yr = j->y + (o0 + i) * ov + r * s->ow + c0;
        const float *rr = j->res ? j->res + (o0 + i) * ov + r * s->ow + c0 : NULL;
#pragma GCC unroll 3
        for (int v = 0; v < np; v++) {
            const int64_t left = s->ow - c0 - v * STEM_VL;
            sv a = acc[i][v];
            if (rr)
                a = SV_ADD(a, sv_loadn(rr + v * STEM_VL, left));
            if (c->fuse_clamp) /* as Clip: a NaN passes (max / min return their second operand then) */
                a = SV_MIN(vhi, SV_MAX(vlo, a));
            sv_storen(yr + v * STEM_VL, left, a);
        }
    }
}

/* Output row r, all channels, from the buffered input rows of its group (buf: at the row's first input row). */
static void stem_row(const stem_job *j, const float *buf, int64_t r, int64_t nv)
{
    const oc_stem *s = j->s;
    const oc_kctx *c = j->c;
    const int64_t ov = s->oh * s->ow;
    for (int64_t mb = 0; mb < s->mblocks; mb++) {
        const float *wb = s->w + mb * s->ntaps * STEM_M;
        int64_t v = 0;
        /* tiles of 3 vectors, the rest as 2 + 2 or 2 or 1 (7 vectors: 3 + 2 + 2) */
        for (; nv - v >= 5 || nv - v == 3; v += 3)
            tile(j, buf, wb, mb * STEM_M, r, v * STEM_VL, 3);
        for (; nv - v >= 2; v += 2)
            tile(j, buf, wb, mb * STEM_M, r, v * STEM_VL, 2);
        if (v < nv)
            tile(j, buf, wb, mb * STEM_M, r, v * STEM_VL, 1);
    }
    if (c->fuse_act != OC_ACT_NONE)
        for (int64_t o = 0; o < s->m; o++) {
            const float slope = !c->fuse_slope ? 0.0f : c->fuse_slope_n > 1 ? c->fuse_slope[o] : c->fuse_slope[0];
            oc_act_span(c->fuse_act, c->fuse_alpha, c->fuse_beta, slope, j->y + o * ov + r * s->ow, s->ow);
        }
}

static void stem_item(void *arg, int64_t item, int slot)
{
    const stem_job *j = arg;
    const oc_stem *s = j->s;
    const int64_t b = item / j->items_per_image, r0 = (item % j->items_per_image) * j->rows_per_item;
    const int64_t r1 = r0 + j->rows_per_item < s->oh ? r0 + j->rows_per_item : s->oh;
    const int64_t ov = s->oh * s->ow, nv = (s->ow + STEM_VL - 1) / STEM_VL;
    float *buf = j->work + (int64_t)slot * oc_stem_work_floats(s);
    stem_job jb = *j;
    jb.y = j->y + b * s->m * ov;
    jb.res = j->res ? j->res + b * s->m * ov : NULL;
    const float *xb = j->x + b * s->c_in * s->ih * s->iw;
    for (int64_t ra = r0; ra < r1; ra += s->group_rows) {
        const int64_t rb = ra + s->group_rows < r1 ? ra + s->group_rows : r1;
        fill_rows(s, xb, ra * s->sh - s->ph, (rb - 1 - ra) * s->sh + (s->kh - 1) * s->dh + 1, buf);
        for (int64_t r = ra; r < rb; r++)
            stem_row(&jb, buf + (r - ra) * s->sh * s->sw * s->wq, r, nv);
    }
}

void oc_stem_run(const oc_kctx *c, struct oc_threadpool *pool, const oc_stem *s, const float *x, const float *bias,
                 float *y, int64_t n, float *work)
{
    if (n <= 0 || s->oh <= 0 || s->ow <= 0)
        return;
    stem_job j;
    memset(&j, 0, sizeof j);
    j.c = c;
    j.s = s;
    j.x = x;
    j.bias = bias;
    j.res = c->fuse_res ? c->fuse_res->data : NULL;
    j.y = y;
    j.work = work;
    j.n = n;
    /* about eight items per thread, so a slowed core's share is taken by the others */
    const int slots = pool ? oc_pool_threads(pool) : 1;
    int64_t per = slots > 1 ? (n * s->oh + 8 * slots - 1) / (8 * slots) : s->oh;
    if (per < 1)
        per = 1;
    if (per > s->oh)
        per = s->oh;
    j.rows_per_item = per;
    j.items_per_image = (s->oh + per - 1) / per;
    oc_pool_run(pool, n * j.items_per_image, stem_item, &j);
}

#else /* no vector kernel in this build: oc_stem_ok says no, so these are never called */

onnxc_status oc_stem_plan(oc_stem *s, const float *w, int64_t c_in, int64_t m, int64_t ih, int64_t iw, int64_t oh,
                          int64_t ow, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw,
                          int64_t ph, int64_t pw)
{
    (void)w, (void)c_in, (void)m, (void)ih, (void)iw, (void)oh, (void)ow, (void)kh, (void)kw, (void)sh, (void)sw;
    (void)dh, (void)dw, (void)ph, (void)pw;
    memset(s, 0, sizeof *s);
    return oc_err(ONNXC_E_UNSUPPORTED, "the few-channel convolution kernel is not in this build");
}

int64_t oc_stem_work_floats(const oc_stem *s)
{
    (void)s;
    return 0;
}

void oc_stem_run(const oc_kctx *c, struct oc_threadpool *pool, const oc_stem *s, const float *x, const float *bias,
                 float *y, int64_t n, float *work)
{
    (void)c, (void)pool, (void)s, (void)x, (void)bias, (void)y, (void)n, (void)work;
}

#endif
