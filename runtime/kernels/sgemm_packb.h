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

#endif
