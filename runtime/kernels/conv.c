/* Conv and ConvTranspose (1-D to 3-D, groups, strides, dilations, pads, auto_pad) for float32: im2col +
 * cblas_sgemm, a direct kernel for depthwise convolutions, GEMM + col2im for ConvTranspose. */
#include <stdint.h>
#include <string.h>

#include "kutil.h"
#include "linalg.h"
#include "window.h"

typedef enum conv_algo {
    CONV_IM2COL,    /* general case: unfold the input patch by patch, one GEMM per image and group */
    CONV_POINTWISE, /* 1x1 kernel, stride 1, no padding: the input already is the GEMM operand */
    CONV_DEPTHWISE  /* one input channel per group: direct loops, GEMM would have depth k_vol only */
} conv_algo;

/* Everything run needs, worked out once from the shapes and attributes (kept in c->state by prepare). */
typedef struct conv_plan {
    oc_window w;            /* for ConvTranspose: in = its input, out = its output, pads may be negative */
    int64_t n, c_in, m;     /* batch, input channels, output channels */
    int64_t group, cg, mg;  /* groups, input and output channels per group */
    conv_algo algo;
    bool has_bias;
} conv_plan;

/* ---- shared checks ---- */

static onnxc_status conv_check_inputs(const oc_kctx *c, const onnxc_tensor **x, const onnxc_tensor **wt,
                                      const onnxc_tensor **b)
{
    if (c->n_in < 2 || !c->in[0] || !c->in[1])
        return oc_kerr(c, ONNXC_E_INVALID, "needs inputs X and W");
    *x = c->in[0];
    *wt = c->in[1];
    *b = c->n_in > 2 ? c->in[2] : NULL;
    const onnxc_tensor *X = *x, *W = *wt, *B = *b;
    if (X->dtype != ONNXC_FLOAT)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input X is %s; only float is supported",
                       onnxc_dtype_name(X->dtype));
    if (W->dtype != X->dtype || (B && B->dtype != X->dtype))
        return oc_kerr(c, ONNXC_E_INVALID, "W%s must have the type of X (%s)", B ? " and B" : "",
                       onnxc_dtype_name(X->dtype));
    if (X->rank < 3)
        return oc_kerr(c, ONNXC_E_INVALID, "input X has rank %d; expected N x C x spatial dims (rank >= 3)",
                       X->rank);
    if (W->rank != X->rank)
        return oc_kerr(c, ONNXC_E_INVALID, "weight W has rank %d but X has rank %d", W->rank, X->rank);
    if (B && B->rank != 1)
        return oc_kerr(c, ONNXC_E_INVALID, "bias B has rank %d; expected 1", B->rank);
    return ONNXC_OK;
}

static onnxc_status conv_check_group(const oc_kctx *c, int64_t *group)
{
    *group = oc_attr_int(c->node, "group", 1);
    if (*group < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "group = %lld; must be >= 1", (long long)*group);
    return ONNXC_OK;
}

/* ---- Conv ---- */

static onnxc_status conv_make_plan(const oc_kctx *c, conv_plan *p)
{
    memset(p, 0, sizeof *p);
    const onnxc_tensor *X = NULL, *W = NULL, *B = NULL;
    onnxc_status st = conv_check_inputs(c, &X, &W, &B);
    if (st == ONNXC_OK)
        st = conv_check_group(c, &p->group);
    if (st != ONNXC_OK)
        return st;
    p->n = X->dims[0];
    p->c_in = X->dims[1];
    p->m = W->dims[0];
    p->has_bias = B != NULL;
    int64_t cin_w;
    if (!oc_mul_i64(W->dims[1], p->group, &cin_w) || cin_w != p->c_in)
        return oc_kerr(c, ONNXC_E_INVALID, "X has %lld channels but W expects %lld x group %lld",
                       (long long)p->c_in, (long long)W->dims[1], (long long)p->group);
    if (p->m % p->group != 0)
        return oc_kerr(c, ONNXC_E_INVALID, "W has %lld output channels, not a multiple of group %lld",
                       (long long)p->m, (long long)p->group);
    if (B && B->dims[0] != p->m)
        return oc_kerr(c, ONNXC_E_INVALID, "bias B has %lld values but there are %lld output channels",
                       (long long)B->dims[0], (long long)p->m);
    p->cg = W->dims[1];
    p->mg = p->m / p->group;
    int nsp = X->rank - 2;
    st = oc_window_attrs(c, nsp, W->dims + 2, &p->w);
    if (st == ONNXC_OK)
        st = oc_window_forward(c, X->dims + 2, false, &p->w);
    if (st != ONNXC_OK)
        return st;
    const oc_window *w = &p->w;
    bool unit = w->k_vol == 1;
    for (int i = 0; i < OC_WIN_DIMS; i++)
        unit = unit && w->stride[i] == 1 && w->pad0[i] == 0 && w->pad1[i] == 0;
    if (p->cg == 1 && p->group > 1)
        p->algo = CONV_DEPTHWISE;
    else if (unit)
        p->algo = CONV_POINTWISE;
    else
        p->algo = CONV_IM2COL;
    int64_t depth;
    if (!oc_mul_i64(p->cg, w->k_vol, &depth) || !oc_blas_fits(depth) || !oc_blas_fits(p->mg) ||
        !oc_blas_fits(w->out_vol))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "convolution too large for BLAS int sizes");
    return ONNXC_OK;
}

