/* Sliding-window geometry shared by Conv, ConvTranspose and the pooling kernels (see window.h). Output sizes
 * follow the operator specs: floor((in + pads - span) / stride) + 1, SAME = ceil(in / stride). */
#include <stdint.h>
#include <string.h>

#include "kutil.h"
#include "window.h"

onnxc_status oc_window_auto_pad(const oc_kctx *c, oc_auto_pad *ap)
{
    char buf[32];
    const char *s = oc_attr_string(c->node, "auto_pad", "NOTSET", buf, sizeof buf);
    if (strcmp(s, "NOTSET") == 0 || *s == 0)
        *ap = OC_PAD_NOTSET;
    else if (strcmp(s, "SAME_UPPER") == 0)
        *ap = OC_PAD_SAME_UPPER;
    else if (strcmp(s, "SAME_LOWER") == 0)
        *ap = OC_PAD_SAME_LOWER;
    else if (strcmp(s, "VALID") == 0)
        *ap = OC_PAD_VALID;
    else
        return oc_kerr(c, ONNXC_E_INVALID, "unknown auto_pad '%s'", s);
    return ONNXC_OK;
}

/* Read an optional ints attribute of exactly nsp positive values into dst[off..] (default 1). */
static onnxc_status read_positive(const oc_kctx *c, const char *name, int nsp, int64_t *dst)
{
    size_t n;
    const int64_t *v = oc_attr_ints(c->node, name, &n);
    int off = OC_WIN_DIMS - nsp;
    for (int i = 0; i < OC_WIN_DIMS; i++)
        dst[i] = 1;
    if (!v)
        return ONNXC_OK;
    if (n != (size_t)nsp)
        return oc_kerr(c, ONNXC_E_INVALID, "%s has %zu values, expected %d (one per spatial dim)", name, n, nsp);
    for (int i = 0; i < nsp; i++) {
        if (v[i] < 1 || v[i] > INT32_MAX)
            return oc_kerr(c, ONNXC_E_INVALID, "%s[%d] = %lld is out of range (must be >= 1)", name, i,
                           (long long)v[i]);
        dst[off + i] = v[i];
    }
    return ONNXC_OK;
}

onnxc_status oc_window_attrs(const oc_kctx *c, int nsp, const int64_t *kernel, oc_window *w)
{
    memset(w, 0, sizeof *w);
    if (nsp < 1 || nsp > OC_WIN_DIMS)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "%d spatial dims; 1 to %d are supported", nsp, OC_WIN_DIMS);
    w->nsp = nsp;
    int off = OC_WIN_DIMS - nsp;
    size_t nk;
    const int64_t *ks = oc_attr_ints(c->node, "kernel_shape", &nk);
    if (ks && nk != (size_t)nsp)
        return oc_kerr(c, ONNXC_E_INVALID, "kernel_shape has %zu values, expected %d (one per spatial dim)", nk, nsp);
    if (!ks && !kernel)
        return oc_kerr(c, ONNXC_E_INVALID, "attribute kernel_shape is required");
    for (int i = 0; i < OC_WIN_DIMS; i++)
        w->k[i] = 1;
    for (int i = 0; i < nsp; i++) {
        int64_t k = kernel ? kernel[i] : ks[i];
        if (ks && kernel && ks[i] != kernel[i])
            return oc_kerr(c, ONNXC_E_INVALID, "kernel_shape[%d] = %lld but the weight's spatial dim is %lld", i,
                           (long long)ks[i], (long long)kernel[i]);
        if (k < 1 || k > INT32_MAX)
            return oc_kerr(c, ONNXC_E_INVALID, "kernel size %lld in spatial dim %d, must be >= 1", (long long)k, i);
        w->k[off + i] = k;
    }
    onnxc_status st = read_positive(c, "strides", nsp, w->stride);
    if (st == ONNXC_OK)
        st = read_positive(c, "dilations", nsp, w->dil);
    if (st != ONNXC_OK)
        return st;
    w->k_vol = w->k[0] * w->k[1] * w->k[2];
    for (int i = 0; i < OC_WIN_DIMS; i++) {
        /* the window span (k-1)*dil+1 must stay far from overflow */
        int64_t span;
        if (!oc_mul_i64(w->k[i] - 1, w->dil[i], &span) || span > INT32_MAX || w->k_vol > INT32_MAX)
            return oc_kerr(c, ONNXC_E_INVALID, "kernel window too large");
    }
    return oc_window_auto_pad(c, &w->auto_pad);
}

