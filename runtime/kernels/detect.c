/* Ops of detectors' post-processing: NonZero, Compress, Unique and NonMaxSuppression, whose output sizes depend
 * on the data (OC_KF_DATA_SHAPE: run sets the shapes and asks alloc_out for memory), and RoiAlign (shape from
 * the ROI count). Element types through the core's accessors (floats as double, integers as int64). */
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

static bool numeric_or_bool(int32_t dt) { return oc_dtype_is_float(dt) || oc_dtype_is_int(dt) || dt == ONNXC_BOOL; }

/* Element i of t is not zero (NaN counts as not zero, as in numpy). */
static bool elem_nonzero(const onnxc_tensor *t, int64_t i)
{
    if (t->dtype == ONNXC_BOOL)
        return ((const uint8_t *)t->data)[i] != 0;
    if (oc_dtype_is_float(t->dtype))
        return oc_load_f64(t->dtype, t->data, i) != 0.0;
    return oc_load_i64(t->dtype, t->data, i) != 0;
}

static onnxc_status out_shape(oc_kctx *c, int o, int32_t dtype, int rank, const int64_t *dims)
{
    if (o >= c->n_out || !c->out[o])
        return ONNXC_OK;
    onnxc_status st = oc_kset_shape(c, c->out[o], dtype, rank, dims);
    if (st == ONNXC_OK)
        st = c->alloc_out(c, o);
    return st;
}

/* ---------------------------------------------------------------- NonZero */

static onnxc_status nonzero_infer(oc_kctx *c)
{
    onnxc_status st = need(c, 1);
    if (st != ONNXC_OK)
        return st;
    if (!numeric_or_bool(c->in[0]->dtype))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input type %s", onnxc_dtype_name(c->in[0]->dtype));
    if (c->n_out > 0 && c->out[0]) {
        c->out[0]->dtype = ONNXC_INT64;
        c->out[0]->rank = 2;
    }
    return ONNXC_OK;
}

static onnxc_status nonzero_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    const int64_t n = onnxc_tensor_numel(x);
    int64_t nnz = 0;
    for (int64_t i = 0; i < n; i++)
        nnz += elem_nonzero(x, i);
    /* a scalar is read as numpy reads a 0-d array: one element, no coordinates */
    int64_t dims[2] = {x->rank, nnz};
    onnxc_status st = out_shape(c, 0, ONNXC_INT64, 2, dims);
    if (st != ONNXC_OK || !c->out[0])
        return st;
    int64_t *y = c->out[0]->data;
    int64_t strides[MAXR];
    oc_strides(x->rank, x->dims, strides);
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!elem_nonzero(x, i))
            continue;
        int64_t r = i;
        for (int d = 0; d < x->rank; d++) {
            y[d * nnz + k] = strides[d] ? r / strides[d] : 0;
            r -= y[d * nnz + k] * strides[d];
        }
        k++;
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- Compress */

static onnxc_status compress_infer(oc_kctx *c)
{
    onnxc_status st = need(c, 2);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0], *cond = c->in[1];
    size_t es;
    if ((st = oc_kmove_size(c, x->dtype, &es)) != ONNXC_OK)
        return st;
    if (cond->dtype != ONNXC_BOOL || cond->rank != 1)
        return oc_kerr(c, ONNXC_E_INVALID, "condition must be a 1-D bool tensor");
    int64_t len = x->rank == 0 ? 1 : onnxc_tensor_numel(x);
    int rank = 1;
    if (oc_node_attr(c->node, "axis")) {
        int axis;
        if ((st = oc_norm_axis(c, oc_attr_int(c->node, "axis", 0), x->rank, &axis)) != ONNXC_OK)
            return st;
        len = x->dims[axis];
        rank = x->rank;
    }
    if (cond->dims[0] > len)
        return oc_kerr(c, ONNXC_E_INVALID, "condition has %lld entries for %lld slices", (long long)cond->dims[0],
                       (long long)len);
    if (c->n_out > 0 && c->out[0]) {
        c->out[0]->dtype = x->dtype;
        c->out[0]->rank = rank;
    }
    return ONNXC_OK;
}

