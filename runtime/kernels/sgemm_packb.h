/* Single-precision products C = A B against a B known for the life of a plan (MatMul's and Gemm's weights),
 * packed once into column panels: the shape of ConvNeXt's MLPs on NHWC, few rows against wide weights, and
 * many rows against shallow ones. */
#ifndef ONNXC_KERNELS_SGEMM_PACKB_H
#define ONNXC_KERNELS_SGEMM_PACKB_H

#include <stdbool.h>
#include <stdint.h>

#include "linalg.h"
#include "onnxc/onnxc.h"

struct oc_threadpool;

/* op(B) (k x n) in panels of OC_PACKB_PW columns (the last zero-padded), each panel k rows of OC_PACKB_PW floats,
 * 64-byte aligned. */
typedef struct oc_packed_b {
    int64_t k, n;
    int64_t panels;
    float *data; /* 64-byte aligned, inside raw */
    void *raw;
} oc_packed_b;

/* True when this build has the vector kernels (AVX2/FMA or AVX-512); otherwise callers keep their BLAS path. */
bool oc_packb_available(void);

/* Pack op(B): B row-major with row stride ldb, transposed first when trans (B is then n x k). out->data from
 * oc_malloc (free with oc_packed_b_free). */
onnxc_status oc_pack_b(const float *b, int64_t ldb, bool trans, int64_t k, int64_t n, oc_packed_b *out);
void oc_packed_b_free(oc_packed_b *p);

/* C[m, n] (row stride ldc) = A[m, k] (row stride lda) op(B), plus C's old value when accumulate; split over the
 * pool by columns when m is small, else by rows; ep (may be NULL) runs on each finished block of C by the thread
 * that computed it.
 * Every output is the sum of its k products in order of k (one FMA each, from 0 or from C's old value). */
void oc_sgemm_packb(struct oc_threadpool *pool, int64_t m, const float *a, int64_t lda, const oc_packed_b *b, float *c,
                    int64_t ldc, bool accumulate, oc_block_fn ep, void *ep_ctx);

/* How oc_sgemm_packb_ex reads A[r][k]: ROWS a[r * lda + k] (row-major); COLS a[r + k * lda] (an NCHW
 * image seen as positions x channels, lda = the plane size); BLK8 a[(k / 8) * lda + r * 8 + k % 8] (NCHW8c,
 * lda = 8 x the plane size; k a multiple of 8). */
typedef enum oc_packb_alayout { OC_PACKB_A_ROWS, OC_PACKB_A_COLS, OC_PACKB_A_BLK8 } oc_packb_alayout;

/* C[m, n] = init + A op(B), A laid out as layout, init (n floats, may be NULL for zero) the value each column's
 * sum starts from, then the k products in order of k (one FMA each); split over the pool and ep run as
 * oc_sgemm_packb. Pointwise convolutions on small planes (conv.c): rows are the output positions. */
void oc_sgemm_packb_ex(struct oc_threadpool *pool, int64_t m, const float *a, int64_t lda, oc_packb_alayout layout,
                       const oc_packed_b *b, const float *init, float *c, int64_t ldc, oc_block_fn ep, void *ep_ctx);

#endif
