/* The activations a producing kernel (Conv, MatMul, Gemm) applies to its own output when the planner fused the
 * nodes after it (kctx.fuse_act): SiLU, HardSwish, Sigmoid, HardSigmoid, LeakyRelu, PRelu, GELU (Erf form), in
 * place over the output. */
#ifndef ONNXC_KERNELS_ACT_H
#define ONNXC_KERNELS_ACT_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel.h"

/* Apply c's fused activation to out[0] (planes of plane floats, channels of them per image; the per-channel
 * PRelu slope needs a plain NCHW layout), split across c->pool. Nothing when c->fuse_act is OC_ACT_NONE.
 * Every activation runs the code of the unfused ops (vmath for Sigmoid, SiLU as x * sigmoid(x), HardSigmoid and
 * HardSwish; error bounds in vmath.h), so fused and unfused plans give the same bits. */
void oc_act_apply(const oc_kctx *c, float *y, int64_t planes, int64_t channels, int64_t plane);

/* The same over n floats of one channel (slope: that channel's PRelu slope). */
void oc_act_span(int act, float alpha, float beta, float slope, float *y, int64_t n);

/* An inference BatchNormalization over n floats of one channel, y = x * a + b, then clamped to [lo, hi] when
 * clamp (a fused Relu / Clip): the operations of the BatchNormalization kernel, so a consumer that applies the
 * BN while it reads its input (Conv's B fill) gives the BN kernel's bits. y may be x. */
static inline void oc_bn_span(const float *x, float a, float b, bool clamp, float lo, float hi, float *y, int64_t n)
{
    if (clamp) {
        for (int64_t i = 0; i < n; i++) {
            float v = x[i] * a + b;
            v = v < lo ? lo : v;
            v = v > hi ? hi : v;
            y[i] = v;
        }
    } else {
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] * a + b;
    }
}

#endif
