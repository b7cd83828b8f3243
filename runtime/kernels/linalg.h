/* Row-major GEMM wrappers over CBLAS (OpenBLAS) for the Conv, ConvTranspose, Gemm and MatMul kernels. They
 * accept the empty sizes ONNX allows (no rows, columns or depth), which BLAS rejects as illegal arguments. */
#ifndef ONNXC_KERNELS_LINALG_H
#define ONNXC_KERNELS_LINALG_H

#include <cblas.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "onnxc/onnxc.h"

/* BLAS sizes are int: a kernel checks at plan time that every size and leading dimension fits. */
static inline bool oc_blas_fits(int64_t v)
{
    return v >= 0 && v <= INT_MAX;
}

/* C[m,n] = alpha * op(A)[m,k] op(B)[k,n] + beta * C; C is not read when beta == 0. */
static inline void oc_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                            int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    if (m == 0 || n == 0)
        return;
    if (k == 0) {
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

static inline void oc_dgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double *a,
                            int64_t lda, const double *b, int64_t ldb, double beta, double *c, int64_t ldc)
{
    if (m == 0 || n == 0)
        return;
    if (k == 0) {
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                c[i * ldc + j] = beta == 0.0 ? 0.0 : beta * c[i * ldc + j];
        return;
    }
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

/* C = alpha op(A) op(B) + beta C as oc_sgemm, split into column (or row) blocks run by the session's pool,
 * each block one single-threaded BLAS call; a single row goes to sgemv. pool may be NULL. */
struct oc_threadpool;
void oc_sgemm_pool(struct oc_threadpool *pool, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                   const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

/* Called on each block of C right after the thread that computed it: rows [r0, r1) x columns [c0, c1) of the
 * C at c (row stride ldc), while the block is still in that core's cache (a fused epilogue). */
typedef void (*oc_block_fn)(void *ctx, float *c, int64_t ldc, int64_t r0, int64_t r1, int64_t c0, int64_t c1);
/* oc_sgemm_pool, with ep(ep_ctx, ...) run on every block it computed (ep may be NULL). */
void oc_sgemm_pool_ep(struct oc_threadpool *pool, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                      const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc,
                      oc_block_fn ep, void *ep_ctx);

/* ---- packed single-precision GEMM (sgemm_packed.c): C = A B with A prepacked once (a layer's weights) and B
 * produced block by block by the caller (im2col, or rows of an activation), so a column block stays in
 * cache from the moment it is written until every row of C has used it. AVX-512 or AVX2/FMA micro-kernels of
 * OC_GEMM_MR x OC_GEMM_NR outputs, portable C otherwise. ---- */

/* AVX-512: 8 rows x one 16-float vector (channel counts are multiples of 8: no padded rows); AVX2: 6 rows x
 * two 8-float vectors. Each C element is the same FMA chain over k either way, so the tile shape never changes
 * a bit. */
#if defined(__AVX512F__) && defined(__FMA__)
#define OC_GEMM_MR 8
#else
#define OC_GEMM_MR 6
#endif
#define OC_GEMM_NR 16
#define OC_GEMM_KC 256 /* depth of a block of A and B: a B panel (KC x NR floats, 16 KiB) stays in L1 */

typedef struct oc_packed_a {
    int64_t m, k;
    int64_t kc;      /* depth of every block but the last */
    int64_t nkb;     /* depth blocks: ceil(k / kc) */
    int64_t mp;      /* row panels: ceil(m / MR), the last zero-padded */
    float *data;     /* block b at b * kc * mp * MR; its panel i at + i * kcb * MR, laid out [kcb][MR] */
} oc_packed_a;

/* What happens to a result before it is stored: + bias[row], + res[row * ldr + col], then clamp to [lo, hi]. */
typedef struct oc_epilogue {
    const float *bias;   /* per row of C, or NULL */
    const float *res;    /* same indexing as C (row 0, column 0 at res), or NULL */
    int64_t ldr;
    bool clamp;
    float lo, hi;
} oc_epilogue;

/* Writes rows [k0, k0 + kcb) x columns [n0, n0 + nc) of B into dst (row stride ldb), and zeros in columns nc
 * up to the next multiple of OC_GEMM_NR. */
typedef void (*oc_bfill_fn)(const void *ctx, int64_t k0, int64_t kcb, int64_t n0, int64_t nc, float *dst,
                            int64_t ldb);

/* Pack the m x k row-major matrix a (row stride lda) into out (out->data from oc_malloc). */
onnxc_status oc_pack_a(const float *a, int64_t lda, int64_t m, int64_t k, oc_packed_a *out);
/* The same in two steps: lay out and allocate for m x k, then (again for new values) fill from a. */
onnxc_status oc_pack_a_alloc(int64_t m, int64_t k, oc_packed_a *out);
void oc_pack_a_fill(const float *a, int64_t lda, oc_packed_a *out);
void oc_packed_a_free(oc_packed_a *p);

/* Row stride the driver uses for a B block of nc columns (a multiple of NR with an odd number of panels, so
 * the rows of a panel spread over all L1 sets). */
int64_t oc_gemm_ldb(int64_t nc);
/* Floats of work memory oc_gemm_packed needs for a B block of nc columns. */
int64_t oc_gemm_work_floats(const oc_packed_a *a, int64_t nc);

/* Implicit GEMM: B is not stored; row k of it starts at b + koff[k] (columns contiguous from there, readable up
 * to the next multiple of OC_GEMM_NR). C rows [m0, m1) x columns [n0, n1) of a C that is padded to whole tiles
 * (m1 and n1 rounded up to OC_GEMM_MR and OC_GEMM_NR must be addressable) receive A B + bias[row] (bias may be
 * NULL); m0 and n0 are multiples of the tile sizes, m1 of OC_GEMM_MR, n1 of 8 (a last panel of 8 columns is
 * computed as such). */
void oc_gemm_packed_koff(const oc_packed_a *a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, const float *b,
                         const int64_t *koff, float *c, int64_t ldc, const float *bias);

/* The tiles of rows [m0, m1) (m0 a multiple of OC_GEMM_MR) x cols <= OC_GEMM_NR columns, one call for the whole
 * column of tiles (a call per tile cost as much as a depth-27 tile itself): a is the depth block's first packed
 * panel (panel r0 / OC_GEMM_MR at a + r0 * kc), c, bias and res address row 0 (bias used on the first block,
 * res and the clamp on the last). */
void oc_gemm_rows_koff(int64_t kc, const float *a, int64_t m0, int64_t m1, const float *b, const int64_t *koff,
                       float *c, int64_t ldc, int cols, bool first, bool last, const float *bias, const float *res,
                       int64_t ldr, bool clamp, float lo, float hi);

/* C rows [m0, m1) x columns [n0, n1) = A B, then the epilogue; c and ep->res address row 0, column 0. m0 is a
 * multiple of OC_GEMM_MR. work: oc_gemm_work_floats(a, n1 - n0) floats, 64-byte aligned. */
void oc_gemm_packed(const oc_packed_a *a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, oc_bfill_fn fill,
                    const void *fill_ctx, float *c, int64_t ldc, const oc_epilogue *ep, float *work);
/* The same, the rows taken in blocks of mc (a multiple of OC_GEMM_MR; m1 - m0 for one block) per filled B
 * block: each B block is filled once for all of them, while each row block's A stays in cache. */
void oc_gemm_packed_mc(const oc_packed_a *a, int64_t m0, int64_t m1, int64_t mc, int64_t n0, int64_t n1,
                       oc_bfill_fn fill, const void *fill_ctx, float *c, int64_t ldc, const oc_epilogue *ep,
                       float *work);

#endif
