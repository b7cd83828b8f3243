/* Blocked-layout (NCHW8c) convolution kernels; see blocked.h. */
#include <string.h>

#include "blocked.h"
#include "act.h"
#include "linalg.h"
#include "threadpool.h"
#include "util.h"

#ifdef OC_BLK_KERNELS
#include <immintrin.h>

#include "simd.h"

onnxc_status oc_blk_pw_pack(const float *w, int64_t m, int64_t k, float **out)
{
    float *p = oc_malloc((size_t)(m * k) * sizeof *p);
    *out = p;
    if (!p)
        return oc_err(ONNXC_E_NOMEM, "out of memory packing %lld x %lld weights", (long long)m, (long long)k);
    for (int64_t c0 = 0; c0 < m; c0 += 16) {
        const int64_t nb = m - c0 >= 16 ? 16 : 8; /* channels in this unit */
        float *u = p + c0 * k;
        for (int64_t kk = 0; kk < k; kk++)
            for (int64_t j = 0; j < nb; j++)
                u[kk * nb + j] = w[(c0 + j) * k + kk];
    }
    return ONNXC_OK;
}

typedef struct pw_job {
    const float *x, *packed, *bias;
    float *y;
    int64_t m, k, hw, chunk, n_chunks, units, per_group, n_groups;
    bool clamp;
    float lo, hi;
} pw_job;

static inline __m256 clampv(__m256 v, bool clamp, __m256 lo, __m256 hi)
{
    /* max(lo, v) and min(hi, v) return v when it is NaN, as Relu and Clip do */
    return clamp ? _mm256_min_ps(hi, _mm256_max_ps(lo, v)) : v;
}

/* Positions q .. q + np (np <= 6) of one unit of 16 (two blocks, nb = 2) or 8 channels. x points at position
 * q of channel 0; o0 / o1 at position q of the unit's blocks. */
static inline __attribute__((always_inline)) void pw_tile(const float *x, int64_t hw, int64_t k, const float *u,
                                                          int nb, int np, __m256 b0, __m256 b1, float *o0,
                                                          float *o1, bool clamp, __m256 lo, __m256 hi)
{
    __m256 acc[6][2];
    for (int r = 0; r < 6; r++) {
        acc[r][0] = b0;
        acc[r][1] = b1;
    }
    for (int64_t kk = 0; kk < k; kk++) {
        const float *xk = x + kk * hw;
        const __m256 w0 = _mm256_loadu_ps(u + kk * nb * 8), w1 = nb == 2 ? _mm256_loadu_ps(u + kk * 16 + 8) : w0;
#pragma GCC unroll 6
        for (int r = 0; r < 6; r++) {
            if (r < np) {
                const __m256 v = _mm256_broadcast_ss(xk + r);
                acc[r][0] = _mm256_fmadd_ps(v, w0, acc[r][0]);
                if (nb == 2)
                    acc[r][1] = _mm256_fmadd_ps(v, w1, acc[r][1]);
            }
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < 6; r++) {
        if (r < np) {
            _mm256_storeu_ps(o0 + r * 8, clampv(acc[r][0], clamp, lo, hi));
            if (nb == 2)
                _mm256_storeu_ps(o1 + r * 8, clampv(acc[r][1], clamp, lo, hi));
        }
    }
}

/* One item: a chunk of positions of one image x a group of channel units. */
static void pw_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const pw_job *j = arg;
    const int64_t grp = item % j->n_groups, chunk = item / j->n_groups % j->n_chunks,
                  img = item / j->n_groups / j->n_chunks;
    const int64_t p0 = chunk * j->chunk, p1 = p0 + j->chunk < j->hw ? p0 + j->chunk : j->hw;
    const int64_t u0 = grp * j->per_group, u1 = u0 + j->per_group < j->units ? u0 + j->per_group : j->units;
    const float *x = j->x + img * j->k * j->hw;
    float *y = j->y + img * j->m * j->hw;
    const __m256 lo = _mm256_set1_ps(j->lo), hi = _mm256_set1_ps(j->hi), zero = _mm256_setzero_ps();
    for (int64_t un = u0; un < u1; un++) {
        const int64_t c0 = un * 16;
        const int nb = j->m - c0 >= 16 ? 2 : 1;
        const float *u = j->packed + c0 * j->k;
        const __m256 b0 = j->bias ? _mm256_loadu_ps(j->bias + c0) : zero;
        const __m256 b1 = j->bias && nb == 2 ? _mm256_loadu_ps(j->bias + c0 + 8) : zero;
        float *o0 = y + c0 * j->hw, *o1 = o0 + 8 * j->hw;
        int64_t p = p0;
        if (nb == 2)
            for (; p + 6 <= p1; p += 6)
                pw_tile(x + p, j->hw, j->k, u, 2, 6, b0, b1, o0 + p * 8, o1 + p * 8, j->clamp, lo, hi);
        else
            for (; p + 6 <= p1; p += 6)
                pw_tile(x + p, j->hw, j->k, u, 1, 6, b0, b1, o0 + p * 8, o1 + p * 8, j->clamp, lo, hi);
        if (p < p1)
            pw_tile(x + p, j->hw, j->k, u, nb, (int)(p1 - p), b0, b1, o0 + p * 8, o1 + p * 8, j->clamp, lo, hi);
    }
}

