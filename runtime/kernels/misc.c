/* Ops whose output shape the plan knows from input shapes and constant inputs, with no family of their own:
 * TopK (K a plan-time value), CumSum, DepthToSpace, SpaceToDepth, IsNaN, IsInf, Shrink, Trilu, EyeLike. Generic
 * over element types through the core's element accessors (float types as double, integer types as int64). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "kutil.h"

#define MAXR ONNXC_MAX_RANK

static onnxc_status need(const oc_kctx *c, int n)
{
    for (int i = 0; i < n; i++)
        if (i >= c->n_in || !c->in[i])
            return oc_kerr(c, ONNXC_E_INVALID, "missing required input %d", i);
    return ONNXC_OK;
}

static bool numeric(int32_t dt) { return oc_dtype_is_float(dt) || oc_dtype_is_int(dt); }

/* ---------------------------------------------------------------- TopK */

static onnxc_status topk_k(const oc_kctx *c, int64_t *k)
{
    if (c->opset < 10) {
        *k = oc_attr_int(c->node, "k", -1);
        return ONNXC_OK;
    }
    const onnxc_tensor *kt = c->in[1];
    if (kt->dtype != ONNXC_INT64 || onnxc_tensor_numel(kt) != 1 || kt->rank > 1)
        return oc_kerr(c, ONNXC_E_INVALID, "input 'K' must be an int64 tensor of one element");
    if (!kt->data)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input 'K' is not known at plan time");
    *k = oc_get_i64(kt, 0);
    return ONNXC_OK;
}

static onnxc_status topk_infer(oc_kctx *c)
{
    onnxc_status st = need(c, c->opset < 10 ? 1 : 2);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0];
    if (!numeric(x->dtype))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input type %s", onnxc_dtype_name(x->dtype));
    int axis;
    st = oc_norm_axis(c, oc_attr_int(c->node, "axis", -1), x->rank, &axis);
    if (st != ONNXC_OK)
        return st;
    int64_t k;
    st = topk_k(c, &k);
    if (st != ONNXC_OK)
        return st;
    if (k < 0 || k > x->dims[axis])
        return oc_kerr(c, ONNXC_E_INVALID, "K = %lld is out of range for axis %d of size %lld", (long long)k, axis,
                       (long long)x->dims[axis]);
    int64_t dims[MAXR];
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = k;
    if (c->n_out > 0 && c->out[0] && (st = oc_kset_shape(c, c->out[0], x->dtype, x->rank, dims)) != ONNXC_OK)
        return st;
    if (c->n_out > 1 && c->out[1] && (st = oc_kset_shape(c, c->out[1], ONNXC_INT64, x->rank, dims)) != ONNXC_OK)
        return st;
    c->scratch_size = (size_t)x->dims[axis] * (sizeof(int64_t) + sizeof(double) + sizeof(int64_t));
    return ONNXC_OK;
}

typedef struct topk_cmp {
    const double *vf;
    const int64_t *vi;
    bool largest;
} topk_cmp;

/* Order of two indices: larger (or smaller) value first, equal values by lower index (TopK-11). NaN sorts as
 * the largest value, as numpy's sort does. */
static bool topk_before(const topk_cmp *t, int64_t a, int64_t b)
{
    if (t->vf) {
        double x = t->vf[a], y = t->vf[b];
        bool xn = x != x, yn = y != y;
        if (xn || yn) {
            if (xn && yn)
                return a < b;
            return t->largest ? xn : yn;
        }
        if (x != y)
            return t->largest ? x > y : x < y;
    } else {
        int64_t x = t->vi[a], y = t->vi[b];
        if (x != y)
            return t->largest ? x > y : x < y;
    }
    return a < b;
}

/* Stable merge sort of idx[0..n) with tmp of n. */
static void topk_sort(const topk_cmp *t, int64_t *idx, int64_t *tmp, int64_t n)
{
    for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                tmp[o++] = topk_before(t, idx[j], idx[i]) ? idx[j++] : idx[i++];
            while (i < mid)
                tmp[o++] = idx[i++];
            while (j < hi)
                tmp[o++] = idx[j++];
        }
        memcpy(idx, tmp, (size_t)n * sizeof *idx);
    }
}