static onnxc_status compress_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0], *cond = c->in[1];
    size_t es = onnxc_dtype_size(x->dtype);
    const uint8_t *cv = cond->data;
    int64_t kept = 0;
    for (int64_t i = 0; i < cond->dims[0]; i++)
        kept += cv[i] != 0;
    if (!oc_node_attr(c->node, "axis")) {
        int64_t dims[1] = {kept};
        onnxc_status st = out_shape(c, 0, x->dtype, 1, dims);
        if (st != ONNXC_OK || !c->out[0])
            return st;
        char *y = c->out[0]->data;
        for (int64_t i = 0, o = 0; i < cond->dims[0]; i++)
            if (cv[i])
                memcpy(y + (size_t)(o++) * es, (const char *)x->data + (size_t)i * es, es);
        return ONNXC_OK;
    }
    int axis;
    oc_norm_axis(c, oc_attr_int(c->node, "axis", 0), x->rank, &axis);
    int64_t dims[MAXR];
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = kept;
    onnxc_status st = out_shape(c, 0, x->dtype, x->rank, dims);
    if (st != ONNXC_OK || !c->out[0])
        return st;
    const int64_t outer = oc_dims_prod(x->dims, 0, axis), n = x->dims[axis];
    const size_t inner = (size_t)oc_dims_prod(x->dims, axis + 1, x->rank) * es;
    char *y = c->out[0]->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < cond->dims[0]; i++)
            if (cv[i]) {
                memcpy(y, (const char *)x->data + ((size_t)(o * n + i)) * inner, inner);
                y += inner;
            }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- Unique */

/* The n slices of X along the axis (or its n elements), each of `len` values read at base(i) + offsets. */
typedef struct uq {
    const double *vf;  /* float input: all values as double */
    const int64_t *vi; /* integer input */
    int64_t outer, n, inner;
} uq;

/* Compare slices a and b lexicographically (values in order of the flattened slice). NaN after everything,
 * NaNs equal to each other (numpy's unique). */
static int uq_cmp(const uq *u, int64_t a, int64_t b)
{
    for (int64_t o = 0; o < u->outer; o++)
        for (int64_t in = 0; in < u->inner; in++) {
            int64_t ia = (o * u->n + a) * u->inner + in, ib = (o * u->n + b) * u->inner + in;
            if (u->vf) {
                double x = u->vf[ia], y = u->vf[ib];
                bool xn = x != x, yn = y != y;
                if (xn || yn) {
                    if (xn != yn)
                        return xn ? 1 : -1;
                    continue;
                }
                if (x != y)
                    return x < y ? -1 : 1;
            } else {
                int64_t x = u->vi[ia], y = u->vi[ib];
                if (x != y)
                    return x < y ? -1 : 1;
            }
        }
    return 0;
}

/* Stable merge sort of idx[0..n) by slice, with tmp of n. */
static void uq_sort(const uq *u, int64_t *idx, int64_t *tmp, int64_t n)
{
    for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                tmp[o++] = uq_cmp(u, idx[j], idx[i]) < 0 ? idx[j++] : idx[i++];
            while (i < mid)
                tmp[o++] = idx[i++];
            while (j < hi)
                tmp[o++] = idx[j++];
        }
        memcpy(idx, tmp, (size_t)n * sizeof *idx);
    }
}

static onnxc_status unique_infer(oc_kctx *c)
{
    onnxc_status st = need(c, 1);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0];
    if (!oc_dtype_is_float(x->dtype) && !oc_dtype_is_int(x->dtype) && x->dtype != ONNXC_BOOL)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input type %s", onnxc_dtype_name(x->dtype));
    int rank = 1;
    if (oc_node_attr(c->node, "axis")) {
        int axis;
        if ((st = oc_norm_axis(c, oc_attr_int(c->node, "axis", 0), x->rank, &axis)) != ONNXC_OK)
            return st;
        rank = x->rank;
    }
    for (int o = 0; o < c->n_out && o < 4; o++)
        if (c->out[o]) {
            c->out[o]->dtype = o == 0 ? x->dtype : ONNXC_INT64;
            c->out[o]->rank = o == 0 ? rank : 1;
        }
    return ONNXC_OK;
}

