/* Convolutions on 1 x 1 planes as matrix-vector products (conv_vec.c): the squeeze-excite block's 1 x 1
 * convolutions on a [N, C, 1, 1] vector. */
#ifndef ONNXC_KERNELS_CONV_VEC_H
#define ONNXC_KERNELS_CONV_VEC_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel.h"

/* y[b, o] = epilogue(bias[o] + sum_i w[o, i] x[b, i]) for b < n, o < m, i < k (w row-major [m, k], or, when
 * packed, oc_conv_vec_pack's layout of it; bias may be NULL): + c->fuse_res, then c->fuse_clamp, then (when act)
 * c->fuse_act. Each output's sum runs in the same order however the work is split (packed: one chain over i
 * in order); below ~0.13 M multiply-adds on the caller alone, else over c->pool. */
void oc_conv_vec_run(const oc_kctx *c, const float *x, const float *w, bool packed, const float *bias, float *y,
                     int64_t n, int64_t m, int64_t k, bool act);

/* W [m, k] repacked for oc_conv_vec_run: blocks of 64 output channels (a last one of m rounded up to 8, zero
 * rows), each [k][width]. *out is freed with oc_free. */
onnxc_status oc_conv_vec_pack(const float *w, int64_t m, int64_t k, float **out);

#endif
