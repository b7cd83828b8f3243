/* Pad (constant, reflect, edge, wrap; negative pads crop), Resize (nearest, N-linear, cubic with every coordinate
 * transformation mode, antialias, axes) and the older Upsample, which is Resize with asymmetric coordinates. */
#include <math.h>
#include <string.h>

#include "kernel.h"
#include "kutil.h"
#include "threadpool.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#define MAXR ONNXC_MAX_RANK

static const onnxc_tensor *opt_in(const oc_kctx *c, int i)
{
    return i < c->n_in ? c->in[i] : NULL;
}

/* An optional input given as an empty tensor counts as absent (Resize-11 passes an empty roi or scales). */
static const onnxc_tensor *nonempty_in(const oc_kctx *c, int i)
{
    const onnxc_tensor *t = opt_in(c, i);
    return t && onnxc_tensor_numel(t) > 0 ? t : NULL;
}

/* Read the int32/int64 elements of input i (1-D) into v[0..max). */
static onnxc_status read_ints(const oc_kctx *c, int i, const char *what, int64_t *v, int max, int *n)
{
    const onnxc_tensor *t = c->in[i];
    if (t->dtype != ONNXC_INT64 && t->dtype != ONNXC_INT32)
        return oc_kerr(c, ONNXC_E_INVALID, "input '%s' must be int64, got %s", what, onnxc_dtype_name(t->dtype));
    int64_t cnt = onnxc_tensor_numel(t);
    if (t->rank > 1 || cnt < 0 || cnt > max)
        return oc_kerr(c, ONNXC_E_INVALID, "input '%s' must be 1-D with at most %d values", what, max);
    if (cnt > 0 && !t->data)
        return oc_kerr(c, ONNXC_E_INVALID, "input '%s' has no data at plan time", what);
    for (int64_t k = 0; k < cnt; k++)
        v[k] = oc_get_i64(t, k);
    *n = (int)cnt;
    return ONNXC_OK;
}

/* ================================================================ Pad */

enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP };

/* Mode, begin/end pads per axis and output dims. Pad-1 named the attribute "paddings", Pad-2 "pads"; Pad-11 made
 * pads an input, Pad-18 added axes, Pad-19 the wrap mode. */
static onnxc_status pad_params(const oc_kctx *c, int *mode, int64_t *pb, int64_t *pe, int64_t *dims)
{
    const onnxc_tensor *x = c->in[0];
    int r = x->rank;
    char buf[32];
    const char *m = oc_attr_string(c->node, "mode", "constant", buf, sizeof buf);
    if (strcmp(m, "constant") == 0)
        *mode = PAD_CONSTANT;
    else if (strcmp(m, "reflect") == 0)
        *mode = PAD_REFLECT;
    else if (strcmp(m, "edge") == 0)
        *mode = PAD_EDGE;
    else if (strcmp(m, "wrap") == 0 && c->opset >= 19)
        *mode = PAD_WRAP;
    else
        return oc_kerr(c, ONNXC_E_INVALID, "unknown mode '%s'", m);
    int64_t pads[2 * MAXR], axes[MAXR];
    int n = 0, na = r;
    onnxc_status st;
    if (c->opset < 11) {
        size_t cnt;
        const int64_t *a = oc_attr_ints(c->node, c->opset < 2 ? "paddings" : "pads", &cnt);
        if (!a)
            return oc_kerr(c, ONNXC_E_INVALID, "missing attribute '%s'", c->opset < 2 ? "paddings" : "pads");
        if (cnt > 2 * MAXR)
            return oc_kerr(c, ONNXC_E_INVALID, "too many pads (%zu)", cnt);
        memcpy(pads, a, cnt * sizeof *a);
        n = (int)cnt;
    } else {
        if (!opt_in(c, 1))
            return oc_kerr(c, ONNXC_E_INVALID, "missing input 'pads'");
        st = read_ints(c, 1, "pads", pads, 2 * MAXR, &n);
        if (st != ONNXC_OK)
            return st;
    }
    if (c->opset >= 18 && opt_in(c, 3)) {
        st = read_ints(c, 3, "axes", axes, MAXR, &na);
        if (st != ONNXC_OK)
            return st;
    } else {
        for (int i = 0; i < r; i++)
            axes[i] = i;
    }
    if (n != 2 * na)
        return oc_kerr(c, ONNXC_E_INVALID, "%d pads for %d axes (need %d)", n, na, 2 * na);
    bool seen[MAXR] = {false};
    for (int i = 0; i < r; i++) {
        pb[i] = pe[i] = 0;
        dims[i] = x->dims[i];
    }
    for (int i = 0; i < na; i++) {
        int a;
        st = oc_norm_axis(c, axes[i], r, &a);
        if (st != ONNXC_OK)
            return st;
        if (seen[a])
            return oc_kerr(c, ONNXC_E_INVALID, "axis %d is repeated", a);
        seen[a] = true;
        pb[a] = pads[i];
        pe[a] = pads[i + na];
    }
    for (int a = 0; a < r; a++) {
        int64_t d = x->dims[a], crop = (pb[a] < 0 ? -pb[a] : 0) + (pe[a] < 0 ? -pe[a] : 0);
        if (pb[a] < -d || pe[a] < -d || crop > d)
            return oc_kerr(c, ONNXC_E_INVALID, "pads %lld, %lld crop more than axis %d has (%lld)",
                           (long long)pb[a], (long long)pe[a], a, (long long)d);
        if (!oc_add_i64(d, pb[a], &dims[a]) || !oc_add_i64(dims[a], pe[a], &dims[a]))
            return oc_kerr(c, ONNXC_E_INVALID, "padded dim overflows");
        if (*mode != PAD_CONSTANT && d - crop == 0 && dims[a] > 0)
            return oc_kerr(c, ONNXC_E_INVALID, "cannot pad the empty axis %d in mode '%s'", a, m);
    }
    return ONNXC_OK;
}