static onnxc_status topk_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    int axis;
    oc_norm_axis(c, oc_attr_int(c->node, "axis", -1), x->rank, &axis);
    int64_t k;
    topk_k(c, &k);
    bool largest = c->opset < 11 || oc_attr_int(c->node, "largest", 1) != 0;
    /* sorted=0 leaves the order open; the sorted order is one of the allowed ones */
    int64_t n = x->dims[axis], outer = oc_dims_prod(x->dims, 0, axis), inner = oc_dims_prod(x->dims, axis + 1, x->rank);
    int64_t *idx = c->scratch, *tmp = idx + n;
    bool fl = oc_dtype_is_float(x->dtype);
    double *vf = (double *)(tmp + n);
    int64_t *vi = (int64_t *)(tmp + n);
    topk_cmp t = {fl ? vf : NULL, fl ? NULL : vi, largest};
    onnxc_tensor *yv = c->n_out > 0 ? c->out[0] : NULL, *yi = c->n_out > 1 ? c->out[1] : NULL;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner; in++) {
            int64_t base = o * n * inner + in;
            for (int64_t j = 0; j < n; j++) {
                idx[j] = j;
                if (fl)
                    vf[j] = oc_load_f64(x->dtype, x->data, base + j * inner);
                else
                    vi[j] = oc_load_i64(x->dtype, x->data, base + j * inner);
            }
            topk_sort(&t, idx, tmp, n);
            int64_t ob = o * k * inner + in;
            for (int64_t j = 0; j < k; j++) {
                if (yv) {
                    if (fl)
                        oc_store_f64(x->dtype, yv->data, ob + j * inner, vf[idx[j]]);
                    else
                        oc_store_i64(x->dtype, yv->data, ob + j * inner, vi[idx[j]]);
                }
                if (yi)
                    ((int64_t *)yi->data)[ob + j * inner] = idx[j];
            }
        }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- CumSum */

static onnxc_status cumsum_infer(oc_kctx *c)
{
    onnxc_status st = need(c, 2);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0], *a = c->in[1];
    if (!numeric(x->dtype))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input type %s", onnxc_dtype_name(x->dtype));
    if ((a->dtype != ONNXC_INT64 && a->dtype != ONNXC_INT32) || onnxc_tensor_numel(a) != 1 || a->rank > 1)
        return oc_kerr(c, ONNXC_E_INVALID, "input 'axis' must be an int32 or int64 scalar");
    if (a->data) {
        int ax;
        if ((st = oc_norm_axis(c, oc_get_i64(a, 0), x->rank, &ax)) != ONNXC_OK)
            return st;
    }
    return oc_kset_shape(c, c->out[0], x->dtype, x->rank, x->dims);
}

static onnxc_status cumsum_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    onnxc_tensor *y = c->out[0];
    int axis;
    onnxc_status st = oc_norm_axis(c, oc_get_i64(c->in[1], 0), x->rank, &axis);
    if (st != ONNXC_OK)
        return st;
    bool excl = oc_attr_int(c->node, "exclusive", 0) != 0, rev = oc_attr_int(c->node, "reverse", 0) != 0;
    int64_t n = x->dims[axis], outer = oc_dims_prod(x->dims, 0, axis), inner = oc_dims_prod(x->dims, axis + 1, x->rank);
    bool fl = oc_dtype_is_float(x->dtype);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner; in++) {
            double sf = 0;
            int64_t si = 0;
            for (int64_t jj = 0; jj < n; jj++) {
                int64_t j = rev ? n - 1 - jj : jj, at = (o * n + j) * inner + in;
                if (fl) {
                    double v = oc_load_f64(x->dtype, x->data, at);
                    if (!excl)
                        sf += v;
                    oc_store_f64(x->dtype, y->data, at, sf);
                    if (excl)
                        sf += v;
                } else {
                    int64_t v = oc_load_i64(x->dtype, x->data, at);
                    if (!excl)
                        si += v;
                    oc_store_i64(x->dtype, y->data, at, si);
                    if (excl)
                        si += v;
                }
            }
        }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- DepthToSpace / SpaceToDepth */

