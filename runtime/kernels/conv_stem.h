/* Direct 2-D convolutions with few input channels (conv_stem.c): the networks' first convolution on the 3-channel
 * image, where the GEMM's depth (c_in x kh x kw, 27 for 3 x 3) is too short to repay im2col and packing. */
#ifndef ONNXC_KERNELS_CONV_STEM_H
#define ONNXC_KERNELS_CONV_STEM_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel.h"

/* A plan: geometry, the per-tap offsets into an output row's input buffer and the weights repacked into blocks of
 * the kernel's channel width (8 with AVX-512, 4 with AVX2), [block][c_in][kh][kw][width] (zero past the last channel). */
typedef struct oc_stem {
    int64_t c_in, m, ih, iw, oh, ow;
    int64_t kh, kw, sh, sw, dh, dw, ph, pw;
    int64_t ntaps;      /* c_in * kh * kw */
    int64_t wq;         /* floats per column phase of a buffered input row (whole vectors plus the taps' reach) */
    int64_t group_rows; /* output rows buffered together */
    int64_t nr;         /* input rows they read, at most */
    int64_t row_floats; /* the buffer: c_in x nr input rows, each split into sw column phases */
    int64_t *off;       /* per tap (ci, kh, kw): offset of its first input from an output row's first input row */
    float *w;           /* packed weights */
    int64_t mblocks;
} oc_stem;

/* Whether this build has the kernel (AVX-512F, or AVX2 + FMA) and the convolution is one it takes: c_in and
 * taps few (c_in * kh * kw <= 160, c_in <= 4), strides and dilations <= 4, at least 8 output channels. */
bool oc_stem_ok(int64_t c_in, int64_t m, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw);

/* Plan for input planes ih x iw, output planes oh x ow, pads ph (top) and pw (left), from the constant weights w
 * [m, c_in, kh, kw]. Free with oc_stem_free (also after a failure). */
onnxc_status oc_stem_plan(oc_stem *s, const float *w, int64_t c_in, int64_t m, int64_t ih, int64_t iw, int64_t oh,
                          int64_t ow, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw,
                          int64_t ph, int64_t pw);

/* Scratch floats each thread needs (a multiple of 16). */
int64_t oc_stem_work_floats(const oc_stem *s);

/* y[b, o] = epilogue(bias[o] + sum over (ci, kh, kw) in that order of w . x) for the n images of x (bias may be
 * NULL): + c->fuse_res, then c->fuse_clamp, then c->fuse_act (kernels/act.h, the unfused code). The work is split
 * over c->pool by blocks of output rows; work holds oc_stem_work_floats() floats per slot of the pool
 * (64-byte aligned); with fewer slots than the pool has threads pass a NULL pool. */
void oc_stem_run(const oc_kctx *c, struct oc_threadpool *pool, const oc_stem *s, const float *x, const float *bias,
                 float *y, int64_t n, float *work);

void oc_stem_free(oc_stem *s);

#endif