void oc_blk_pw_run(struct oc_threadpool *pool, const float *x, const float *packed, const float *bias, float *y,
                   int64_t n, int64_t m, int64_t k, int64_t hw, bool clamp, float lo, float hi)
{
    /* chunks of 192 positions (the input block, k x 192 floats, stays in L1 for small k), then channel units
     * split until there are about four items per thread */
    pw_job j = {x, packed, bias, y, m, k, hw, 192, 0, (m + 15) / 16, 0, 0, clamp, lo, hi};
    j.n_chunks = (hw + j.chunk - 1) / j.chunk;
    const int64_t want = 4 * (int64_t)oc_pool_threads(pool);
    int64_t groups = (want + n * j.n_chunks - 1) / (n * j.n_chunks);
    if (groups > j.units)
        groups = j.units;
    if (groups < 1)
        groups = 1;
    j.per_group = (j.units + groups - 1) / groups;
    j.n_groups = (j.units + j.per_group - 1) / j.per_group;
    oc_pool_run(pool, n * j.n_chunks * j.n_groups, pw_item, &j);
}

onnxc_status oc_blk_dw_pack(const float *w, int64_t c, int k, float **out)
{
    const int kk = k * k;
    const int64_t cp = (c + 7) / 8 * 8; /* a last partial block padded with zero weights */
    float *p = oc_calloc((size_t)(cp * kk), sizeof *p);
    *out = p;
    if (!p)
        return oc_err(ONNXC_E_NOMEM, "out of memory packing %lld depthwise weights", (long long)c);
    for (int64_t ch = 0; ch < c; ch++)
        for (int t = 0; t < kk; t++)
            p[(ch / 8 * kk + t) * 8 + ch % 8] = w[ch * kk + t];
    return ONNXC_OK;
}

typedef struct dw_job {
    const oc_blk_dw *g;
    const float *x, *packed, *bias;
    float *y;
    int64_t rows_per, n_rblk;
    bool clamp;
    float lo, hi;
} dw_job;

/* One item: a block of output rows of one channel block of one image. */
#if defined(__AVX512F__)
/* One output row of a 3 x 3 stride-1 depthwise convolution on NCHW8c, two output positions (16 floats) a vector:
 * for each kernel row one FMA chain per output from its init (the bias in chain bias_row, else zero) over the
 * taps inside the plane, left to right, summed (0 + 1) + 2, as dw_item's scalar-column path; at the row's ends
 * the taps outside are skipped lane by lane (mask3 FMAs keep the chain), so edge columns need no separate
 * path. rows[kh]: input row of kernel row kh, or NULL outside the plane (its chain stays at the init). */
static void dw3s1_row_blk16(const float *const rows[3], int64_t w, int64_t wo, int64_t pl, const __m512 *wt,
                            const __m512 *init, float *orow, bool clamp, __m512 lo, __m512 hi)
{
    const __m512i colv = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    for (int64_t ow = 0; ow < wo; ow += 2) {
        const int64_t c = ow - pl; /* input column of tap 0 for output ow (lanes 0-7); ow + 1 reads c + 1 */
        const __mmask16 mo = ow + 1 < wo ? 0xffff : 0x00ff;
        __m512 ch[3] = {init[0], init[1], init[2]};
        if (c >= 0 && c + 3 < w && ow + 1 < wo) {
#pragma GCC unroll 3
            for (int kh = 0; kh < 3; kh++) {
                if (!rows[kh])
                    continue;
                const float *sp = rows[kh] + c * 8;
                ch[kh] = _mm512_fmadd_ps(_mm512_loadu_ps(sp), wt[kh * 3], ch[kh]);
                ch[kh] = _mm512_fmadd_ps(_mm512_loadu_ps(sp + 8), wt[kh * 3 + 1], ch[kh]);
                ch[kh] = _mm512_fmadd_ps(_mm512_loadu_ps(sp + 16), wt[kh * 3 + 2], ch[kh]);
            }
        } else {
            /* lanes whose input column c + kw (+ 1 for the upper half) lies in [0, w), of outputs that exist */
            __mmask16 m[3];
            for (int kw = 0; kw < 3; kw++) {
                const __m512i col = _mm512_add_epi32(colv, _mm512_set1_epi32((int)(c + kw)));
                m[kw] = _mm512_cmpge_epi32_mask(col, _mm512_setzero_si512()) &
                        _mm512_cmplt_epi32_mask(col, _mm512_set1_epi32((int)w)) & mo;
            }
            for (int kh = 0; kh < 3; kh++) {
                if (!rows[kh])
                    continue;
                for (int kw = 0; kw < 3; kw++) {
                    const __m512 x = _mm512_maskz_loadu_ps(m[kw], rows[kh] + (c + kw) * 8);
                    ch[kh] = _mm512_mask3_fmadd_ps(x, wt[kh * 3 + kw], ch[kh], m[kw]);
                }
            }
        }
        __m512 acc = _mm512_add_ps(_mm512_add_ps(ch[0], ch[1]), ch[2]);
        if (clamp) /* max(lo, v), min(hi, v) keep a NaN v, as clampv */
            acc = _mm512_min_ps(hi, _mm512_max_ps(lo, acc));
        _mm512_mask_storeu_ps(orow + ow * 8, mo, acc);
    }
}
#endif

