/* Sliding-window geometry shared by Conv, ConvTranspose and the pooling kernels: kernel_shape, strides,
 * dilations, pads and auto_pad read and checked once, output sizes computed the ONNX way. */
#ifndef ONNXC_KERNELS_WINDOW_H
#define ONNXC_KERNELS_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel.h"

/* Spatial dims the kernels handle. Geometry is normalised to exactly OC_WIN_DIMS dims: an op with nsp < 3
 * spatial dims gets 3 - nsp leading dummy dims of size 1 (kernel 1, stride 1, dilation 1, no padding), so one
 * 3-D loop nest serves 1-D, 2-D and 3-D ops. */
#define OC_WIN_DIMS 3

typedef enum oc_auto_pad {
    OC_PAD_NOTSET = 0,
    OC_PAD_SAME_UPPER,
    OC_PAD_SAME_LOWER,
    OC_PAD_VALID
} oc_auto_pad;

typedef struct oc_window {
    int nsp;                       /* spatial dims of the op (1..OC_WIN_DIMS) */
    oc_auto_pad auto_pad;
    int64_t in[OC_WIN_DIMS];       /* input spatial sizes */
    int64_t out[OC_WIN_DIMS];      /* output spatial sizes */
    int64_t k[OC_WIN_DIMS];        /* kernel sizes */
    int64_t stride[OC_WIN_DIMS];
    int64_t dil[OC_WIN_DIMS];
    int64_t pad0[OC_WIN_DIMS];     /* padding at the start of each dim */
    int64_t pad1[OC_WIN_DIMS];     /* padding at the end of each dim */
    int64_t in_vol, out_vol, k_vol; /* products of in, out, k */
} oc_window;

/* Read auto_pad into *ap (ONNXC_E_INVALID naming the node for an unknown value). */
onnxc_status oc_window_auto_pad(const oc_kctx *c, oc_auto_pad *ap);

/* Read kernel_shape (or take kernel, the spatial dims of a weight, when kernel != NULL; a kernel_shape
 * attribute must then agree with it), strides and dilations for an op with nsp spatial dims and check them
 * (lengths, values >= 1). Sets w->nsp, k, stride, dil, k_vol; leaves sizes and pads to the callers. */
onnxc_status oc_window_attrs(const oc_kctx *c, int nsp, const int64_t *kernel, oc_window *w);

/* Forward geometry (Conv, pooling): given the input spatial sizes, read pads/auto_pad and compute the output
 * sizes. ceil_mode rounds the output size up, dropping a last window that would start in the end padding
 * (the PyTorch rule the ONNX reference follows). Call after oc_window_attrs. */
onnxc_status oc_window_forward(const oc_kctx *c, const int64_t *in_spatial, bool ceil_mode, oc_window *w);

#endif
