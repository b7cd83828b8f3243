/* Packed single-precision GEMM for the convolution and matrix kernels: A (weights) packed once into panels of
 * OC_GEMM_MR rows, B filled by the caller one depth block at a time, an OC_GEMM_MR x OC_GEMM_NR micro-kernel
 * (AVX2/FMA when the build targets it) with bias, residual and clamp applied in registers before the store. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "linalg.h"
#include "threadpool.h"
#include "util.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
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
    if (!oc_mul_i64(k, out->mp * MR, &total) || !oc_mul_i64(total, (int64_t)sizeof(float), &total))
        return oc_err(ONNXC_E_NOMEM, "packed weights of %lld x %lld overflow", (long long)m, (long long)k);
    out->data = oc_malloc((size_t)total);
    if (!out->data)
        return oc_err(ONNXC_E_NOMEM, "out of memory packing %lld x %lld weights", (long long)m, (long long)k);
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

/* ---- micro-kernel: c[MR][NR] (row stride ldc) = (first ? bias : c) + a_panel . b_panel, then on the last
 * block + res, clamp. b rows are NR floats at stride ldb, 32-byte aligned. */

#ifdef OC_GEMM_AVX2

#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

static void ukr(int64_t kc, const float *restrict a, const float *restrict b, int64_t ldb, float *restrict c,
                int64_t ldc, bool first, bool last, const float *bias, const float *res, int64_t ldr, bool clamp,
                float lo, float hi)
{
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    if (!first) {
#define LOADC(i)                                                                                            \
    c##i##0 = _mm256_loadu_ps(c + i * ldc);                                                                 \
    c##i##1 = _mm256_loadu_ps(c + i * ldc + 8);
        ROWS(LOADC)
    } else if (bias) {
#define BIASC(i) c##i##0 = c##i##1 = _mm256_broadcast_ss(bias + i);
        ROWS(BIASC)
    } else {
#define ZEROC(i) c##i##0 = c##i##1 = _mm256_setzero_ps();
        ROWS(ZEROC)
    }
#pragma GCC unroll 4
    for (int64_t k = 0; k < kc; k++) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        __m256 av;
#define STEP(i)                                                                                             \
    av = _mm256_broadcast_ss(a + i);                                                                        \
    c##i##0 = _mm256_fmadd_ps(av, b0, c##i##0);                                                             \
    c##i##1 = _mm256_fmadd_ps(av, b1, c##i##1);
        ROWS(STEP)
        a += MR;
        b += ldb;
    }
    if (last && res) {
#define ADDRES(i)                                                                                           \
    c##i##0 = _mm256_add_ps(c##i##0, _mm256_loadu_ps(res + i * ldr));                                       \
    c##i##1 = _mm256_add_ps(c##i##1, _mm256_loadu_ps(res + i * ldr + 8));
        ROWS(ADDRES)
    }
    if (last && clamp) {
        /* max(lo, x) and min(hi, x) return x when it is NaN (the second operand), as Relu and Clip do */
        const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
#define CLAMP(i)                                                                                            \
    c##i##0 = _mm256_min_ps(vhi, _mm256_max_ps(vlo, c##i##0));                                              \
    c##i##1 = _mm256_min_ps(vhi, _mm256_max_ps(vlo, c##i##1));
        ROWS(CLAMP)
    }