static onnxc_status conv_infer(oc_kctx *c)
{
    conv_plan p;
    onnxc_status st = conv_make_plan(c, &p);
    if (st != ONNXC_OK)
        return st;
    int64_t dims[ONNXC_MAX_RANK];
    dims[0] = p.n;
    dims[1] = p.m;
    for (int i = 0; i < p.w.nsp; i++)
        dims[2 + i] = p.w.out[OC_WIN_DIMS - p.w.nsp + i];
    c->scratch_size = 0;
    if (p.algo == CONV_IM2COL) {
        int64_t elems;
        if (!oc_mul_i64(p.cg * p.w.k_vol, p.w.out_vol, &elems) || !oc_mul_i64(elems, 4, &elems))
            return oc_kerr(c, ONNXC_E_NOMEM, "im2col buffer size overflows");
        c->scratch_size = (size_t)elems;
    }
    if (!c->out[0])
        return ONNXC_OK;
    return oc_set_shape(c->out[0], c->in[0]->dtype, 2 + p.w.nsp, dims);
}

static onnxc_status conv_prepare(oc_kctx *c)
{
    conv_plan *p = oc_malloc(sizeof *p);
    if (!p)
        return oc_kerr(c, ONNXC_E_NOMEM, "out of memory for the convolution plan");
    onnxc_status st = conv_make_plan(c, p);
    if (st != ONNXC_OK) {
        oc_free(p);
        return st;
    }
    c->state = p;
    return ONNXC_OK;
}

static void conv_release(void *state)
{
    oc_free(state);
}

