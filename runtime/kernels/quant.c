/* QuantizeLinear (10, 13: per tensor and per axis, int8 / uint8, zero point optional, float or int32 input),
 * DequantizeLinear (10, 13: int8 / uint8 / int32 input) and DynamicQuantizeLinear (11), exact to the spec as
 * ONNX Runtime computes them: x / scale in float32, rounding half to even, saturation; (x - zp) * scale in
 * float32. Also the scale / zero point checks shared with qgemm.c. */
#include <math.h>
#include <string.h>

#include "quant.h"

onnxc_status oc_q_param(const oc_kctx *c, int scale_in, int zp_in, bool zp_optional, int32_t zp_dtype,
                        int64_t axis_len, const char *scale_name, const char *zp_name, oc_qparam *q)
{
    memset(q, 0, sizeof *q);
    const onnxc_tensor *s = scale_in < c->n_in ? c->in[scale_in] : NULL;
    const onnxc_tensor *z = zp_in >= 0 && zp_in < c->n_in ? c->in[zp_in] : NULL;
    if (!s)
        return oc_kerr(c, ONNXC_E_INVALID, "missing input '%s'", scale_name);
    if (s->dtype != ONNXC_FLOAT)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "%s is %s; expected float", scale_name, onnxc_dtype_name(s->dtype));
    int64_t n = onnxc_tensor_numel(s);
    if (s->rank > 1 || (n != 1 && (axis_len < 0 || n != axis_len))) {
        char b[64];
        if (axis_len < 0)
            return oc_kerr(c, ONNXC_E_INVALID, "%s of shape %s must be a scalar", scale_name,
                           oc_dims_str(s->dims, s->rank, b, sizeof b));
        return oc_kerr(c, ONNXC_E_INVALID, "%s of shape %s must be a scalar or 1-D of %lld values", scale_name,
                       oc_dims_str(s->dims, s->rank, b, sizeof b), (long long)axis_len);
    }
    q->n = n;
    q->scale = s->data;
    if (s->data)
        for (int64_t i = 0; i < n; i++) {
            float v = q->scale[i];
            if (!(v != 0.0f) || !isfinite(v))
                return oc_kerr(c, ONNXC_E_INVALID, "%s[%lld] is %g; a scale must be finite and non-zero", scale_name,
                               (long long)i, (double)v);
        }
    if (!z) {
        if (!zp_optional)
            return oc_kerr(c, ONNXC_E_INVALID, "missing input '%s'", zp_name);
        q->zp_dtype = zp_dtype ? zp_dtype : ONNXC_UINT8;
        q->zp_n = 1;
        return ONNXC_OK;
    }
    if (zp_dtype ? z->dtype != zp_dtype : !oc_q_is8(z->dtype))
        return oc_kerr(c, ONNXC_E_INVALID, "%s is %s; expected %s", zp_name, onnxc_dtype_name(z->dtype),
                       zp_dtype ? onnxc_dtype_name(zp_dtype) : "int8 or uint8");
    int64_t zn = onnxc_tensor_numel(z);
    if (z->rank > 1 || (zn != n && zn != 1)) {
        char b[64];
        return oc_kerr(c, ONNXC_E_INVALID, "%s of shape %s must have one value or the %lld of %s", zp_name,
                       oc_dims_str(z->dims, z->rank, b, sizeof b), (long long)n, scale_name);
    }
    q->zp_n = zn;
    q->zp = z->data;
    q->zp_dtype = z->dtype;
    if (z->data && z->dtype == ONNXC_INT32)
        for (int64_t i = 0; i < zn; i++)
            if (oc_q_load(ONNXC_INT32, z->data, i) != 0)
                return oc_kerr(c, ONNXC_E_INVALID, "%s[%lld] is %d; an int32 zero point must be 0", zp_name,
                               (long long)i, (int)oc_q_load(ONNXC_INT32, z->data, i));
    return ONNXC_OK;
}

/* The per-axis geometry of a Q / DQ node: outer x len x inner, the axis (opset 13) of length len. */
typedef struct qdq_geom {
    int64_t outer, len, inner;
    oc_qparam q;
} qdq_geom;

