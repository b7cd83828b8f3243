/* More ops whose output shape the plan knows, with no family of their own: LRN, MeanVarianceNormalization,
 * ReverseSequence, Det, MaxUnpool (output_shape a plan-time value), OneHot (depth a plan-time value). Float
 * math in double through the core's element accessors (LRN and MVN on float32 directly), so every float type
 * works; the per-channel / per-matrix loops are split over the pool. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "kutil.h"
#include "threadpool.h"

#define MAXR ONNXC_MAX_RANK

static onnxc_status need(const oc_kctx *c, int n)
{
    for (int i = 0; i < n; i++)
        if (i >= c->n_in || !c->in[i])
            return oc_kerr(c, ONNXC_E_INVALID, "missing required input %d", i);
    return ONNXC_OK;
}

static onnxc_status float_in(const oc_kctx *c, const onnxc_tensor *x)
{
    if (!oc_dtype_is_float(x->dtype))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input type %s", onnxc_dtype_name(x->dtype));
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- LRN */

static onnxc_status lrn_infer(oc_kctx *c)
{
    onnxc_status st = need(c, 1);
    if (st != ONNXC_OK || (st = float_in(c, c->in[0])) != ONNXC_OK)
        return st;
    if (c->in[0]->rank < 2)
        return oc_kerr(c, ONNXC_E_INVALID, "input must be [N, C, ...], got rank %d", (int)c->in[0]->rank);
    int64_t size = oc_attr_int(c->node, "size", 0);
    if (size < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "attribute size must be a positive integer, got %lld", (long long)size);
    return oc_kset_shape(c, c->out[0], c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
}

typedef struct lrn_job {
    const onnxc_tensor *x;
    onnxc_tensor *y;
    int64_t ch, sp, lo, hi; /* channels, spatial size, window [c - lo, c + hi] */
    double alpha, beta, bias;
} lrn_job;

/* items: (n, c) planes */
static void lrn_range(void *arg, int64_t a, int64_t b, int slot)
{
    (void)slot;
    const lrn_job *j = arg;
    int32_t dt = j->x->dtype;
    bool f32 = dt == ONNXC_FLOAT;
    const float *xf = j->x->data;
    float *yf = j->y->data;
    for (int64_t p = a; p < b; p++) {
        int64_t n = p / j->ch, ch = p % j->ch;
        int64_t c0 = ch - j->lo < 0 ? 0 : ch - j->lo, c1 = ch + j->hi >= j->ch ? j->ch - 1 : ch + j->hi;
        for (int64_t s = 0; s < j->sp; s++) {
            double sq = 0;
            for (int64_t k = c0; k <= c1; k++) {
                int64_t at = (n * j->ch + k) * j->sp + s;
                double v = f32 ? xf[at] : oc_load_f64(dt, j->x->data, at);
                sq += v * v;
            }
            int64_t at = p * j->sp + s;
            double v = f32 ? xf[at] : oc_load_f64(dt, j->x->data, at);
            double r = v / pow(j->bias + j->alpha * sq, j->beta);
            if (f32)
                yf[at] = (float)r;
            else
                oc_store_f64(dt, j->y->data, at, r);
        }
    }
}

static onnxc_status lrn_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    int64_t size = oc_attr_int(c->node, "size", 1);
    lrn_job j = {x, c->out[0], x->dims[1], oc_dims_prod(x->dims, 2, x->rank), (size - 1) / 2, size / 2,
                 oc_attr_float(c->node, "alpha", 1e-4f) / (double)size, oc_attr_float(c->node, "beta", 0.75f),
                 oc_attr_float(c->node, "bias", 1.0f)};
    int64_t planes = x->dims[0] * x->dims[1];
    oc_par_for(c->pool, planes, onnxc_tensor_numel(x) * size, lrn_range, &j);
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- MeanVarianceNormalization */

static onnxc_status mvn_axes(const oc_kctx *c, bool *red)
{
    const onnxc_tensor *x = c->in[0];
    size_t na;
    const int64_t *ax = oc_attr_ints(c->node, "axes", &na);
    static const int64_t dflt[3] = {0, 2, 3};
    if (!ax) {
        ax = dflt;
        na = 3;
    }
    memset(red, 0, MAXR * sizeof *red);
    for (size_t i = 0; i < na; i++) {
        int a;
        onnxc_status st = oc_norm_axis(c, ax[i], x->rank, &a);
        if (st != ONNXC_OK)
            return st;
        red[a] = true;
    }
    return ONNXC_OK;
}

static onnxc_status mvn_infer(oc_kctx *c)
{
    onnxc_status st = need(c, 1);
    bool red[MAXR];
    if (st != ONNXC_OK || (st = float_in(c, c->in[0])) != ONNXC_OK || (st = mvn_axes(c, red)) != ONNXC_OK)
        return st;
    if ((st = oc_kset_shape(c, c->out[0], c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims)) != ONNXC_OK)
        return st;
    int64_t ng = 1;
    for (int d = 0; d < c->in[0]->rank; d++)
        ng *= red[d] ? 1 : c->in[0]->dims[d];
    c->scratch_size = (size_t)ng * 2 * sizeof(double);
    return ONNXC_OK;
}

/* (x - mean) / (std + 1e-9) over the axes, std the population standard deviation: the ONNX function's
 * definition (its reference adds 1e-9 to the deviation). Each element's group is the set of elements that share
 * its coordinates on the kept axes; sums go through per-group accumulators in scratch. */
static onnxc_status mvn_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    onnxc_tensor *y = c->out[0];
    bool red[MAXR];
    mvn_axes(c, red);
    int64_t n = onnxc_tensor_numel(x), gstride[MAXR], ng = 1;
    for (int d = x->rank - 1; d >= 0; d--) {
        gstride[d] = red[d] ? 0 : ng;
        if (!red[d])
            ng *= x->dims[d];
    }
    double *sum = c->scratch, *sq = sum + ng;
    memset(sum, 0, (size_t)ng * 2 * sizeof *sum);
    int64_t cnt = ng ? n / ng : 0, idx[MAXR] = {0};
    /* two passes (mean, then squared deviations) over a walk that keeps each element's group index */
    for (int pass = 0; pass < 3; pass++) {
        memset(idx, 0, sizeof idx);
        int64_t g = 0;
        for (int64_t i = 0; i < n; i++) {
            double v = oc_load_f64(x->dtype, x->data, i);
            if (pass == 0)
                sum[g] += v;
            else if (pass == 1)
                sq[g] += (v - sum[g]) * (v - sum[g]);
            else
                oc_store_f64(y->dtype, y->data, i, (v - sum[g]) / (sqrt(sq[g]) + 1e-9));
            for (int d = x->rank - 1; d >= 0; d--) {
                g += gstride[d];
                if (++idx[d] < x->dims[d])
                    break;
                g -= gstride[d] * x->dims[d];
                idx[d] = 0;
            }
        }
        for (int64_t k = 0; k < ng && pass < 2; k++) {
            if (pass == 0)
                sum[k] /= (double)cnt;
            else
                sq[k] /= (double)cnt;
        }
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- ReverseSequence */

static onnxc_status revseq_axes(const oc_kctx *c, int *bax, int *tax)
{
    const onnxc_tensor *x = c->in[0];
    int64_t b = oc_attr_int(c->node, "batch_axis", 1), t = oc_attr_int(c->node, "time_axis", 0);
    if ((b != 0 && b != 1) || (t != 0 && t != 1) || b == t)
        return oc_kerr(c, ONNXC_E_INVALID, "batch_axis %lld and time_axis %lld must be 0 and 1 in some order",
                       (long long)b, (long long)t);
    if (x->rank < 2)
        return oc_kerr(c, ONNXC_E_INVALID, "input must have rank >= 2, got %d", (int)x->rank);
    *bax = (int)b;
    *tax = (int)t;
    return ONNXC_OK;
}

static onnxc_status revseq_infer(oc_kctx *c)
{
    onnxc_status st = need(c, 2);
    int bax, tax;
    size_t es;
    if (st != ONNXC_OK || (st = revseq_axes(c, &bax, &tax)) != ONNXC_OK ||
        (st = oc_kmove_size(c, c->in[0]->dtype, &es)) != ONNXC_OK)
        return st;
    const onnxc_tensor *L = c->in[1];
    if (!oc_dtype_is_int(L->dtype) || L->rank != 1 || L->dims[0] != c->in[0]->dims[bax])
        return oc_kerr(c, ONNXC_E_INVALID, "sequence_lens must be an integer tensor of %lld values (the batch)",
                       (long long)c->in[0]->dims[bax]);
    return oc_kset_shape(c, c->out[0], c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
}

static onnxc_status revseq_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0], *L = c->in[1];
    int bax, tax;
    revseq_axes(c, &bax, &tax);
    size_t es = onnxc_dtype_size(x->dtype);
    int64_t T = x->dims[tax], B = x->dims[bax], inner = oc_dims_prod(x->dims, 2, x->rank);
    for (int64_t b = 0; b < B; b++) {
        int64_t len = oc_get_i64(L, b);
        if (len < 0 || len > T)
            return oc_kerr(c, ONNXC_E_INVALID, "sequence_lens[%lld] = %lld is outside [0, %lld]", (long long)b,
                           (long long)len, (long long)T);
    }
    const char *src = x->data;
    char *dst = c->out[0]->data;
    for (int64_t b = 0; b < B; b++) {
        int64_t len = oc_get_i64(L, b);
        for (int64_t t = 0; t < T; t++) {
            int64_t st = t < len ? len - 1 - t : t;
            int64_t o = tax == 0 ? t * B + b : b * T + t, s = tax == 0 ? st * B + b : b * T + st;
            memcpy(dst + (size_t)(o * inner) * es, src + (size_t)(s * inner) * es, (size_t)inner * es);
        }
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- Det */

static onnxc_status det_infer(oc_kctx *c)
{
    onnxc_status st = need(c, 1);
    if (st != ONNXC_OK || (st = float_in(c, c->in[0])) != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0];
    if (x->rank < 2 || x->dims[x->rank - 1] != x->dims[x->rank - 2])
        return oc_kerr(c, ONNXC_E_INVALID, "input must be [..., M, M]");
    if (x->dims[x->rank - 1] > 4096)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "matrices of %lld rows", (long long)x->dims[x->rank - 1]);
    if ((st = oc_kset_shape(c, c->out[0], x->dtype, x->rank - 2, x->dims)) != ONNXC_OK)
        return st;
    int64_t m = x->dims[x->rank - 1];
    c->scratch_size = (size_t)(m * m) * sizeof(double) * (size_t)(c->pool ? oc_pool_threads(c->pool) : 1);
    return ONNXC_OK;
}

typedef struct det_job {
    const onnxc_tensor *x;
    onnxc_tensor *y;
    int64_t m;
    double *scratch;
} det_job;

/* LU decomposition with partial pivoting, in double */
static void det_range(void *arg, int64_t lo, int64_t hi, int slot)
{
    const det_job *j = arg;
    int64_t m = j->m;
    double *a = j->scratch + (size_t)slot * (size_t)(m * m);
    for (int64_t k = lo; k < hi; k++) {
        for (int64_t i = 0; i < m * m; i++)
            a[i] = oc_load_f64(j->x->dtype, j->x->data, k * m * m + i);
        double det = 1.0;
        for (int64_t col = 0; col < m && det != 0; col++) {
            int64_t p = col;
            for (int64_t r = col + 1; r < m; r++)
                if (fabs(a[r * m + col]) > fabs(a[p * m + col]))
                    p = r;
            if (a[p * m + col] == 0) {
                det = 0;
                break;
            }
            if (p != col) {
                for (int64_t q = 0; q < m; q++) {
                    double t = a[p * m + q];
                    a[p * m + q] = a[col * m + q];
                    a[col * m + q] = t;
                }
                det = -det;
            }
            double piv = a[col * m + col];
            det *= piv;
            for (int64_t r = col + 1; r < m; r++) {
                double f = a[r * m + col] / piv;
                for (int64_t q = col + 1; q < m; q++)
                    a[r * m + q] -= f * a[col * m + q];
            }
        }
        oc_store_f64(j->y->dtype, j->y->data, k, det);
    }
}

static onnxc_status det_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    int64_t m = x->dims[x->rank - 1];
    det_job j = {x, c->out[0], m, c->scratch};
    int64_t mats = oc_dims_prod(x->dims, 0, x->rank - 2);
    oc_par_for(c->pool, mats, mats * m * m * m, det_range, &j);
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- MaxUnpool */

static onnxc_status unpool_shape(const oc_kctx *c, int64_t *dims, int64_t *dflt)
{
    const onnxc_tensor *x = c->in[0], *ix = c->in[1];
    if (x->rank < 3)
        return oc_kerr(c, ONNXC_E_INVALID, "X must be [N, C, spatial...], got rank %d", (int)x->rank);
    if (ix->dtype != ONNXC_INT64 || ix->rank != x->rank || memcmp(ix->dims, x->dims, (size_t)x->rank * 8) != 0)
        return oc_kerr(c, ONNXC_E_INVALID, "I must be an int64 tensor of X's shape");
    int nsp = x->rank - 2;
    size_t nk, np, ns;
    const int64_t *k = oc_attr_ints(c->node, "kernel_shape", &nk), *p = oc_attr_ints(c->node, "pads", &np),
                  *s = oc_attr_ints(c->node, "strides", &ns);
    if (!k || nk != (size_t)nsp)
        return oc_kerr(c, ONNXC_E_INVALID, "kernel_shape must have %d values", nsp);
    if ((p && np != (size_t)(2 * nsp)) || (s && ns != (size_t)nsp))
        return oc_kerr(c, ONNXC_E_INVALID, "pads must have %d values and strides %d", 2 * nsp, nsp);
    dims[0] = x->dims[0];
    dims[1] = x->dims[1];
    for (int i = 0; i < nsp; i++) {
        int64_t st = s ? s[i] : 1, pb = p ? p[i] : 0, pe = p ? p[nsp + i] : 0;
        if (st < 1 || k[i] < 1 || pb < 0 || pe < 0 || st > INT32_MAX || k[i] > INT32_MAX || pb > INT32_MAX ||
            pe > INT32_MAX || x->dims[2 + i] > INT32_MAX)
            return oc_kerr(c, ONNXC_E_INVALID, "bad kernel_shape, strides or pads in spatial dim %d", i);
        dims[2 + i] = (x->dims[2 + i] - 1) * st - pb - pe + k[i];
        if (dims[2 + i] < 0)
            return oc_kerr(c, ONNXC_E_INVALID, "output spatial dim %d would be negative", i);
    }
    memcpy(dflt, dims, (size_t)x->rank * sizeof *dims);
    const onnxc_tensor *os = c->n_in > 2 ? c->in[2] : NULL;
    if (os) {
        if (!os->data)
            return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input 'output_shape' is not known at plan time");
        if (!oc_dtype_is_int(os->dtype) || os->rank != 1 || os->dims[0] != x->rank)
            return oc_kerr(c, ONNXC_E_INVALID, "output_shape must be %d integers", (int)x->rank);
        for (int i = 0; i < x->rank; i++) {
            int64_t v = oc_get_i64(os, i);
            if (i < 2 ? v != x->dims[i] : v < dims[i])
                return oc_kerr(c, ONNXC_E_INVALID, "output_shape[%d] = %lld does not fit X (needs %s %lld)", i,
                               (long long)v, i < 2 ? "=" : ">=", (long long)dims[i]);
            dims[i] = v;
        }
    }
    return ONNXC_OK;
}

static onnxc_status unpool_infer(oc_kctx *c)
{
    onnxc_status st = need(c, 2);
    int64_t dims[MAXR], dflt[MAXR];
    size_t es;
    if (st != ONNXC_OK || (st = oc_kmove_size(c, c->in[0]->dtype, &es)) != ONNXC_OK ||
        (st = unpool_shape(c, dims, dflt)) != ONNXC_OK)
        return st;
    return oc_kset_shape(c, c->out[0], c->in[0]->dtype, c->in[0]->rank, dims);
}

/* Y is zero except at the positions of I: MaxPool's indices, offsets in the whole tensor (row-major) of the
 * default unpooled shape. A larger output_shape pads that shape at the end of each spatial dim (what the
 * ONNX reference does), so an index keeps its coordinates, not its offset. */
static onnxc_status unpool_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0], *ix = c->in[1];
    onnxc_tensor *y = c->out[0];
    int64_t dims[MAXR], dflt[MAXR];
    unpool_shape(c, dims, dflt);
    size_t es = onnxc_dtype_size(x->dtype);
    int r = x->rank;
    int64_t n = onnxc_tensor_numel(x), nd = oc_dims_prod(dflt, 0, r);
    const int64_t *I = ix->data;
    for (int64_t i = 0; i < n; i++)
        if (I[i] < 0 || I[i] >= nd)
            return oc_kerr(c, ONNXC_E_INVALID, "index I[%lld] = %lld is outside the unpooled tensor of %lld elements",
                           (long long)i, (long long)I[i], (long long)nd);
    memset(y->data, 0, y->nbytes);
    bool same = memcmp(dims, dflt, (size_t)r * sizeof *dims) == 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t at = I[i];
        if (!same) {
            int64_t rest = I[i], mul = 1;
            at = 0;
            for (int d = r - 1; d >= 0; d--) {
                at += (rest % dflt[d]) * mul;
                rest /= dflt[d];
                mul *= dims[d];
            }
        }
        memcpy((char *)y->data + (size_t)at * es, (const char *)x->data + (size_t)i * es, es);
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- OneHot */

static onnxc_status onehot_depth(const oc_kctx *c, int64_t *depth)
{
    const onnxc_tensor *d = c->in[1];
    if (onnxc_tensor_numel(d) != 1 || d->rank > 1 || (!oc_dtype_is_int(d->dtype) && !oc_dtype_is_float(d->dtype)))
        return oc_kerr(c, ONNXC_E_INVALID, "input 'depth' must be a numeric scalar");
    if (!d->data)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input 'depth' is not known at plan time");
    double v = oc_get_f64(d, 0);
    if (!(v >= 1))
        return oc_kerr(c, ONNXC_E_INVALID, "depth = %g must be a positive integer", v);
    if (v > (double)INT32_MAX)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "depth = %.0f is more than onnxc's limit of %d", v, INT32_MAX);
    *depth = (int64_t)v;
    return ONNXC_OK;
}