/* Valid range [lo, hi) of output positions o for which o * s + off lies in [0, n). */
static inline void tap_range(int64_t off, int64_t s, int64_t n, int64_t n_out, int64_t *lo, int64_t *hi)
{
    int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
    int64_t h = off >= n ? 0 : (n - 1 - off) / s + 1;
    if (h > n_out)
        h = n_out;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

/* Unfold x [channels, in_vol] into col [channels * k_vol, out_vol]: row (ci, kd, kh, kw) holds the input value
 * each output position sees through that tap (0 in padding). */
static void im2col_f32(const oc_window *w, const float *x, int64_t channels, float *col, int threads)
{
    const int64_t rows = channels * w->k_vol;
    const int64_t o1 = w->out[1], o2 = w->out[2];
#pragma omp parallel for num_threads(threads) schedule(static) if (rows * w->out_vol > 65536)
    for (int64_t r = 0; r < rows; r++) {
        int64_t ci = r / w->k_vol, kk = r % w->k_vol;
        int64_t kd = kk / (w->k[1] * w->k[2]), kh = kk / w->k[2] % w->k[1], kw = kk % w->k[2];
        const float *xc = x + ci * w->in_vol;
        float *dst = col + r * w->out_vol;
        int64_t off_w = kw * w->dil[2] - w->pad0[2], lo, hi;
        tap_range(off_w, w->stride[2], w->in[2], o2, &lo, &hi);
        for (int64_t od = 0; od < w->out[0]; od++) {
            int64_t id = od * w->stride[0] - w->pad0[0] + kd * w->dil[0];
            for (int64_t oh = 0; oh < o1; oh++) {
                float *d = dst + (od * o1 + oh) * o2;
                int64_t ih = oh * w->stride[1] - w->pad0[1] + kh * w->dil[1];
                if (id < 0 || id >= w->in[0] || ih < 0 || ih >= w->in[1]) {
                    memset(d, 0, (size_t)o2 * sizeof *d);
                    continue;
                }
                const float *s = xc + (id * w->in[1] + ih) * w->in[2];
                if (lo > 0)
                    memset(d, 0, (size_t)lo * sizeof *d);
                if (w->stride[2] == 1) {
                    memcpy(d + lo, s + lo + off_w, (size_t)(hi - lo) * sizeof *d);
                } else {
                    const int64_t sw = w->stride[2];
                    for (int64_t ow = lo; ow < hi; ow++)
                        d[ow] = s[ow * sw + off_w];
                }
                if (hi < o2)
                    memset(d + hi, 0, (size_t)(o2 - hi) * sizeof *d);
            }
        }
    }
}

/* Fill each of rows rows of y (row length len) with its bias value, or zeros. */
static void fill_rows_f32(float *y, const float *bias, int64_t rows, int64_t len, int threads)
{
#pragma omp parallel for num_threads(threads) schedule(static) if (rows * len > 65536)
    for (int64_t r = 0; r < rows; r++) {
        float v = bias ? bias[r] : 0.0f;
        float *d = y + r * len;
        for (int64_t i = 0; i < len; i++)
            d[i] = v;
    }
}

/* Depthwise (one input channel per group, any channel multiplier): each output plane is a sum of shifted,
 * scaled input rows, in loops GCC vectorises when the stride is 1. */
static void conv_depthwise_f32(const conv_plan *p, const float *x, const float *wt, const float *b, float *y,
                               int threads)
{
    const oc_window *w = &p->w;
    const int64_t planes = p->n * p->m;
    const int64_t o1 = w->out[1], o2 = w->out[2], sw = w->stride[2];
#pragma omp parallel for num_threads(threads) schedule(static) if (planes * w->out_vol * w->k_vol > 32768)
    for (int64_t pm = 0; pm < planes; pm++) {
        int64_t n = pm / p->m, m = pm % p->m, ci = m / p->mg;
        const float *xp = x + (n * p->c_in + ci) * w->in_vol;
        const float *wp = wt + m * w->k_vol;
        float *yp = y + pm * w->out_vol;
        float bias = b ? b[m] : 0.0f;
        for (int64_t od = 0; od < w->out[0]; od++) {
            for (int64_t oh = 0; oh < o1; oh++) {
                float *yr = yp + (od * o1 + oh) * o2;
                for (int64_t ow = 0; ow < o2; ow++)
                    yr[ow] = bias;
                for (int64_t kd = 0; kd < w->k[0]; kd++) {
                    int64_t id = od * w->stride[0] - w->pad0[0] + kd * w->dil[0];
                    if (id < 0 || id >= w->in[0])
                        continue;
                    for (int64_t kh = 0; kh < w->k[1]; kh++) {
                        int64_t ih = oh * w->stride[1] - w->pad0[1] + kh * w->dil[1];
                        if (ih < 0 || ih >= w->in[1])
                            continue;
                        const float *xr = xp + (id * w->in[1] + ih) * w->in[2];
                        const float *wr = wp + (kd * w->k[1] + kh) * w->k[2];
                        for (int64_t kw = 0; kw < w->k[2]; kw++) {
                            int64_t off = kw * w->dil[2] - w->pad0[2], lo, hi;
                            tap_range(off, sw, w->in[2], o2, &lo, &hi);
                            const float wv = wr[kw];
                            if (sw == 1) {
                                for (int64_t ow = lo; ow < hi; ow++)
                                    yr[ow] += wv * xr[ow + off];
                            } else {
                                for (int64_t ow = lo; ow < hi; ow++)
                                    yr[ow] += wv * xr[ow * sw + off];
                            }
                        }
                    }
                }
            }
        }
    }
}

static onnxc_status conv_run(oc_kctx *c)
{
    if (!c->out[0])
        return ONNXC_OK;
    conv_plan local;
    const conv_plan *p = c->state;
    if (!p) {
        onnxc_status st = conv_make_plan(c, &local);
        if (st != ONNXC_OK)
            return st;
        p = &local;
    }
    const oc_window *w = &p->w;
    const float *x = c->in[0]->data, *wt = c->in[1]->data;
    const float *b = p->has_bias ? c->in[2]->data : NULL;
    float *y = c->out[0]->data;
    if (p->algo == CONV_DEPTHWISE) {
        conv_depthwise_f32(p, x, wt, b, y, oc_kthreads(c));
        return ONNXC_OK;
    }
    const int64_t depth = p->cg * w->k_vol;
    float *col = c->scratch;
    if (p->algo == CONV_IM2COL && depth * w->out_vol > 0 && (!col || c->scratch_size <
                                                             (size_t)(depth * w->out_vol) * sizeof(float)))
        return oc_kerr(c, ONNXC_E_RUNTIME, "scratch buffer missing or too small for im2col");
    for (int64_t n = 0; n < p->n; n++) {
        for (int64_t g = 0; g < p->group; g++) {
            const float *xg = x + (n * p->c_in + g * p->cg) * w->in_vol;
            float *yg = y + (n * p->m + g * p->mg) * w->out_vol;
            const float *bmat = xg;
            if (p->algo == CONV_IM2COL) {
                im2col_f32(w, xg, p->cg, col, oc_kthreads(c));
                bmat = col;
            }
            /* bias first, then accumulate the product onto it (beta = 1) */
            if (b)
                fill_rows_f32(yg, b + g * p->mg, p->mg, w->out_vol, oc_kthreads(c));
            oc_sgemm(false, false, p->mg, w->out_vol, depth, 1.0f, wt + g * p->mg * depth, depth, bmat,
                     w->out_vol, b ? 1.0f : 0.0f, yg, w->out_vol);
        }
    }
    return ONNXC_OK;
}

/* ---- ConvTranspose ---- */

static onnxc_status convt_make_plan(const oc_kctx *c, conv_plan *p)
{
    memset(p, 0, sizeof *p);
    const onnxc_tensor *X = NULL, *W = NULL, *B = NULL;
    onnxc_status st = conv_check_inputs(c, &X, &W, &B);
    if (st == ONNXC_OK)
        st = conv_check_group(c, &p->group);
    if (st != ONNXC_OK)
        return st;
    /* ConvTranspose's weight is [C_in, C_out / group, k...] */
    p->n = X->dims[0];
    p->c_in = X->dims[1];
    p->has_bias = B != NULL;
    if (W->dims[0] != p->c_in)
        return oc_kerr(c, ONNXC_E_INVALID, "X has %lld channels but W's first dim is %lld", (long long)p->c_in,
                       (long long)W->dims[0]);
    if (p->c_in % p->group != 0)
        return oc_kerr(c, ONNXC_E_INVALID, "X has %lld channels, not a multiple of group %lld",
                       (long long)p->c_in, (long long)p->group);
    p->cg = p->c_in / p->group;
    p->mg = W->dims[1];
    if (!oc_mul_i64(p->mg, p->group, &p->m))
        return oc_kerr(c, ONNXC_E_INVALID, "output channel count overflows");
    if (B && B->dims[0] != p->m)
        return oc_kerr(c, ONNXC_E_INVALID, "bias B has %lld values but there are %lld output channels",
                       (long long)B->dims[0], (long long)p->m);
    int nsp = X->rank - 2, off = OC_WIN_DIMS - nsp;
    oc_window *w = &p->w;
    st = oc_window_attrs(c, nsp, W->dims + 2, w);
    if (st != ONNXC_OK)
        return st;
    size_t n_op, n_os, n_pads;
    const int64_t *opad = oc_attr_ints(c->node, "output_padding", &n_op);
    const int64_t *oshape = oc_attr_ints(c->node, "output_shape", &n_os);
    const int64_t *pads = oc_attr_ints(c->node, "pads", &n_pads);
    if (opad && n_op != (size_t)nsp)
        return oc_kerr(c, ONNXC_E_INVALID, "output_padding has %zu values, expected %d", n_op, nsp);
    /* output_shape may list the spatial dims only, or (as older exporters wrote it) N and C too */
    if (oshape && n_os != (size_t)nsp && n_os != (size_t)nsp + 2)
        return oc_kerr(c, ONNXC_E_INVALID, "output_shape has %zu values, expected %d", n_os, nsp);
    if (oshape && n_os == (size_t)nsp + 2)
        oshape += 2;
    if (pads && w->auto_pad == OC_PAD_NOTSET && !oshape && n_pads != (size_t)(2 * nsp))
        return oc_kerr(c, ONNXC_E_INVALID, "pads has %zu values, expected %d", n_pads, 2 * nsp);
    for (int i = 0; i < OC_WIN_DIMS; i++) {
        w->in[i] = w->out[i] = 1;
        w->pad0[i] = w->pad1[i] = 0;
    }
    for (int i = 0; i < nsp; i++) {
        int d = off + i;
        int64_t in = X->dims[2 + i], s = w->stride[d], span = (w->k[d] - 1) * w->dil[d] + 1;
        int64_t op = opad ? opad[i] : 0;
        if (in < 1 || in > INT32_MAX)
            return oc_kerr(c, ONNXC_E_INVALID, "input spatial dim %d is %lld", i, (long long)in);
        if (op < 0 || op > INT32_MAX)
            return oc_kerr(c, ONNXC_E_INVALID, "output_padding[%d] = %lld is out of range", i, (long long)op);
        w->in[d] = in;
        /* full (unpadded) output length; all terms are < 2^31 so this cannot overflow */
        int64_t full = s * (in - 1) + op + span;
        if (oshape || w->auto_pad == OC_PAD_SAME_UPPER || w->auto_pad == OC_PAD_SAME_LOWER) {
            /* ConvTranspose-11: pads derived from the wanted output size; SAME wants in * stride. The odd
             * unit goes to the end for SAME_UPPER, to the start otherwise. */
            int64_t want = oshape ? oshape[i] : in * s;
            if (want < 1 || want > INT32_MAX)
                return oc_kerr(c, ONNXC_E_INVALID, "output_shape[%d] = %lld is out of range", i,
                               (long long)want);
            /* a wanted size beyond the full length gives negative padding; halves round down as in the
             * ONNX reference (Python //), so one extra unit goes to the end */
            int64_t total = full - want;
            int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
            if (w->auto_pad == OC_PAD_SAME_UPPER) {
                w->pad0[d] = half;
                w->pad1[d] = total - half;
            } else {
                w->pad0[d] = total - half;
                w->pad1[d] = half;
            }
            w->out[d] = want;
        } else {
            if (pads && w->auto_pad == OC_PAD_NOTSET) {
                if (pads[i] < 0 || pads[nsp + i] < 0 || pads[i] > INT32_MAX || pads[nsp + i] > INT32_MAX)
                    return oc_kerr(c, ONNXC_E_INVALID, "pads for spatial dim %d are out of range", i);
                w->pad0[d] = pads[i];
                w->pad1[d] = pads[nsp + i];
            }
            w->out[d] = full - w->pad0[d] - w->pad1[d];
            if (w->out[d] < 1)
                return oc_kerr(c, ONNXC_E_INVALID, "output spatial dim %d would be %lld", i,
                               (long long)w->out[d]);
        }
    }
    int64_t t;
    if (!oc_mul_i64(w->in[0], w->in[1], &t) || !oc_mul_i64(t, w->in[2], &w->in_vol) ||
        !oc_mul_i64(w->out[0], w->out[1], &t) || !oc_mul_i64(t, w->out[2], &w->out_vol))
        return oc_kerr(c, ONNXC_E_INVALID, "spatial size overflows");
    int64_t rows;
    if (!oc_mul_i64(p->mg, w->k_vol, &rows) || !oc_blas_fits(rows) || !oc_blas_fits(p->cg) ||
        !oc_blas_fits(w->in_vol))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "transposed convolution too large for BLAS int sizes");
    p->algo = CONV_IM2COL;
    return ONNXC_OK;
}