static void dw_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const dw_job *j = arg;
    const oc_blk_dw *g = j->g;
    const int64_t cbs = g->c / 8, rb = item % j->n_rblk, cb = item / j->n_rblk % cbs, img = item / j->n_rblk / cbs;
    const int64_t oh0 = rb * j->rows_per, oh1 = oh0 + j->rows_per < g->ho ? oh0 + j->rows_per : g->ho;
    const float *in = j->x + ((img * cbs + cb) * g->h * g->w) * 8;
    float *out = j->y + ((img * cbs + cb) * g->ho * g->wo) * 8;
    __m256 wt[9];
    for (int t = 0; t < 9; t++)
        wt[t] = _mm256_loadu_ps(j->packed + (cb * 9 + t) * 8);
    const __m256 bias = j->bias ? _mm256_loadu_ps(j->bias + cb * 8) : _mm256_setzero_ps();
    const __m256 lo = _mm256_set1_ps(j->lo), hi = _mm256_set1_ps(j->hi);
    const int64_t sw = g->sw, pl = g->pl, w = g->w;
    /* output columns [owa, owb) read all three taps inside the row */
    int64_t owa = pl > 0 ? 1 : 0, owb = w - 3 + pl >= 0 ? (w - 3 + pl) / sw + 1 : 0;
    if (owb > g->wo)
        owb = g->wo;
    if (owb < owa)
        owb = owa;
    const __m256 zero = _mm256_setzero_ps();
#if defined(__AVX512F__)
    if (sw == 1) {
        __m512 wt2[9], init[3];
        for (int t = 0; t < 9; t++)
            wt2[t] = _mm512_broadcast_f32x8(wt[t]);
        for (int kh = 0; kh < 3; kh++)
            init[kh] = _mm512_broadcast_f32x8(kh == g->bias_row ? bias : zero);
        const __m512 lo2 = _mm512_broadcast_f32x8(lo), hi2 = _mm512_broadcast_f32x8(hi);
        for (int64_t oh = oh0; oh < oh1; oh++) {
            const float *rows[3];
            for (int kh = 0; kh < 3; kh++) {
                const int64_t ih = oh * g->sh - g->pt + kh;
                rows[kh] = ih >= 0 && ih < g->h ? in + ih * w * 8 : NULL;
            }
            dw3s1_row_blk16(rows, w, g->wo, pl, wt2, init, out + oh * g->wo * 8, j->clamp, lo2, hi2);
        }
        return;
    }