#define STOREC(i)                                                                                           \
    _mm256_storeu_ps(c + i * ldc, c##i##0);                                                                 \
    _mm256_storeu_ps(c + i * ldc + 8, c##i##1);
    ROWS(STOREC)
}

#else

static void ukr(int64_t kc, const float *restrict a, const float *restrict b, int64_t ldb, float *restrict c,
                int64_t ldc, bool first, bool last, const float *bias, const float *res, int64_t ldr, bool clamp,
                float lo, float hi)
{
    float acc[MR][NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++)
            acc[i][j] = !first ? c[i * ldc + j] : bias ? bias[i] : 0.0f;
    for (int64_t k = 0; k < kc; k++) {
        for (int i = 0; i < MR; i++) {
            const float av = a[i];
            for (int j = 0; j < NR; j++)
                acc[i][j] += av * b[j];
        }
        a += MR;
        b += ldb;
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) {
            float v = acc[i][j];
            if (last && res)
                v += res[i * ldr + j];
            if (last && clamp) {
                v = v < lo ? lo : v;
                v = v > hi ? hi : v;
            }
            c[i * ldc + j] = v;
        }
}

#endif

/* One tile of rows x cols <= MR x NR: straight to C when whole, else through a local tile. */
static void tile(int64_t kc, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc, int64_t rows,
                 int64_t cols, bool first, bool last, const float *bias, const oc_epilogue *ep, const float *res)
{
    if (rows == MR && cols == NR) {
        ukr(kc, a, b, ldb, c, ldc, first, last, bias, res, ep->ldr, ep->clamp, ep->lo, ep->hi);
        return;
    }
    _Alignas(64) float t[MR * NR];
    float bb[MR];
    if (!first) {
        memset(t, 0, sizeof t);
        for (int64_t r = 0; r < rows; r++)
            memcpy(t + r * NR, c + r * ldc, (size_t)cols * sizeof *t);
    }
    if (first && bias) {
        memset(bb, 0, sizeof bb);
        memcpy(bb, bias, (size_t)rows * sizeof *bb);
    }
    ukr(kc, a, b, ldb, t, NR, first, false, first && bias ? bb : NULL, NULL, 0, false, 0.0f, 0.0f);
    for (int64_t r = 0; r < rows; r++) {
        float *cr = c + r * ldc;
        const float *tr = t + r * NR;
        if (!last) {
            memcpy(cr, tr, (size_t)cols * sizeof *cr);
            continue;
        }
        for (int64_t j = 0; j < cols; j++) {
            float v = tr[j];
            if (res)
                v += res[r * ep->ldr + j];
            if (ep->clamp) {
                v = v < ep->lo ? ep->lo : v;
                v = v > ep->hi ? ep->hi : v;
            }
            cr[j] = v;
        }
    }
}

void oc_gemm_packed(const oc_packed_a *a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, oc_bfill_fn fill,
                    const void *fill_ctx, float *c, int64_t ldc, const oc_epilogue *ep, float *work)
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
    const int64_t ldb = oc_gemm_ldb(nc);
    for (int64_t blk = 0; blk < a->nkb; blk++) {
        const int64_t k0 = blk * a->kc, kcb = a->k - k0 < a->kc ? a->k - k0 : a->kc;
        const bool first = blk == 0, last = blk == a->nkb - 1;
        fill(fill_ctx, k0, kcb, n0, nc, work, ldb);
        const float *ab = a->data + k0 * a->mp * MR;
        for (int64_t jp = 0; jp < nc; jp += NR) {
            const int64_t cols = nc - jp < NR ? nc - jp : NR;
            for (int64_t r0 = m0; r0 < m1; r0 += MR) {
                const int64_t rows = m1 - r0 < MR ? m1 - r0 : MR;
                const float *res = ep->res ? ep->res + r0 * ep->ldr + n0 + jp : NULL;
                tile(kcb, ab + (r0 / MR) * kcb * MR, work + jp, ldb, c + r0 * ldc + n0 + jp, ldc, rows, cols,
                     first, last, ep->bias ? ep->bias + r0 : NULL, ep, res);
            }
        }
    }
}

/* ---- BLAS calls split across the pool ---- */

typedef struct sgemm_job {
    bool ta, tb, by_rows;
    int64_t m, n, k, lda, ldb, ldc, block;
    float alpha, beta;
    const float *a, *b;
    float *c;
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
        return;
    }
    oc_sgemm(j->ta, j->tb, j->m, cols, j->k, j->alpha, j->a, j->lda, b, j->ldb, j->beta, j->c + lo, j->ldc);
}

void oc_sgemm_pool(struct oc_threadpool *pool, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                   const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    if (m <= 0 || n <= 0)
        return;
    sgemm_job j = {ta, tb, false, m, n, k, lda, ldb, ldc, n, alpha, beta, a, b, c};
    const int slots = oc_pool_threads(pool);
    /* enough blocks for every thread to claim a few, none smaller than ~64k multiply-adds */
    const double work = (double)m * (double)n * (double)(k > 0 ? k : 1);
    int64_t items = slots > 1 ? 4 * (int64_t)slots : 1;
    if (work / (double)items < 65536.0)
        items = (int64_t)(work / 65536.0) + 1;
    if (items > 1 && n < 64 && m >= 4 * n) {
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
