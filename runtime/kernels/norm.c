/* Normalization kernels: BatchNormalization (opsets 1-15, inference and training), InstanceNormalization,
 * LayerNormalization-17 and GroupNormalization-18/21. Statistics accumulate in double, in two passes. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kernel.h"
#include "kutil.h"

/* Below this many elements a node runs on one thread: spawning a team costs more than it saves. */
#define NM_PAR_MIN 32768

static bool nm_is_float(int32_t dt)
{
    return dt == ONNXC_FLOAT || dt == ONNXC_DOUBLE || dt == ONNXC_FLOAT16 || dt == ONNXC_BFLOAT16;
}

static inline double nm_ld(const void *p, int32_t dt, int64_t i)
{
    switch (dt) {
    case ONNXC_FLOAT:
        return ((const float *)p)[i];
    case ONNXC_DOUBLE:
        return ((const double *)p)[i];
    case ONNXC_FLOAT16:
        return oc_half_to_float(((const uint16_t *)p)[i]);
    default:
        return oc_bf16_to_float(((const uint16_t *)p)[i]);
    }
}

static inline void nm_st(void *p, int32_t dt, int64_t i, double v)
{
    switch (dt) {
    case ONNXC_FLOAT:
        ((float *)p)[i] = (float)v;
        break;
    case ONNXC_DOUBLE:
        ((double *)p)[i] = v;
        break;
    case ONNXC_FLOAT16:
        ((uint16_t *)p)[i] = oc_float_to_half((float)v);
        break;
    default:
        ((uint16_t *)p)[i] = oc_float_to_bf16((float)v);
        break;
    }
}

/* Sums in double over float data with 8 independent partial sums: one running sum is a chain of dependent
 * additions (a few cycles each, and the compiler may not reorder them), which made the statistics the largest
 * cost of a GroupNorm model; eight chains run in parallel and vectorize. Same double accuracy, another order. */
static double nm_sum_f32(const float *p, int64_t len)
{
    double a[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= len; i += 8)
        for (int k = 0; k < 8; k++)
            a[k] += (double)p[i + k];
    double s = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    for (; i < len; i++)
        s += (double)p[i];
    return s;
}

static double nm_sqdev_f32(const float *p, int64_t len, double m)
{
    double a[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= len; i += 8)
        for (int k = 0; k < 8; k++) {
            double d = (double)p[i + k] - m;
            a[k] += d * d;
        }
    double q = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    for (; i < len; i++) {
        double d = (double)p[i] - m;
        q += d * d;
    }
    return q;
}

/* Mean and population variance of nseg segments of len elements, segment k starting at element
 * off + k * stride. The second pass sums squared deviations from the mean, which (unlike E[x^2] - E[x]^2)
 * does not cancel when the mean is large against the spread; double keeps it exact past 65k elements. */
static void nm_stats(const void *x, int32_t dt, int64_t off, int64_t nseg, int64_t stride, int64_t len,
                     double *mean, double *var)
{
    int64_t count = nseg * len;
    if (count <= 0) {
        *mean = 0.0;
        *var = 0.0;
        return;
    }
    double s = 0.0;
    for (int64_t k = 0; k < nseg; k++) {
        int64_t o = off + k * stride;
        if (dt == ONNXC_FLOAT) {
            s += nm_sum_f32((const float *)x + o, len);
        } else if (dt == ONNXC_DOUBLE) {
            const double *p = (const double *)x + o;
            for (int64_t i = 0; i < len; i++)
                s += p[i];
        } else {
            for (int64_t i = 0; i < len; i++)
                s += nm_ld(x, dt, o + i);
        }
    }
    double m = s / (double)count;
    double q = 0.0;
    for (int64_t k = 0; k < nseg; k++) {
        int64_t o = off + k * stride;
        if (dt == ONNXC_FLOAT) {
            q += nm_sqdev_f32((const float *)x + o, len, m);
        } else if (dt == ONNXC_DOUBLE) {
            const double *p = (const double *)x + o;
            for (int64_t i = 0; i < len; i++) {
                double d = p[i] - m;
                q += d * d;
            }
        } else {
            for (int64_t i = 0; i < len; i++) {
                double d = nm_ld(x, dt, o + i) - m;
                q += d * d;
            }
        }
    }
    *mean = m;
    *var = q / (double)count;
}