static onnxc_status pad_infer(oc_kctx *c)
{
    if (!opt_in(c, 0))
        return oc_kerr(c, ONNXC_E_INVALID, "missing input 'data'");
    size_t es;
    onnxc_status st = oc_kmove_size(c, c->in[0]->dtype, &es);
    if (st != ONNXC_OK)
        return st;
    int mode;
    int64_t pb[MAXR], pe[MAXR], dims[MAXR], total = 0;
    st = pad_params(c, &mode, pb, pe, dims);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *cv = c->opset >= 11 ? nonempty_in(c, 2) : NULL;
    if (cv && cv->dtype != c->in[0]->dtype)
        return oc_kerr(c, ONNXC_E_INVALID, "constant_value is %s, data is %s", onnxc_dtype_name(cv->dtype),
                       onnxc_dtype_name(c->in[0]->dtype));
    for (int i = 0; i < c->in[0]->rank; i++)
        if (!oc_add_i64(total, dims[i], &total))
            return oc_kerr(c, ONNXC_E_INVALID, "padded shape too large");
    /* one source-index map per axis */
    if (!oc_mul_size((size_t)total, sizeof(int64_t), &c->scratch_size))
        return oc_kerr(c, ONNXC_E_INVALID, "padded shape too large");
    if (!c->out[0])
        return ONNXC_OK;
    return oc_kset_shape(c, c->out[0], c->in[0]->dtype, c->in[0]->rank, dims);
}

/* Source index (in the uncropped input) of output position o along an axis, or -1 for the constant. */
static int64_t pad_src(int mode, int64_t o, int64_t d, int64_t pb, int64_t pe)
{
    /* negative pads crop first; the padding modes then see the cropped range [lo, lo + len) */
    int64_t lo = pb < 0 ? -pb : 0, len = d - lo - (pe < 0 ? -pe : 0), i = o - (pb > 0 ? pb : 0);
    if (i >= 0 && i < len)
        return lo + i;
    switch (mode) {
    case PAD_EDGE:
        return lo + (i < 0 ? 0 : len - 1);
    case PAD_REFLECT: {
        if (len == 1)
            return lo;
        int64_t period = 2 * (len - 1), m = i % period;
        if (m < 0)
            m += period;
        return lo + (m >= len ? period - m : m);
    }
    case PAD_WRAP: {
        int64_t m = i % len;
        return lo + (m < 0 ? m + len : m);
    }
    default:
        return -1;
    }
}

/* Pad's split loop: output rows [lo, hi) (every dim but the last), each from its source row or the fill. */
typedef struct pad_job {
    const int64_t *const *map; /* per axis: output index -> source index, < 0 for the fill */
    const int64_t *xs, *dims;
    int r;
    size_t es;
    const char *src;
    char *dst;
    const uint8_t *fv;
} pad_job;

static void pad_rows(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const pad_job *j = arg;
    const int r = j->r;
    const size_t es = j->es;
    const int64_t n = j->dims[r - 1], *ml = j->map[r - 1];
    int64_t idx[MAXR] = {0}, rem = lo;
    for (int a = r - 2; a >= 0; a--) {
        idx[a] = rem % j->dims[a];
        rem /= j->dims[a];
    }
    char *q = j->dst + (size_t)(lo * n) * es;
    for (int64_t row = lo; row < hi; row++, q += (size_t)n * es) {
        int64_t off = 0;
        bool constant = false;
        for (int a = 0; a < r - 1; a++) {
            if (j->map[a][idx[a]] < 0)
                constant = true;
            off += j->map[a][idx[a]] * j->xs[a];
        }
        if (constant) {
            oc_fill_elems(q, j->fv, n, es);
        } else {
            /* runs of consecutive source indices are copied at once */
            for (int64_t o = 0; o < n;) {
                if (ml[o] < 0) {
                    memcpy(q + (size_t)o * es, j->fv, es);
                    o++;
                    continue;
                }
                int64_t e = o + 1;
                while (e < n && ml[e] == ml[e - 1] + 1)
                    e++;
                memcpy(q + (size_t)o * es, j->src + (size_t)(off + ml[o]) * es, (size_t)(e - o) * es);
                o = e;
            }
        }
        for (int k = r - 2; k >= 0; k--) {
            if (++idx[k] < j->dims[k])
                break;
            idx[k] = 0;
        }
    }
}

static onnxc_status pad_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    onnxc_tensor *y = c->out[0];
    if (!y || y->nbytes == 0)
        return ONNXC_OK;
    int mode, r = x->rank;
    int64_t pb[MAXR], pe[MAXR], dims[MAXR];
    onnxc_status st = pad_params(c, &mode, pb, pe, dims);
    if (st != ONNXC_OK)
        return st;
    size_t es = onnxc_dtype_size(x->dtype);
    /* the fill value in the element type: Pad-11's constant_value input, else Pad-2's float attribute */
    uint8_t fv[16] = {0};
    const onnxc_tensor *cv = c->opset >= 11 ? nonempty_in(c, 2) : NULL;
    if (cv) {
        memcpy(fv, cv->data, es);
    } else if (c->opset < 11) {
        onnxc_tensor tmp = {.dtype = x->dtype, .data = fv, .nbytes = sizeof fv};
        oc_set_f64(&tmp, 0, oc_attr_float(c->node, "value", 0.0f));
    }
    if (r == 0) {
        memcpy(y->data, x->data, es);
        return ONNXC_OK;
    }
    int64_t *map[MAXR], *p = c->scratch, xs[MAXR];
    for (int a = 0; a < r; a++) {
        map[a] = p;
        for (int64_t o = 0; o < dims[a]; o++)
            p[o] = pad_src(mode, o, x->dims[a], pb[a], pe[a]);
        p += dims[a];
    }
    oc_strides(r, x->dims, xs);
    int64_t rows = oc_dims_prod(dims, 0, r - 1), n = dims[r - 1];
    pad_job j = {(const int64_t *const *)map, xs, dims, r, es, x->data, y->data, fv};
    oc_par_for(c->pool, rows, rows * n, pad_rows, &j);
    return ONNXC_OK;
}