/* Both are one reshape to 6-D, a transpose and a reshape back; src_dims and perm describe the 6-D view. */
typedef struct d2s_geom {
    int64_t v[6], perm[6];
} d2s_geom;

static onnxc_status d2s_geom_of(const oc_kctx *c, bool to_space, d2s_geom *g, int64_t *odims)
{
    const onnxc_tensor *x = c->in[0];
    if (x->rank != 4)
        return oc_kerr(c, ONNXC_E_INVALID, "input must be 4-D, got rank %d", (int)x->rank);
    int64_t b = oc_attr_int(c->node, "blocksize", 0);
    if (b <= 0)
        return oc_kerr(c, ONNXC_E_INVALID, "attribute 'blocksize' must be positive");
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    if (to_space) {
        char buf[16];
        const char *mode = oc_attr_string(c->node, "mode", "DCR", buf, sizeof buf);
        bool crd = strcmp(mode, "CRD") == 0;
        if (!crd && strcmp(mode, "DCR") != 0)
            return oc_kerr(c, ONNXC_E_INVALID, "mode '%s' is neither DCR nor CRD", mode);
        if (C % (b * b))
            return oc_kerr(c, ONNXC_E_INVALID, "channels %lld are not a multiple of blocksize^2 = %lld", (long long)C,
                           (long long)(b * b));
        int64_t Co = C / (b * b);
        if (crd) {
            int64_t v[6] = {N, Co, b, b, H, W}, p[6] = {0, 1, 4, 2, 5, 3};
            memcpy(g->v, v, sizeof v), memcpy(g->perm, p, sizeof p);
        } else {
            int64_t v[6] = {N, b, b, Co, H, W}, p[6] = {0, 3, 4, 1, 5, 2};
            memcpy(g->v, v, sizeof v), memcpy(g->perm, p, sizeof p);
        }
        int64_t o[4] = {N, Co, H * b, W * b};
        memcpy(odims, o, sizeof o);
    } else {
        if (H % b || W % b)
            return oc_kerr(c, ONNXC_E_INVALID, "height %lld and width %lld must be multiples of blocksize %lld",
                           (long long)H, (long long)W, (long long)b);
        int64_t v[6] = {N, C, H / b, b, W / b, b}, p[6] = {0, 3, 5, 1, 2, 4};
        memcpy(g->v, v, sizeof v), memcpy(g->perm, p, sizeof p);
        int64_t o[4] = {N, C * b * b, H / b, W / b};
        memcpy(odims, o, sizeof o);
    }
    return ONNXC_OK;
}

static onnxc_status d2s_infer_mode(oc_kctx *c, bool to_space)
{
    onnxc_status st = need(c, 1);
    if (st != ONNXC_OK)
        return st;
    size_t es;
    if ((st = oc_kmove_size(c, c->in[0]->dtype, &es)) != ONNXC_OK)
        return st;
    d2s_geom g;
    int64_t od[4];
    if ((st = d2s_geom_of(c, to_space, &g, od)) != ONNXC_OK)
        return st;
    return oc_kset_shape(c, c->out[0], c->in[0]->dtype, 4, od);
}

