/* Normalization kernels: BatchNormalization (opsets 1-15, inference and training), InstanceNormalization,
 * LayerNormalization-17 and GroupNormalization-18/21. Statistics accumulate in double (one pass over a float
 * plane, row or group: shifted sums, nm_stats1_f32; two passes otherwise); work is
 * split over the session's pool by whole rows, channels or groups, so no sum depends on the thread count. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include "act.h"
#include "kernel.h"
#include "kutil.h"

/* Partial sums a float segment's statistics keep: a single running double sum is bound by the add latency and
 * cannot be vectorized (reordering it is not allowed), NM_LANES independent ones are as fast as the loads.
 * Element i always goes to lane i % NM_LANES of its segment and the lanes are combined in one fixed order, so
 * the result depends on the data alone. */
#define NM_LANES 8

/* The lanes combined pairwise, in a fixed order. */
static inline double nm_lanes_total(const double *acc)
{
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* Sum of len floats, in double. */
static double nm_sum_f32(const float *p, int64_t len)
{
    double acc[NM_LANES] = {0};
    int64_t i = 0;
    for (; i + NM_LANES <= len; i += NM_LANES)
        for (int l = 0; l < NM_LANES; l++)
            acc[l] += p[i + l];
    for (int l = 0; i < len; i++, l++)
        acc[l] += p[i];
    return nm_lanes_total(acc);
}

/* Sum of (p[i] - m)^2 over len floats, in double. */
static double nm_sqdev_f32(const float *p, int64_t len, double m)
{
    double acc[NM_LANES] = {0};
    int64_t i = 0;
    for (; i + NM_LANES <= len; i += NM_LANES)
        for (int l = 0; l < NM_LANES; l++) {
            double d = p[i + l] - m;
            acc[l] += d * d;
        }
    for (int l = 0; i < len; i++, l++) {
        double d = p[i] - m;
        acc[l] += d * d;
    }
    return nm_lanes_total(acc);
}

/* Mean and population variance of len floats in one pass over memory: sums of d = x - x[0] and of d^2 in
 * double, NM_LANES lanes each (the shift by the first element keeps E[d^2] - E[d]^2 from cancelling: the mean of
 * d is within the data's spread of 0). Lanes as in nm_sum_f32, so the result depends on the data alone. */
static void nm_stats1_f32(const float *p, int64_t len, double *mean, double *var)
{
    const double k = p[0];
    double s1[NM_LANES] = {0}, s2[NM_LANES] = {0};
    int64_t i = 0;
#if defined(__AVX2__) && defined(__FMA__)
    {
        const __m256d vk = _mm256_set1_pd(k);
        __m256d a0 = _mm256_setzero_pd(), a1 = a0, q0 = a0, q1 = a0;
        for (; i + NM_LANES <= len; i += NM_LANES) {
            const __m256 v = _mm256_loadu_ps(p + i);
            const __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), vk);
            const __m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), vk);
            a0 = _mm256_add_pd(a0, d0);
            a1 = _mm256_add_pd(a1, d1);
            q0 = _mm256_fmadd_pd(d0, d0, q0);
            q1 = _mm256_fmadd_pd(d1, d1, q1);
        }
        _mm256_storeu_pd(s1, a0);
        _mm256_storeu_pd(s1 + 4, a1);
        _mm256_storeu_pd(s2, q0);
        _mm256_storeu_pd(s2 + 4, q1);
    }
#else
    for (; i + NM_LANES <= len; i += NM_LANES)
        for (int l = 0; l < NM_LANES; l++) {
            const double d = p[i + l] - k;
            s1[l] += d;
            s2[l] += d * d;
        }