static onnxc_status unique_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    const bool has_axis = oc_node_attr(c->node, "axis") != NULL;
    const bool sorted = oc_attr_int(c->node, "sorted", 1) != 0;
    int axis = 0;
    uq u = {0};
    int64_t total = onnxc_tensor_numel(x);
    if (has_axis) {
        oc_norm_axis(c, oc_attr_int(c->node, "axis", 0), x->rank, &axis);
        u.outer = oc_dims_prod(x->dims, 0, axis);
        u.n = x->dims[axis];
        u.inner = oc_dims_prod(x->dims, axis + 1, x->rank);
    } else {
        u.outer = u.inner = 1;
        u.n = total;
    }
    const bool fl = oc_dtype_is_float(x->dtype);
    void *vals = malloc((size_t)(total ? total : 1) * 8);
    int64_t *idx = malloc((size_t)(u.n ? u.n : 1) * 4 * sizeof(int64_t));
    onnxc_status st = ONNXC_OK;
    if (!vals || !idx) {
        st = oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
        goto done;
    }
    for (int64_t i = 0; i < total; i++) {
        if (fl)
            ((double *)vals)[i] = oc_load_f64(x->dtype, x->data, i);
        else
            ((int64_t *)vals)[i] =
                x->dtype == ONNXC_BOOL ? ((const uint8_t *)x->data)[i] != 0 : oc_load_i64(x->dtype, x->data, i);
    }
    u.vf = fl ? vals : NULL;
    u.vi = fl ? NULL : vals;
    int64_t *tmp = idx + u.n, *first = tmp + u.n, *group = first + u.n;
    for (int64_t i = 0; i < u.n; i++)
        idx[i] = i;
    uq_sort(&u, idx, tmp, u.n);
    /* runs of equal slices in sorted order; the stable sort puts each run's first occurrence first */
    int64_t n_uniq = 0;
    for (int64_t k = 0; k < u.n; k++) {
        if (k == 0 || uq_cmp(&u, idx[k - 1], idx[k]) != 0)
            first[n_uniq++] = idx[k];
        group[idx[k]] = n_uniq - 1; /* its run, in sorted order */
    }
    /* the output order: sorted, or by first occurrence; rank_of[run] = its place in the output (tmp) */
    int64_t *order = malloc((size_t)(n_uniq ? n_uniq : 1) * sizeof *order);
    if (!order) {
        st = oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
        goto done;
    }
    for (int64_t r = 0; r < n_uniq; r++)
        order[r] = r;
    if (!sorted) {
        /* runs by first occurrence: first[] values are distinct indices, sort runs by them (insertion is fine
         * for small counts; use a counting pass over the input order instead, linear) */
        int64_t k = 0;
        for (int64_t i = 0; i < u.n; i++)
            tmp[i] = -1;
        for (int64_t r = 0; r < n_uniq; r++)
            tmp[first[r]] = r;
        for (int64_t i = 0; i < u.n; i++)
            if (tmp[i] >= 0)
                order[k++] = tmp[i];
    }
    for (int64_t p = 0; p < n_uniq; p++)
        tmp[order[p]] = p; /* place of run order[p] */
    int64_t ydims[MAXR];
    int yrank = 1;
    if (has_axis) {
        memcpy(ydims, x->dims, sizeof ydims);
        ydims[axis] = n_uniq;
        yrank = x->rank;
    } else {
        ydims[0] = n_uniq;
    }
    int64_t d1[1] = {n_uniq}, dn[1] = {u.n};
    if ((st = out_shape(c, 0, x->dtype, yrank, ydims)) != ONNXC_OK ||
        (st = out_shape(c, 1, ONNXC_INT64, 1, d1)) != ONNXC_OK ||
        (st = out_shape(c, 2, ONNXC_INT64, 1, dn)) != ONNXC_OK ||
        (st = out_shape(c, 3, ONNXC_INT64, 1, d1)) != ONNXC_OK) {
        free(order);
        goto done;
    }
    if (c->out[0]) {
        const size_t es = onnxc_dtype_size(x->dtype), inner = (size_t)u.inner * es;
        char *y = c->out[0]->data;
        for (int64_t o = 0; o < u.outer; o++)
            for (int64_t p = 0; p < n_uniq; p++) {
                memcpy(y, (const char *)x->data + (size_t)(o * u.n + first[order[p]]) * inner, inner);
                y += inner;
            }
    }
    if (c->n_out > 1 && c->out[1])
        for (int64_t p = 0; p < n_uniq; p++)
            ((int64_t *)c->out[1]->data)[p] = first[order[p]];
    if (c->n_out > 2 && c->out[2])
        for (int64_t i = 0; i < u.n; i++)
            ((int64_t *)c->out[2]->data)[i] = tmp[group[i]];
    if (c->n_out > 3 && c->out[3]) {
        int64_t *cnt = c->out[3]->data;
        memset(cnt, 0, (size_t)n_uniq * sizeof *cnt);
        for (int64_t i = 0; i < u.n; i++)
            cnt[tmp[group[i]]]++;
    }
    free(order);
done:
    free(vals);
    free(idx);
    return st;
}