/* ================================================================ Resize / Upsample */

enum { RS_NEAREST, RS_LINEAR, RS_CUBIC };
enum { CT_HALF_PIXEL, CT_HALF_PIXEL_SYMMETRIC, CT_PYTORCH_HALF_PIXEL, CT_ALIGN_CORNERS, CT_ASYMMETRIC,
       CT_TF_HALF_PIXEL_FOR_NEAREST, CT_TF_CROP_AND_RESIZE };
enum { NR_ROUND_PREFER_FLOOR, NR_ROUND_PREFER_CEIL, NR_FLOOR, NR_CEIL, NR_SIMPLE };

/* Combinations of taps over the outer axes a row may need (per thread); beyond this the op is refused. */
#define RS_MAX_COMBOS (1 << 20)

typedef struct rs_plan {
    int mode, ctm, nearest;
    bool antialias, exclude_outside;
    double cubic_a, extrapolation;
    double scale[MAXR];
    double roi0[MAXR], roi1[MAXR];
    int64_t out[MAXR];
    int taps[MAXR];   /* taps per output position along each axis */
    int64_t combos;   /* product of taps over every axis but the last */
    size_t scratch;   /* bytes of tables, per-thread combination buffers and interpolated rows */
    bool hrows;       /* float linear: per-thread buffers of two rows interpolated along the last axis */
    int threads;      /* threads of the session's pool: one combination buffer each */
} rs_plan;

static onnxc_status rs_read_floats(const oc_kctx *c, const onnxc_tensor *t, const char *what, int n, double *v)
{
    if (t->dtype != ONNXC_FLOAT && t->dtype != ONNXC_DOUBLE && t->dtype != ONNXC_FLOAT16 &&
        t->dtype != ONNXC_BFLOAT16)
        return oc_kerr(c, ONNXC_E_INVALID, "input '%s' must be float, got %s", what, onnxc_dtype_name(t->dtype));
    if (onnxc_tensor_numel(t) != n)
        return oc_kerr(c, ONNXC_E_INVALID, "input '%s' has %lld values, expected %d", what,
                       (long long)onnxc_tensor_numel(t), n);
    if (!t->data)
        return oc_kerr(c, ONNXC_E_INVALID, "input '%s' has no data at plan time", what);
    for (int i = 0; i < n; i++)
        v[i] = oc_get_f64(t, i);
    return ONNXC_OK;
}

/* Attributes, output shape, scales and (when need_roi) the roi of a Resize or Upsample node. Upsample-7 holds
 * the scales in an attribute, Upsample-9 and Resize-10 in input 1; Resize-11 moved them to input 2 next to roi
 * (1) and sizes (3); Resize-18 added axes, antialias and keep_aspect_ratio_policy. */