/* y[off + i] = x[off + i] * a + b for i < len. */
static void nm_affine(const void *x, void *y, int32_t dt, int64_t off, int64_t len, double a, double b)
{
    if (dt == ONNXC_FLOAT) {
        const float *p = (const float *)x + off;
        float *q = (float *)y + off;
        for (int64_t i = 0; i < len; i++)
            q[i] = (float)(p[i] * a + b);
    } else if (dt == ONNXC_DOUBLE) {
        const double *p = (const double *)x + off;
        double *q = (double *)y + off;
        for (int64_t i = 0; i < len; i++)
            q[i] = p[i] * a + b;
    } else {
        for (int64_t i = 0; i < len; i++)
            nm_st(y, dt, off + i, nm_ld(x, dt, off + i) * a + b);
    }
}

/* y[off + i] = (x[off + i] - mean) * inv * s[i] + b[i] for i < len (per-element scale and bias). */
static void nm_affine_vec(const void *x, void *y, int32_t dt, int64_t off, int64_t len, double mean, double inv,
                          const double *s, const double *b)
{
    if (dt == ONNXC_FLOAT) {
        const float *p = (const float *)x + off;
        float *q = (float *)y + off;
        for (int64_t i = 0; i < len; i++)
            q[i] = (float)((p[i] - mean) * inv * s[i] + b[i]);
    } else if (dt == ONNXC_DOUBLE) {
        const double *p = (const double *)x + off;
        double *q = (double *)y + off;
        for (int64_t i = 0; i < len; i++)
            q[i] = (p[i] - mean) * inv * s[i] + b[i];
    } else {
        for (int64_t i = 0; i < len; i++)
            nm_st(y, dt, off + i, (nm_ld(x, dt, off + i) - mean) * inv * s[i] + b[i]);
    }
}

/* Copy n values of t into dst as double; an omitted tensor (NULL) gives dflt everywhere. */
static void nm_load(const onnxc_tensor *t, double *dst, int64_t n, double dflt)
{
    for (int64_t i = 0; i < n; i++)
        dst[i] = t ? nm_ld(t->data, t->dtype, i) : dflt;
}

static onnxc_status nm_check_float(const oc_kctx *c, const onnxc_tensor *t, const char *what)
{
    if (!nm_is_float(t->dtype))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "%s has type %s; float, double, float16 or bfloat16 expected", what,
                       onnxc_dtype_name(t->dtype));
    return ONNXC_OK;
}

/* Inputs 0..n-1 are present and of a float type; names[i] names input i in the messages. */
static onnxc_status nm_need_float_inputs(const oc_kctx *c, int n, const char *const *names)
{
    for (int i = 0; i < n; i++) {
        if (!c->in[i])
            return oc_kerr(c, ONNXC_E_INVALID, "input %s is missing", names[i]);
        onnxc_status st = nm_check_float(c, c->in[i], names[i]);
        if (st != ONNXC_OK)
            return st;
    }
    return ONNXC_OK;
}

/* Optional input i: NULL when omitted or past the inputs given. */
static onnxc_tensor *nm_in(const oc_kctx *c, int i)
{
    return i < c->n_in ? c->in[i] : NULL;
}

static onnxc_tensor *nm_out(const oc_kctx *c, int i)
{
    return i < c->n_out ? c->out[i] : NULL;
}

/* Product of dims[from..to) (checked). */
static bool nm_span(const onnxc_tensor *t, int from, int to, int64_t *out)
{
    int64_t p = 1;
    for (int i = from; i < to; i++)
        if (t->dims[i] < 0 || !oc_mul_i64(p, t->dims[i], &p))
            return false;
    *out = p;
    return true;
}

static bool nm_scratch_doubles(oc_kctx *c, int64_t n)
{
    size_t bytes;
    if (n < 0 || !oc_mul_size((size_t)n, sizeof(double), &bytes))
        return false;
    c->scratch_size = bytes;
    return true;
}

/* ---------------------------------------------------------------- BatchNormalization */

/* Layout shared by infer and run: N x C x S input, P parameters per tensor (C, or C*S when spatial=0). */
typedef struct nm_bn {
    int64_t n, ch, sp, p;
    bool spatial, training;
} nm_bn;