/* ---------------------------------------------------------------- NonMaxSuppression */

/* An optional scalar input: absent or empty gives dflt. An int64 one also lands in *iout exactly (exporters
 * write INT64_MAX for "no limit", which a double does not hold). */
static onnxc_status nms_scalar_i(const oc_kctx *c, int j, bool want_int, double dflt, double *out, int64_t *iout,
                                 bool *given)
{
    *out = dflt;
    *given = false;
    if (iout)
        *iout = (int64_t)dflt;
    if (j >= c->n_in || !c->in[j] || onnxc_tensor_numel(c->in[j]) == 0)
        return ONNXC_OK;
    const onnxc_tensor *t = c->in[j];
    static const char *const names[] = {"boxes", "scores", "max_output_boxes_per_class", "iou_threshold",
                                        "score_threshold"};
    if (onnxc_tensor_numel(t) != 1 || t->rank > 1)
        return oc_kerr(c, ONNXC_E_INVALID, "input '%s' must hold one value, not %lld", names[j],
                       (long long)onnxc_tensor_numel(t));
    if (want_int ? t->dtype != ONNXC_INT64 : t->dtype != ONNXC_FLOAT)
        return oc_kerr(c, ONNXC_E_INVALID, "input '%s' must be %s, not %s", names[j], want_int ? "int64" : "float",
                       onnxc_dtype_name(t->dtype));
    if (t->data) {
        *out = want_int ? (double)oc_get_i64(t, 0) : oc_get_f64(t, 0);
        if (iout && want_int)
            *iout = oc_get_i64(t, 0);
        *given = true;
    }
    return ONNXC_OK;
}

static onnxc_status nms_scalar(const oc_kctx *c, int j, bool want_int, double dflt, double *out, bool *given)
{
    return nms_scalar_i(c, j, want_int, dflt, out, NULL, given);
}

static onnxc_status nms_infer(oc_kctx *c)
{
    onnxc_status st = need(c, 2);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *b = c->in[0], *s = c->in[1];
    char got[64];
    if (b->dtype != ONNXC_FLOAT || s->dtype != ONNXC_FLOAT)
        return oc_kerr(c, ONNXC_E_INVALID, "boxes and scores must be float, not %s and %s", onnxc_dtype_name(b->dtype),
                       onnxc_dtype_name(s->dtype));
    if (b->rank != 3 || b->dims[2] != 4)
        return oc_kerr(c, ONNXC_E_INVALID, "boxes must be [num_batches, spatial_dimension, 4], not %s",
                       oc_dims_str(b->dims, b->rank, got, sizeof got));
    if (s->rank != 3)
        return oc_kerr(c, ONNXC_E_INVALID, "scores must be [num_batches, num_classes, spatial_dimension], not %s",
                       oc_dims_str(s->dims, s->rank, got, sizeof got));
    if (s->dims[0] != b->dims[0] || s->dims[2] != b->dims[1])
        return oc_kerr(c, ONNXC_E_INVALID, "scores %s do not match boxes %s (batches and boxes)",
                       oc_dims_str(s->dims, s->rank, got, sizeof got),
                       oc_dims_str(b->dims, b->rank, got + 32, sizeof got - 32));
    int64_t cpb = oc_attr_int(c->node, "center_point_box", 0);
    if (cpb != 0 && cpb != 1)
        return oc_kerr(c, ONNXC_E_INVALID, "center_point_box must be 0 or 1, not %lld", (long long)cpb);
    double v;
    bool given;
    if ((st = nms_scalar(c, 2, true, 0, &v, &given)) != ONNXC_OK ||
        (st = nms_scalar(c, 3, false, 0, &v, &given)) != ONNXC_OK)
        return st;
    if (given && (v < 0 || v > 1))
        return oc_kerr(c, ONNXC_E_INVALID, "iou_threshold %g is outside [0, 1]", v);
    if ((st = nms_scalar(c, 4, false, 0, &v, &given)) != ONNXC_OK)
        return st;
    if (c->n_out > 0 && c->out[0]) {
        c->out[0]->dtype = ONNXC_INT64;
        c->out[0]->rank = 2;
        c->out[0]->dims[1] = 3;
    }
    return ONNXC_OK;
}

/* A box as its corners: min and max along x and y. */
typedef struct nms_box {
    float x0, y0, x1, y1;
} nms_box;