static onnxc_status rs_setup(const oc_kctx *c, bool upsample, bool need_roi, rs_plan *p)
{
    const onnxc_tensor *x = c->in[0];
    const oc_node *nd = c->node;
    int r = x->rank;
    bool v11 = !upsample && c->opset >= 11, v18 = !upsample && c->opset >= 18;
    char buf[64];
    memset(p, 0, sizeof *p);
    const char *s = oc_attr_string(nd, "mode", "nearest", buf, sizeof buf);
    if (strcmp(s, "nearest") == 0)
        p->mode = RS_NEAREST;
    else if (strcmp(s, "linear") == 0 || (!v11 && strcmp(s, "bilinear") == 0))
        p->mode = RS_LINEAR;
    else if (strcmp(s, "cubic") == 0 && v11)
        p->mode = RS_CUBIC;
    else
        return oc_kerr(c, ONNXC_E_INVALID, "unknown mode '%s'", s);
    /* before Resize-11 the mapping was x / scale, and nearest truncated upwards when downsampling (what
     * ONNX Runtime does, and what the Resize-10 conformance data expects) */
    p->ctm = CT_ASYMMETRIC;
    p->nearest = NR_SIMPLE;
    p->cubic_a = -0.75;
    if (v11) {
        s = oc_attr_string(nd, "coordinate_transformation_mode", "half_pixel", buf, sizeof buf);
        if (strcmp(s, "half_pixel") == 0)
            p->ctm = CT_HALF_PIXEL;
        else if (strcmp(s, "half_pixel_symmetric") == 0 && c->opset >= 19)
            p->ctm = CT_HALF_PIXEL_SYMMETRIC;
        else if (strcmp(s, "pytorch_half_pixel") == 0)
            p->ctm = CT_PYTORCH_HALF_PIXEL;
        else if (strcmp(s, "align_corners") == 0)
            p->ctm = CT_ALIGN_CORNERS;
        else if (strcmp(s, "asymmetric") == 0)
            p->ctm = CT_ASYMMETRIC;
        else if (strcmp(s, "tf_half_pixel_for_nearest") == 0 || strcmp(s, "tf_half_pixel_for_nn") == 0)
            p->ctm = CT_TF_HALF_PIXEL_FOR_NEAREST;
        else if (strcmp(s, "tf_crop_and_resize") == 0)
            p->ctm = CT_TF_CROP_AND_RESIZE;
        else
            return oc_kerr(c, ONNXC_E_INVALID, "unknown coordinate_transformation_mode '%s'", s);
        s = oc_attr_string(nd, "nearest_mode", "round_prefer_floor", buf, sizeof buf);
        if (strcmp(s, "round_prefer_floor") == 0)
            p->nearest = NR_ROUND_PREFER_FLOOR;
        else if (strcmp(s, "round_prefer_ceil") == 0)
            p->nearest = NR_ROUND_PREFER_CEIL;
        else if (strcmp(s, "floor") == 0)
            p->nearest = NR_FLOOR;
        else if (strcmp(s, "ceil") == 0)
            p->nearest = NR_CEIL;
        else
            return oc_kerr(c, ONNXC_E_INVALID, "unknown nearest_mode '%s'", s);
        p->cubic_a = oc_attr_float(nd, "cubic_coeff_a", -0.75f);
        p->exclude_outside = oc_attr_int(nd, "exclude_outside", 0) != 0;
        p->extrapolation = oc_attr_float(nd, "extrapolation_value", 0.0f);
    }
    p->antialias = v18 && oc_attr_int(nd, "antialias", 0) != 0 && p->mode != RS_NEAREST;

    /* axes the scales, sizes and roi refer to */
    int axes[MAXR], na = r;
    for (int i = 0; i < r; i++)
        axes[i] = i;
    if (v18) {
        size_t cnt;
        const int64_t *a = oc_attr_ints(nd, "axes", &cnt);
        if (a) {
            bool seen[MAXR] = {false};
            if (cnt > (size_t)r)
                return oc_kerr(c, ONNXC_E_INVALID, "%zu axes for rank %d", cnt, r);
            na = (int)cnt;
            for (int i = 0; i < na; i++) {
                onnxc_status st = oc_norm_axis(c, a[i], r, &axes[i]);
                if (st != ONNXC_OK)
                    return st;
                if (seen[axes[i]])
                    return oc_kerr(c, ONNXC_E_INVALID, "axis %d is repeated", axes[i]);
                seen[axes[i]] = true;
            }
        }
    }
    for (int i = 0; i < r; i++) {
        p->scale[i] = 1.0;
        p->out[i] = x->dims[i];
        p->roi0[i] = 0.0;
        p->roi1[i] = 1.0;
    }

    double v[MAXR];
    onnxc_status st;
    const onnxc_tensor *sizes = v11 ? nonempty_in(c, 3) : NULL;
    const onnxc_tensor *scales = upsample && c->opset < 9 ? NULL : nonempty_in(c, v11 ? 2 : 1);
    if (sizes) {
        if (scales)
            return oc_kerr(c, ONNXC_E_INVALID, "only one of 'scales' and 'sizes' may be given");
        int64_t sz[MAXR];
        int n;
        st = read_ints(c, 3, "sizes", sz, MAXR, &n);
        if (st != ONNXC_OK)
            return st;
        if (n != na)
            return oc_kerr(c, ONNXC_E_INVALID, "'sizes' has %d values for %d axes", n, na);
        s = v18 ? oc_attr_string(nd, "keep_aspect_ratio_policy", "stretch", buf, sizeof buf) : "stretch";
        bool not_larger = strcmp(s, "not_larger") == 0, not_smaller = strcmp(s, "not_smaller") == 0;
        if (!not_larger && !not_smaller && strcmp(s, "stretch") != 0)
            return oc_kerr(c, ONNXC_E_INVALID, "unknown keep_aspect_ratio_policy '%s'", s);
        double common = not_larger ? INFINITY : 0.0;
        for (int i = 0; i < na; i++) {
            int a = axes[i];
            if (sz[i] < 0)
                return oc_kerr(c, ONNXC_E_INVALID, "negative size %lld", (long long)sz[i]);
            if (x->dims[a] == 0) {
                if (sz[i] != 0)
                    return oc_kerr(c, ONNXC_E_INVALID, "axis %d is empty but size %lld was asked", a,
                                   (long long)sz[i]);
                continue;
            }
            p->out[a] = sz[i];
            p->scale[a] = (double)sz[i] / (double)x->dims[a];
            if (not_larger && p->scale[a] < common)
                common = p->scale[a];
            if (not_smaller && p->scale[a] > common)
                common = p->scale[a];
        }
        /* Resize-18: one scale for every listed axis, sizes rounded half up from it */
        if ((not_larger || not_smaller) && isfinite(common) && common > 0) {
            for (int i = 0; i < na; i++) {
                int a = axes[i];
                if (x->dims[a] == 0)
                    continue;
                p->scale[a] = common;
                double o = floor(common * (double)x->dims[a] + 0.5);
                if (!(o < 4.0e18))
                    return oc_kerr(c, ONNXC_E_INVALID, "output dim overflows");
                p->out[a] = (int64_t)o;
            }
        }
    } else if (scales || (upsample && c->opset < 9)) {
        if (scales) {
            st = rs_read_floats(c, scales, "scales", na, v);
            if (st != ONNXC_OK)
                return st;
        } else {
            size_t cnt;
            const float *f = oc_attr_floats(nd, "scales", &cnt);
            if (!f || cnt != (size_t)r)
                return oc_kerr(c, ONNXC_E_INVALID, "attribute 'scales' must have %d values", r);
            for (int i = 0; i < r; i++)
                v[i] = f[i];
        }
        for (int i = 0; i < na; i++) {
            int a = axes[i];
            if (!(v[i] > 0) || !isfinite(v[i]))
                return oc_kerr(c, ONNXC_E_INVALID, "scale %g on axis %d must be positive", v[i], a);
            /* output = floor(input * scale), as the reference implementation and ONNX Runtime compute it
             * (both leave roi out of it even for tf_crop_and_resize) */
            double o = floor(v[i] * (double)x->dims[a]);
            if (!(o < 4.0e18))
                return oc_kerr(c, ONNXC_E_INVALID, "output dim overflows");
            p->scale[a] = v[i];
            p->out[a] = (int64_t)o;
        }
    } else {
        return oc_kerr(c, ONNXC_E_INVALID, "neither 'scales' nor 'sizes' is given");
    }

    if (p->ctm == CT_TF_CROP_AND_RESIZE && need_roi) {
        const onnxc_tensor *roi = nonempty_in(c, 1);
        if (!roi)
            return oc_kerr(c, ONNXC_E_INVALID, "tf_crop_and_resize needs 'roi'");
        double rv[2 * MAXR];
        st = rs_read_floats(c, roi, "roi", 2 * na, rv);
        if (st != ONNXC_OK)
            return st;
        for (int i = 0; i < na; i++) {
            p->roi0[axes[i]] = rv[i];
            p->roi1[axes[i]] = rv[na + i];
        }
    }
    if (p->mode != RS_NEAREST && (x->dtype == ONNXC_BOOL || x->dtype == ONNXC_COMPLEX64 ||
                                  x->dtype == ONNXC_COMPLEX128))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "interpolation of %s tensors", onnxc_dtype_name(x->dtype));

    /* taps per output position; antialiasing widens the filter by 1/scale when downsampling */
    p->combos = 1;
    for (int a = 0; a < r; a++) {
        int t = p->mode == RS_NEAREST ? 1 : p->mode == RS_LINEAR ? 2 : 4;
        if (p->antialias && p->scale[a] < 1.0) {
            double support = p->mode == RS_LINEAR ? 1.0 : 2.0, w = 2.0 - 2.0 * (floor(-support / p->scale[a]) + 1);
            if (!(w <= 4096))
                return oc_kerr(c, ONNXC_E_UNSUPPORTED, "antialias filter too wide for scale %g", p->scale[a]);
            t = (int)w;
        }
        p->taps[a] = t;
        if (a < r - 1) {
            p->combos *= t;
            if (p->combos > RS_MAX_COMBOS)
                return oc_kerr(c, ONNXC_E_UNSUPPORTED, "too many interpolation taps across axes");
        }
    }
    /* scratch: per axis offsets (int64), weights (double) and outside flags; per thread a combination list */
    p->threads = oc_pool_threads(c->pool);
    size_t bytes = 0, n;
    bool ok = true;
    for (int a = 0; a < r && ok; a++) {
        ok = oc_mul_size((size_t)p->out[a], (size_t)p->taps[a] * (sizeof(int64_t) + sizeof(double)) + 1, &n) &&
             n + 8 > n && bytes + n + 8 > bytes;
        bytes += n + 8;
    }
    ok = ok && oc_mul_size((size_t)p->threads * (size_t)p->combos, sizeof(int64_t) + sizeof(double), &n) &&
         bytes + n > bytes;
    /* float linear: per thread two rows interpolated along the last axis, reused by the output rows that read
     * the same input rows (rs_rows) */
    size_t h = 0;
    p->hrows = p->mode == RS_LINEAR && !p->antialias && x->dtype == ONNXC_FLOAT;
    if (p->hrows)
        ok = ok && oc_mul_size((size_t)p->threads * 2 * (size_t)p->out[r - 1], sizeof(double), &h) &&
             bytes + n + h > bytes + n;
    if (!ok)
        return oc_kerr(c, ONNXC_E_INVALID, "output shape too large");
    p->scratch = bytes + n + h;
    return ONNXC_OK;
}