static onnxc_status onehot_infer(oc_kctx *c)
{
    onnxc_status st = need(c, 3);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *ind = c->in[0], *vals = c->in[2];
    size_t es;
    if ((st = oc_kmove_size(c, vals->dtype, &es)) != ONNXC_OK)
        return st;
    if (onnxc_tensor_numel(vals) != 2 || vals->rank != 1)
        return oc_kerr(c, ONNXC_E_INVALID, "input 'values' must hold 2 values [off, on]");
    if (!oc_dtype_is_int(ind->dtype) && !oc_dtype_is_float(ind->dtype))
        return oc_kerr(c, ONNXC_E_INVALID, "indices of type %s", onnxc_dtype_name(ind->dtype));
    if (ind->rank + 1 > MAXR)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "indices of rank %d", (int)ind->rank);
    int64_t depth;
    int axis;
    if ((st = onehot_depth(c, &depth)) != ONNXC_OK ||
        (st = oc_norm_axis(c, oc_attr_int(c->node, "axis", -1), ind->rank + 1, &axis)) != ONNXC_OK)
        return st;
    int64_t dims[MAXR];
    for (int i = 0, j = 0; i < ind->rank + 1; i++)
        dims[i] = i == axis ? depth : ind->dims[j++];
    return oc_kset_shape(c, c->out[0], vals->dtype, ind->rank + 1, dims);
}