onnxc_status oc_window_forward(const oc_kctx *c, const int64_t *in_spatial, bool ceil_mode, oc_window *w)
{
    int nsp = w->nsp, off = OC_WIN_DIMS - nsp;
    size_t np;
    const int64_t *pads = oc_attr_ints(c->node, "pads", &np);
    if (w->auto_pad == OC_PAD_NOTSET && pads) {
        if (np != (size_t)(2 * nsp))
            return oc_kerr(c, ONNXC_E_INVALID, "pads has %zu values, expected %d (begin and end per spatial dim)",
                           np, 2 * nsp);
        for (int i = 0; i < 2 * nsp; i++)
            if (pads[i] < 0 || pads[i] > INT32_MAX)
                return oc_kerr(c, ONNXC_E_INVALID, "pads[%d] = %lld is out of range", i, (long long)pads[i]);
    }
    for (int i = 0; i < OC_WIN_DIMS; i++) {
        w->in[i] = 1;
        w->out[i] = 1;
        w->pad0[i] = 0;
        w->pad1[i] = 0;
    }
    for (int i = 0; i < nsp; i++) {
        int d = off + i;
        int64_t in = in_spatial[i];
        if (in < 1)
            return oc_kerr(c, ONNXC_E_INVALID, "input spatial dim %d is %lld; must be >= 1", i, (long long)in);
        if (in > INT32_MAX)
            return oc_kerr(c, ONNXC_E_INVALID, "input spatial dim %d is too large", i);
        int64_t span = (w->k[d] - 1) * w->dil[d] + 1, s = w->stride[d], out;
        w->in[d] = in;
        if (w->auto_pad == OC_PAD_SAME_UPPER || w->auto_pad == OC_PAD_SAME_LOWER) {
            out = (in + s - 1) / s;
            int64_t total = (out - 1) * s + span - in;
            if (total < 0)
                total = 0;
            /* SAME_UPPER puts the odd pad at the end, SAME_LOWER at the start */
            int64_t small = total / 2, big = total - small;
            w->pad0[d] = w->auto_pad == OC_PAD_SAME_UPPER ? small : big;
            w->pad1[d] = w->auto_pad == OC_PAD_SAME_UPPER ? big : small;
        } else {
            if (w->auto_pad == OC_PAD_NOTSET && pads) {
                w->pad0[d] = pads[i];
                w->pad1[d] = pads[nsp + i];
            }
            int64_t avail = in + w->pad0[d] + w->pad1[d] - span;
            if (avail < 0)
                return oc_kerr(c, ONNXC_E_INVALID,
                               "window of %lld (kernel %lld, dilation %lld) is larger than the padded input "
                               "(%lld) in spatial dim %d", (long long)span, (long long)w->k[d],
                               (long long)w->dil[d], (long long)(in + w->pad0[d] + w->pad1[d]), i);
            if (ceil_mode) {
                out = (avail + s - 1) / s + 1;
                /* a last window starting inside the end padding is dropped */
                if ((out - 1) * s >= in + w->pad0[d])
                    out--;
            } else {
                out = avail / s + 1;
            }
        }
        w->out[d] = out;
    }
    int64_t t;
    if (!oc_mul_i64(w->in[0], w->in[1], &t) || !oc_mul_i64(t, w->in[2], &w->in_vol) ||
        !oc_mul_i64(w->out[0], w->out[1], &t) || !oc_mul_i64(t, w->out[2], &w->out_vol))
        return oc_kerr(c, ONNXC_E_INVALID, "spatial size overflows");
    return ONNXC_OK;
}