static onnxc_status rs_infer_common(oc_kctx *c, bool upsample)
{
    if (!opt_in(c, 0))
        return oc_kerr(c, ONNXC_E_INVALID, "missing input 'X'");
    size_t es;
    onnxc_status st = oc_kmove_size(c, c->in[0]->dtype, &es);
    if (st != ONNXC_OK)
        return st;
    rs_plan p;
    st = rs_setup(c, upsample, false, &p);
    if (st != ONNXC_OK)
        return st;
    c->scratch_size = p.scratch;
    if (!c->out[0])
        return ONNXC_OK;
    return oc_kset_shape(c, c->out[0], c->in[0]->dtype, c->in[0]->rank, p.out);
}

static onnxc_status resize_infer(oc_kctx *c)
{
    return rs_infer_common(c, false);
}

static onnxc_status upsample_infer(oc_kctx *c)
{
    return rs_infer_common(c, true);
}

/* Keys cubic convolution kernel with parameter A at distance t >= 0. */
static double cubic_kernel(double t, double A)
{
    if (t <= 1.0)
        return ((A + 2) * t - (A + 3)) * t * t + 1;
    if (t < 2.0)
        return ((A * t - 5 * A) * t + 8 * A) * t - 4 * A;
    return 0.0;
}

/* Input coordinate of output position xr along an axis of input length d. */
static double rs_coord(const rs_plan *p, int a, int64_t xr, int64_t d)
{
    double s = p->scale[a], x = (double)xr, in = (double)d;
    /* length of the resized axis before flooring: the reference implementation uses it for align_corners and
     * tf_crop_and_resize (a 0.6 downscale of 4 maps with 2.4 - 1, not 2 - 1) */
    double len = s * in;
    switch (p->ctm) {
    case CT_HALF_PIXEL:
        return (x + 0.5) / s - 0.5;
    case CT_HALF_PIXEL_SYMMETRIC: {
        double adj = (double)p->out[a] / len, center = in / 2;
        return center * (1 - adj) + (x + 0.5) / s - 0.5;
    }
    case CT_PYTORCH_HALF_PIXEL:
        /* the spec maps a length-1 output to 0 (the reference code says -0.5: onnx/onnx#4275) */
        return p->out[a] > 1 ? (x + 0.5) / s - 0.5 : 0.0;
    case CT_ALIGN_CORNERS:
        return p->out[a] == 1 ? 0.0 : x * (in - 1) / (len - 1);
    case CT_TF_HALF_PIXEL_FOR_NEAREST:
        return (x + 0.5) / s;
    case CT_TF_CROP_AND_RESIZE: {
        double r0 = p->roi0[a], r1 = p->roi1[a];
        if (p->out[a] > 1)
            return r0 * (in - 1) + x * (r1 - r0) * (in - 1) / (len - 1);
        return 0.5 * (r0 + r1) * (in - 1);
    }
    default: /* asymmetric */
        return x / s;
    }
}

typedef struct rs_axis {
    int64_t *off;   /* out * taps source offsets (index * input stride) */
    double *w;      /* out * taps weights */
    uint8_t *outside; /* tf_crop_and_resize: position maps outside the input -> extrapolation_value */
    int taps;
} rs_axis;

