/* Convolution kernels on the blocked layout NCHW8c ([N][C/8][H][W][8], see oc_kctx in kernel.h): a pointwise
 * convolution that reads NCHW and writes blocked, a 3 x 3 or 5 x 5 depthwise convolution blocked in and
 * out, and the gather that lets the packed GEMM read a blocked input as its B operand. Eight channels fill one AVX2 vector,
 * so the depthwise kernel needs no shuffles or edge masks and the pointwise kernel writes each channel block
 * as one sequential stream. Built only with AVX2 + FMA (OC_BLK_KERNELS defined). */
#ifndef ONNXC_KERNELS_BLOCKED_H
#define ONNXC_KERNELS_BLOCKED_H

#include <stdbool.h>
#include <stdint.h>

#include "onnxc/onnxc.h"

#if defined(__AVX2__) && defined(__FMA__)
#define OC_BLK_KERNELS 1

struct oc_threadpool;

/* Pointwise weights W [m][k] (m a multiple of 8) repacked as, per pair of 8-channel blocks, [k][16] (a last
 * single block as [k][8]). *out is freed with oc_free. */
onnxc_status oc_blk_pw_pack(const float *w, int64_t m, int64_t k, float **out);

/* y (blocked, n x m x hw) = clamp(packed . x + bias) for x plain (n x k x hw); bias may be NULL, clamp
 * optional. Runs on the pool. */
void oc_blk_pw_run(struct oc_threadpool *pool, const float *x, const float *packed, const float *bias, float *y,
                   int64_t n, int64_t m, int64_t k, int64_t hw, bool clamp, float lo, float hi);

/* Depthwise k x k weights W [c][1][k][k] (k 3 or 5) repacked as [c/8][k * k][8], a last partial block of
 * channels padded with zeros. */
onnxc_status oc_blk_dw_pack(const float *w, int64_t c, int k, float **out);

/* Widest plane (input columns plus padding) the blocked 5 x 5 kernel takes: its padded rows live on the stack. */
#define OC_BLK_DW5_MAX_W 128

/* Geometry of a blocked depthwise k x k convolution: planes h x w -> ho x wo, strides 1 or 2, no dilation;
 * k = 3: top and left padding 0 or 1; k = 5: top and left padding 0 to 2, w + 4 <= OC_BLK_DW5_MAX_W (bottom and
 * right padding follow from the output size). */
typedef struct oc_blk_dw {
    int64_t n, c, h, w, ho, wo, sh, sw, pt, pl;
    int bias_row; /* k = 3: 0 or 2, the kernel row whose sum starts from the bias (as the plain kernel for the shape) */
    int k;        /* 3 or 5 */
} oc_blk_dw;

/* y (blocked) = clamp(depthwise(x blocked) + bias); bias may be NULL. Runs on the pool. */
void oc_blk_dw_run(struct oc_threadpool *pool, const oc_blk_dw *g, const float *x, const float *packed,
                   const float *bias, float *y, bool clamp, float lo, float hi);

/* The 5 x 5 convolution (g->k 5, geometry as above) on plain NCHW x and y, any channel count (g->c; weights
 * packed by oc_blk_dw_pack, which pads the last block with zeros): rows of 8 channels are transposed into
 * blocked rows, convolved there with the blocked kernel's operations, then transposed back, with the activation
 * act (oc_act_span: alpha, beta, one slope) after the clamp; the padded plain kernel's bits. Plain planes narrower
 * than a few vectors waste most lanes; eight channels per vector waste none. Runs on the pool. */
void oc_blk_dw_nchw_run(struct oc_threadpool *pool, const oc_blk_dw *g, const float *x, const float *packed,
                        const float *bias, float *y, bool clamp, float lo, float hi, int act, float alpha,
                        float beta, float slope);

/* B rows k0 .. k0 + kcb of a pointwise GEMM over blocked input x (one image, hw positions per channel): row r
 * holds channel k0 + r at positions n0 .. n0 + nc, zero-padded to whole 16-column panels; rows ldb apart. */
void oc_blk_gather(const float *x, int64_t hw, int64_t k0, int64_t kcb, int64_t n0, int64_t nc, float *dst,
                   int64_t ldb);

#endif
#endif
