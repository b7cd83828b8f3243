/* 7 x 7 depthwise convolution, stride 1, no dilation, of one zero-padded plane (ConvNeXt's token mixer), with
 * AVX-512: a tile of up to 4 output rows x 64 columns in registers, each input vector loaded once and used for
 * every output row it reaches (up to 4 FMAs per load instead of one). Each output is its bias plus the 49
 * products in tap order, one FMA each, as conv.c's padded-plane loops sum them, so results are the same bits. */
#include "dwconv7.h"

#if defined(__AVX512F__) && defined(__FMA__)
#include <immintrin.h>

/* Rows [oh, oh + R) x columns [c0, c0 + 16 V) (the last vector masked by ml) of the output. */
static inline __attribute__((always_inline)) void dw7_tile(const int R, const int V, const float *buf, int64_t rl,
                                                           const float *wt, __m512 vb, float *y, int64_t o2,
                                                           const float *rp, bool clamp, __m512 vlo, __m512 vhi,
                                                           __mmask16 ml)
{
    __m512 acc[4][4];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++)
            acc[r][v] = vb;
#pragma GCC unroll 10
    for (int ir = 0; ir < R + 6; ir++) {
        const float *row = buf + ir * rl;
#pragma GCC unroll 7
        for (int kw = 0; kw < 7; kw++) {
            __m512 x[4];
#pragma GCC unroll 4
            for (int v = 0; v < V; v++)
                x[v] = v + 1 < V ? _mm512_loadu_ps(row + kw + 16 * v) : _mm512_maskz_loadu_ps(ml, row + kw + 16 * v);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
                const int kh = ir - r;
                if (kh < 0 || kh > 6)
                    continue;
                const __m512 wv = _mm512_set1_ps(wt[kh * 7 + kw]);
#pragma GCC unroll 4
                for (int v = 0; v < V; v++)
                    acc[r][v] = _mm512_fmadd_ps(wv, x[v], acc[r][v]);
            }
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) {
            const __mmask16 m = v + 1 < V ? (__mmask16)0xffff : ml;
            __m512 a = acc[r][v];
            if (rp)
                a = _mm512_add_ps(a, _mm512_maskz_loadu_ps(m, rp + r * o2 + 16 * v));
            if (clamp) /* max(lo, x), min(hi, x) keep a NaN x, as Relu and Clip do */
                a = _mm512_min_ps(vhi, _mm512_max_ps(vlo, a));
            _mm512_mask_storeu_ps(y + r * o2 + 16 * v, m, a);
        }
}

#define DW7_V(R, V)                                                                                                    \
    case V:                                                                                                            \
        dw7_tile(R, V, b, rl, wt, vb, yr, o2, rr, clamp, vlo, vhi, ml);                                                \
        break;

#define DW7_R(R)                                                                                                       \
    static void dw7_rows##R(int v, const float *b, int64_t rl, const float *wt, __m512 vb, float *yr, int64_t o2,      \
                            const float *rr, bool clamp, __m512 vlo, __m512 vhi, __mmask16 ml)                         \
    {                                                                                                                  \
        switch (v) {                                                                                                   \
            DW7_V(R, 1)                                                                                                \
            DW7_V(R, 2)                                                                                                \
            DW7_V(R, 3)                                                                                                \
        default: dw7_tile(R, 4, b, rl, wt, vb, yr, o2, rr, clamp, vlo, vhi, ml);                                       \
        }                                                                                                              \
    }
DW7_R(4)
DW7_R(2)
DW7_R(1)

bool oc_dw7_plane(const float *buf, int64_t rl, int64_t o1, int64_t o2, const float *wt, float bias, float *yp,
                  const float *rp, bool clamp, float lo, float hi)
{
    const __m512 vb = _mm512_set1_ps(bias), vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    for (int64_t oh = 0; oh < o1;) {
        const int64_t left = o1 - oh;
        const int rows = left >= 4 ? 4 : left >= 2 ? 2 : 1;
        for (int64_t c0 = 0; c0 < o2; c0 += 64) {
            const int64_t cols = o2 - c0 < 64 ? o2 - c0 : 64;
            const int v = (int)((cols + 15) / 16);
            const int last = (int)(cols - 16 * (v - 1));
            const __mmask16 ml = (__mmask16)(last >= 16 ? 0xffffu : (1u << last) - 1u);
            const float *b = buf + oh * rl + c0;
            float *yr = yp + oh * o2 + c0;
            const float *rr = rp ? rp + oh * o2 + c0 : NULL;
            if (rows == 4)
                dw7_rows4(v, b, rl, wt, vb, yr, o2, rr, clamp, vlo, vhi, ml);
            else if (rows == 2)
                dw7_rows2(v, b, rl, wt, vb, yr, o2, rr, clamp, vlo, vhi, ml);
            else
                dw7_rows1(v, b, rl, wt, vb, yr, o2, rr, clamp, vlo, vhi, ml);
        }
        oh += rows;
    }
    return true;
}

#else

bool oc_dw7_plane(const float *buf, int64_t rl, int64_t o1, int64_t o2, const float *wt, float bias, float *yp,
                  const float *rp, bool clamp, float lo, float hi)
{
    (void)buf, (void)rl, (void)o1, (void)o2, (void)wt, (void)bias, (void)yp, (void)rp, (void)clamp, (void)lo, (void)hi;
    return false;
}

#endif