static onnxc_status d2s_run_mode(oc_kctx *c, bool to_space)
{
    const onnxc_tensor *x = c->in[0];
    onnxc_tensor *y = c->out[0];
    d2s_geom g;
    int64_t od[4];
    onnxc_status st = d2s_geom_of(c, to_space, &g, od);
    if (st != ONNXC_OK)
        return st;
    size_t es = onnxc_dtype_size(x->dtype);
    int64_t s[6], d[6], st6[6];
    oc_strides(6, g.v, s);
    for (int i = 0; i < 6; i++)
        d[i] = g.v[g.perm[i]], st6[i] = s[g.perm[i]];
    int64_t total = oc_dims_prod(d, 0, 6), idx[6] = {0};
    const char *src = x->data;
    char *dst = y->data;
    for (int64_t o = 0; o < total; o++) {
        int64_t off = 0;
        for (int i = 0; i < 6; i++)
            off += idx[i] * st6[i];
        memcpy(dst + (size_t)o * es, src + (size_t)off * es, es);
        for (int i = 5; i >= 0; i--) {
            if (++idx[i] < d[i])
                break;
            idx[i] = 0;
        }
    }
    return ONNXC_OK;
}

static onnxc_status d2s_infer(oc_kctx *c) { return d2s_infer_mode(c, true); }
static onnxc_status d2s_run(oc_kctx *c) { return d2s_run_mode(c, true); }
static onnxc_status s2d_infer(oc_kctx *c) { return d2s_infer_mode(c, false); }
static onnxc_status s2d_run(oc_kctx *c) { return d2s_run_mode(c, false); }

/* ---------------------------------------------------------------- IsNaN, IsInf, Shrink */

static onnxc_status float_in(const oc_kctx *c)
{
    onnxc_status st = need(c, 1);
    if (st == ONNXC_OK && !oc_dtype_is_float(c->in[0]->dtype))
        st = oc_kerr(c, ONNXC_E_UNSUPPORTED, "input type %s (a float type is required)",
                     onnxc_dtype_name(c->in[0]->dtype));
    return st;
}

static onnxc_status isx_infer(oc_kctx *c)
{
    onnxc_status st = float_in(c);
    if (st != ONNXC_OK)
        return st;
    return oc_kset_shape(c, c->out[0], ONNXC_BOOL, c->in[0]->rank, c->in[0]->dims);
}

static onnxc_status isnan_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    uint8_t *y = c->out[0]->data;
    int64_t n = onnxc_tensor_numel(x);
    for (int64_t i = 0; i < n; i++) {
        double v = oc_load_f64(x->dtype, x->data, i);
        y[i] = v != v;
    }
    return ONNXC_OK;
}

static onnxc_status isinf_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    uint8_t *y = c->out[0]->data;
    bool pos = oc_attr_int(c->node, "detect_positive", 1) != 0, neg = oc_attr_int(c->node, "detect_negative", 1) != 0;
    int64_t n = onnxc_tensor_numel(x);
    for (int64_t i = 0; i < n; i++) {
        double v = oc_load_f64(x->dtype, x->data, i);
        y[i] = (pos && v == INFINITY) || (neg && v == -INFINITY);
    }
    return ONNXC_OK;
}