static nms_box nms_corners(const float *p, bool center)
{
    nms_box r;
    if (center) {
        /* [x_center, y_center, width, height] */
        const float hw = p[2] / 2, hh = p[3] / 2;
        r.x0 = p[0] - hw;
        r.x1 = p[0] + hw;
        r.y0 = p[1] - hh;
        r.y1 = p[1] + hh;
    } else {
        /* [y1, x1, y2, x2], either diagonal pair */
        r.y0 = fminf(p[0], p[2]);
        r.y1 = fmaxf(p[0], p[2]);
        r.x0 = fminf(p[1], p[3]);
        r.x1 = fmaxf(p[1], p[3]);
    }
    return r;
}

/* Does box a suppress box b: IoU > threshold (ONNX Runtime's SuppressByIOU: no overlap, or an empty box,
 * never suppresses). */
static bool nms_suppress(const nms_box *a, const nms_box *b, float iou_threshold)
{
    const float ix0 = fmaxf(a->x0, b->x0), ix1 = fminf(a->x1, b->x1);
    if (ix1 <= ix0)
        return false;
    const float iy0 = fmaxf(a->y0, b->y0), iy1 = fminf(a->y1, b->y1);
    if (iy1 <= iy0)
        return false;
    const float inter = (ix1 - ix0) * (iy1 - iy0);
    if (inter <= 0.0f)
        return false;
    const float area_a = (a->x1 - a->x0) * (a->y1 - a->y0), area_b = (b->x1 - b->x0) * (b->y1 - b->y0);
    const float uni = area_a + area_b - inter;
    if (area_a <= 0.0f || area_b <= 0.0f || uni <= 0.0f)
        return false;
    return inter / uni > iou_threshold;
}

/* cells along x that nms_run files selected boxes in (see there) */
#define NMS_MAX_CELLS 4096

typedef struct nms_cand {
    float score;
    int64_t index;
} nms_cand;

