/* The activations a producing kernel (Conv, MatMul, Gemm) applies to its own output when the planner fused the
 * nodes after it (kctx.fuse_act): SiLU, HardSwish, Sigmoid, HardSigmoid, LeakyRelu, PRelu, GELU (Erf form), in
 * place over the output. */
#ifndef ONNXC_KERNELS_ACT_H
#define ONNXC_KERNELS_ACT_H

#include <stdint.h>

#include "kernel.h"

/* Apply c's fused activation to out[0] (planes of plane floats, channels of them per image; the per-channel
 * PRelu slope needs a plain NCHW layout), split across c->pool. Nothing when c->fuse_act is OC_ACT_NONE.
 * Every activation runs the code of the unfused ops (vmath for Sigmoid, SiLU as x * sigmoid(x), HardSigmoid and
 * HardSwish; error bounds in vmath.h), so fused and unfused plans give the same bits. */
void oc_act_apply(const oc_kctx *c, float *y, int64_t planes, int64_t channels, int64_t plane);

/* The same over n floats of one channel (slope: that channel's PRelu slope). */
void oc_act_span(int act, float alpha, float beta, float slope, float *y, int64_t n);

#endif