static onnxc_status nm_bn_layout(const oc_kctx *c, nm_bn *bn)
{
    const onnxc_tensor *x = c->in[0];
    char buf[128];
    if (x->rank < 2)
        return oc_kerr(c, ONNXC_E_INVALID, "input X has shape %s; rank >= 2 (N x C x ...) expected",
                       oc_dims_str(x->dims, x->rank, buf, sizeof buf));
    bn->n = x->dims[0];
    bn->ch = x->dims[1];
    if (!nm_span(x, 2, x->rank, &bn->sp))
        return oc_kerr(c, ONNXC_E_INVALID, "input X has bad dims %s", oc_dims_str(x->dims, x->rank, buf, sizeof buf));
    /* BatchNormalization-9 dropped spatial; before it, spatial=0 means one parameter per activation
     * (shape C x D1 x ... x Dn). */
    bn->spatial = c->opset >= 9 || oc_attr_int(c->node, "spatial", 1) != 0;
    if (bn->spatial)
        bn->p = bn->ch;
    else if (!oc_mul_i64(bn->ch, bn->sp, &bn->p))
        return oc_kerr(c, ONNXC_E_INVALID, "parameter size overflows");
    /* BatchNormalization-14 made training an attribute; before it, asking for the running statistics
     * (outputs beyond Y) is what selects training, as in ONNX Runtime. BatchNormalization-1/6 also have
     * is_test, which forces inference. */
    bool extra = false;
    for (int i = 1; i < c->n_out; i++)
        if (c->out[i])
            extra = true;
    if (c->opset >= 14) {
        bn->training = oc_attr_int(c->node, "training_mode", 0) != 0;
        if (extra && !bn->training)
            return oc_kerr(c, ONNXC_E_INVALID, "outputs running_mean/running_var are only defined when "
                           "training_mode=1 (BatchNormalization-14)");
    } else {
        bn->training = extra;
        if (extra && c->opset < 7 && oc_attr_int(c->node, "is_test", 0) != 0)
            return oc_kerr(c, ONNXC_E_INVALID, "is_test=1 but training outputs (mean, var, saved_mean, saved_var) "
                           "are requested");
    }
    return ONNXC_OK;
}

static onnxc_status nm_bn_infer(oc_kctx *c)
{
    static const char *const names[] = {"X", "scale", "B", "input_mean", "input_var"};
    if (c->n_in < 5)
        return oc_kerr(c, ONNXC_E_INVALID, "BatchNormalization needs 5 inputs (X, scale, B, mean, var), got %d",
                       c->n_in);
    onnxc_status st = nm_need_float_inputs(c, 5, names);
    if (st != ONNXC_OK)
        return st;
    nm_bn bn;
    st = nm_bn_layout(c, &bn);
    if (st != ONNXC_OK)
        return st;
    for (int i = 1; i < 5; i++) {
        int64_t n;
        char buf[128];
        const onnxc_tensor *t = c->in[i];
        if (!oc_numel(t->dims, t->rank, &n) || n != bn.p)
            return oc_kerr(c, ONNXC_E_INVALID, "input %s has shape %s; %lld values expected (%s)", names[i],
                           oc_dims_str(t->dims, t->rank, buf, sizeof buf), (long long)bn.p,
                           bn.spatial ? "one per channel" : "spatial=0: one per activation, C x D1 x ... x Dn");
    }
    if (c->n_out > 5 || (c->opset >= 14 && c->n_out > 3))
        return oc_kerr(c, ONNXC_E_INVALID, "too many outputs (%d)", c->n_out);
    const onnxc_tensor *x = c->in[0];
    if (c->n_out > 0 && c->out[0] && (st = oc_set_shape(c->out[0], x->dtype, x->rank, x->dims)) != ONNXC_OK)
        return st;
    /* running_mean / running_var (and before BatchNormalization-14, saved_mean / saved_var) have the shape and
     * type of the statistics inputs (T2 of BatchNormalization-15). */
    for (int i = 1; i < c->n_out && i < 5; i++) {
        if (!c->out[i])
            continue;
        const onnxc_tensor *like = c->in[i == 1 || i == 3 ? 3 : 4];
        st = oc_set_shape(c->out[i], like->dtype, like->rank, like->dims);
        if (st != ONNXC_OK)
            return st;
    }
    /* a, b (the folded per-parameter affine), and in training the batch mean and variance */
    if (!nm_scratch_doubles(c, bn.p * (bn.training ? 4 : 2)))
        return oc_kerr(c, ONNXC_E_NOMEM, "parameter scratch size overflows");
    return ONNXC_OK;
}