/* Higher score first, then the lower box index. */
static int nms_cand_cmp(const void *pa, const void *pb)
{
    const nms_cand *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

static onnxc_status nms_run(oc_kctx *c)
{
    const onnxc_tensor *bt = c->in[0], *stn = c->in[1];
    const int64_t nb = bt->dims[0], nbox = bt->dims[1], ncls = stn->dims[1];
    const bool center = oc_attr_int(c->node, "center_point_box", 0) == 1;
    double maxo, iou, sth;
    int64_t maxo_i = 0;
    bool given, has_sth;
    nms_scalar_i(c, 2, true, 0, &maxo, &maxo_i, &given);
    nms_scalar(c, 3, false, 0, &iou, &given);
    nms_scalar(c, 4, false, 0, &sth, &has_sth);
    if (iou < 0 || iou > 1)
        return oc_kerr(c, ONNXC_E_INVALID, "iou_threshold %g is outside [0, 1]", iou);
    const int64_t max_per_class = maxo_i > 0 ? maxo_i : 0;
    const float iou_t = (float)iou, score_t = (float)sth;
    const float *boxes = bt->data, *scores = stn->data;
    const size_t nalloc = (size_t)(nbox ? nbox : 1);
    nms_cand *cand = malloc(nalloc * sizeof *cand);
    nms_box *sel = malloc(nalloc * sizeof *sel), *all = malloc(nalloc * sizeof *all);
    int64_t *next = malloc(nalloc * sizeof *next), *head = malloc((NMS_MAX_CELLS + 1) * sizeof *head);
    int64_t *out = NULL, n_out = 0, cap = 0;
    onnxc_status st = ONNXC_OK;
    if (!cand || !sel || !all || !next || !head) {
        st = oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
        goto done;
    }
    for (int64_t b = 0; b < nb && max_per_class > 0; b++) {
        /* The selected boxes are kept in cells along x (their x0), so a candidate is tested only against those
         * whose x0 lies within the widest box of its own x0 .. x1, plus one cell either side for rounding: the
         * boxes of torchvision's batched_nms (classes offset apart) then meet only their own class. Any box
         * tested the same way as before and none that could overlap skipped: the same selection. Non-finite
         * coordinates: one cell (every selected box tested). */
        float xmin = INFINITY, xmax = -INFINITY, wmax = 0.0f;
        bool finite = true;
        for (int64_t i = 0; i < nbox; i++) {
            all[i] = nms_corners(boxes + (b * nbox + i) * 4, center);
            const nms_box *q = &all[i];
            if (!isfinite(q->x0) || !isfinite(q->x1) || !isfinite(q->y0) || !isfinite(q->y1))
                finite = false;
            xmin = fminf(xmin, q->x0);
            xmax = fmaxf(xmax, q->x0);
            wmax = fmaxf(wmax, q->x1 - q->x0);
        }
        int64_t ncells = 1;
        double cellw = 1.0;
        if (finite && nbox > 0 && xmax > xmin) {
            const double range = (double)xmax - (double)xmin;
            cellw = (double)wmax > range / NMS_MAX_CELLS ? (double)wmax : range / NMS_MAX_CELLS;
            /* at least a few float ulps of the coordinates: widths were rounded in float */
            const double mag = fmax(fabs((double)xmin), fabs((double)xmax)) + (double)wmax;
            if (cellw < mag * 1e-6)
                cellw = mag * 1e-6;
            ncells = (int64_t)(range / cellw) + 1;
            if (ncells > NMS_MAX_CELLS)
                ncells = NMS_MAX_CELLS;
        }
#define NMS_CELL(x)                                                                                                    \
    (ncells == 1 ? 0                                                                                                   \
                 : ((x) - (double)xmin) / cellw <= 0                                                                   \
                     ? 0                                                                                               \
                     : ((x) - (double)xmin) / cellw >= (double)(ncells - 1) ? ncells - 1                               \
                                                                            : (int64_t)((((x) - (double)xmin)) / cellw))
        for (int64_t k = 0; k < ncls; k++) {
            const float *sc = scores + (b * ncls + k) * nbox;
            int64_t n_cand = 0;
            for (int64_t i = 0; i < nbox; i++)
                if (!has_sth || sc[i] > score_t)
                    cand[n_cand++] = (nms_cand){sc[i], i};
            qsort(cand, (size_t)n_cand, sizeof *cand, nms_cand_cmp);
            for (int64_t j = 0; j < ncells; j++)
                head[j] = -1;
            int64_t n_sel = 0;
            for (int64_t q = 0; q < n_cand && n_sel < max_per_class; q++) {
                const nms_box bx = all[cand[q].index];
                bool keep = true;
                int64_t lo = NMS_CELL((double)bx.x0 - (double)wmax) - 1, hi = NMS_CELL((double)bx.x1) + 1;
                if (lo < 0)
                    lo = 0;
                if (hi > ncells - 1)
                    hi = ncells - 1;
                for (int64_t j = lo; keep && j <= hi; j++)
                    for (int64_t s2 = head[j]; keep && s2 >= 0; s2 = next[s2])
                        if (nms_suppress(&sel[s2], &bx, iou_t))
                            keep = false;
                if (!keep)
                    continue;
                const int64_t cell = NMS_CELL((double)bx.x0);
                sel[n_sel] = bx;
                next[n_sel] = head[cell];
                head[cell] = n_sel;
                n_sel++;
                if (n_out == cap) {
                    int64_t ncap = cap ? cap * 2 : 64;
                    int64_t *g = realloc(out, (size_t)ncap * 3 * sizeof *g);
                    if (!g) {
                        st = oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
                        goto done;
                    }
                    out = g;
                    cap = ncap;
                }
                out[n_out * 3] = b;
                out[n_out * 3 + 1] = k;
                out[n_out * 3 + 2] = cand[q].index;
                n_out++;
            }
        }
#undef NMS_CELL
    }
    int64_t dims[2] = {n_out, 3};
    st = out_shape(c, 0, ONNXC_INT64, 2, dims);
    if (st == ONNXC_OK && c->out[0] && n_out)
        memcpy(c->out[0]->data, out, (size_t)n_out * 3 * sizeof *out);
done:
    free(cand);
    free(sel);
    free(all);
    free(next);
    free(head);
    free(out);
    return st;
}

/* ---------------------------------------------------------------- RoiAlign */

static onnxc_status roialign_infer(oc_kctx *c)
{
    onnxc_status st = need(c, 3);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0], *rois = c->in[1], *bi = c->in[2];
    char got[64];
    if (x->dtype != ONNXC_FLOAT || rois->dtype != ONNXC_FLOAT)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "X and rois must be float, not %s and %s", onnxc_dtype_name(x->dtype),
                       onnxc_dtype_name(rois->dtype));
    if (x->rank != 4)
        return oc_kerr(c, ONNXC_E_INVALID, "X must be [N, C, H, W], not %s",
                       oc_dims_str(x->dims, x->rank, got, sizeof got));
    if (rois->rank != 2 || rois->dims[1] != 4)
        return oc_kerr(c, ONNXC_E_INVALID, "rois must be [num_rois, 4], not %s",
                       oc_dims_str(rois->dims, rois->rank, got, sizeof got));
    if (bi->dtype != ONNXC_INT64 || bi->rank != 1 || bi->dims[0] != rois->dims[0])
        return oc_kerr(c, ONNXC_E_INVALID, "batch_indices must be int64 [%lld], not %s %s", (long long)rois->dims[0],
                       onnxc_dtype_name(bi->dtype), oc_dims_str(bi->dims, bi->rank, got, sizeof got));
    char buf[32];
    const char *mode = oc_attr_string(c->node, "mode", "avg", buf, sizeof buf);
    if (strcmp(mode, "avg") != 0 && strcmp(mode, "max") != 0)
        return oc_kerr(c, ONNXC_E_INVALID, "mode '%s' (avg or max)", mode);
    if (c->opset >= 16) {
        const char *ctm = oc_attr_string(c->node, "coordinate_transformation_mode", "half_pixel", buf, sizeof buf);
        if (strcmp(ctm, "half_pixel") != 0 && strcmp(ctm, "output_half_pixel") != 0)
            return oc_kerr(c, ONNXC_E_INVALID, "coordinate_transformation_mode '%s'", ctm);
    }
    const int64_t oh = oc_attr_int(c->node, "output_height", 1), ow = oc_attr_int(c->node, "output_width", 1);
    if (oh < 1 || ow < 1 || oc_attr_int(c->node, "sampling_ratio", 0) < 0)
        return oc_kerr(c, ONNXC_E_INVALID, "output_height, output_width must be >= 1 and sampling_ratio >= 0");
    int64_t dims[4] = {rois->dims[0], x->dims[1], oh, ow};
    return c->n_out > 0 && c->out[0] ? oc_kset_shape(c, c->out[0], ONNXC_FLOAT, 4, dims) : ONNXC_OK;
}

