/* Row-major GEMM wrappers over CBLAS (OpenBLAS) for the Conv, ConvTranspose, Gemm and MatMul kernels. They
 * accept the empty sizes ONNX allows (no rows, columns or depth), which BLAS rejects as illegal arguments. */
#ifndef ONNXC_KERNELS_LINALG_H
#define ONNXC_KERNELS_LINALG_H

#include <cblas.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

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

#endif