static onnxc_status nm_bn_run(oc_kctx *c)
{
    nm_bn bn;
    onnxc_status st = nm_bn_layout(c, &bn);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0];
    onnxc_tensor *y = nm_out(c, 0);
    const int32_t dt = x->dtype;
    const int64_t p = bn.p, n = bn.n, ch = bn.ch, sp = bn.sp;
    double eps = oc_attr_float(c->node, "epsilon", 1e-5f);
    double momentum = oc_attr_float(c->node, "momentum", 0.9f);
    double *a = (double *)c->scratch, *b = a + p;
    double *bmean = NULL, *bvar = NULL;
    int64_t total = n * ch * sp;
    int nt = total >= NM_PAR_MIN ? c->threads : 1;

    if (bn.training) {
        /* Batch statistics (population variance, as the ONNX reference's x.var()): per channel over N and
         * the spatial dims, or with spatial=0 per activation over N alone. */
        bmean = b + p;
        bvar = bmean + p;
        int64_t stride = ch * sp;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
        for (int64_t j = 0; j < p; j++) {
            if (bn.spatial)
                nm_stats(x->data, dt, j * sp, n, stride, sp, &bmean[j], &bvar[j]);
            else
                nm_stats(x->data, dt, j, n, stride, 1, &bmean[j], &bvar[j]);
        }
    }
    const onnxc_tensor *ts = c->in[1], *tb = c->in[2], *tm = c->in[3], *tv = c->in[4];
    for (int64_t j = 0; j < p; j++) {
        double mean = bn.training ? bmean[j] : nm_ld(tm->data, tm->dtype, j);
        double var = bn.training ? bvar[j] : nm_ld(tv->data, tv->dtype, j);
        double inv = 1.0 / sqrt(var + eps);
        a[j] = nm_ld(ts->data, ts->dtype, j) * inv;
        b[j] = nm_ld(tb->data, tb->dtype, j) - mean * a[j];
    }
    if (y) {
        if (bn.spatial) {
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
            for (int64_t nc = 0; nc < n * ch; nc++)
                nm_affine(x->data, y->data, dt, nc * sp, sp, a[nc % ch], b[nc % ch]);
        } else {
            /* one parameter per activation: the folded a, b act as a per-element scale and bias */
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
            for (int64_t i = 0; i < n; i++)
                nm_affine_vec(x->data, y->data, dt, i * p, p, 0.0, 1.0, a, b);
        }
    }
    if (bn.training) {
        /* ONNX momentum weighs the old value: running = running * momentum + batch * (1 - momentum)
         * (PyTorch's momentum is the complement). */
        onnxc_tensor *o;
        if ((o = nm_out(c, 1)))
            for (int64_t j = 0; j < p; j++)
                nm_st(o->data, o->dtype, j, nm_ld(tm->data, tm->dtype, j) * momentum + bmean[j] * (1.0 - momentum));
        if ((o = nm_out(c, 2)))
            for (int64_t j = 0; j < p; j++)
                nm_st(o->data, o->dtype, j, nm_ld(tv->data, tv->dtype, j) * momentum + bvar[j] * (1.0 - momentum));
        /* BatchNormalization-1..9 saved_mean / saved_var: the batch statistics as the spec names them
         * (ONNX Runtime writes the inverse standard deviation into saved_var instead). */
        if ((o = nm_out(c, 3)))
            for (int64_t j = 0; j < p; j++)
                nm_st(o->data, o->dtype, j, bmean[j]);
        if ((o = nm_out(c, 4)))
            for (int64_t j = 0; j < p; j++)
                nm_st(o->data, o->dtype, j, bvar[j]);
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- InstanceNormalization */

static onnxc_status nm_in_infer(oc_kctx *c)
{
    static const char *const names[] = {"input", "scale", "B"};
    if (c->n_in < 3)
        return oc_kerr(c, ONNXC_E_INVALID, "InstanceNormalization needs 3 inputs (input, scale, B), got %d",
                       c->n_in);
    onnxc_status st = nm_need_float_inputs(c, 3, names);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0];
    char buf[128];
    int64_t sp;
    if (x->rank < 2 || !nm_span(x, 2, x->rank, &sp))
        return oc_kerr(c, ONNXC_E_INVALID, "input has shape %s; N x C x D1 x ... expected",
                       oc_dims_str(x->dims, x->rank, buf, sizeof buf));
    for (int i = 1; i < 3; i++) {
        const onnxc_tensor *t = c->in[i];
        int64_t n;
        if (!oc_numel(t->dims, t->rank, &n) || n != x->dims[1])
            return oc_kerr(c, ONNXC_E_INVALID, "input %s has shape %s; one value per channel (%lld) expected",
                           names[i], oc_dims_str(t->dims, t->rank, buf, sizeof buf), (long long)x->dims[1]);
    }
    if (!c->out[0])
        return ONNXC_OK;
    return oc_set_shape(c->out[0], x->dtype, x->rank, x->dims);
}