/* ONNX Runtime's (and the ONNX reference's) RoiAlign: each bin averages (or, mode max, takes the largest of)
 * grid samples, each sample bilinear in X; mode max takes the largest of the four weighted corners of each
 * sample. Samples outside [-1, size] count as 0. */
typedef struct ra_args {
    const oc_kctx *c;
    const float *x, *rois;
    const int64_t *bi;
    float *y;
    int64_t n, ch, h, w, oh, ow;
    int64_t sampling;
    float scale, offset;
    bool half_pixel, max_mode;
} ra_args;

static void ra_rows(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const ra_args *a = arg;
    for (int64_t r = lo; r < hi; r++) {
        const float *roi = a->rois + r * 4;
        const int64_t b = a->bi[r];
        float *yr = a->y + r * a->ch * a->oh * a->ow;
        if (b < 0 || b >= a->n) {
            memset(yr, 0, (size_t)(a->ch * a->oh * a->ow) * sizeof *yr);
            continue;
        }
        const float sw = roi[0] * a->scale - a->offset, sh = roi[1] * a->scale - a->offset;
        const float ew = roi[2] * a->scale - a->offset, eh = roi[3] * a->scale - a->offset;
        float rw = ew - sw, rh = eh - sh;
        if (!a->half_pixel) {
            rw = fmaxf(rw, 1.0f);
            rh = fmaxf(rh, 1.0f);
        }
        const float bh = rh / (float)a->oh, bw = rw / (float)a->ow;
        const int64_t gh = a->sampling > 0 ? a->sampling : (int64_t)ceilf(rh / (float)a->oh);
        const int64_t gw = a->sampling > 0 ? a->sampling : (int64_t)ceilf(rw / (float)a->ow);
        const float count = (float)(gh * gw > 1 ? gh * gw : 1);
        const int64_t plane = a->oh * a->ow, hw = a->h * a->w;
        const float *xb = a->x + b * a->ch * hw;
        /* Each sample's corners and weights are computed once and applied to every channel (the channel loop
         * innermost), in the same order per channel as one channel at a time: the same sums, bit for bit. */
        for (int64_t ph = 0; ph < a->oh; ph++)
            for (int64_t pw = 0; pw < a->ow; pw++) {
                float *yo = yr + ph * a->ow + pw;
                bool any = false;
                for (int64_t iy = 0; iy < gh; iy++) {
                    float y = sh + (float)ph * bh + ((float)iy + 0.5f) * bh / (float)gh;
                    for (int64_t ix = 0; ix < gw; ix++) {
                        float x = sw + (float)pw * bw + ((float)ix + 0.5f) * bw / (float)gw;
                        const bool outside = y < -1.0f || y > (float)a->h || x < -1.0f || x > (float)a->w;
                        int64_t i1 = 0, i2 = 0, i3 = 0, i4 = 0;
                        float w1 = 0, w2 = 0, w3 = 0, w4 = 0;
                        if (!outside) {
                            float yy = y <= 0 ? 0 : y, xx = x <= 0 ? 0 : x;
                            int64_t yl = (int64_t)yy, xl = (int64_t)xx, yh, xh;
                            if (yl >= a->h - 1) {
                                yh = yl = a->h - 1;
                                yy = (float)yl;
                            } else {
                                yh = yl + 1;
                            }
                            if (xl >= a->w - 1) {
                                xh = xl = a->w - 1;
                                xx = (float)xl;
                            } else {
                                xh = xl + 1;
                            }
                            const float ly = yy - (float)yl, lx = xx - (float)xl, hy = 1.0f - ly, hx = 1.0f - lx;
                            w1 = hy * hx, w2 = hy * lx, w3 = ly * hx, w4 = ly * lx;
                            i1 = yl * a->w + xl, i2 = yl * a->w + xh, i3 = yh * a->w + xl, i4 = yh * a->w + xh;
                        }
                        for (int64_t ch = 0; ch < a->ch; ch++) {
                            const float *xc = xb + ch * hw;
                            float v;
                            if (outside) {
                                v = 0.0f;
                            } else {
                                const float v1 = w1 * xc[i1], v2 = w2 * xc[i2], v3 = w3 * xc[i3], v4 = w4 * xc[i4];
                                v = a->max_mode ? fmaxf(fmaxf(v1, v2), fmaxf(v3, v4)) : v1 + v2 + v3 + v4;
                            }
                            float *acc = yo + ch * plane;
                            if (!any)
                                *acc = v;
                            else
                                *acc = a->max_mode ? fmaxf(*acc, v) : *acc + v;
                        }
                        any = true;
                    }
                }
                if (!any)
                    for (int64_t ch = 0; ch < a->ch; ch++)
                        yo[ch * plane] = 0.0f;
                else if (!a->max_mode)
                    for (int64_t ch = 0; ch < a->ch; ch++)
                        yo[ch * plane] /= count;
            }
    }
}