/* Fill the interpolation table of axis a. */
static void rs_table(const rs_plan *p, int a, int64_t d, int64_t stride, rs_axis *t)
{
    int T = p->taps[a];
    for (int64_t xr = 0; xr < p->out[a]; xr++) {
        double xo = rs_coord(p, a, xr, d);
        int64_t *off = t->off + xr * T;
        double *w = t->w + xr * T;
        t->outside[xr] = p->ctm == CT_TF_CROP_AND_RESIZE && (xo < 0 || xo > (double)(d - 1));
        if (t->outside[xr]) {
            for (int k = 0; k < T; k++) {
                off[k] = 0;
                w[k] = 0;
            }
            continue;
        }
        double fl = floor(xo), ratio = xo - fl;
        int64_t base = (int64_t)fl;
        if (p->mode == RS_NEAREST) {
            int64_t i;
            if (p->nearest == NR_SIMPLE)
                i = p->scale[a] < 1.0 ? (int64_t)ceil(xo) : base;
            else if (ratio == 0)
                i = base;
            else if (p->nearest == NR_ROUND_PREFER_FLOOR)
                i = ratio <= 0.5 ? base : base + 1;
            else if (p->nearest == NR_ROUND_PREFER_CEIL)
                i = ratio < 0.5 ? base : base + 1;
            else if (p->nearest == NR_FLOOR)
                i = base;
            else
                i = base + 1;
            i = i < 0 ? 0 : i >= d ? d - 1 : i;
            off[0] = i * stride;
            w[0] = 1.0;
            continue;
        }
        if (p->mode == RS_LINEAR && !p->antialias) {
            /* beyond the edges the input is extended with its edge values: clamping the coordinate is the same */
            double xc = xo < 0 ? 0 : xo > (double)(d - 1) ? (double)(d - 1) : xo;
            int64_t i0 = (int64_t)floor(xc), i1 = i0 + 1 < d ? i0 + 1 : d - 1;
            double f = xc - (double)i0;
            off[0] = i0 * stride;
            off[1] = i1 * stride;
            w[0] = 1.0 - f;
            w[1] = f;
            continue;
        }
        /* cubic, or an antialiased filter: T taps starting at floor(x) + start */
        double sc = p->antialias && p->scale[a] < 1.0 ? p->scale[a] : 1.0;
        double support = p->mode == RS_LINEAR ? 1.0 : 2.0;
        int64_t start = (int64_t)floor(-support / sc) + 1;
        double sum = 0;
        for (int k = 0; k < T; k++) {
            int64_t i = base + start + k;
            double dist = fabs(((double)(start + k) - ratio) * sc);
            double cw = p->mode == RS_LINEAR ? (dist < 1.0 ? 1.0 - dist : 0.0) : cubic_kernel(dist, p->cubic_a);
            if (p->exclude_outside && (i < 0 || i >= d))
                cw = 0;
            w[k] = cw;
            sum += cw;
            off[k] = (i < 0 ? 0 : i >= d ? d - 1 : i) * stride;
        }
        /* antialiased filters are normalised; so are cubic weights once outside taps are dropped */
        if ((p->antialias || p->exclude_outside) && sum != 0)
            for (int k = 0; k < T; k++)
                w[k] /= sum;
    }
    t->taps = T;
    /* an axis where every position takes one source element whole (scale 1, nearest) needs a single tap */
    if (T > 1) {
        bool single = true;
        for (int64_t xr = 0; single && xr < p->out[a]; xr++) {
            int nz = 0;
            for (int k = 0; k < T; k++)
                if (t->w[xr * T + k] != 0)
                    nz += t->w[xr * T + k] == 1.0 ? 1 : 2;
            single = nz == 1 || t->outside[xr];
        }
        if (single) {
            for (int64_t xr = 0; xr < p->out[a]; xr++) {
                int64_t o = t->off[xr * T];
                for (int k = 0; k < T; k++)
                    if (t->w[xr * T + k] == 1.0)
                        o = t->off[xr * T + k];
                t->off[xr] = o;
                t->w[xr] = 1.0;
            }
            t->taps = 1;
        }
    }
}

/* Store v into element i of y. Integer types are clamped to their range (cubic overshoots) and truncated like
 * numpy's astype in the reference implementation (and ONNX Runtime's cast); a value within rounding noise of an
 * integer is taken as that integer first, so 112.99999999 from summing weights in another order stays 113. */
static void rs_store(onnxc_tensor *y, int64_t i, double v)
{
    switch (y->dtype) {
    case ONNXC_FLOAT: ((float *)y->data)[i] = (float)v; return;
    case ONNXC_DOUBLE: ((double *)y->data)[i] = v; return;
    case ONNXC_FLOAT16: case ONNXC_BFLOAT16: oc_set_f64(y, i, v); return;
    default: break;
    }
    double rv = nearbyint(v);
    if (fabs(v - rv) <= 1e-9 * (fabs(v) > 1 ? fabs(v) : 1))
        v = rv;
    switch (y->dtype) {
    case ONNXC_UINT8: v = v < 0 ? 0 : v > 255 ? 255 : v; break;
    case ONNXC_INT8: v = v < -128 ? -128 : v > 127 ? 127 : v; break;
    case ONNXC_UINT16: v = v < 0 ? 0 : v > 65535 ? 65535 : v; break;
    case ONNXC_INT16: v = v < -32768 ? -32768 : v > 32767 ? 32767 : v; break;
    case ONNXC_UINT32: v = v < 0 ? 0 : v > 4294967295.0 ? 4294967295.0 : v; break;
    case ONNXC_INT32: v = v < -2147483648.0 ? -2147483648.0 : v > 2147483647.0 ? 2147483647.0 : v; break;
    default: break;
    }
    if (y->dtype == ONNXC_UINT64 && v < 0)
        v = 0;
    oc_set_f64(y, i, v);
}

