/* Packed single-precision GEMM for the convolution and matrix kernels: A (weights) packed once into panels of
 * OC_GEMM_MR rows, B filled by the caller one depth block at a time, an OC_GEMM_MR x OC_GEMM_NR micro-kernel
 * (AVX-512: 8 x 16, AVX2/FMA: 6 x 16, as the build targets) with bias, residual and clamp applied in registers
 * before the store. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "linalg.h"
#include "threadpool.h"
#include "util.h"

#if defined(__AVX512F__) && defined(__FMA__)
#include <immintrin.h>
#define OC_GEMM_AVX512 1
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include "simd.h"
#define OC_GEMM_AVX2 1
#endif

#define MR OC_GEMM_MR
#define NR OC_GEMM_NR

onnxc_status oc_pack_a_alloc(int64_t m, int64_t k, oc_packed_a *out)
{
    memset(out, 0, sizeof *out);
    out->m = m;
    out->k = k;
    out->mp = (m + MR - 1) / MR;
    if (k <= 0 || m <= 0)
        return ONNXC_OK;
    /* blocks of equal depth (the last one possibly shorter by less than a block count) */
    out->nkb = (k + OC_GEMM_KC - 1) / OC_GEMM_KC;
    out->kc = (k + out->nkb - 1) / out->nkb;
    int64_t total;
    /* + 8 floats: the narrow micro-kernel loads 8 floats from a panel's last 6 */
    if (!oc_mul_i64(k, out->mp * MR, &total) || !oc_mul_i64(total + 8, (int64_t)sizeof(float), &total))
        return oc_err(ONNXC_E_NOMEM, "packed weights of %lld x %lld overflow", (long long)m, (long long)k);
    out->data = oc_malloc((size_t)total);
    if (!out->data)
        return oc_err(ONNXC_E_NOMEM, "out of memory packing %lld x %lld weights", (long long)m, (long long)k);
    memset(out->data + k * out->mp * MR, 0, 8 * sizeof(float));
    return ONNXC_OK;
}

void oc_pack_a_fill(const float *a, int64_t lda, oc_packed_a *out)
{
    const int64_t m = out->m, k = out->k;
    for (int64_t b = 0; b < out->nkb; b++) {
        int64_t k0 = b * out->kc, kcb = k - k0 < out->kc ? k - k0 : out->kc;
        float *blk = out->data + k0 * out->mp * MR;
        for (int64_t i = 0; i < out->mp; i++) {
            float *pan = blk + i * kcb * MR;
            for (int64_t r = 0; r < MR; r++) {
                int64_t row = i * MR + r;
                if (row < m) {
                    const float *src = a + row * lda + k0;
                    for (int64_t kk = 0; kk < kcb; kk++)
                        pan[kk * MR + r] = src[kk];
                } else {
                    for (int64_t kk = 0; kk < kcb; kk++)
                        pan[kk * MR + r] = 0.0f;
                }
            }
        }
    }
}

onnxc_status oc_pack_a(const float *a, int64_t lda, int64_t m, int64_t k, oc_packed_a *out)
{
    onnxc_status st = oc_pack_a_alloc(m, k, out);
    if (st == ONNXC_OK)
        oc_pack_a_fill(a, lda, out);
    return st;
}

void oc_packed_a_free(oc_packed_a *p)
{
    if (!p)
        return;
    oc_free(p->data);
    p->data = NULL;
}

int64_t oc_gemm_ldb(int64_t nc)
{
    int64_t panels = (nc + NR - 1) / NR;
    if (panels < 1)
        panels = 1;
    if (panels % 2 == 0)
        panels++;
    return panels * NR;
}

int64_t oc_gemm_work_floats(const oc_packed_a *a, int64_t nc)
{
    return a->kc * oc_gemm_ldb(nc);
}

/* ---- micro-kernels. One tile: rows x cols of C (rows <= MR, cols <= NR; rows and columns past them are
 * neither read nor written) = (first ? bias : C) + a_panel . b_panel, then on the last depth block + res and
 * clamp. B row k is b + k * ldb (a filled block, 64-byte aligned) or, when koff is set, b + koff[k]
 * (unaligned); columns past cols are read (AVX2; AVX-512 masks them off the koff loads) but must be finite. ---- */