static onnxc_status convt_infer(oc_kctx *c)
{
    conv_plan p;
    onnxc_status st = convt_make_plan(c, &p);
    if (st != ONNXC_OK)
        return st;
    int64_t dims[ONNXC_MAX_RANK], elems;
    dims[0] = p.n;
    dims[1] = p.m;
    for (int i = 0; i < p.w.nsp; i++)
        dims[2 + i] = p.w.out[OC_WIN_DIMS - p.w.nsp + i];
    if (!oc_mul_i64(p.mg * p.w.k_vol, p.w.in_vol, &elems) || !oc_mul_i64(elems, 4, &elems))
        return oc_kerr(c, ONNXC_E_NOMEM, "col2im buffer size overflows");
    c->scratch_size = (size_t)elems;
    if (!c->out[0])
        return ONNXC_OK;
    return oc_set_shape(c->out[0], c->in[0]->dtype, 2 + p.w.nsp, dims);
}

static onnxc_status convt_prepare(oc_kctx *c)
{
    conv_plan *p = oc_malloc(sizeof *p);
    if (!p)
        return oc_kerr(c, ONNXC_E_NOMEM, "out of memory for the convolution plan");
    onnxc_status st = convt_make_plan(c, p);
    if (st != ONNXC_OK) {
        oc_free(p);
        return st;
    }
    c->state = p;
    return ONNXC_OK;
}