/* Resize's split loop: output rows [lo, hi) (every dim but the last). The taps of the outer axes a row needs
 * are combined in the running thread's buffers (co, cw), then each output of the row sums its taps. */
typedef struct rs_job {
    const rs_plan *p;
    const rs_axis *ax;
    const onnxc_tensor *x;
    onnxc_tensor *y;
    int64_t *co_base;
    double *cw_base;
    double *h_base;     /* p->hrows: per thread two rows of n doubles, else NULL */
    const uint8_t *ext; /* extrapolation_value in the element type */
    int64_t n;          /* outputs per row */
    bool nearest;       /* one tap on every axis */
} rs_job;

static void rs_rows(void *arg, int64_t lo, int64_t hi, int slot)
{
    const rs_job *jb = arg;
    const rs_plan *p = jb->p;
    const rs_axis *ax = jb->ax;
    const onnxc_tensor *x = jb->x;
    onnxc_tensor *y = jb->y;
    const int r = x->rank;
    const size_t es = onnxc_dtype_size(x->dtype);
    const int32_t dt = x->dtype;
    const char *src = x->data;
    const uint8_t *ext = jb->ext;
    const int64_t n = jb->n;
    const bool nearest = jb->nearest;
    const rs_axis *last = &ax[r - 1];
    const int T = last->taps;
    int64_t *co = jb->co_base + (size_t)slot * (size_t)p->combos;
    double *cw = jb->cw_base + (size_t)slot * (size_t)p->combos;
    /* float linear: input rows interpolated along the last axis, by the offset of the row they come from */
    double *hrow[2] = {NULL, NULL};
    int64_t hkey[2] = {-1, -1};
    if (jb->h_base) {
        hrow[0] = jb->h_base + (size_t)slot * 2 * (size_t)n;
        hrow[1] = hrow[0] + n;
    }
    for (int64_t row = lo; row < hi; row++) {
        int64_t idx[MAXR], rem = row;
        for (int a = r - 2; a >= 0; a--) {
            idx[a] = rem % p->out[a];
            rem /= p->out[a];
        }
        bool outside = false;
        int64_t nc = 1;
        co[0] = 0;
        cw[0] = 1.0;
        for (int a = 0; a < r - 1; a++) {
            const rs_axis *t = &ax[a];
            if (t->outside[idx[a]])
                outside = true;
            const int64_t *off = t->off + idx[a] * t->taps;
            const double *w = t->w + idx[a] * t->taps;
            if (t->taps == 1) {
                for (int64_t k = 0; k < nc; k++) {
                    co[k] += off[0];
                    cw[k] *= w[0];
                }
                continue;
            }
            /* expand in place from the end so no source entry is overwritten before it is read */
            for (int64_t k = nc - 1; k >= 0; k--)
                for (int j = t->taps - 1; j >= 0; j--) {
                    co[k * t->taps + j] = co[k] + off[j];
                    cw[k * t->taps + j] = cw[k] * w[j];
                }
            nc *= t->taps;
        }
        char *q = (char *)y->data + (size_t)(row * n) * es;
        if (outside) {
            oc_fill_elems(q, ext, n, es);
            continue;
        }
        if (nearest) {
            const char *base = src + (size_t)co[0] * es;
            if (es == 4) {
                uint32_t *o4 = (uint32_t *)q;
                const uint32_t *b4 = (const uint32_t *)base;
                for (int64_t i = 0; i < n; i++)
                    o4[i] = last->outside[i] ? *(const uint32_t *)ext : b4[last->off[i]];
            } else {
                for (int64_t i = 0; i < n; i++)
                    memcpy(q + (size_t)i * es, last->outside[i] ? (const char *)ext : base + (size_t)last->off[i] * es,
                           es);
            }
            continue;
        }
        if (dt == ONNXC_FLOAT && hrow[0] && T == 2 && nc <= 2) {
            /* each output sums cw[k] * (w0 * b[o0] + w1 * b[o1]) over k in order, as the loop below; the
             * parenthesised part depends on the input row and the column only, so it is computed once per input
             * row (an upsampling by s along the rows reuses it s times) */
            const float *xf = (const float *)src;
            float *o = (float *)q;
            const double *h[2] = {NULL, NULL};
            for (int64_t k = 0; k < nc; k++)
                for (int s = 0; s < 2; s++)
                    if (hkey[s] == co[k])
                        h[k] = hrow[s];
            for (int64_t k = 0; k < nc; k++) {
                if (h[k])
                    continue;
                /* a slot the other combination does not read */
                const int s = nc == 2 && h[1 - k] == hrow[0] ? 1 : nc == 2 && h[1 - k] == hrow[1] ? 0 : (int)k;
                const float *b = xf + co[k];
                double *d = hrow[s];
                for (int64_t i = 0; i < n; i++) {
                    const int64_t *lo2 = last->off + i * 2;
                    const double *lw = last->w + i * 2;
                    d[i] = lw[0] * b[lo2[0]] + lw[1] * b[lo2[1]];
                }
                hkey[s] = co[k];
                h[k] = d;
            }
            const double c0 = cw[0], c1 = nc == 2 ? cw[1] : 0.0, *h0 = h[0], *h1 = nc == 2 ? h[1] : h[0];
            int64_t i = 0;
#if defined(__AVX2__) && defined(__FMA__)
            const __m256d v0 = _mm256_set1_pd(c0), v1 = _mm256_set1_pd(c1), zero = _mm256_setzero_pd();
            for (; nc == 2 && i + 4 <= n; i += 4) {
                __m256d acc = _mm256_add_pd(zero, _mm256_mul_pd(v0, _mm256_loadu_pd(h0 + i)));
                acc = _mm256_add_pd(acc, _mm256_mul_pd(v1, _mm256_loadu_pd(h1 + i)));
                _mm_storeu_ps(o + i, _mm256_cvtpd_ps(acc));
            }
#endif
            for (; i < n; i++) {
                double acc = 0;
                acc += c0 * h0[i];
                if (nc == 2)
                    acc += c1 * h1[i];
                o[i] = (float)acc;
            }
            if (p->ctm == CT_TF_CROP_AND_RESIZE)
                for (i = 0; i < n; i++)
                    if (last->outside[i])
                        o[i] = (float)p->extrapolation;
            continue;
        }
        if (dt == ONNXC_FLOAT) {
            const float *xf = (const float *)src;
            float *o = (float *)q;
            for (int64_t i = 0; i < n; i++) {
                if (last->outside[i]) {
                    o[i] = (float)p->extrapolation;
                    continue;
                }
                const int64_t *lo = last->off + i * T;
                const double *lw = last->w + i * T;
                double acc = 0;
                /* the common tap counts unrolled: 2 (linear) and 4 (cubic) */
                if (T == 2) {
                    double w0 = lw[0], w1 = lw[1];
                    int64_t o0 = lo[0], o1 = lo[1];
                    for (int64_t k = 0; k < nc; k++) {
                        const float *b = xf + co[k];
                        acc += cw[k] * (w0 * b[o0] + w1 * b[o1]);
                    }
                } else if (T == 4) {
                    for (int64_t k = 0; k < nc; k++) {
                        const float *b = xf + co[k];
                        acc += cw[k] * (lw[0] * b[lo[0]] + lw[1] * b[lo[1]] + lw[2] * b[lo[2]] + lw[3] * b[lo[3]]);
                    }
                } else {
                    for (int64_t k = 0; k < nc; k++) {
                        const float *b = xf + co[k];
                        double s = 0;
                        for (int j = 0; j < T; j++)
                            s += lw[j] * b[lo[j]];
                        acc += cw[k] * s;
                    }
                }
                o[i] = (float)acc;
            }
            continue;
        }
        for (int64_t i = 0; i < n; i++) {
            if (last->outside[i]) {
                memcpy(q + (size_t)i * es, ext, es);
                continue;
            }
            const int64_t *lo = last->off + i * T;
            const double *lw = last->w + i * T;
            double acc = 0;
            for (int64_t k = 0; k < nc; k++) {
                double s = 0;
                for (int j = 0; j < T; j++)
                    s += lw[j] * oc_get_f64(x, co[k] + lo[j]);
                acc += cw[k] * s;
            }
            rs_store(y, row * n + i, acc);
        }
    }
}