#endif
    for (int64_t oh = oh0; oh < oh1; oh++) {
        const float *rows[3];
        for (int kh = 0; kh < 3; kh++) {
            const int64_t ih = oh * g->sh - g->pt + kh;
            rows[kh] = ih >= 0 && ih < g->h ? in + ih * w * 8 : NULL;
        }
        float *orow = out + oh * g->wo * 8;
        const bool fast = rows[0] && rows[1] && rows[2] && owb > owa;
        if (fast) {
            /* the row's inner columns: all nine taps inside, straight-line */
            const __m256 bias0 = g->bias_row == 0 ? bias : zero, bias2 = g->bias_row == 2 ? bias : zero;
            for (int64_t ow = owa; ow < owb; ow++) {
                const float *s0 = rows[0] + (ow * sw - pl) * 8, *s1 = s0 + w * 8, *s2 = s1 + w * 8;
                __m256 c0 = _mm256_fmadd_ps(_mm256_loadu_ps(s0), wt[0], bias0);
                __m256 c1 = _mm256_mul_ps(_mm256_loadu_ps(s1), wt[3]);
                __m256 c2 = _mm256_fmadd_ps(_mm256_loadu_ps(s2), wt[6], bias2);
                c0 = _mm256_fmadd_ps(_mm256_loadu_ps(s0 + 8), wt[1], c0);
                c1 = _mm256_fmadd_ps(_mm256_loadu_ps(s1 + 8), wt[4], c1);
                c2 = _mm256_fmadd_ps(_mm256_loadu_ps(s2 + 8), wt[7], c2);
                c0 = _mm256_fmadd_ps(_mm256_loadu_ps(s0 + 16), wt[2], c0);
                c1 = _mm256_fmadd_ps(_mm256_loadu_ps(s1 + 16), wt[5], c1);
                c2 = _mm256_fmadd_ps(_mm256_loadu_ps(s2 + 16), wt[8], c2);
                const __m256 acc = _mm256_add_ps(_mm256_add_ps(c0, c1), c2);
                _mm256_storeu_ps(orow + ow * 8, clampv(acc, j->clamp, lo, hi));
            }
        }
        for (int64_t ow = 0; ow < g->wo; ow++) {
            if (fast && ow == owa) {
                ow = owb - 1; /* done above */
                continue;
            }
            const int64_t iw0 = ow * sw - pl;
            /* one chain per kernel row, the bias in chain g->bias_row, summed (0 + 1) + 2: the plain kernels'
             * order, so both layouts give the same bits */
            __m256 ch[3] = {zero, zero, zero};
            ch[g->bias_row] = bias;
            const bool inside = ow >= owa && ow < owb;
            for (int kh = 0; kh < 3; kh++) {
                if (!rows[kh])
                    continue;
                const __m256 *wk = wt + kh * 3;
                if (inside) {
                    const float *s = rows[kh] + iw0 * 8;
                    ch[kh] = _mm256_fmadd_ps(_mm256_loadu_ps(s), wk[0], ch[kh]);
                    ch[kh] = _mm256_fmadd_ps(_mm256_loadu_ps(s + 8), wk[1], ch[kh]);
                    ch[kh] = _mm256_fmadd_ps(_mm256_loadu_ps(s + 16), wk[2], ch[kh]);
                } else {
                    for (int kw = 0; kw < 3; kw++)
                        if (iw0 + kw >= 0 && iw0 + kw < w)
                            ch[kh] = _mm256_fmadd_ps(_mm256_loadu_ps(rows[kh] + (iw0 + kw) * 8), wk[kw], ch[kh]);
                }
            }
            const __m256 acc = _mm256_add_ps(_mm256_add_ps(ch[0], ch[1]), ch[2]);
            _mm256_storeu_ps(orow + ow * 8, clampv(acc, j->clamp, lo, hi));
        }
    }
}

/* nc (1 to 8) outputs of one row of a 5 x 5 convolution, nc independent FMA chains: each output one chain from
 * the bias over the 25 taps in order, row by row, padding zeros included. rows: the five padded input rows; col0:
 * the padded column of the first output's first tap. */
static inline __attribute__((always_inline)) void dw5_cols(const float *const rows[5], int64_t col0, int64_t sw,
                                                           const float *wt, __m256 bias, float *o, int nc, bool clamp,
                                                           __m256 lo, __m256 hi)
{
    __m256 a[8];
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++)
        a[c] = bias;
    for (int kh = 0; kh < 5; kh++) {
        const float *r = rows[kh] + col0 * 8;
        for (int kw = 0; kw < 5; kw++) {
            const __m256 wv = _mm256_loadu_ps(wt + (kh * 5 + kw) * 8);
            const float *q = r + kw * 8;
#pragma GCC unroll 8
            for (int c = 0; c < 8; c++)
                if (c < nc)
                    a[c] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(q + c * sw * 8), a[c]);
        }
    }
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++)
        if (c < nc)
            _mm256_storeu_ps(o + c * 8, clampv(a[c], clamp, lo, hi));
}

#if defined(__AVX512F__)
/* The low 256 bits of v in both halves. */
static inline __m512 dup256(__m256 v)
{
    const __m512 z = _mm512_castps256_ps512(v);
    return _mm512_shuffle_f32x4(z, z, 0x44);
}

/* dw5_cols with AVX-512: nc (1 to 16) outputs, two a vector (the 8 channels of two adjacent output columns), the
 * same chain per output (from the bias over the 25 taps in order, padding zeros included), so the same bits; a
 * 14-wide row is 7 vectors of one pass where it was 8 + 6 chains of two. Stride 1 only (stride 2's two columns a
 * vector through two half-masked loads measured 1.4x slower than dw5_cols). */