typedef struct tile_args {
    int rows, cols;
    bool first, last;
    const float *bias;   /* first block: bias[i] for row i < rows, or NULL */
    const float *res;    /* last block: added, row stride ldr, or NULL */
    int64_t ldr;
    bool clamp;
    float lo, hi;
} tile_args;

#if defined(OC_GEMM_AVX512) || defined(OC_GEMM_AVX2)
#if defined(OC_GEMM_AVX512)
typedef __m512 nvec;
#define NV_LANES 16
#define NV_ZERO() _mm512_setzero_ps()
#define NV_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define NV_ADD(a, b) _mm512_add_ps(a, b)
#define NV_BCAST(p) _mm512_set1_ps(*(p))
#define NV_LOADA(p) _mm512_maskz_loadu_ps((__mmask16)((1u << MR) - 1u), p) /* the panel's rows of one k */
#define NV_STOREU(p, v) _mm512_storeu_ps(p, v)
#else
typedef __m256 nvec;
#define NV_LANES 8
#define NV_ZERO() _mm256_setzero_ps()
#define NV_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define NV_ADD(a, b) _mm256_add_ps(a, b)
#define NV_BCAST(p) _mm256_broadcast_ss(p)
#define NV_LOADA(p) _mm256_loadu_ps(p) /* rows 0..5 of this k (the packing leaves slack) */
#define NV_STOREU(p, v) _mm256_storeu_ps(p, v)
#endif

/* At most 4 columns (the tail of 49 or 196 positions): vectors run down the panel's MR rows (one load per k:
 * AVX-512 16 lanes masked to 8, AVX2 8 lanes with two unused), one accumulator per column, or per k phase when
 * there are fewer columns, so enough independent FMA chains stay in flight. Costs about a twelfth of a
 * 16-column tile per column. */
static void ukr_narrow(int64_t kc, const float *restrict a, const float *restrict b, int64_t ldb,
                       const int64_t *restrict koff, float *restrict c, int64_t ldc, const tile_args *t)
{
    const int rows = t->rows, cols = t->cols;
    const int chains = cols == 1 ? 4 : cols == 2 ? 2 : 1; /* k phases per column */
    nvec acc[4][4];
    for (int u = 0; u < 4; u++)
        for (int j = 0; j < 4; j++)
            acc[u][j] = NV_ZERO();
#define NB(k, j) NV_BCAST((koff ? b + koff[k] : b + (k) * ldb) + (j))
#define NA(k) NV_LOADA(a + (k) * MR)
    int64_t k = 0;
    if (cols == 1) {
        nvec a0 = acc[0][0], a1 = acc[1][0], a2 = acc[2][0], a3 = acc[3][0];
        for (; k + 4 <= kc; k += 4) {
            a0 = NV_FMA(NA(k), NB(k, 0), a0);
            a1 = NV_FMA(NA(k + 1), NB(k + 1, 0), a1);
            a2 = NV_FMA(NA(k + 2), NB(k + 2, 0), a2);
            a3 = NV_FMA(NA(k + 3), NB(k + 3, 0), a3);
        }
        for (; k < kc; k++)
            a0 = NV_FMA(NA(k), NB(k, 0), a0);
        acc[0][0] = a0, acc[1][0] = a1, acc[2][0] = a2, acc[3][0] = a3;
    } else if (cols == 2) {
        nvec a00 = acc[0][0], a01 = acc[0][1], a10 = acc[1][0], a11 = acc[1][1];
        for (; k + 2 <= kc; k += 2) {
            const nvec x0 = NA(k), x1 = NA(k + 1);
            a00 = NV_FMA(x0, NB(k, 0), a00);
            a01 = NV_FMA(x0, NB(k, 1), a01);
            a10 = NV_FMA(x1, NB(k + 1, 0), a10);
            a11 = NV_FMA(x1, NB(k + 1, 1), a11);
        }
        for (; k < kc; k++) {
            const nvec x0 = NA(k);
            a00 = NV_FMA(x0, NB(k, 0), a00);
            a01 = NV_FMA(x0, NB(k, 1), a01);
        }
        acc[0][0] = a00, acc[0][1] = a01, acc[1][0] = a10, acc[1][1] = a11;
    } else {
        nvec a0 = acc[0][0], a1 = acc[0][1], a2 = acc[0][2], a3 = acc[0][3];
        for (; k < kc; k++) {
            const nvec x0 = NA(k);
            a0 = NV_FMA(x0, NB(k, 0), a0);
            a1 = NV_FMA(x0, NB(k, 1), a1);
            a2 = NV_FMA(x0, NB(k, 2), a2);
            if (cols == 4)
                a3 = NV_FMA(x0, NB(k, 3), a3);
        }
        acc[0][0] = a0, acc[0][1] = a1, acc[0][2] = a2, acc[0][3] = a3;
    }
#undef NA
#undef NB
    float out[4][NV_LANES];
    for (int j = 0; j < cols; j++) {
        nvec v = acc[0][j];
        for (int u = 1; u < chains; u++)
            v = NV_ADD(v, acc[u][j]);
        NV_STOREU(out[j], v);
    }
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            float v = out[j][i] + (!t->first ? c[i * ldc + j] : t->bias ? t->bias[i] : 0.0f);
            if (t->last && t->res)
                v += t->res[i * t->ldr + j];
            if (t->last && t->clamp) {
                v = v < t->lo ? t->lo : v;
                v = v > t->hi ? t->hi : v;
            }
            c[i * ldc + j] = v;
        }
}
#endif