static onnxc_status rs_run_common(oc_kctx *c, bool upsample)
{
    const onnxc_tensor *x = c->in[0];
    onnxc_tensor *y = c->out[0];
    if (!y || y->nbytes == 0)
        return ONNXC_OK;
    rs_plan p;
    onnxc_status st = rs_setup(c, upsample, true, &p);
    if (st != ONNXC_OK)
        return st;
    if (p.scratch > c->scratch_size)
        return oc_kerr(c, ONNXC_E_RUNTIME, "scratch memory smaller than planned");
    int r = x->rank;
    size_t es = onnxc_dtype_size(x->dtype);
    if (r == 0) {
        memcpy(y->data, x->data, es);
        return ONNXC_OK;
    }
    /* tables */
    rs_axis ax[MAXR];
    int64_t xs[MAXR];
    oc_strides(r, x->dims, xs);
    char *sp = c->scratch;
    for (int a = 0; a < r; a++) {
        size_t n = (size_t)p.out[a] * (size_t)p.taps[a];
        ax[a].off = (int64_t *)sp;
        sp += n * sizeof(int64_t);
        ax[a].w = (double *)sp;
        sp += n * sizeof(double);
        ax[a].outside = (uint8_t *)sp;
        sp += ((size_t)p.out[a] + 8) & ~(size_t)7; /* within the out + 8 bytes rs_setup counted */
        rs_table(&p, a, x->dims[a], xs[a], &ax[a]);
    }
    int64_t *co_base = (int64_t *)sp;
    double *cw_base = (double *)(sp + (size_t)p.threads * (size_t)p.combos * sizeof(int64_t));
    int64_t rows = oc_dims_prod(p.out, 0, r - 1), n = p.out[r - 1];
    bool nearest = true;
    for (int a = 0; a < r; a++)
        if (ax[a].taps != 1)
            nearest = false;
    int32_t dt = x->dtype;
    uint8_t ext[16] = {0};
    {
        onnxc_tensor tmp = {.dtype = dt, .data = ext, .nbytes = sizeof ext};
        rs_store(&tmp, 0, p.extrapolation);
    }
    double *h_base = p.hrows ? cw_base + (size_t)p.threads * (size_t)p.combos : NULL;
    rs_job job = {&p, ax, x, y, co_base, cw_base, h_base, ext, n, nearest};
    oc_par_for(c->pool, rows, rows * n * (nearest ? 1 : 4), rs_rows, &job);
    return ONNXC_OK;
}

static onnxc_status resize_run(oc_kctx *c)
{
    return rs_run_common(c, false);
}

static onnxc_status upsample_run(oc_kctx *c)
{
    return rs_run_common(c, true);
}

/* ---------------------------------------------------------------- the table */

#define B(i) (1u << (i))

const oc_kernel oc_kernels_resize[] = {
    {"Pad", NULL, 1, 10, 0, pad_infer, NULL, pad_run, NULL, 0},
    {"Pad", NULL, 11, 17, B(1), pad_infer, NULL, pad_run, NULL, 0},
    {"Pad", NULL, 18, 0, B(1) | B(3), pad_infer, NULL, pad_run, NULL, 0},
    {"Resize", NULL, 10, 10, B(1), resize_infer, NULL, resize_run, NULL, 0},
    {"Resize", NULL, 11, 0, B(2) | B(3), resize_infer, NULL, resize_run, NULL, 0},
    {"Upsample", NULL, 7, 8, 0, upsample_infer, NULL, upsample_run, NULL, 0},
    {"Upsample", NULL, 9, 0, B(1), upsample_infer, NULL, upsample_run, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