static inline __attribute__((always_inline)) void dw5_cols16(const float *const rows[5], int64_t col0,
                                                             const float *wt, __m256 bias, float *o, int nc,
                                                             bool clamp, __m256 lo, __m256 hi)
{
    const int nv = (nc + 1) / 2;
    const __m512 vb = dup256(bias), vlo = dup256(lo), vhi = dup256(hi);
    __m512 a[8];
#pragma GCC unroll 8
    for (int v = 0; v < 8; v++)
        a[v] = vb;
    for (int kh = 0; kh < 5; kh++) {
        const float *r = rows[kh] + col0 * 8;
        for (int kw = 0; kw < 5; kw++) {
            const __m512 wv = dup256(_mm256_loadu_ps(wt + (kh * 5 + kw) * 8));
            const float *q = r + kw * 8;
#pragma GCC unroll 8
            for (int v = 0; v < 8; v++) {
                if (v >= nv)
                    continue;
                /* the second column of an odd last vector is not read: it may lie past the row's buffer */
                const __mmask16 hi8 = 2 * v + 1 < nc ? (__mmask16)0xff00 : (__mmask16)0;
                a[v] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps((__mmask16)(0x00ff | hi8), q + 16 * v), a[v]);
            }
        }
    }
#pragma GCC unroll 8
    for (int v = 0; v < 8; v++) {
        if (v >= nv)
            continue;
        const __m512 y = clamp ? _mm512_min_ps(vhi, _mm512_max_ps(vlo, a[v])) : a[v];
        _mm512_mask_storeu_ps(o + 16 * v, 2 * v + 1 < nc ? (__mmask16)0xffff : (__mmask16)0x00ff, y);
    }
}

/* One stride-1 output row of 5 x 5 taps, 16 columns a pass. */
static void dw5_row16(const float *const rows[5], int64_t wo, const float *wt, __m256 bias, float *orow, bool clamp,
                      __m256 lo, __m256 hi)
{
    for (int64_t ow = 0; ow < wo; ow += 16) {
        const int64_t left = wo - ow;
        float *o = orow + ow * 8;
        switch (left >= 16 ? 16 : (int)left) {
#define DW5_NC(N)                                                                                                      \
    case N: dw5_cols16(rows, ow, wt, bias, o, N, clamp, lo, hi); break;
            DW5_NC(15) DW5_NC(14) DW5_NC(13) DW5_NC(12) DW5_NC(11) DW5_NC(10) DW5_NC(9) DW5_NC(8) DW5_NC(7)
            DW5_NC(6) DW5_NC(5) DW5_NC(4) DW5_NC(3) DW5_NC(2) DW5_NC(1)
#undef DW5_NC
        default: dw5_cols16(rows, ow, wt, bias, o, 16, clamp, lo, hi);
        }
    }
}
#endif

/* One output row (wo columns, stride sw) of a 5 x 5 convolution into the blocked row orow. */
static void dw5_row(const float *const rows[5], int64_t wo, int64_t sw, const float *wt, __m256 bias, float *orow,
                    bool clamp, __m256 lo, __m256 hi)
{
#if defined(__AVX512F__)
    if (sw == 1 && wo > 8) {
        dw5_row16(rows, wo, wt, bias, orow, clamp, lo, hi);
        return;
    }
#endif
    for (int64_t ow = 0; ow < wo; ow += 8) {
        const int64_t left = wo - ow;
        float *o = orow + ow * 8;
        switch (left >= 8 ? 8 : (int)left) {
        case 8: dw5_cols(rows, ow * sw, sw, wt, bias, o, 8, clamp, lo, hi); break;
        case 7: dw5_cols(rows, ow * sw, sw, wt, bias, o, 7, clamp, lo, hi); break;
        case 6: dw5_cols(rows, ow * sw, sw, wt, bias, o, 6, clamp, lo, hi); break;
        case 5: dw5_cols(rows, ow * sw, sw, wt, bias, o, 5, clamp, lo, hi); break;
        case 4: dw5_cols(rows, ow * sw, sw, wt, bias, o, 4, clamp, lo, hi); break;
        case 3: dw5_cols(rows, ow * sw, sw, wt, bias, o, 3, clamp, lo, hi); break;
        case 2: dw5_cols(rows, ow * sw, sw, wt, bias, o, 2, clamp, lo, hi); break;
        default: dw5_cols(rows, ow * sw, sw, wt, bias, o, 1, clamp, lo, hi);
        }
    }
}

/* The padding a 5 x 5 item reads: a zero row (rows above and below the plane). */
static const float dw5_zero_row[OC_BLK_DW5_MAX_W * 8];