#ifdef OC_GEMM_AVX512

#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

/* 5 to 16 columns: one 16-float accumulator per row, the columns past cols masked off every load and store
 * of C and of a koff row (a filled block is read whole: its columns are finite). The same FMA chain per
 * element as the AVX2 kernel, so the same bits. */
static void ukr16(int64_t kc, const float *restrict a, const float *restrict b, int64_t ldb,
                  const int64_t *restrict koff, float *restrict c, int64_t ldc, const tile_args *t)
{
    const int rows = t->rows;
    const __mmask16 m = t->cols >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << t->cols) - 1u);
    const __m512 zero = _mm512_setzero_ps();
    __m512 c0, c1, c2, c3, c4, c5, c6, c7;
    if (!t->first) {
#define LOADC(i) c##i = i < rows ? _mm512_maskz_loadu_ps(m, c + i * ldc) : zero;
        ROWS(LOADC)
    } else if (t->bias) {
#define BIASC(i) c##i = i < rows ? _mm512_set1_ps(t->bias[i]) : zero;
        ROWS(BIASC)
    } else {
#define ZEROC(i) c##i = zero;
        ROWS(ZEROC)
    }
#define STEP(i) c##i = _mm512_fmadd_ps(_mm512_set1_ps(a[i]), b0, c##i);
    if (koff && t->cols < 16) {
#pragma GCC unroll 4
        for (int64_t k = 0; k < kc; k++) {
            const __m512 b0 = _mm512_maskz_loadu_ps(m, b + koff[k]);
            ROWS(STEP)
            a += MR;
        }
    } else if (koff) {
#pragma GCC unroll 4
        for (int64_t k = 0; k < kc; k++) {
            const __m512 b0 = _mm512_loadu_ps(b + koff[k]);
            ROWS(STEP)
            a += MR;
        }
    } else {
#pragma GCC unroll 4
        for (int64_t k = 0; k < kc; k++) {
            const __m512 b0 = _mm512_loadu_ps(b);
            ROWS(STEP)
            a += MR;
            b += ldb;
        }
    }
    if (t->last && t->res) {
        const float *res = t->res;
        const int64_t ldr = t->ldr;
#define ADDRES(i)                                                                                           \
    if (i < rows)                                                                                           \
        c##i = _mm512_add_ps(c##i, _mm512_maskz_loadu_ps(m, res + i * ldr));
        ROWS(ADDRES)
    }
    if (t->last && t->clamp) {
        /* max(lo, x) and min(hi, x) return x when it is NaN (the second operand), as Relu and Clip do */
        const __m512 vlo = _mm512_set1_ps(t->lo), vhi = _mm512_set1_ps(t->hi);
#define CLAMP(i) c##i = _mm512_min_ps(vhi, _mm512_max_ps(vlo, c##i));
        ROWS(CLAMP)
    }