static onnxc_status onehot_run(oc_kctx *c)
{
    const onnxc_tensor *ind = c->in[0], *vals = c->in[2];
    onnxc_tensor *y = c->out[0];
    int64_t depth;
    int axis;
    onehot_depth(c, &depth);
    oc_norm_axis(c, oc_attr_int(c->node, "axis", -1), ind->rank + 1, &axis);
    size_t es = onnxc_dtype_size(vals->dtype);
    const char *off = vals->data, *on = off + es;
    oc_fill_elems(y->data, off, onnxc_tensor_numel(y), es);
    int64_t outer = oc_dims_prod(ind->dims, 0, axis), inner = oc_dims_prod(ind->dims, axis, ind->rank);
    bool fl = oc_dtype_is_float(ind->dtype);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t at = o * inner + i, k;
            if (fl) {
                double v = oc_load_f64(ind->dtype, ind->data, at);
                if (!(v > -(double)depth - 1 && v < (double)depth + 1))
                    continue;
                k = (int64_t)v; /* the spec casts indices to integers: truncation toward zero */
            } else
                k = oc_load_i64(ind->dtype, ind->data, at);
            if (k < 0 && c->opset >= 11)
                k += depth; /* OneHot-11: negative indices count from the end; before, they are out of range */
            if (k < 0 || k >= depth)
                continue; /* out of range: the whole line stays 'off' */
            memcpy((char *)y->data + (size_t)((o * depth + k) * inner + i) * es, on, es);
        }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- the table */

#define B(i) (1u << (i))

const oc_kernel oc_kernels_misc2[] = {
    {"LRN", NULL, 1, 0, 0, lrn_infer, NULL, lrn_run, NULL, 0},
    {"MeanVarianceNormalization", NULL, 9, 0, 0, mvn_infer, NULL, mvn_run, NULL, 0},
    {"ReverseSequence", NULL, 10, 0, 0, revseq_infer, NULL, revseq_run, NULL, 0},
    {"Det", NULL, 11, 0, 0, det_infer, NULL, det_run, NULL, 0},
    {"MaxUnpool", NULL, 9, 0, B(2), unpool_infer, NULL, unpool_run, NULL, 0},
    {"OneHot", NULL, 9, 0, B(1), onehot_infer, NULL, onehot_run, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