static onnxc_status qdq_geometry(const oc_kctx *c, bool quantize, qdq_geom *g)
{
    if (c->n_in < 2 || !c->in[0])
        return oc_kerr(c, ONNXC_E_INVALID, "missing input 'x'");
    const onnxc_tensor *x = c->in[0];
    const char *sn = quantize ? "y_scale" : "x_scale", *zn = quantize ? "y_zero_point" : "x_zero_point";
    if (quantize) {
        if (x->dtype != ONNXC_FLOAT && x->dtype != ONNXC_INT32)
            return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input x is %s; expected float or int32",
                           onnxc_dtype_name(x->dtype));
    } else if (!oc_q_is8(x->dtype) && x->dtype != ONNXC_INT32) {
        return oc_kerr(c, ONNXC_E_INVALID, "input x is %s; expected int8, uint8 or int32", onnxc_dtype_name(x->dtype));
    }
    int64_t axis_len = -1;
    int axis = 0;
    const onnxc_tensor *s = c->in[1];
    if (c->opset >= 13 && s && s->rank == 1 && s->dims[0] != 1) {
        onnxc_status st = oc_norm_axis(c, oc_attr_int(c->node, "axis", 1), x->rank, &axis);
        if (st != ONNXC_OK)
            return st;
        axis_len = x->dims[axis];
    }
    onnxc_status st = oc_q_param(c, 1, 2, true, quantize ? 0 : x->dtype, axis_len, sn, zn, &g->q);
    if (st != ONNXC_OK)
        return st;
    if (g->q.n > 1) {
        g->outer = oc_dims_prod(x->dims, 0, axis);
        g->len = x->dims[axis];
        g->inner = oc_dims_prod(x->dims, axis + 1, x->rank);
    } else {
        g->outer = 1;
        g->len = 1;
        g->inner = onnxc_tensor_numel(x);
    }
    return ONNXC_OK;
}

static onnxc_status quantize_infer(oc_kctx *c)
{
    qdq_geom g;
    onnxc_status st = qdq_geometry(c, true, &g);
    if (st != ONNXC_OK || !c->out[0])
        return st;
    return oc_kset_shape(c, c->out[0], g.q.zp_dtype, c->in[0]->rank, c->in[0]->dims);
}

/* y[i] = saturate(round(x[i] / scale) + zp), n values. */
static void quantize_row(const float *x, int64_t n, float scale, int32_t zp, int32_t dt, void *y)
{
    int32_t lo = oc_q_min(dt), hi = oc_q_max(dt);
    if (dt == ONNXC_UINT8) {
        uint8_t *o = y;
        for (int64_t i = 0; i < n; i++)
            o[i] = (uint8_t)oc_q_requant(x[i] / scale, zp, lo, hi);
    } else {
        int8_t *o = y;
        for (int64_t i = 0; i < n; i++)
            o[i] = (int8_t)oc_q_requant(x[i] / scale, zp, lo, hi);
    }
}

/* A Q / DQ run split over the pool: element blocks of the flattened tensor, each cut at axis rows. */
typedef struct qdq_job {
    const qdq_geom *g;
    const onnxc_tensor *x;
    void *y;
    bool quantize;
} qdq_job;

#define QDQ_BLOCK 16384

/* Elements [lo, hi) of axis row `row` (scale and zero point index row % len). */
static void qdq_segment(const qdq_job *j, int64_t row, int64_t lo, int64_t hi)
{
    const qdq_geom *g = j->g;
    const onnxc_tensor *x = j->x;
    int64_t a = row % g->len, base = row * g->inner + lo, n = hi - lo;
    float s = oc_q_scale(&g->q, a);
    int32_t zp = oc_q_zp(&g->q, a);
    if (j->quantize) {
        int32_t dt = g->q.zp_dtype;
        if (x->dtype == ONNXC_FLOAT) {
            quantize_row((const float *)x->data + base, n, s, zp, dt, (uint8_t *)j->y + base);
            return;
        }
        /* int32 input: converted to float first, as ONNX Runtime does */
        float buf[256];
        const int32_t *xi = (const int32_t *)x->data + base;
        for (int64_t i = 0; i < n; i += 256) {
            int64_t nb = n - i < 256 ? n - i : 256;
            for (int64_t t = 0; t < nb; t++)
                buf[t] = (float)xi[i + t];
            quantize_row(buf, nb, s, zp, dt, (uint8_t *)j->y + base + i);
        }
        return;
    }
    float *yo = (float *)j->y + base;
    if (x->dtype == ONNXC_UINT8) {
        const uint8_t *xi = (const uint8_t *)x->data + base;
        for (int64_t i = 0; i < n; i++)
            yo[i] = (float)((int32_t)xi[i] - zp) * s;
    } else if (x->dtype == ONNXC_INT8) {
        const int8_t *xi = (const int8_t *)x->data + base;
        for (int64_t i = 0; i < n; i++)
            yo[i] = (float)((int32_t)xi[i] - zp) * s;
    } else {
        const int32_t *xi = (const int32_t *)x->data + base; /* zp is 0 (checked) */
        for (int64_t i = 0; i < n; i++)
            yo[i] = (float)xi[i] * s;
    }
}