#define STOREC(i)                                                                                           \
    if (i < rows)                                                                                           \
        _mm512_mask_storeu_ps(c + i * ldc, m, c##i);
    ROWS(STOREC)
}


static void run_tile(int64_t kc, const float *a, const float *b, int64_t ldb, const int64_t *koff, float *c,
                     int64_t ldc, const tile_args *t)
{
    if (t->cols <= 4)
        ukr_narrow(kc, a, b, ldb, koff, c, ldc, t);
    else
        ukr16(kc, a, b, ldb, koff, c, ldc, t);
}

#elif defined(OC_GEMM_AVX2)

#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

static inline __m256i lanes_below(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline __m256 ld8(const float *p, bool full, __m256i m)
{
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
}

/* A partial store through oc_maskstore8 (simd.h): every tile with fewer than 16 columns ends in one per row. */
static inline void st8(float *p, __m256 v, bool full, __m256i m)
{
    if (full)
        _mm256_storeu_ps(p, v);
    else
        oc_maskstore8(p, m, v);
}

/* 16 columns: 12 accumulators (two vectors per row) */
static void ukr16(int64_t kc, const float *restrict a, const float *restrict b, int64_t ldb,
                  const int64_t *restrict koff, float *restrict c, int64_t ldc, const tile_args *t)
{
    const int rows = t->rows;
    const bool f0 = t->cols >= 8, f1 = t->cols >= 16;
    const __m256i m0 = lanes_below(t->cols), m1 = lanes_below(t->cols - 8);
    const __m256 zero = _mm256_setzero_ps();
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    if (!t->first) {
#define LOADC(i)                                                                                            \
    if (i < rows) {                                                                                         \
        c##i##0 = ld8(c + i * ldc, f0, m0);                                                                 \
        c##i##1 = ld8(c + i * ldc + 8, f1, m1);                                                             \
    } else {                                                                                                \
        c##i##0 = c##i##1 = zero;                                                                           \
    }
        ROWS(LOADC)
    } else if (t->bias) {
#define BIASC(i) c##i##0 = c##i##1 = i < rows ? _mm256_broadcast_ss(t->bias + i) : zero;
        ROWS(BIASC)
    } else {
#define ZEROC(i) c##i##0 = c##i##1 = zero;
        ROWS(ZEROC)
    }
#define STEP(i)                                                                                             \
    av = _mm256_broadcast_ss(a + i);                                                                        \
    c##i##0 = _mm256_fmadd_ps(av, b0, c##i##0);                                                             \
    c##i##1 = _mm256_fmadd_ps(av, b1, c##i##1);
    if (koff) {
#pragma GCC unroll 4
        for (int64_t k = 0; k < kc; k++) {
            const float *bk = b + koff[k];
            const __m256 b0 = _mm256_loadu_ps(bk), b1 = _mm256_loadu_ps(bk + 8);
            __m256 av;
            ROWS(STEP)
            a += MR;
        }
    } else {
#pragma GCC unroll 4
        for (int64_t k = 0; k < kc; k++) {
            const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
            __m256 av;
            ROWS(STEP)
            a += MR;
            b += ldb;
        }
    }
    if (t->last && t->res) {
        const float *res = t->res;
        const int64_t ldr = t->ldr;
#define ADDRES(i)                                                                                           \
    if (i < rows) {                                                                                         \
        c##i##0 = _mm256_add_ps(c##i##0, ld8(res + i * ldr, f0, m0));                                       \
        c##i##1 = _mm256_add_ps(c##i##1, ld8(res + i * ldr + 8, f1, m1));                                   \
    }
        ROWS(ADDRES)
    }
    if (t->last && t->clamp) {
        /* max(lo, x) and min(hi, x) return x when it is NaN (the second operand), as Relu and Clip do */
        const __m256 vlo = _mm256_set1_ps(t->lo), vhi = _mm256_set1_ps(t->hi);
#define CLAMP(i)                                                                                            \
    c##i##0 = _mm256_min_ps(vhi, _mm256_max_ps(vlo, c##i##0));                                              \
    c##i##1 = _mm256_min_ps(vhi, _mm256_max_ps(vlo, c##i##1));
        ROWS(CLAMP)
    }
#define STOREC(i)                                                                                           \
    if (i < rows) {                                                                                         \
        st8(c + i * ldc, c##i##0, f0, m0);                                                                  \
        st8(c + i * ldc + 8, c##i##1, f1, m1);                                                              \
    }
    ROWS(STOREC)
}

/* at most 8 columns: 6 accumulators */
static void ukr8(int64_t kc, const float *restrict a, const float *restrict b, int64_t ldb,
                 const int64_t *restrict koff, float *restrict c, int64_t ldc, const tile_args *t)
{
    const int rows = t->rows;
    const bool f0 = t->cols >= 8;
    const __m256i m0 = lanes_below(t->cols);
    const __m256 zero = _mm256_setzero_ps();
    __m256 c00, c10, c20, c30, c40, c50;
    if (!t->first) {
#define LOADC8(i) c##i##0 = i < rows ? ld8(c + i * ldc, f0, m0) : zero;
        ROWS(LOADC8)
    } else if (t->bias) {
#define BIASC8(i) c##i##0 = i < rows ? _mm256_broadcast_ss(t->bias + i) : zero;
        ROWS(BIASC8)
    } else {
#define ZEROC8(i) c##i##0 = zero;
        ROWS(ZEROC8)
    }
#define STEP8(i) c##i##0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + i), b0, c##i##0);
    if (koff) {
#pragma GCC unroll 4
        for (int64_t k = 0; k < kc; k++) {
            const __m256 b0 = _mm256_loadu_ps(b + koff[k]);
            ROWS(STEP8)
            a += MR;
        }
    } else {
#pragma GCC unroll 4
        for (int64_t k = 0; k < kc; k++) {
            const __m256 b0 = _mm256_load_ps(b);
            ROWS(STEP8)
            a += MR;
            b += ldb;
        }
    }
    if (t->last && t->res) {
        const float *res = t->res;
        const int64_t ldr = t->ldr;
#define ADDRES8(i)                                                                                          \
    if (i < rows)                                                                                           \
        c##i##0 = _mm256_add_ps(c##i##0, ld8(res + i * ldr, f0, m0));
        ROWS(ADDRES8)
    }
    if (t->last && t->clamp) {
        const __m256 vlo = _mm256_set1_ps(t->lo), vhi = _mm256_set1_ps(t->hi);
#define CLAMP8(i) c##i##0 = _mm256_min_ps(vhi, _mm256_max_ps(vlo, c##i##0));
        ROWS(CLAMP8)
    }
#define STOREC8(i)                                                                                          \
    if (i < rows)                                                                                           \
        st8(c + i * ldc, c##i##0, f0, m0);
    ROWS(STOREC8)
}


static void run_tile(int64_t kc, const float *a, const float *b, int64_t ldb, const int64_t *koff, float *c,
                     int64_t ldc, const tile_args *t)
{
    if (t->cols <= 4)
        ukr_narrow(kc, a, b, ldb, koff, c, ldc, t);
    else if (t->cols <= 8)
        ukr8(kc, a, b, ldb, koff, c, ldc, t);
    else
        ukr16(kc, a, b, ldb, koff, c, ldc, t);
}

#else

static void run_tile(int64_t kc, const float *a, const float *b, int64_t ldb, const int64_t *koff, float *c,
                     int64_t ldc, const tile_args *t)
{
    float acc[MR][NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++)
            acc[i][j] = 0.0f;
    for (int i = 0; i < t->rows; i++)
        for (int j = 0; j < t->cols; j++)
            acc[i][j] = !t->first ? c[i * ldc + j] : t->bias ? t->bias[i] : 0.0f;
    for (int64_t k = 0; k < kc; k++) {
        const float *bk = koff ? b + koff[k] : b + k * ldb;
        for (int i = 0; i < MR; i++) {
            const float av = a[i];
            for (int j = 0; j < t->cols; j++)
                acc[i][j] += av * bk[j];
        }
        a += MR;
    }
    for (int i = 0; i < t->rows; i++)
        for (int j = 0; j < t->cols; j++) {
            float v = acc[i][j];
            if (t->last && t->res)
                v += t->res[i * t->ldr + j];
            if (t->last && t->clamp) {
                v = v < t->lo ? t->lo : v;
                v = v > t->hi ? t->hi : v;
            }
            c[i * ldc + j] = v;
        }
}

#endif

/* Products this shallow (one depth block) run a row panel at a time across the whole B block, so each tile row
 * of C is written as one sequential stream per output row (6 at a time) instead of 6 x (rows / 6) interleaved
 * ones; the B block is then re-read from L2 once per panel, which costs less than the scattered stores at this
 * depth. MobileNetV2's 16->96 and 32->16 pointwise layers at 112 x 112 ran about 30 % faster; the whole network
 * about 3 % faster on one thread, 1-2 % on two (both orders timed in one process; ResNet-50 unchanged within the
 * noise). Deeper products keep the column-outer order, where B stays in L1 across the panels. */
#define ROWS_FIRST_DEPTH 64

/* One tile of oc_gemm_packed's block: rows r0.. of C (up to MR, not past m1) x columns jp.. (up to NR). */
static inline void packed_tile(const float *ab, int64_t kcb, int64_t r0, int64_t m1, int64_t jp, int64_t nc,
                               int64_t n0, const float *work, int64_t ldb, float *c, int64_t ldc,
                               const oc_epilogue *ep, tile_args *t)
{
    t->cols = (int)(nc - jp < NR ? nc - jp : NR);
    t->rows = (int)(m1 - r0 < MR ? m1 - r0 : MR);
    t->bias = ep->bias ? ep->bias + r0 : NULL;
    t->res = ep->res ? ep->res + r0 * ep->ldr + n0 + jp : NULL;
    run_tile(kcb, ab + (r0 / MR) * kcb * MR, work + jp, ldb, NULL, c + r0 * ldc + n0 + jp, ldc, t);
}

void oc_gemm_packed(const oc_packed_a *a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, oc_bfill_fn fill,
                    const void *fill_ctx, float *c, int64_t ldc, const oc_epilogue *ep, float *work)
{
    oc_gemm_packed_mc(a, m0, m1, m1 - m0, n0, n1, fill, fill_ctx, c, ldc, ep, work);
}

void oc_gemm_packed_mc(const oc_packed_a *a, int64_t m0, int64_t m1, int64_t mc, int64_t n0, int64_t n1,
                       oc_bfill_fn fill, const void *fill_ctx, float *c, int64_t ldc, const oc_epilogue *ep,
                       float *work)
{
    const int64_t nc = n1 - n0;
    if (m1 > a->m)
        m1 = a->m;
    if (nc <= 0 || m1 <= m0)
        return;
    if (a->nkb == 0) {
        /* no depth: the product is zero, the epilogue still applies */
        for (int64_t r = m0; r < m1; r++)
            for (int64_t j = n0; j < n1; j++) {
                float v = ep->bias ? ep->bias[r] : 0.0f;
                if (ep->res)
                    v += ep->res[r * ep->ldr + j];
                if (ep->clamp) {
                    v = v < ep->lo ? ep->lo : v;
                    v = v > ep->hi ? ep->hi : v;
                }
                c[r * ldc + j] = v;
            }
        return;
    }
    if (mc <= 0)
        mc = m1 - m0;
    const int64_t ldb = oc_gemm_ldb(nc);
    tile_args t = {0, 0, false, false, NULL, NULL, ep->ldr, ep->clamp, ep->lo, ep->hi};
    for (int64_t blk = 0; blk < a->nkb; blk++) {
        const int64_t k0 = blk * a->kc, kcb = a->k - k0 < a->kc ? a->k - k0 : a->kc;
        t.first = blk == 0;
        t.last = blk == a->nkb - 1;
        fill(fill_ctx, k0, kcb, n0, nc, work, ldb);
        const float *ab = a->data + k0 * a->mp * MR;
        if (a->nkb == 1 && kcb <= ROWS_FIRST_DEPTH) {
            for (int64_t r0 = m0; r0 < m1; r0 += MR)
                for (int64_t jp = 0; jp < nc; jp += NR)
                    packed_tile(ab, kcb, r0, m1, jp, nc, n0, work, ldb, c, ldc, ep, &t);
        } else {
            /* the filled block serves every row block of mc rows, each row block's A staying in L2 while the
             * block's panels pass */
            for (int64_t rb = m0; rb < m1; rb += mc) {
                const int64_t rb1 = m1 - rb < mc ? m1 : rb + mc;
                for (int64_t jp = 0; jp < nc; jp += NR)
                    for (int64_t r0 = rb; r0 < rb1; r0 += MR)
                        packed_tile(ab, kcb, r0, rb1, jp, nc, n0, work, ldb, c, ldc, ep, &t);
            }
        }
    }
}

void oc_gemm_packed_koff(const oc_packed_a *a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, const float *b,
                         const int64_t *koff, float *c, int64_t ldc, const float *bias)
{
    if (n1 <= n0 || m1 <= m0)
        return;
    if (a->nkb == 0) {
        for (int64_t r = m0; r < m1; r++)
            for (int64_t j = n0; j < n1; j++)
                c[r * ldc + j] = bias && r < a->m ? bias[r] : 0.0f;
        return;
    }
    _Alignas(32) float bb[MR];
    tile_args t = {MR, 0, false, false, NULL, NULL, 0, false, 0.0f, 0.0f};
    for (int64_t blk = 0; blk < a->nkb; blk++) {
        const int64_t k0 = blk * a->kc, kcb = a->k - k0 < a->kc ? a->k - k0 : a->kc;
        const float *ab = a->data + k0 * a->mp * MR;
        t.first = blk == 0;
        for (int64_t jp = n0; jp < n1; jp += NR) {
            t.cols = (int)(n1 - jp < NR ? n1 - jp : NR);
            for (int64_t r0 = m0; r0 < m1; r0 += MR) {
                t.bias = NULL;
                if (t.first && bias) {
                    /* the bias of the panel's rows, zero past the last row */
                    for (int64_t i = 0; i < MR; i++)
                        bb[i] = r0 + i < a->m ? bias[r0 + i] : 0.0f;
                    t.bias = bb;
                }
                run_tile(kcb, ab + (r0 / MR) * kcb * MR, b + jp, 0, koff + k0, c + r0 * ldc + jp, ldc, &t);
            }
        }
    }
}

void oc_gemm_rows_koff(int64_t kc, const float *a, int64_t m0, int64_t m1, const float *b, const int64_t *koff,
                       float *c, int64_t ldc, int cols, bool first, bool last, const float *bias, const float *res,
                       int64_t ldr, bool clamp, float lo, float hi)
{
    tile_args t = {MR, cols, first, last, NULL, NULL, ldr, clamp, lo, hi};
    for (int64_t r0 = m0; r0 < m1; r0 += MR) {
        t.rows = (int)(m1 - r0 < MR ? m1 - r0 : MR);
        t.bias = first && bias ? bias + r0 : NULL;
        t.res = res ? res + r0 * ldr : NULL;
        run_tile(kc, a + r0 * kc, b, 0, koff, c + r0 * ldc, ldc, &t);
    }
}


/* ---- BLAS calls split across the pool ---- */

typedef struct sgemm_job {
    bool ta, tb, by_rows;
    int64_t m, n, k, lda, ldb, ldc, block;
    float alpha, beta;
    const float *a, *b;
    float *c;
    oc_block_fn ep;
    void *ep_ctx;
} sgemm_job;

static void sgemm_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const sgemm_job *j = arg;
    const int64_t lo = item * j->block;
    if (j->by_rows) {
        const int64_t rows = j->m - lo < j->block ? j->m - lo : j->block;
        /* rows lo.. of op(A): A rows when not transposed, A columns when transposed */
        const float *a = j->ta ? j->a + lo : j->a + lo * j->lda;
        oc_sgemm(j->ta, j->tb, rows, j->n, j->k, j->alpha, a, j->lda, j->b, j->ldb, j->beta, j->c + lo * j->ldc,
                 j->ldc);
        if (j->ep)
            j->ep(j->ep_ctx, j->c, j->ldc, lo, lo + rows, 0, j->n);
        return;
    }
    const int64_t cols = j->n - lo < j->block ? j->n - lo : j->block;
    /* columns lo.. of op(B): B columns when not transposed, B rows when transposed */
    const float *b = j->tb ? j->b + lo * j->ldb : j->b + lo;
    if (j->m == 1 && j->k > 0) {
        /* one row: y = x op(B), a matrix-vector product (A's row or column is contiguous either way when
         * m == 1, except a transposed A with lda > 1) */
        const int64_t incx = j->ta ? j->lda : 1;
        if (j->beta == 0.0f) /* sgemv may scale whatever y holds by 0; start from zeros instead */
            memset(j->c + lo, 0, (size_t)cols * sizeof *j->c);
        if (j->tb)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)cols, (int)j->k, j->alpha, b, (int)j->ldb, j->a,
                        (int)incx, j->beta, j->c + lo, 1);
        else
            cblas_sgemv(CblasRowMajor, CblasTrans, (int)j->k, (int)cols, j->alpha, b, (int)j->ldb, j->a,
                        (int)incx, j->beta, j->c + lo, 1);
    } else {
        oc_sgemm(j->ta, j->tb, j->m, cols, j->k, j->alpha, j->a, j->lda, b, j->ldb, j->beta, j->c + lo, j->ldc);
    }
    if (j->ep)
        j->ep(j->ep_ctx, j->c, j->ldc, 0, j->m, lo, lo + cols);
}

void oc_sgemm_pool(struct oc_threadpool *pool, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                   const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    oc_sgemm_pool_ep(pool, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, NULL, NULL);
}

void oc_sgemm_pool_ep(struct oc_threadpool *pool, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                      const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc,
                      oc_block_fn ep, void *ep_ctx)
{
    if (m <= 0 || n <= 0)
        return;
    sgemm_job j = {ta, tb, false, m, n, k, lda, ldb, ldc, n, alpha, beta, a, b, c, ep, ep_ctx};
    const int slots = oc_pool_threads(pool);
    /* enough blocks for every thread to claim a few, none smaller than ~64k multiply-adds */
    const double work = (double)m * (double)n * (double)(k > 0 ? k : 1);
    int64_t items = slots > 1 ? 4 * (int64_t)slots : 1;
    if (work / (double)items < 65536.0)
        items = (int64_t)(work / 65536.0) + 1;
    /* Each item's BLAS call packs the whole of the operand it does not split: a column split packs op(A)
     * (m x k) once per item, a row split packs op(B) (k x n) once per item. Split the longer side so the
     * smaller operand is the one packed again (ConvNeXt's [3136, 96] x [96, 384] runs ~25 % faster by rows,
     * its [49, 768] x [768, 3072] ~3x slower). */
    if (items > 1 && m > n) {
        j.by_rows = true;
        j.block = (m + items - 1) / items;
        if (j.block < 1)
            j.block = 1;
        oc_pool_run(pool, (m + j.block - 1) / j.block, sgemm_item, &j);
        return;
    }
    j.block = (n + items - 1) / items;
    j.block = (j.block + 15) / 16 * 16;
    oc_pool_run(pool, (n + j.block - 1) / j.block, sgemm_item, &j);
}