static onnxc_status roialign_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0], *rois = c->in[1];
    if (!c->out[0])
        return ONNXC_OK;
    char buf[32];
    ra_args a = {.c = c,
                 .x = x->data,
                 .rois = rois->data,
                 .bi = c->in[2]->data,
                 .y = c->out[0]->data,
                 .n = x->dims[0],
                 .ch = x->dims[1],
                 .h = x->dims[2],
                 .w = x->dims[3],
                 .oh = c->out[0]->dims[2],
                 .ow = c->out[0]->dims[3],
                 .sampling = oc_attr_int(c->node, "sampling_ratio", 0),
                 .scale = oc_attr_float(c->node, "spatial_scale", 1.0f)};
    a.max_mode = strcmp(oc_attr_string(c->node, "mode", "avg", buf, sizeof buf), "max") == 0;
    /* RoiAlign-10 had no such attribute and did not shift by half a pixel; 16 made half_pixel the default */
    a.half_pixel = c->opset >= 16 &&
        strcmp(oc_attr_string(c->node, "coordinate_transformation_mode", "half_pixel", buf, sizeof buf),
               "half_pixel") == 0;
    a.offset = a.half_pixel ? 0.5f : 0.0f;
    if (a.h <= 0 || a.w <= 0) {
        memset(a.y, 0, c->out[0]->nbytes);
        return ONNXC_OK;
    }
    const int64_t nr = rois->dims[0];
    oc_par_for(c->pool, nr, nr * a.ch * a.oh * a.ow * 4, ra_rows, &a);
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- the table */

/* NonZero, Compress, Unique and NonMaxSuppression are OC_KF_DATA_SHAPE (registry.c's flag table). */
const oc_kernel oc_kernels_detect[] = {
    {"NonZero", NULL, 9, 0, 0, nonzero_infer, NULL, nonzero_run, NULL, 0},
    {"Compress", NULL, 9, 0, 0, compress_infer, NULL, compress_run, NULL, 0},
    {"Unique", NULL, 11, 0, 0, unique_infer, NULL, unique_run, NULL, 0},
    {"NonMaxSuppression", NULL, 10, 0, 0, nms_infer, NULL, nms_run, NULL, 0},
    {"RoiAlign", NULL, 10, 0, 0, roialign_infer, NULL, roialign_run, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