/* One item of a 5 x 5 convolution: a block of output rows of one channel block of one image. The input rows it
 * reads are copied once each, zero-padded left and right, into a ring of five rows on the stack, so every output
 * is dw5_cols' chain over all 25 taps: the operations of the plain padded kernel (conv.c, dw_plane_avx2: taps in
 * order from the bias over a zero-padded plane), the same bits. */
static void dw5_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const dw_job *j = arg;
    const oc_blk_dw *g = j->g;
    const int64_t cbs = g->c / 8, rb = item % j->n_rblk, cb = item / j->n_rblk % cbs, img = item / j->n_rblk / cbs;
    const int64_t oh0 = rb * j->rows_per, oh1 = oh0 + j->rows_per < g->ho ? oh0 + j->rows_per : g->ho;
    const float *in = j->x + ((img * cbs + cb) * g->h * g->w) * 8;
    float *out = j->y + ((img * cbs + cb) * g->ho * g->wo) * 8;
    const float *wt = j->packed + cb * 25 * 8;
    const __m256 bias = j->bias ? _mm256_loadu_ps(j->bias + cb * 8) : _mm256_setzero_ps();
    const __m256 lo = _mm256_set1_ps(j->lo), hi = _mm256_set1_ps(j->hi);
    const int64_t w = g->w, sw = g->sw, pl = g->pl, wp = (g->wo - 1) * sw + 5; /* padded row width */
    const int64_t ncopy = pl + w <= wp ? w : wp - pl;
    float ring[5][OC_BLK_DW5_MAX_W * 8] __attribute__((aligned(32)));
    int64_t held[5] = {-1000, -1000, -1000, -1000, -1000};
    for (int64_t oh = oh0; oh < oh1; oh++) {
        const float *rows[5];
        for (int kh = 0; kh < 5; kh++) {
            const int64_t ih = oh * g->sh - g->pt + kh;
            if (ih < 0 || ih >= g->h) {
                rows[kh] = dw5_zero_row;
                continue;
            }
            float *r = ring[ih % 5];
            if (held[ih % 5] != ih) {
                held[ih % 5] = ih;
                memset(r, 0, (size_t)(pl * 8) * sizeof *r);
                memcpy(r + pl * 8, in + ih * w * 8, (size_t)(ncopy * 8) * sizeof *r);
                if (pl + ncopy < wp)
                    memset(r + (pl + ncopy) * 8, 0, (size_t)((wp - pl - ncopy) * 8) * sizeof *r);
            }
            rows[kh] = r;
        }
        float *orow = out + oh * g->wo * 8;
        dw5_row(rows, g->wo, sw, wt, bias, orow, j->clamp, lo, hi);
    }
}

void oc_blk_dw_run(struct oc_threadpool *pool, const oc_blk_dw *g, const float *x, const float *packed,
                   const float *bias, float *y, bool clamp, float lo, float hi)
{
    /* items: channel blocks, cut into row blocks until there are about four per thread */
    const int64_t planes = g->n * (g->c / 8), want = 4 * (int64_t)oc_pool_threads(pool);
    int64_t n_rblk = (want + planes - 1) / planes;
    if (n_rblk > g->ho)
        n_rblk = g->ho;
    if (n_rblk < 1)
        n_rblk = 1;
    dw_job j = {g, x, packed, bias, y, (g->ho + n_rblk - 1) / n_rblk, 0, clamp, lo, hi};
    j.n_rblk = (g->ho + j.rows_per - 1) / j.rows_per;
    oc_pool_run(pool, planes * j.n_rblk, g->k == 5 ? dw5_item : dw_item, &j);
}

/* 8 x 8 transpose: row t of the result is lane t of v[0..7]. */
static inline void transpose8(__m256 v[8]);

/* Plain-layout depthwise through blocked rows (oc_blk_dw_nchw_run): rows of 8 channels transposed into a ring
 * of k zero-padded blocked rows, one output row computed there, then transposed back. */
typedef struct dwn_job {
    const oc_blk_dw *g;
    const float *x, *packed, *bias;
    float *y;
    int64_t rows_per, n_rblk, cbs;
    bool clamp;
    float lo, hi;
    int act;
    float alpha, beta, slope;
} dwn_job;

/* Input row ih of channels c0 .. c0 + nch (nch <= 8; the other lanes zero) as a blocked row of wp columns:
 * pl zeros, the row's first ncopy columns, zeros. */
