/* The 7 x 7 stride-1 depthwise plane kernel (dwconv7.c), called by conv.c's padded-plane depthwise path. */
#ifndef ONNXC_KERNELS_DWCONV7_H
#define ONNXC_KERNELS_DWCONV7_H

#include <stdbool.h>
#include <stdint.h>

/* Output plane yp [o1, o2] = bias + the 7 x 7 taps wt (row-major) over the zero-padded plane buf (row stride rl,
 * output (i, j) reads rows i..i+6, columns j..j+6, nothing else), then + rp (same shape as yp, or NULL), then
 * clamped to [lo, hi] when clamp.
 * False (nothing written) when this build has no AVX-512. */
bool oc_dw7_plane(const float *buf, int64_t rl, int64_t o1, int64_t o2, const float *wt, float bias, float *yp,
                  const float *rp, bool clamp, float lo, float hi);

#endif