#endif
    for (int l = 0; i < len; i++, l++) {
        const double d = p[i] - k;
        s1[l] += d;
        s2[l] += d * d;
    }
    const double m = nm_lanes_total(s1) / (double)len, v = nm_lanes_total(s2) / (double)len - m * m;
    *mean = k + m;
    *var = v > 0 ? v : 0;
}

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
    if (dt == ONNXC_FLOAT && nseg == 1) { /* one plane, row or group: one pass */
        nm_stats1_f32((const float *)x + off, len, mean, var);
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

/* BatchNormalization's split loops: batch statistics per parameter, then the folded affine per plane (or,
 * spatial=0, per sample). */
typedef struct nm_bn_job {
    const nm_bn *bn;
    const onnxc_tensor *x;
    onnxc_tensor *y;
    const double *a, *b;
    double *bmean, *bvar;
    const oc_kctx *c; /* its fused epilogue (float, spatial inference only), or NULL */
    bool f32;         /* float, spatial inference: nm_bn_plane_f32 */
} nm_bn_job;

/* One float plane of channel ch in inference, with the fused epilogue of c (plan_fuse.c) when c is set: y = x *
 * a + b in float (a, b the folded double affine rounded to float, a product then a sum: the operations a Conv
 * that takes this BatchNormalization into its input read repeats, conv.c's fill_pointwise_bn), + the residual
 * (as Add), clamped (as Relu / Clip in a Conv's epilogue), then the activation (act.h, the standalone ops'
 * code): the unfused chain's bits, in one pass over memory. */
static void nm_bn_plane_f32(const oc_kctx *c, const float *x, float *y, const float *res, int64_t len, int64_t ch,
                            float a, float b)
{
    const bool clamp = c && c->fuse_clamp;
    const float lo = clamp ? c->fuse_lo : 0.0f, hi = clamp ? c->fuse_hi : 0.0f;
    if (res) {
        for (int64_t i = 0; i < len; i++) {
            float v = x[i] * a + b;
            v += res[i];
            if (clamp) {
                v = v < lo ? lo : v;
                v = v > hi ? hi : v;
            }
            y[i] = v;
        }
    } else {
        oc_bn_span(x, a, b, clamp, lo, hi, y, len);
    }
    if (c && c->fuse_act != OC_ACT_NONE) {
        const float slope = !c->fuse_slope ? 0.0f : c->fuse_slope_n > 1 ? c->fuse_slope[ch] : c->fuse_slope[0];
        oc_act_span(c->fuse_act, c->fuse_alpha, c->fuse_beta, slope, y, len);
    }
}

static void nm_bn_stats_items(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const nm_bn_job *j = arg;
    const nm_bn *bn = j->bn;
    int64_t stride = bn->ch * bn->sp;
    for (int64_t k = lo; k < hi; k++) {
        if (bn->spatial)
            nm_stats(j->x->data, j->x->dtype, k * bn->sp, bn->n, stride, bn->sp, &j->bmean[k], &j->bvar[k]);
        else
            nm_stats(j->x->data, j->x->dtype, k, bn->n, stride, 1, &j->bmean[k], &j->bvar[k]);
    }
}

static void nm_bn_apply_items(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const nm_bn_job *j = arg;
    const nm_bn *bn = j->bn;
    for (int64_t i = lo; i < hi; i++) {
        if (j->f32) {
            const int64_t ch = i % bn->ch, off = i * bn->sp;
            nm_bn_plane_f32(j->c, (const float *)j->x->data + off, (float *)j->y->data + off,
                            j->c && j->c->fuse_res ? (const float *)j->c->fuse_res->data + off : NULL, bn->sp, ch,
                            (float)j->a[ch], (float)j->b[ch]);
        } else if (bn->spatial)
            nm_affine(j->x->data, j->y->data, j->x->dtype, i * bn->sp, bn->sp, j->a[i % bn->ch], j->b[i % bn->ch]);
        else /* one parameter per activation: the folded a, b act as a per-element scale and bias */
            nm_affine_vec(j->x->data, j->y->data, j->x->dtype, i * bn->p, bn->p, 0.0, 1.0, j->a, j->b);
    }
}

static onnxc_status nm_bn_run(oc_kctx *c)
{
    nm_bn bn;
    onnxc_status st = nm_bn_layout(c, &bn);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0];
    onnxc_tensor *y = nm_out(c, 0);
    const int64_t p = bn.p, n = bn.n, ch = bn.ch, sp = bn.sp;
    double eps = oc_attr_float(c->node, "epsilon", 1e-5f);
    double momentum = oc_attr_float(c->node, "momentum", 0.9f);
    double *a = (double *)c->scratch, *b = a + p;
    double *bmean = NULL, *bvar = NULL;
    int64_t total = n * ch * sp;
    nm_bn_job job = {&bn, x, y, a, b, NULL, NULL, NULL, false};
    job.f32 = !bn.training && bn.spatial && x->dtype == ONNXC_FLOAT && y && y->dtype == ONNXC_FLOAT;
    if (c->accepts_epilogue && y &&
        (c->fuse_res || c->fuse_clamp || c->fuse_act != OC_ACT_NONE)) /* set by nm_bn_prepare: float, spatial */
        job.c = c;

    if (bn.training) {
        /* Batch statistics (population variance, as the ONNX reference's x.var()): per channel over N and
         * the spatial dims, or with spatial=0 per activation over N alone. */
        job.bmean = bmean = b + p;
        job.bvar = bvar = bmean + p;
        oc_par_for(c->pool, p, 2 * total, nm_bn_stats_items, &job);
    }
    const onnxc_tensor *ts = c->in[1], *tb = c->in[2], *tm = c->in[3], *tv = c->in[4];
    for (int64_t j = 0; j < p; j++) {
        double mean = bn.training ? bmean[j] : nm_ld(tm->data, tm->dtype, j);
        double var = bn.training ? bvar[j] : nm_ld(tv->data, tv->dtype, j);
        double inv = 1.0 / sqrt(var + eps);
        a[j] = nm_ld(ts->data, ts->dtype, j) * inv;
        b[j] = nm_ld(tb->data, tb->dtype, j) - mean * a[j];
    }
    if (y)
        oc_par_for(c->pool, bn.spatial ? n * ch : n, total, nm_bn_apply_items, &job);
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

/* Inference over float planes lets the planner fuse what follows (a residual Add, Relu / Clip, an activation)
 * into the pass that writes Y (nm_bn_plane_fused). */
static onnxc_status nm_bn_prepare(oc_kctx *c)
{
    nm_bn bn;
    onnxc_status st = nm_bn_layout(c, &bn);
    if (st != ONNXC_OK)
        return st;
    c->accepts_epilogue = !bn.training && bn.spatial && c->in[0]->dtype == ONNXC_FLOAT;
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

/* InstanceNormalization's split loop: planes [lo, hi), each normalized on its own. */
typedef struct nm_in_job {
    const onnxc_tensor *x, *ts, *tb;
    onnxc_tensor *y;
    int64_t ch, sp;
    double eps;
} nm_in_job;

static void nm_in_planes(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const nm_in_job *j = arg;
    const onnxc_tensor *x = j->x;
    for (int64_t nc = lo; nc < hi; nc++) {
        double mean, var;
        int64_t k = nc % j->ch;
        nm_stats(x->data, x->dtype, nc * j->sp, 1, 0, j->sp, &mean, &var);
        double a = nm_ld(j->ts->data, j->ts->dtype, k) / sqrt(var + j->eps);
        nm_affine(x->data, j->y->data, x->dtype, nc * j->sp, j->sp, a, nm_ld(j->tb->data, j->tb->dtype, k) - mean * a);
    }
}

static onnxc_status nm_in_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    onnxc_tensor *y = nm_out(c, 0);
    if (!y)
        return ONNXC_OK;
    int64_t n = x->dims[0], ch = x->dims[1], sp = 1;
    nm_span(x, 2, x->rank, &sp);
    nm_in_job j = {x, c->in[1], c->in[2], y, ch, sp, oc_attr_float(c->node, "epsilon", 1e-5f)};
    oc_par_for(c->pool, n * ch, 3 * n * ch * sp, nm_in_planes, &j);
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

/* LayerNormalization's split loop: rows [lo, hi) of len elements, with Mean and InvStdDev when asked for. */
typedef struct nm_ln_job {
    const onnxc_tensor *x;
    onnxc_tensor *y, *om, *oi;
    const double *s, *b;
    int64_t len;
    double eps;
} nm_ln_job;

static void nm_ln_rows(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const nm_ln_job *j = arg;
    const onnxc_tensor *x = j->x;
    for (int64_t r = lo; r < hi; r++) {
        double mean, var;
        nm_stats(x->data, x->dtype, r * j->len, 1, 0, j->len, &mean, &var);
        double inv = 1.0 / sqrt(var + j->eps);
        if (j->y)
            nm_affine_vec(x->data, j->y->data, x->dtype, r * j->len, j->len, mean, inv, j->s, j->b);
        if (j->om)
            nm_st(j->om->data, j->om->dtype, r, mean);
        if (j->oi)
            nm_st(j->oi->data, j->oi->dtype, r, inv);
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
    nm_ln_job j = {x, nm_out(c, 0), nm_out(c, 1), nm_out(c, 2), s, b, len, eps};
    oc_par_for(c->pool, rows, 3 * rows * len, nm_ln_rows, &j);
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
    /* each (sample, group)'s mean and 1 / stddev, computed before the channels are normalized */
    int64_t ng;
    if (!oc_mul_i64(x->dims[0], g, &ng) || !nm_scratch_doubles(c, 2 * ng))
        return oc_kerr(c, ONNXC_E_NOMEM, "scratch size overflows");
    if (!c->out[0])
        return ONNXC_OK;
    return oc_set_shape(c->out[0], x->dtype, x->rank, x->dims);
}

/* GroupNormalization's split loops: statistics per (sample, group), then each (sample, channel) plane
 * normalized with its group's; two loops so the planes, many more than the groups, balance the threads. */
typedef struct nm_gn_job {
    const onnxc_tensor *x, *ts, *tb;
    onnxc_tensor *y;
    int64_t g, ch, cg, sp;
    bool per_channel;
    double eps;
    double *mean, *inv; /* [n * g] */
} nm_gn_job;

static void nm_gn_stats_items(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const nm_gn_job *j = arg;
    const int64_t glen = j->cg * j->sp;
    for (int64_t ng = lo; ng < hi; ng++) {
        double var;
        nm_stats(j->x->data, j->x->dtype, ng * glen, 1, 0, glen, &j->mean[ng], &var);
        j->inv[ng] = 1.0 / sqrt(var + j->eps);
    }
}

static void nm_gn_apply_items(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const nm_gn_job *j = arg;
    for (int64_t nc = lo; nc < hi; nc++) {
        int64_t k = nc % j->ch, ng = nc / j->ch * j->g + k / j->cg;
        int64_t pi = j->per_channel ? k : k / j->cg;
        double a = nm_ld(j->ts->data, j->ts->dtype, pi) * j->inv[ng];
        nm_affine(j->x->data, j->y->data, j->x->dtype, nc * j->sp, j->sp, a,
                  nm_ld(j->tb->data, j->tb->dtype, pi) - j->mean[ng] * a);
    }
}

static onnxc_status nm_gn_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    onnxc_tensor *y = nm_out(c, 0);
    if (!y)
        return ONNXC_OK;
    int64_t n = x->dims[0], ch = x->dims[1], sp = 1;
    nm_span(x, 2, x->rank, &sp);
    int64_t g = oc_attr_int(c->node, "num_groups", 1);
    if ((size_t)(2 * n * g) * sizeof(double) > c->scratch_size)
        return oc_kerr(c, ONNXC_E_RUNTIME, "scratch memory smaller than planned");
    nm_gn_job j = {x, c->in[1], c->in[2], y, g, ch, ch / g, sp, nm_gn_per_channel(c),
                   oc_attr_float(c->node, "epsilon", 1e-5f), (double *)c->scratch, (double *)c->scratch + n * g};
    int64_t total = n * ch * sp;
    oc_par_for(c->pool, n * g, 2 * total, nm_gn_stats_items, &j);
    oc_par_for(c->pool, n * ch, total, nm_gn_apply_items, &j);
    return ONNXC_OK;
}

const oc_kernel oc_kernels_norm[] = {
    {"BatchNormalization", NULL, 1, 0, 0, nm_bn_infer, nm_bn_prepare, nm_bn_run, NULL, 0},
    {"InstanceNormalization", NULL, 1, 0, 0, nm_in_infer, NULL, nm_in_run, NULL, 0},
    {"LayerNormalization", NULL, 17, 0, 0, nm_ln_infer, NULL, nm_ln_run, NULL, 0},
    {"GroupNormalization", NULL, 18, 0, 0, nm_gn_infer, NULL, nm_gn_run, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
