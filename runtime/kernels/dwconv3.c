/* 3 x 3 depthwise convolution planes with AVX-512, straight from the input plane, for conv.c's two direct 3 x 3
 * paths: strips of 16 outputs (rows of at most 8: one 8-lane vector, AVX-512VL's masks; masked loads read padding
 * columns as zeros, masked stores end the rows), tiles of up to 4 output rows sharing their input rows' loads. Each output gets the operations of the AVX2 kernel it replaces,
 * in the same order, so the results are the same bits (see dwconv3.h). */
#include "dwconv3.h"

#if defined(__AVX512F__) && defined(__FMA__)
#include <immintrin.h>

/* Lanes j of 16 with 0 <= c + j < n. */
static inline __mmask16 lanes_in(int64_t c, int64_t n)
{
    const int64_t lo = c < 0 ? -c : 0, hi = n - c > 16 ? 16 : n - c;
    if (hi <= lo)
        return 0;
    return (__mmask16)((0xffffu >> (16 - hi)) & (0xffffu << lo));
}

/* The three taps of one kernel row for 16 outputs from input column c of row xr: stride 1 reads columns c..c + 17,
 * stride 2 columns c..c + 33, deinterleaved by two-source permutes. mk: the lanes of each load inside the row. */
static inline __attribute__((always_inline)) void dw3_row_taps(const int S, const float *xr, int64_t c,
                                                               const __mmask16 *mk, __m512 *x0, __m512 *x1, __m512 *x2)
{
    if (S == 1) {
        *x0 = _mm512_maskz_loadu_ps(mk[0], xr + c);
        *x1 = _mm512_maskz_loadu_ps(mk[1], xr + c + 1);
        *x2 = _mm512_maskz_loadu_ps(mk[2], xr + c + 2);
    } else {
        const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        const __m512i od = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        const __m512 a = _mm512_maskz_loadu_ps(mk[0], xr + c), b = _mm512_maskz_loadu_ps(mk[1], xr + c + 16);
        const __m512 a2 = _mm512_maskz_loadu_ps(mk[2], xr + c + 2), b2 = _mm512_maskz_loadu_ps(mk[3], xr + c + 18);
        *x0 = _mm512_permutex2var_ps(a, ev, b);
        *x1 = _mm512_permutex2var_ps(a, od, b);
        *x2 = _mm512_permutex2var_ps(a2, ev, b2);
    }
}

/* Output rows [oh, oh + R) x 16 columns (lanes mo) at y (row stride o2); input rows from ih0 (stride SH between
 * output rows), columns from c. PAD_ORDER: dw3s1_plane's operations (per kernel row a chain started by a product,
 * the bias in the third chain, padding rows read as zero vectors); else dw3x3_plane_avx2's (the bias starts the
 * first chain, zeros the others, padding rows skipped). Then (0 + 1) + 2, + residual, clamp. */
static inline __attribute__((always_inline)) void dw3_tile(const int S, const int SH, const int R, const bool PAD_ORDER,
                                                           const float *xp, int64_t in1, int64_t in2, int64_t ih0,
                                                           int64_t c, const __mmask16 *mk, __mmask16 mo,
                                                           const float *wt, __m512 vb, float *y, int64_t o2,
                                                           const float *rp, bool clamp, __m512 vlo, __m512 vhi)
{
    __m512 wv[9], acc[4][3]; /* the taps in registers, broadcast once a tile (from memory in each FMA they would
                              * double the loads) */
#pragma GCC unroll 9
    for (int t = 0; t < 9; t++)
        wv[t] = _mm512_set1_ps(wt[t]);
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        acc[r][0] = PAD_ORDER ? _mm512_setzero_ps() : vb;
        acc[r][1] = _mm512_setzero_ps();
        acc[r][2] = _mm512_setzero_ps();
    }
#pragma GCC unroll 12
    for (int ir = 0; ir < SH * (R - 1) + 3; ir++) {
        const int64_t ih = ih0 + ir;
        const bool inside = ih >= 0 && ih < in1;
        if (!inside && !PAD_ORDER)
            continue;
        __m512 x0 = _mm512_setzero_ps(), x1 = x0, x2 = x0;
        if (inside)
            dw3_row_taps(S, xp + ih * in2, c, mk, &x0, &x1, &x2);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const int kh = ir - SH * r;
            if (kh < 0 || kh > 2)
                continue;
            const __m512 w0 = wv[3 * kh], w1 = wv[3 * kh + 1], w2 = wv[3 * kh + 2];
            __m512 a;
            if (PAD_ORDER)
                a = kh == 2 ? _mm512_fmadd_ps(w0, x0, vb) : _mm512_mul_ps(w0, x0);
            else
                a = _mm512_fmadd_ps(w0, x0, acc[r][kh]);
            a = _mm512_fmadd_ps(w1, x1, a);
            acc[r][kh] = _mm512_fmadd_ps(w2, x2, a);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        __m512 a = _mm512_add_ps(_mm512_add_ps(acc[r][0], acc[r][1]), acc[r][2]);
        if (rp)
            a = _mm512_add_ps(a, _mm512_maskz_loadu_ps(mo, rp + r * o2));
        if (clamp) /* max(lo, x), min(hi, x) keep a NaN x, as Relu and Clip do */
            a = _mm512_min_ps(vhi, _mm512_max_ps(vlo, a));
        _mm512_mask_storeu_ps(y + r * o2, mo, a);
    }
}