static onnxc_status same_infer(oc_kctx *c)
{
    onnxc_status st = need(c, 1);
    if (st != ONNXC_OK)
        return st;
    if (!numeric(c->in[0]->dtype))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input type %s", onnxc_dtype_name(c->in[0]->dtype));
    return oc_kset_shape(c, c->out[0], c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
}

static onnxc_status shrink_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    double lambd = oc_attr_float(c->node, "lambd", 0.5f), bias = oc_attr_float(c->node, "bias", 0.0f);
    int64_t n = onnxc_tensor_numel(x);
    for (int64_t i = 0; i < n; i++) {
        double v = oc_load_f64(x->dtype, x->data, i);
        double y = v < -lambd ? v + bias : v > lambd ? v - bias : 0.0;
        oc_store_f64(x->dtype, c->out[0]->data, i, y);
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- Trilu, EyeLike */

static onnxc_status trilu_infer(oc_kctx *c)
{
    onnxc_status st = need(c, 1);
    if (st != ONNXC_OK)
        return st;
    size_t es;
    if ((st = oc_kmove_size(c, c->in[0]->dtype, &es)) != ONNXC_OK)
        return st;
    if (c->in[0]->rank < 2)
        return oc_kerr(c, ONNXC_E_INVALID, "input must have rank >= 2, got %d", (int)c->in[0]->rank);
    const onnxc_tensor *k = c->n_in > 1 ? c->in[1] : NULL;
    if (k && (k->dtype != ONNXC_INT64 || onnxc_tensor_numel(k) != 1))
        return oc_kerr(c, ONNXC_E_INVALID, "input 'k' must be an int64 scalar");
    return oc_kset_shape(c, c->out[0], c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
}

static onnxc_status trilu_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    int64_t k = c->n_in > 1 && c->in[1] ? oc_get_i64(c->in[1], 0) : 0;
    bool upper = oc_attr_int(c->node, "upper", 1) != 0;
    int64_t r = x->dims[x->rank - 2], cols = x->dims[x->rank - 1], mats = oc_dims_prod(x->dims, 0, x->rank - 2);
    size_t es = onnxc_dtype_size(x->dtype);
    const char *src = x->data;
    char *dst = c->out[0]->data;
    for (int64_t m = 0; m < mats; m++)
        for (int64_t i = 0; i < r; i++)
            for (int64_t j = 0; j < cols; j++) {
                size_t at = (size_t)((m * r + i) * cols + j) * es;
                bool keep = upper ? j - i >= k : j - i <= k;
                if (keep)
                    memcpy(dst + at, src + at, es);
                else
                    memset(dst + at, 0, es);
            }
    return ONNXC_OK;
}

static onnxc_status eyelike_infer(oc_kctx *c)
{
    onnxc_status st = need(c, 1);
    if (st != ONNXC_OK)
        return st;
    if (c->in[0]->rank != 2)
        return oc_kerr(c, ONNXC_E_INVALID, "input must be 2-D, got rank %d", (int)c->in[0]->rank);
    int32_t dt = (int32_t)oc_attr_int(c->node, "dtype", c->in[0]->dtype);
    if (!numeric(dt) && dt != ONNXC_BOOL)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "output type %s", onnxc_dtype_name(dt));
    return oc_kset_shape(c, c->out[0], dt, 2, c->in[0]->dims);
}

static onnxc_status eyelike_run(oc_kctx *c)
{
    onnxc_tensor *y = c->out[0];
    int64_t k = oc_attr_int(c->node, "k", 0), r = y->dims[0], cols = y->dims[1];
    memset(y->data, 0, y->nbytes);
    for (int64_t i = 0; i < r; i++)
        if (i + k >= 0 && i + k < cols) {
            if (y->dtype == ONNXC_BOOL)
                ((uint8_t *)y->data)[i * cols + i + k] = 1;
            else
                oc_store_f64(y->dtype, y->data, i * cols + i + k, 1.0);
        }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- the table */

#define B(i) (1u << (i))

const oc_kernel oc_kernels_misc[] = {
    {"TopK", NULL, 1, 9, 0, topk_infer, NULL, topk_run, NULL, 0},
    {"TopK", NULL, 10, 0, B(1), topk_infer, NULL, topk_run, NULL, 0},
    {"CumSum", NULL, 11, 0, 0, cumsum_infer, NULL, cumsum_run, NULL, 0},
    {"DepthToSpace", NULL, 1, 0, 0, d2s_infer, NULL, d2s_run, NULL, 0},
    {"SpaceToDepth", NULL, 1, 0, 0, s2d_infer, NULL, s2d_run, NULL, 0},
    {"IsNaN", NULL, 9, 0, 0, isx_infer, NULL, isnan_run, NULL, 0},
    {"IsInf", NULL, 10, 0, 0, isx_infer, NULL, isinf_run, NULL, 0},
    {"Shrink", NULL, 9, 0, 0, same_infer, NULL, shrink_run, NULL, 0},
    {"Trilu", NULL, 14, 0, 0, trilu_infer, NULL, trilu_run, NULL, 0},
    {"EyeLike", NULL, 9, 0, 0, eyelike_infer, NULL, eyelike_run, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