static void dwn_load_row(const float *x, int64_t hw, int64_t w, int64_t ih, int nch, int64_t pl, int64_t ncopy,
                         int64_t wp, float *dst)
{
    const float *src[8];
    for (int t = 0; t < 8; t++)
        src[t] = t < nch ? x + t * hw + ih * w : NULL;
    memset(dst, 0, (size_t)(pl * 8) * sizeof *dst);
    float *d = dst + pl * 8;
    int64_t iw = 0;
    for (; iw + 8 <= ncopy; iw += 8) {
        __m256 v[8];
        for (int t = 0; t < 8; t++)
            v[t] = src[t] ? _mm256_loadu_ps(src[t] + iw) : _mm256_setzero_ps();
        transpose8(v);
        for (int q = 0; q < 8; q++)
            _mm256_storeu_ps(d + (iw + q) * 8, v[q]);
    }
    if (iw < ncopy) { /* the last columns through masked loads (masked lanes are not read) */
        const int nl = (int)(ncopy - iw);
        const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(nl), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        __m256 v[8];
        for (int t = 0; t < 8; t++)
            v[t] = src[t] ? _mm256_maskload_ps(src[t] + iw, m) : _mm256_setzero_ps();
        transpose8(v);
        for (int q = 0; q < nl; q++)
            _mm256_storeu_ps(d + (iw + q) * 8, v[q]);
    }
    if (pl + ncopy < wp)
        memset(dst + (pl + ncopy) * 8, 0, (size_t)((wp - pl - ncopy) * 8) * sizeof *dst);
}

/* The blocked output row orow (wo columns) back to row oh of channels c0 .. c0 + nch. */
static void dwn_store_row(const float *orow, int64_t wo, int64_t ohw, int64_t oh, int nch, float *y)
{
    for (int64_t ow = 0; ow < wo; ow += 8) {
        const int nl = wo - ow >= 8 ? 8 : (int)(wo - ow);
        __m256 v[8];
        for (int q = 0; q < 8; q++)
            v[q] = q < nl ? _mm256_loadu_ps(orow + (ow + q) * 8) : _mm256_setzero_ps();
        transpose8(v);
        if (nl == 8) {
            for (int t = 0; t < nch; t++)
                _mm256_storeu_ps(y + t * ohw + oh * wo + ow, v[t]);
        } else {
            const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(nl), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            for (int t = 0; t < nch; t++)
                oc_maskstore8(y + t * ohw + oh * wo + ow, m, v[t]);
        }
    }
}

/* One item: a block of output rows of one channel block of one image of a 5 x 5 convolution: dw5_cols' chain
 * over the 25 taps, as dw5_item, so the plain layout gets the blocked kernel's bits, which are the padded plain
 * kernel's (conv.c). */
static void dwn_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const dwn_job *j = arg;
    const oc_blk_dw *g = j->g;
    const int64_t cbs = j->cbs, rb = item % j->n_rblk, cb = item / j->n_rblk % cbs, img = item / j->n_rblk / cbs;
    const int64_t oh0 = rb * j->rows_per, oh1 = oh0 + j->rows_per < g->ho ? oh0 + j->rows_per : g->ho;
    const int64_t c0 = cb * 8, hw = g->h * g->w, ohw = g->ho * g->wo;
    const int nch = g->c - c0 >= 8 ? 8 : (int)(g->c - c0);
    const float *in = j->x + (img * g->c + c0) * hw;
    float *out = j->y + (img * g->c + c0) * ohw;
    const float *wt = j->packed + cb * 25 * 8;
    float bb[8] = {0};
    if (j->bias)
        for (int t = 0; t < nch; t++)
            bb[t] = j->bias[c0 + t];
    const __m256 bias = _mm256_loadu_ps(bb);
    const __m256 lo = _mm256_set1_ps(j->lo), hi = _mm256_set1_ps(j->hi);
    const int64_t w = g->w, sw = g->sw, pl = g->pl, wp = (g->wo - 1) * sw + 5; /* padded row width */
    const int64_t ncopy = pl + w <= wp ? w : wp - pl;
    float ring[5][OC_BLK_DW5_MAX_W * 8] __attribute__((aligned(32)));
    float orow[OC_BLK_DW5_MAX_W * 8] __attribute__((aligned(32)));
    int64_t held[5] = {-1000, -1000, -1000, -1000, -1000};
    for (int64_t oh = oh0; oh < oh1; oh++) {
        const float *rows[5];
        for (int kh = 0; kh < 5; kh++) {
            const int64_t ih = oh * g->sh - g->pt + kh;
            if (ih < 0 || ih >= g->h) {
                rows[kh] = dw5_zero_row;
                continue;
            }
            float *r = ring[ih % 5];
            if (held[ih % 5] != ih) {
                held[ih % 5] = ih;
                dwn_load_row(in, hw, w, ih, nch, pl, ncopy, wp, r);
            }
            rows[kh] = r;
        }
        dw5_row(rows, g->wo, sw, wt, bias, orow, j->clamp, lo, hi);
        if (j->act != OC_ACT_NONE) /* elementwise, so the blocked row gets the plain planes' bits */
            oc_act_span(j->act, j->alpha, j->beta, j->slope, orow, g->wo * 8);
        dwn_store_row(orow, g->wo, ohw, oh, nch, out);
    }
}