/* A whole plane: groups of up to 4 output rows top to bottom, in each the strips of 16 columns left to right. */
static inline __attribute__((always_inline)) void dw3_plane(const int S, const int SH, const bool PAD_ORDER,
                                                            const oc_window *w, const float *xp, const float *wt,
                                                            float bias, float *yp, const float *rp, bool clamp,
                                                            float lo, float hi)
{
    const int64_t in1 = w->in[1], in2 = w->in[2], o1 = w->out[1], o2 = w->out[2];
    const int64_t pt = w->pad0[1], pl = w->pad0[2];
    const __m512 vb = _mm512_set1_ps(bias), vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    for (int64_t oh = 0; oh < o1; oh += 4) {
        const int64_t rows = o1 - oh < 4 ? o1 - oh : 4, ih0 = oh * SH - pt;
        for (int64_t ow = 0; ow < o2; ow += 16) {
            const int64_t c = ow * S - pl;
            __mmask16 mk[4];
            if (S == 1) {
                mk[0] = lanes_in(c, in2);
                mk[1] = lanes_in(c + 1, in2);
                mk[2] = lanes_in(c + 2, in2);
                mk[3] = 0;
            } else {
                mk[0] = lanes_in(c, in2);
                mk[1] = lanes_in(c + 16, in2);
                mk[2] = lanes_in(c + 2, in2);
                mk[3] = lanes_in(c + 18, in2);
            }
            const __mmask16 mo = lanes_in(ow, o2);
            float *y = yp + oh * o2 + ow;
            const float *r = rp ? rp + oh * o2 + ow : NULL;
            switch (rows) {
            case 4:
                dw3_tile(S, SH, 4, PAD_ORDER, xp, in1, in2, ih0, c, mk, mo, wt, vb, y, o2, r, clamp, vlo, vhi);
                break;
            case 3:
                dw3_tile(S, SH, 3, PAD_ORDER, xp, in1, in2, ih0, c, mk, mo, wt, vb, y, o2, r, clamp, vlo, vhi);
                break;
            case 2:
                dw3_tile(S, SH, 2, PAD_ORDER, xp, in1, in2, ih0, c, mk, mo, wt, vb, y, o2, r, clamp, vlo, vhi);
                break;
            default: dw3_tile(S, SH, 1, PAD_ORDER, xp, in1, in2, ih0, c, mk, mo, wt, vb, y, o2, r, clamp, vlo, vhi);
            }
        }
    }
}

#if defined(__AVX512VL__)
/* Rows of at most 8 outputs: dw3_tile's strip-order operations on 8-lane vectors with AVX-512VL's masks (one
 * vector covers the row; 16 lanes would double the multiply-adds). Output rows [oh, oh + R). */
static inline __attribute__((always_inline)) void dw3_tile8(const int S, const int SH, const int R, const float *xp,
                                                            int64_t in1, int64_t in2, int64_t ih0, int64_t c,
                                                            const __mmask8 *mk, __mmask8 mo, const float *wt, __m256 vb,
                                                            float *y, int64_t o2, const float *rp, bool clamp,
                                                            __m256 vlo, __m256 vhi)
{
    __m256 wv[9], acc[4][3];
#pragma GCC unroll 9
    for (int t = 0; t < 9; t++)
        wv[t] = _mm256_set1_ps(wt[t]);
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        acc[r][0] = vb;
        acc[r][1] = _mm256_setzero_ps();
        acc[r][2] = _mm256_setzero_ps();
    }
#pragma GCC unroll 12
    for (int ir = 0; ir < SH * (R - 1) + 3; ir++) {
        const int64_t ih = ih0 + ir;
        if (ih < 0 || ih >= in1)
            continue;
        const float *xr = xp + ih * in2;
        __m256 x0, x1, x2;
        if (S == 1) {
            x0 = _mm256_maskz_loadu_ps(mk[0], xr + c);
            x1 = _mm256_maskz_loadu_ps(mk[1], xr + c + 1);
            x2 = _mm256_maskz_loadu_ps(mk[2], xr + c + 2);
        } else {
            const __m256i ev = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
            const __m256i od = _mm256_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15);
            const __m256 a = _mm256_maskz_loadu_ps(mk[0], xr + c), b = _mm256_maskz_loadu_ps(mk[1], xr + c + 8);
            const __m256 a2 = _mm256_maskz_loadu_ps(mk[2], xr + c + 2), b2 = _mm256_maskz_loadu_ps(mk[3], xr + c + 10);
            x0 = _mm256_permutex2var_ps(a, ev, b);
            x1 = _mm256_permutex2var_ps(a, od, b);
            x2 = _mm256_permutex2var_ps(a2, ev, b2);
        }
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const int kh = ir - SH * r;
            if (kh < 0 || kh > 2)
                continue;
            __m256 a = _mm256_fmadd_ps(wv[3 * kh], x0, acc[r][kh]);
            a = _mm256_fmadd_ps(wv[3 * kh + 1], x1, a);
            acc[r][kh] = _mm256_fmadd_ps(wv[3 * kh + 2], x2, a);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        __m256 a = _mm256_add_ps(_mm256_add_ps(acc[r][0], acc[r][1]), acc[r][2]);
        if (rp)
            a = _mm256_add_ps(a, _mm256_maskz_loadu_ps(mo, rp + r * o2));
        if (clamp)
            a = _mm256_min_ps(vhi, _mm256_max_ps(vlo, a));
        _mm256_mask_storeu_ps(y + r * o2, mo, a);
    }
}