/* Fold col [channels * k_vol, in_vol] back onto y [channels, out_vol]: every input position scatters its
 * column through each tap to output position in * stride - pad + k * dil (accumulating). */
static void col2im_f32(const oc_window *w, const float *col, int64_t channels, float *y, int threads)
{
    const int64_t i1 = w->in[1], i2 = w->in[2], sw = w->stride[2];
#pragma omp parallel for num_threads(threads) schedule(static) if (channels * w->k_vol * w->in_vol > 65536)
    for (int64_t m = 0; m < channels; m++) {
        float *ym = y + m * w->out_vol;
        for (int64_t kk = 0; kk < w->k_vol; kk++) {
            int64_t kd = kk / (w->k[1] * w->k[2]), kh = kk / w->k[2] % w->k[1], kw = kk % w->k[2];
            const float *src = col + (m * w->k_vol + kk) * w->in_vol;
            int64_t off_w = kw * w->dil[2] - w->pad0[2], lo, hi;
            tap_range(off_w, sw, w->out[2], i2, &lo, &hi);
            for (int64_t id = 0; id < w->in[0]; id++) {
                int64_t od = id * w->stride[0] - w->pad0[0] + kd * w->dil[0];
                if (od < 0 || od >= w->out[0])
                    continue;
                for (int64_t ih = 0; ih < i1; ih++) {
                    int64_t oh = ih * w->stride[1] - w->pad0[1] + kh * w->dil[1];
                    if (oh < 0 || oh >= w->out[1])
                        continue;
                    const float *s = src + (id * i1 + ih) * i2;
                    float *d = ym + (od * w->out[1] + oh) * w->out[2];
                    if (sw == 1) {
                        for (int64_t iw = lo; iw < hi; iw++)
                            d[iw + off_w] += s[iw];
                    } else {
                        for (int64_t iw = lo; iw < hi; iw++)
                            d[iw * sw + off_w] += s[iw];
                    }
                }
            }
        }
    }
}