void oc_blk_dw_nchw_run(struct oc_threadpool *pool, const oc_blk_dw *g, const float *x, const float *packed,
                        const float *bias, float *y, bool clamp, float lo, float hi, int act, float alpha,
                        float beta, float slope)
{
    const int64_t cbs = (g->c + 7) / 8, planes = g->n * cbs, want = 4 * (int64_t)oc_pool_threads(pool);
    int64_t n_rblk = (want + planes - 1) / planes;
    if (n_rblk > g->ho)
        n_rblk = g->ho;
    if (n_rblk < 1)
        n_rblk = 1;
    dwn_job j = {g, x, packed, bias, y, (g->ho + n_rblk - 1) / n_rblk, 0, cbs, clamp, lo, hi, act, alpha, beta, slope};
    j.n_rblk = (g->ho + j.rows_per - 1) / j.rows_per;
    oc_pool_run(pool, planes * j.n_rblk, dwn_item, &j);
}

static inline void transpose8(__m256 v[8])
{
    const __m256 a0 = _mm256_unpacklo_ps(v[0], v[1]), a1 = _mm256_unpackhi_ps(v[0], v[1]);
    const __m256 a2 = _mm256_unpacklo_ps(v[2], v[3]), a3 = _mm256_unpackhi_ps(v[2], v[3]);
    const __m256 a4 = _mm256_unpacklo_ps(v[4], v[5]), a5 = _mm256_unpackhi_ps(v[4], v[5]);
    const __m256 a6 = _mm256_unpacklo_ps(v[6], v[7]), a7 = _mm256_unpackhi_ps(v[6], v[7]);
    const __m256 b0 = _mm256_shuffle_ps(a0, a2, 0x44), b1 = _mm256_shuffle_ps(a0, a2, 0xee);
    const __m256 b2 = _mm256_shuffle_ps(a1, a3, 0x44), b3 = _mm256_shuffle_ps(a1, a3, 0xee);
    const __m256 b4 = _mm256_shuffle_ps(a4, a6, 0x44), b5 = _mm256_shuffle_ps(a4, a6, 0xee);
    const __m256 b6 = _mm256_shuffle_ps(a5, a7, 0x44), b7 = _mm256_shuffle_ps(a5, a7, 0xee);
    v[0] = _mm256_permute2f128_ps(b0, b4, 0x20);
    v[1] = _mm256_permute2f128_ps(b1, b5, 0x20);
    v[2] = _mm256_permute2f128_ps(b2, b6, 0x20);
    v[3] = _mm256_permute2f128_ps(b3, b7, 0x20);
    v[4] = _mm256_permute2f128_ps(b0, b4, 0x31);
    v[5] = _mm256_permute2f128_ps(b1, b5, 0x31);
    v[6] = _mm256_permute2f128_ps(b2, b6, 0x31);
    v[7] = _mm256_permute2f128_ps(b3, b7, 0x31);
}

void oc_blk_gather(const float *x, int64_t hw, int64_t k0, int64_t kcb, int64_t n0, int64_t nc, float *dst,
                   int64_t ldb)
{
    const int64_t padded = (nc + OC_GEMM_NR - 1) / OC_GEMM_NR * OC_GEMM_NR;
    int64_t r = 0;
    /* whole channel blocks: 8 x 8 transposes */
    for (; k0 % 8 == 0 && r + 8 <= kcb; r += 8) {
        const float *src = x + (k0 + r) / 8 * hw * 8 + n0 * 8;
        float *d = dst + r * ldb;
        int64_t jc = 0;
        for (; jc + 8 <= nc; jc += 8) {
            __m256 v[8];
            for (int t = 0; t < 8; t++)
                v[t] = _mm256_loadu_ps(src + (jc + t) * 8);
            transpose8(v);
            for (int t = 0; t < 8; t++)
                _mm256_storeu_ps(d + t * ldb + jc, v[t]);
        }
        for (int t = 0; t < 8; t++) {
            for (int64_t q = jc; q < nc; q++)
                d[t * ldb + q] = src[q * 8 + t];
            for (int64_t q = nc; q < padded; q++)
                d[t * ldb + q] = 0.0f;
        }
    }
    for (; r < kcb; r++) {
        const int64_t k = k0 + r;
        const float *src = x + k / 8 * hw * 8 + n0 * 8 + k % 8;
        float *d = dst + r * ldb;
        for (int64_t q = 0; q < nc; q++)
            d[q] = src[q * 8];
        for (int64_t q = nc; q < padded; q++)
            d[q] = 0.0f;
    }
}

#endif