static onnxc_status nm_in_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0], *ts = c->in[1], *tb = c->in[2];
    onnxc_tensor *y = nm_out(c, 0);
    if (!y)
        return ONNXC_OK;
    int64_t n = x->dims[0], ch = x->dims[1], sp = 1;
    nm_span(x, 2, x->rank, &sp);
    double eps = oc_attr_float(c->node, "epsilon", 1e-5f);
    int nt = n * ch * sp >= NM_PAR_MIN ? c->threads : 1;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(dynamic, 1)
    for (int64_t nc = 0; nc < n * ch; nc++) {
        double mean, var;
        int64_t k = nc % ch;
        nm_stats(x->data, x->dtype, nc * sp, 1, 0, sp, &mean, &var);
        double a = nm_ld(ts->data, ts->dtype, k) / sqrt(var + eps);
        nm_affine(x->data, y->data, x->dtype, nc * sp, sp, a, nm_ld(tb->data, tb->dtype, k) - mean * a);
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- LayerNormalization */

/* Scale (and B) must broadcast unidirectionally to X.shape[axis:]. */
static onnxc_status nm_ln_check_param(const oc_kctx *c, const onnxc_tensor *t, const char *what, int axis)
{
    const onnxc_tensor *x = c->in[0];
    int nr = x->rank - axis;
    bool ok = t->rank <= nr;
    for (int i = 0; ok && i < t->rank; i++) {
        int64_t d = t->dims[t->rank - 1 - i], want = x->dims[x->rank - 1 - i];
        if (d != want && d != 1)
            ok = false;
    }
    if (!ok) {
        char b1[128], b2[128];
        return oc_kerr(c, ONNXC_E_INVALID, "input %s has shape %s, which does not broadcast to the normalized "
                       "shape %s (axis %d)", what, oc_dims_str(t->dims, t->rank, b1, sizeof b1),
                       oc_dims_str(x->dims + axis, nr, b2, sizeof b2), axis);
    }
    return nm_check_float(c, t, what);
}

static onnxc_status nm_ln_axis(const oc_kctx *c, int *axis)
{
    return oc_norm_axis(c, oc_attr_int(c->node, "axis", -1), c->in[0]->rank, axis);
}

static onnxc_status nm_ln_infer(oc_kctx *c)
{
    if (c->n_in < 2 || !c->in[0] || !c->in[1])
        return oc_kerr(c, ONNXC_E_INVALID, "LayerNormalization needs inputs X and Scale");
    const onnxc_tensor *x = c->in[0];
    onnxc_status st = nm_check_float(c, x, "X");
    if (st != ONNXC_OK)
        return st;
    if (x->rank < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "input X is a scalar; rank >= 1 expected");
    int axis;
    if ((st = nm_ln_axis(c, &axis)) != ONNXC_OK)
        return st;
    if ((st = nm_ln_check_param(c, c->in[1], "Scale", axis)) != ONNXC_OK)
        return st;
    if (nm_in(c, 2) && (st = nm_ln_check_param(c, c->in[2], "B", axis)) != ONNXC_OK)
        return st;
    int64_t len;
    char buf[128];
    if (!nm_span(x, axis, x->rank, &len) || !nm_span(x, 0, axis, &(int64_t){0}))
        return oc_kerr(c, ONNXC_E_INVALID, "input X has bad dims %s", oc_dims_str(x->dims, x->rank, buf, sizeof buf));
    if (nm_out(c, 0) && (st = oc_set_shape(c->out[0], x->dtype, x->rank, x->dims)) != ONNXC_OK)
        return st;
    /* Mean and InvStdDev: type U given by stash_type (default float), shape X.shape[:axis] + [1, ...]. */
    int64_t stash = oc_attr_int(c->node, "stash_type", ONNXC_FLOAT);
    if ((nm_out(c, 1) || nm_out(c, 2)) && !nm_is_float((int32_t)stash))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "stash_type %lld is not a floating-point type", (long long)stash);
    int64_t rdims[ONNXC_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
        rdims[i] = i < axis ? x->dims[i] : 1;
    for (int i = 1; i < 3; i++)
        if (nm_out(c, i) && (st = oc_set_shape(c->out[i], (int32_t)stash, x->rank, rdims)) != ONNXC_OK)
            return st;
    if (c->n_out > 3)
        return oc_kerr(c, ONNXC_E_INVALID, "too many outputs (%d)", c->n_out);
    /* scale and bias expanded to the normalized shape */
    if (!nm_scratch_doubles(c, len * 2))
        return oc_kerr(c, ONNXC_E_NOMEM, "scratch size overflows");
    return ONNXC_OK;
}

/* Expand t (broadcastable to dims[0..rank)) into dst of numel(dims) doubles; NULL t gives dflt. */
static void nm_expand(const onnxc_tensor *t, int rank, const int64_t *dims, int64_t len, double *dst, double dflt)
{
    if (!t) {
        nm_load(NULL, dst, len, dflt);
        return;
    }
    int64_t tn = 1;
    oc_numel(t->dims, t->rank, &tn);
    if (tn == len) {
        nm_load(t, dst, len, dflt);
        return;
    }
    int64_t st[ONNXC_MAX_RANK], idx[ONNXC_MAX_RANK] = {0};
    oc_broadcast_strides(t, rank, dims, st);
    int64_t src = 0;
    for (int64_t i = 0; i < len; i++) {
        dst[i] = nm_ld(t->data, t->dtype, src);
        for (int d = rank - 1; d >= 0; d--) {
            src += st[d];
            if (++idx[d] < dims[d])
                break;
            src -= st[d] * dims[d];
            idx[d] = 0;
        }
    }
}

static onnxc_status nm_ln_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    int axis;
    onnxc_status st = nm_ln_axis(c, &axis);
    if (st != ONNXC_OK)
        return st;
    int64_t rows = 1, len = 1;
    nm_span(x, 0, axis, &rows);
    nm_span(x, axis, x->rank, &len);
    double eps = oc_attr_float(c->node, "epsilon", 1e-5f);
    double *s = (double *)c->scratch, *b = s + len;
    nm_expand(c->in[1], x->rank - axis, x->dims + axis, len, s, 1.0);
    nm_expand(nm_in(c, 2), x->rank - axis, x->dims + axis, len, b, 0.0);
    onnxc_tensor *y = nm_out(c, 0), *om = nm_out(c, 1), *oi = nm_out(c, 2);
    int nt = rows * len >= NM_PAR_MIN && rows > 1 ? c->threads : 1;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        double mean, var;
        nm_stats(x->data, x->dtype, r * len, 1, 0, len, &mean, &var);
        double inv = 1.0 / sqrt(var + eps);
        if (y)
            nm_affine_vec(x->data, y->data, x->dtype, r * len, len, mean, inv, s, b);
        if (om)
            nm_st(om->data, om->dtype, r, mean);
        if (oi)
            nm_st(oi->data, oi->dtype, r, inv);
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- GroupNormalization */

/* GroupNormalization-18 has one scale/bias per group ([G]); GroupNormalization-21 one per channel ([C]). */
static bool nm_gn_per_channel(const oc_kctx *c) { return c->opset >= 21; }

static onnxc_status nm_gn_infer(oc_kctx *c)
{
    static const char *const names[] = {"X", "scale", "bias"};
    if (c->n_in < 3)
        return oc_kerr(c, ONNXC_E_INVALID, "GroupNormalization needs 3 inputs (X, scale, bias), got %d", c->n_in);
    onnxc_status st = nm_need_float_inputs(c, 3, names);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0];
    char buf[128];
    int64_t sp;
    if (x->rank < 2 || !nm_span(x, 2, x->rank, &sp))
        return oc_kerr(c, ONNXC_E_INVALID, "input X has shape %s; N x C x D1 x ... expected",
                       oc_dims_str(x->dims, x->rank, buf, sizeof buf));
    const oc_attr *ga = oc_node_attr(c->node, "num_groups");
    if (!ga || ga->type != OC_ATTR_INT)
        return oc_kerr(c, ONNXC_E_INVALID, "integer attribute num_groups is missing");
    int64_t g = ga->i, ch = x->dims[1];
    if (g <= 0)
        return oc_kerr(c, ONNXC_E_INVALID, "num_groups is %lld; it must be positive", (long long)g);
    if (ch % g != 0)
        return oc_kerr(c, ONNXC_E_INVALID, "%lld channels cannot be split into num_groups=%lld equal groups", (long long)ch,
                       (long long)g);
    int64_t want = nm_gn_per_channel(c) ? ch : g;
    for (int i = 1; i < 3; i++) {
        const onnxc_tensor *t = c->in[i];
        int64_t n;
        if (!oc_numel(t->dims, t->rank, &n) || n != want)
            return oc_kerr(c, ONNXC_E_INVALID, "input %s has shape %s; GroupNormalization-%d expects one value per "
                           "%s (%lld)%s", names[i], oc_dims_str(t->dims, t->rank, buf, sizeof buf),
                           nm_gn_per_channel(c) ? 21 : 18, nm_gn_per_channel(c) ? "channel" : "group",
                           (long long)want,
                           nm_gn_per_channel(c) ? "" : " (per-channel values need opset 21)");
    }
    if (!c->out[0])
        return ONNXC_OK;
    return oc_set_shape(c->out[0], x->dtype, x->rank, x->dims);
}

