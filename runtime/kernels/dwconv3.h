/* The 3 x 3 depthwise plane kernels with AVX-512 (dwconv3.c), called by conv.c's direct 3 x 3 depthwise paths in
 * builds with AVX-512 (the AVX2 ones, dw3x3_plane_avx2 and dw3s1_plane, otherwise). */
#ifndef ONNXC_KERNELS_DWCONV3_H
#define ONNXC_KERNELS_DWCONV3_H

#include <stdbool.h>
#include <stdint.h>

#include "window.h"

#if defined(__AVX512F__) && defined(__FMA__)
/* Output plane yp [out[1], out[2]] of a 3 x 3 depthwise convolution (no dilation, stride 1 or 2 on each axis) of
 * input plane xp [in[1], in[2]], taps wt (row-major), bias, then + rp (same shape as yp, or NULL), then clamped to
 * [lo, hi] when clamp; reads nothing outside the plane, writes nothing outside yp. The operations of conv.c's
 * dw3x3_plane_avx2 per output. Rows of at most 8 outputs take 8-lane vectors where the build has AVX-512VL (its
 * masks); without it the caller keeps them on dw3x3_plane_avx2. */
void oc_dw3_plane16(const oc_window *w, const float *xp, const float *wt, float bias, float *yp, const float *rp,
                    bool clamp, float lo, float hi);

/* The same for stride 1 with the operations of conv.c's dw3s1_plane (the padded-plane kernel's order); padding of
 * at most 1 on each side, at least 2 input rows (dw3s1_ok). */
void oc_dw3s1_plane16(const oc_window *w, const float *xp, const float *wt, float bias, float *yp, const float *rp,
                      bool clamp, float lo, float hi);
#endif

#endif