static void qdq_item(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const qdq_job *j = arg;
    int64_t inner = j->g->inner, total = j->g->outer * j->g->len * inner;
    int64_t e = lo * QDQ_BLOCK, end = hi * QDQ_BLOCK < total ? hi * QDQ_BLOCK : total;
    while (e < end) {
        int64_t row = e / inner, off = e % inner;
        int64_t stop = inner - off < end - e ? inner : off + (end - e);
        qdq_segment(j, row, off, stop);
        e += stop - off;
    }
}

static onnxc_status qdq_run(oc_kctx *c, bool quantize)
{
    qdq_geom g;
    onnxc_status st = qdq_geometry(c, quantize, &g);
    if (st != ONNXC_OK || !c->out[0])
        return st;
    if (g.inner == 0)
        return ONNXC_OK;
    qdq_job j = {&g, c->in[0], c->out[0]->data, quantize};
    int64_t total = g.outer * g.len * g.inner;
    oc_par_for(c->pool, (total + QDQ_BLOCK - 1) / QDQ_BLOCK, total, qdq_item, &j);
    return ONNXC_OK;
}

static onnxc_status quantize_run(oc_kctx *c) { return qdq_run(c, true); }

static onnxc_status dequantize_infer(oc_kctx *c)
{
    qdq_geom g;
    onnxc_status st = qdq_geometry(c, false, &g);
    if (st != ONNXC_OK || !c->out[0])
        return st;
    return oc_kset_shape(c, c->out[0], ONNXC_FLOAT, c->in[0]->rank, c->in[0]->dims);
}

static onnxc_status dequantize_run(oc_kctx *c) { return qdq_run(c, false); }

/* ---- DynamicQuantizeLinear: uint8 with scale and zero point from the input's range (which includes 0) ---- */

static onnxc_status dynq_infer(oc_kctx *c)
{
    if (c->n_in < 1 || !c->in[0])
        return oc_kerr(c, ONNXC_E_INVALID, "missing input 'x'");
    const onnxc_tensor *x = c->in[0];
    if (x->dtype != ONNXC_FLOAT)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input x is %s; expected float", onnxc_dtype_name(x->dtype));
    onnxc_status st = ONNXC_OK;
    if (c->n_out > 0 && c->out[0])
        st = oc_kset_shape(c, c->out[0], ONNXC_UINT8, x->rank, x->dims);
    if (st == ONNXC_OK && c->n_out > 1 && c->out[1])
        st = oc_kset_shape(c, c->out[1], ONNXC_FLOAT, 0, NULL);
    if (st == ONNXC_OK && c->n_out > 2 && c->out[2])
        st = oc_kset_shape(c, c->out[2], ONNXC_UINT8, 0, NULL);
    return st;
}

static onnxc_status dynq_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    const float *xv = x->data;
    int64_t n = onnxc_tensor_numel(x);
    float mn = 0.0f, mx = 0.0f; /* the range always includes 0 */
    for (int64_t i = 0; i < n; i++) {
        mn = xv[i] < mn ? xv[i] : mn;
        mx = xv[i] > mx ? xv[i] : mx;
    }
    if (!isfinite(mn) || !isfinite(mx))
        return oc_kerr(c, ONNXC_E_INVALID, "input x holds %s; its range cannot be quantized",
                       isnan(mn) || isnan(mx) ? "NaN" : "an infinity");
    /* as ONNX Runtime: an all-zero input gets scale 1 rather than 0 */
    float scale = mx == mn ? 1.0f : (mx - mn) / 255.0f;
    float zpf = 0.0f - mn / scale;
    zpf = zpf < 0.0f ? 0.0f : zpf > 255.0f ? 255.0f : zpf;
    int32_t zp = (int32_t)oc_q_rint_small(zpf);
    if (c->n_out > 1 && c->out[1])
        *(float *)c->out[1]->data = scale;
    if (c->n_out > 2 && c->out[2])
        *(uint8_t *)c->out[2]->data = (uint8_t)zp;
    if (c->out[0])
        quantize_row(xv, n, scale, zp, ONNXC_UINT8, c->out[0]->data);
    return ONNXC_OK;
}

const oc_kernel oc_kernels_quant[] = {
    {"QuantizeLinear", NULL, 10, 18, 0, quantize_infer, NULL, quantize_run, NULL, 0},
    {"DequantizeLinear", NULL, 10, 18, 0, dequantize_infer, NULL, dequantize_run, NULL, 0},
    {"DynamicQuantizeLinear", NULL, 11, 0, 0, dynq_infer, NULL, dynq_run, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