static inline __attribute__((always_inline)) void dw3_plane8(const int S, const int SH, const oc_window *w,
                                                             const float *xp, const float *wt, float bias, float *yp,
                                                             const float *rp, bool clamp, float lo, float hi)
{
    const int64_t in1 = w->in[1], in2 = w->in[2], o1 = w->out[1], o2 = w->out[2];
    const int64_t pt = w->pad0[1], c = -w->pad0[2];
    const __m256 vb = _mm256_set1_ps(bias), vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    __mmask8 mk[4];
    if (S == 1) {
        mk[0] = (__mmask8)lanes_in(c, in2);
        mk[1] = (__mmask8)lanes_in(c + 1, in2);
        mk[2] = (__mmask8)lanes_in(c + 2, in2);
        mk[3] = 0;
    } else {
        mk[0] = (__mmask8)lanes_in(c, in2);
        mk[1] = (__mmask8)lanes_in(c + 8, in2);
        mk[2] = (__mmask8)lanes_in(c + 2, in2);
        mk[3] = (__mmask8)lanes_in(c + 10, in2);
    }
    const __mmask8 mo = (__mmask8)lanes_in(0, o2);
    for (int64_t oh = 0; oh < o1; oh += 4) {
        const int64_t rows = o1 - oh < 4 ? o1 - oh : 4, ih0 = oh * SH - pt;
        float *y = yp + oh * o2;
        const float *r = rp ? rp + oh * o2 : NULL;
        switch (rows) {
        case 4: dw3_tile8(S, SH, 4, xp, in1, in2, ih0, c, mk, mo, wt, vb, y, o2, r, clamp, vlo, vhi); break;
        case 3: dw3_tile8(S, SH, 3, xp, in1, in2, ih0, c, mk, mo, wt, vb, y, o2, r, clamp, vlo, vhi); break;
        case 2: dw3_tile8(S, SH, 2, xp, in1, in2, ih0, c, mk, mo, wt, vb, y, o2, r, clamp, vlo, vhi); break;
        default: dw3_tile8(S, SH, 1, xp, in1, in2, ih0, c, mk, mo, wt, vb, y, o2, r, clamp, vlo, vhi);
        }
    }
}
#endif

void oc_dw3_plane16(const oc_window *w, const float *xp, const float *wt, float bias, float *yp, const float *rp,
                    bool clamp, float lo, float hi)
{
#if defined(__AVX512VL__)
    if (w->out[2] <= 8) {
        if (w->stride[2] == 1 && w->stride[1] == 1)
            dw3_plane8(1, 1, w, xp, wt, bias, yp, rp, clamp, lo, hi);
        else if (w->stride[2] == 1)
            dw3_plane8(1, 2, w, xp, wt, bias, yp, rp, clamp, lo, hi);
        else if (w->stride[1] == 1)
            dw3_plane8(2, 1, w, xp, wt, bias, yp, rp, clamp, lo, hi);
        else
            dw3_plane8(2, 2, w, xp, wt, bias, yp, rp, clamp, lo, hi);
        return;
    }
#endif
    if (w->stride[2] == 1 && w->stride[1] == 1)
        dw3_plane(1, 1, false, w, xp, wt, bias, yp, rp, clamp, lo, hi);
    else if (w->stride[2] == 1)
        dw3_plane(1, 2, false, w, xp, wt, bias, yp, rp, clamp, lo, hi);
    else if (w->stride[1] == 1)
        dw3_plane(2, 1, false, w, xp, wt, bias, yp, rp, clamp, lo, hi);
    else
        dw3_plane(2, 2, false, w, xp, wt, bias, yp, rp, clamp, lo, hi);
}

void oc_dw3s1_plane16(const oc_window *w, const float *xp, const float *wt, float bias, float *yp, const float *rp,
                      bool clamp, float lo, float hi)
{
    dw3_plane(1, 1, true, w, xp, wt, bias, yp, rp, clamp, lo, hi);
}

#else
typedef int oc_dwconv3_needs_avx512; /* ISO C wants a declaration in a translation unit */
#endif