static onnxc_status convt_run(oc_kctx *c)
{
    if (!c->out[0])
        return ONNXC_OK;
    conv_plan local;
    const conv_plan *p = c->state;
    if (!p) {
        onnxc_status st = convt_make_plan(c, &local);
        if (st != ONNXC_OK)
            return st;
        p = &local;
    }
    const oc_window *w = &p->w;
    const float *x = c->in[0]->data, *wt = c->in[1]->data;
    const float *b = p->has_bias ? c->in[2]->data : NULL;
    float *y = c->out[0]->data;
    const int64_t rows = p->mg * w->k_vol;
    float *col = c->scratch;
    if (rows * w->in_vol > 0 && (!col || c->scratch_size < (size_t)(rows * w->in_vol) * sizeof(float)))
        return oc_kerr(c, ONNXC_E_RUNTIME, "scratch buffer missing or too small for col2im");
    for (int64_t n = 0; n < p->n; n++) {
        for (int64_t g = 0; g < p->group; g++) {
            const float *xg = x + (n * p->c_in + g * p->cg) * w->in_vol;
            float *yg = y + (n * p->m + g * p->mg) * w->out_vol;
            fill_rows_f32(yg, b ? b + g * p->mg : NULL, p->mg, w->out_vol, oc_kthreads(c));
            /* col [mg * k_vol, in_vol] = W_g^T [mg * k_vol, cg] x X_g [cg, in_vol] */
            oc_sgemm(true, false, rows, w->in_vol, p->cg, 1.0f, wt + g * p->cg * rows, rows, xg, w->in_vol, 0.0f,
                     col, w->in_vol);
            col2im_f32(w, col, p->mg, yg, oc_kthreads(c));
        }
    }
    return ONNXC_OK;
}

/* Conv-1 and ConvTranspose-1 already have every attribute handled here; -11 only refined auto_pad and
 * output_shape wording. */
const oc_kernel oc_kernels_conv[] = {
    {"Conv", NULL, 1, 0, 0, conv_infer, conv_prepare, conv_run, conv_release, 0},
    {"ConvTranspose", NULL, 1, 0, 0, convt_infer, convt_prepare, convt_run, conv_release, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