static onnxc_status nm_gn_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0], *ts = c->in[1], *tb = c->in[2];
    onnxc_tensor *y = nm_out(c, 0);
    if (!y)
        return ONNXC_OK;
    int64_t n = x->dims[0], ch = x->dims[1], sp = 1;
    nm_span(x, 2, x->rank, &sp);
    int64_t g = oc_attr_int(c->node, "num_groups", 1);
    int64_t cg = ch / g, glen = cg * sp;
    bool per_channel = nm_gn_per_channel(c);
    double eps = oc_attr_float(c->node, "epsilon", 1e-5f);
    int nt = n * ch * sp >= NM_PAR_MIN ? c->threads : 1;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(dynamic, 1)
    for (int64_t ng = 0; ng < n * g; ng++) {
        double mean, var;
        int64_t gi = ng % g;
        nm_stats(x->data, x->dtype, ng * glen, 1, 0, glen, &mean, &var);
        double inv = 1.0 / sqrt(var + eps);
        for (int64_t k = 0; k < cg; k++) {
            int64_t pi = per_channel ? gi * cg + k : gi;
            double a = nm_ld(ts->data, ts->dtype, pi) * inv;
            nm_affine(x->data, y->data, x->dtype, ng * glen + k * sp, sp, a,
                      nm_ld(tb->data, tb->dtype, pi) - mean * a);
        }
    }
    return ONNXC_OK;
}

const oc_kernel oc_kernels_norm[] = {
    {"BatchNormalization", NULL, 1, 0, 0, nm_bn_infer, NULL, nm_bn_run, NULL, 0},
    {"InstanceNormalization", NULL, 1, 0, 0, nm_in_infer, NULL, nm_in_run, NULL, 0},
    {"LayerNormalization", NULL, 17, 0, 0, nm_ln_infer, NULL, nm_ln_run, NULL, 0},
    {"GroupNormalization", NULL, 18, 0, 0, nm_gn_infer, NULL, nm_gn_run, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
