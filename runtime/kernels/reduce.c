/* Ops that reduce along axes: Softmax, LogSoftmax, Hardmax, the Reduce* family and ArgMax/ArgMin.
 * Sums accumulate in double (int64 for integer tensors) so long reductions stay accurate. */
#include <math.h>
#include <string.h>

#include "kutil.h"
#include "vmath.h"

/* ---- Softmax, LogSoftmax, Hardmax ----
 * Before opset 13 the input is coerced to 2D at axis (default 1) and the op runs over the flattened trailing
 * block; from opset 13 it runs along the single axis (default -1). Either way the work is outer x len x inner. */
typedef enum oc_smkind { OC_SM_SOFTMAX, OC_SM_LOGSOFTMAX, OC_SM_HARDMAX } oc_smkind;

typedef struct oc_smshape {
    int64_t outer, len, inner;
} oc_smshape;

static onnxc_status oc_sm_shape(const oc_kctx *c, const onnxc_tensor *x, oc_smshape *s)
{
    bool legacy = c->opset < 13;
    int64_t axis = oc_attr_int(c->node, "axis", legacy ? 1 : -1);
    int r = x->rank;
    if (r == 0) {
        /* a scalar is a single-element row */
        s->outer = s->len = s->inner = 1;
        return ONNXC_OK;
    }
    int ax;
    onnxc_status st;
    if (legacy && (axis == r || axis == -r - 1)) {
        ax = r; /* the 2D coercion allows axis == rank: every dim goes to the outer part */
    } else if ((st = oc_norm_axis(c, axis, r, &ax)) != ONNXC_OK) {
        return st;
    }
    s->outer = s->len = s->inner = 1;
    for (int i = 0; i < ax; i++)
        s->outer *= x->dims[i];
    if (legacy) {
        for (int i = ax; i < r; i++)
            s->len *= x->dims[i];
    } else {
        s->len = x->dims[ax];
        for (int i = ax + 1; i < r; i++)
            s->inner *= x->dims[i];
    }
    return ONNXC_OK;
}

static onnxc_status oc_sm_infer(oc_kctx *c)
{
    if (c->n_in < 1 || !c->in[0] || c->n_out < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "needs an input and an output");
    const onnxc_tensor *x = c->in[0];
    if (!oc_dtype_is_float(x->dtype))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "element type %s is not supported", onnxc_dtype_name(x->dtype));
    oc_smshape s;
    onnxc_status st = oc_sm_shape(c, x, &s);
    if (st != ONNXC_OK || !c->out[0])
        return st;
    st = oc_set_shape(c->out[0], x->dtype, x->rank, x->dims);
    return st == ONNXC_OK ? st : oc_kerr(c, st, "%s", onnxc_last_error());
}

/* Max of a contiguous row in 8 lanes: `a > b ? a : b` per lane maps onto vmaxps, so GCC vectorizes it without
 * -ffast-math (NaNs are skipped, as in the strided loop). */
static float oc_row_max_f32(const float *x, int64_t n)
{
    float m8[8];
    for (int l = 0; l < 8; l++)
        m8[l] = -INFINITY;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++)
            m8[l] = x[i + l] > m8[l] ? x[i + l] : m8[l];
    float m = -INFINITY;
    for (; i < n; i++)
        m = x[i] > m ? x[i] : m;
    for (int l = 0; l < 8; l++)
        m = m8[l] > m ? m8[l] : m;
    return m;
}

/* Sum of a contiguous float row in double, 4 lanes so the conversions and adds vectorize. */
static double oc_row_sum_f32(const float *x, int64_t n)
{
    double s4[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int l = 0; l < 4; l++)
            s4[l] += (double)x[i + l];
    double s = 0;
    for (; i < n; i++)
        s += x[i];
    return s + (s4[0] + s4[1]) + (s4[2] + s4[3]);
}

/* One row of len elements at stride st (float32). */
static void oc_sm_row_f32(oc_smkind k, const float *x, float *y, int64_t len, int64_t st)
{
    float m = -INFINITY;
    int64_t arg = 0;
    if (k == OC_SM_HARDMAX) {
        for (int64_t i = 0; i < len; i++) {
            if (x[i * st] > m) {
                m = x[i * st];
                arg = i;
            }
        }
        for (int64_t i = 0; i < len; i++)
            y[i * st] = i == arg ? 1.0f : 0.0f;
        return;
    }
    if (st == 1) {
        m = oc_row_max_f32(x, len);
    } else {
        for (int64_t i = 0; i < len; i++)
            m = x[i * st] > m ? x[i * st] : m;
    }
    if (isinf(m) && m < 0)
        m = 0; /* every element is -inf: keep x - m from becoming NaN */
    double sum = 0;
    if (st == 1) {
        /* exp into y first so the exp loop vectorizes, then the sum */
        for (int64_t i = 0; i < len; i++)
            y[i] = x[i] - m;
        oc_vm_exp(y, y, len);
        sum = oc_row_sum_f32(y, len);
        if (k == OC_SM_SOFTMAX) {
            float inv = (float)(1.0 / sum);
            for (int64_t i = 0; i < len; i++)
                y[i] *= inv;
        } else {
            /* (x - m) - log(sum), not x - (m + log(sum)): the latter loses log(sum) next to a huge m */
            float ls = (float)log(sum);
            for (int64_t i = 0; i < len; i++)
                y[i] = (x[i] - m) - ls;
        }
        return;
    }
    for (int64_t i = 0; i < len; i++) {
        float e = oc_fast_expf(x[i * st] - m);
        if (k == OC_SM_SOFTMAX)
            y[i * st] = e;
        sum += e;
    }
    if (k == OC_SM_SOFTMAX) {
        float inv = (float)(1.0 / sum);
        for (int64_t i = 0; i < len; i++)
            y[i * st] *= inv;
    } else {
        float ls = (float)log(sum);
        for (int64_t i = 0; i < len; i++)
            y[i * st] = (x[i * st] - m) - ls;
    }
}

/* The same through double for double, float16 and bfloat16 data (element offset base, stride st). */
static void oc_sm_row_gen(oc_smkind k, int32_t dt, const void *x, void *y, int64_t base, int64_t len, int64_t st)
{
    double m = -INFINITY;
    int64_t arg = 0;
    for (int64_t i = 0; i < len; i++) {
        double v = oc_load_f64(dt, x, base + i * st);
        if (v > m) {
            m = v;
            arg = i;
        }
    }
    if (k == OC_SM_HARDMAX) {
        for (int64_t i = 0; i < len; i++)
            oc_store_f64(dt, y, base + i * st, i == arg ? 1.0 : 0.0);
        return;
    }
    if (isinf(m) && m < 0)
        m = 0;
    double sum = 0;
    for (int64_t i = 0; i < len; i++)
        sum += exp(oc_load_f64(dt, x, base + i * st) - m);
    double ls = log(sum);
    for (int64_t i = 0; i < len; i++) {
        double v = oc_load_f64(dt, x, base + i * st);
        oc_store_f64(dt, y, base + i * st, k == OC_SM_SOFTMAX ? exp(v - m) / sum : (v - m) - ls);
    }
}

/* Rows [lo, hi) of a Softmax-family node: row r is position r % inner of block r / inner, its len elements
 * inner apart. */
typedef struct oc_sm_job {
    oc_smkind k;
    const onnxc_tensor *x;
    onnxc_tensor *y;
    oc_smshape s;
} oc_sm_job;

static void oc_sm_rows(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const oc_sm_job *j = arg;
    const onnxc_tensor *x = j->x;
    for (int64_t r = lo; r < hi; r++) {
        int64_t o = r / j->s.inner, i = r % j->s.inner;
        int64_t base = o * j->s.len * j->s.inner + i;
        if (x->dtype == ONNXC_FLOAT)
            oc_sm_row_f32(j->k, (const float *)x->data + base, (float *)j->y->data + base, j->s.len, j->s.inner);
        else
            oc_sm_row_gen(j->k, x->dtype, x->data, j->y->data, base, j->s.len, j->s.inner);
    }
}

static onnxc_status oc_sm_run(oc_kctx *c, oc_smkind k)
{
    const onnxc_tensor *x = c->in[0];
    onnxc_tensor *y = c->out[0];
    if (!y)
        return ONNXC_OK;
    oc_smshape s;
    onnxc_status st = oc_sm_shape(c, x, &s);
    if (st != ONNXC_OK)
        return st;
    int64_t rows = s.outer * s.inner;
    if (rows == 0 || s.len == 0)
        return ONNXC_OK;
    /* exp and log make an element cost several of a copy */
    oc_sm_job j = {k, x, y, s};
    oc_par_for(c->pool, rows, 4 * rows * s.len, oc_sm_rows, &j);
    return ONNXC_OK;
}

static onnxc_status oc_infer_softmax(oc_kctx *c) { return oc_sm_infer(c); }
static onnxc_status oc_run_softmax(oc_kctx *c) { return oc_sm_run(c, OC_SM_SOFTMAX); }
static onnxc_status oc_infer_logsoftmax(oc_kctx *c) { return oc_sm_infer(c); }
static onnxc_status oc_run_logsoftmax(oc_kctx *c) { return oc_sm_run(c, OC_SM_LOGSOFTMAX); }
static onnxc_status oc_infer_hardmax(oc_kctx *c) { return oc_sm_infer(c); }
static onnxc_status oc_run_hardmax(oc_kctx *c) { return oc_sm_run(c, OC_SM_HARDMAX); }

/* ---- Reduce* ---- */
typedef enum oc_rkind {
    OC_R_SUM, OC_R_MEAN, OC_R_MAX, OC_R_MIN, OC_R_PROD, OC_R_L1, OC_R_L2, OC_R_LOGSUMEXP, OC_R_SUMSQUARE,
    OC_R_LOGSUM
} oc_rkind;

/* The input's dims merged into alternating groups of kept and reduced dims (adjacent dims of the same kind
 * merge: they are one contiguous run), with their element strides. */
typedef struct oc_rplan {
    bool noop;                       /* noop_with_empty_axes and no axes: the output is the input */
    int out_rank;
    int64_t out_dims[ONNXC_MAX_RANK];
    int ng;
    int64_t gdim[ONNXC_MAX_RANK], gstride[ONNXC_MAX_RANK];
    bool gred[ONNXC_MAX_RANK];
    int64_t nout, nred;              /* output elements, elements reduced into each */
} oc_rplan;

/* Axes come from the attribute before ReduceSum-13 / Reduce*-18, from optional input 1 after. */
static onnxc_status oc_red_plan(const oc_kctx *c, bool axes_input, oc_rplan *p)
{
    if (c->n_in < 1 || !c->in[0] || c->n_out < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "needs an input and an output");
    const onnxc_tensor *x = c->in[0];
    int r = x->rank;
    bool keep = oc_attr_int(c->node, "keepdims", 1) != 0;
    bool mask[ONNXC_MAX_RANK] = {false};
    size_t nax = 0;
    const int64_t *ax_attr = NULL;
    const onnxc_tensor *ax_t = NULL;
    if (axes_input) {
        if (c->n_in > 1 && c->in[1]) {
            ax_t = c->in[1];
            if (ax_t->dtype != ONNXC_INT64)
                return oc_kerr(c, ONNXC_E_INVALID, "axes must be int64, not %s", onnxc_dtype_name(ax_t->dtype));
            if (!ax_t->data && onnxc_tensor_numel(ax_t) > 0)
                return oc_kerr(c, ONNXC_E_UNSUPPORTED, "axes are not known when planning");
            nax = (size_t)onnxc_tensor_numel(ax_t);
        }
    } else {
        ax_attr = oc_attr_ints(c->node, "axes", &nax);
    }
    memset(p, 0, sizeof *p);
    if (nax == 0) {
        if (axes_input && oc_attr_int(c->node, "noop_with_empty_axes", 0) != 0)
            p->noop = true;
        for (int i = 0; i < r; i++)
            mask[i] = true;
    }
    for (size_t i = 0; i < nax; i++) {
        int64_t a = ax_t ? ((const int64_t *)ax_t->data)[i] : ax_attr[i];
        int n;
        onnxc_status st = oc_norm_axis(c, a, r, &n);
        if (st != ONNXC_OK)
            return st;
        if (mask[n])
            return oc_kerr(c, ONNXC_E_INVALID, "axis %lld is listed twice", (long long)a);
        mask[n] = true;
    }
    if (p->noop) {
        p->out_rank = r;
        memcpy(p->out_dims, x->dims, sizeof p->out_dims);
        return ONNXC_OK;
    }
    int64_t strides[ONNXC_MAX_RANK];
    oc_strides(r, x->dims, strides);
    p->nout = p->nred = 1;
    for (int i = 0; i < r; i++) {
        int64_t d = x->dims[i];
        if (mask[i]) {
            p->nred *= d;
            if (keep)
                p->out_dims[p->out_rank++] = 1;
        } else {
            p->nout *= d;
            p->out_dims[p->out_rank++] = d;
        }
        if (d == 1)
            continue; /* a size-1 dim changes no offset */
        if (p->ng > 0 && p->gred[p->ng - 1] == mask[i]) {
            p->gdim[p->ng - 1] *= d;
            p->gstride[p->ng - 1] = strides[i];
        } else {
            p->gdim[p->ng] = d;
            p->gstride[p->ng] = strides[i];
            p->gred[p->ng] = mask[i];
            p->ng++;
        }
    }
    return ONNXC_OK;
}

static bool oc_red_type_ok(oc_rkind k, int32_t dt)
{
    if (oc_dtype_is_float(dt))
        return true;
    switch (dt) {
    case ONNXC_INT32: case ONNXC_INT64: case ONNXC_UINT32: case ONNXC_UINT64: return true;
    case ONNXC_INT8: case ONNXC_UINT8: return k == OC_R_MAX || k == OC_R_MIN || k == OC_R_SUM || k == OC_R_PROD;
    default: return false;
    }
}

static onnxc_status oc_red_infer(oc_kctx *c, oc_rkind k, bool axes_input)
{
    oc_rplan p;
    onnxc_status st = oc_red_plan(c, axes_input, &p);
    if (st != ONNXC_OK)
        return st;
    int32_t dt = c->in[0]->dtype;
    if (!oc_red_type_ok(k, dt))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "element type %s is not supported", onnxc_dtype_name(dt));
    if (!c->out[0])
        return ONNXC_OK;
    st = oc_set_shape(c->out[0], dt, p.out_rank, p.out_dims);
    return st == ONNXC_OK ? st : oc_kerr(c, st, "%s", onnxc_last_error());
}

/* Accumulators: s is the running sum/product/extreme, m a shift (LogSumExp's max). */
typedef struct oc_racc {
    double s, m;
    int64_t is;
} oc_racc;

/* Lanes of the contiguous float32 folds: independent partial results the compiler keeps in vector registers
 * (sums in double, as the strided loop), combined in a fixed order, so a result does not depend on the thread
 * count. */
#define OC_RED_LANES 16

/* Sum of contiguous p[0..n) in double: OC_RED_LANES lanes (two vectors of 8), lane l summing p[l], p[l + 16],
 * ..., the lanes then added pairwise (halves lane by lane, four times), then the tail in order. Vector
 * registers throughout (an array of lanes lived on the stack, and sixteen dependent scalar adds were most of a
 * short row's time: MnasNet's mean over 1280 planes of 7 x 7). */
typedef double oc_v8d __attribute__((vector_size(64)));
typedef float oc_v8f __attribute__((vector_size(32)));
static double oc_red_sum_lanes(const float *p, int64_t n)
{
    oc_v8d a0 = {0}, a1 = {0};
    int64_t i = 0;
    for (; i + OC_RED_LANES <= n; i += OC_RED_LANES) {
        oc_v8f f0, f1;
        memcpy(&f0, p + i, sizeof f0);
        memcpy(&f1, p + i + 8, sizeof f1);
        a0 += __builtin_convertvector(f0, oc_v8d);
        a1 += __builtin_convertvector(f1, oc_v8d);
    }
    a0 += a1;
    double t[8];
    memcpy(t, &a0, sizeof t);
    for (int w = 4; w >= 1; w /= 2)
        for (int l = 0; l < w; l++)
            t[l] += t[l + w];
    double s = t[0];
    for (; i < n; i++)
        s += p[i];
    return s;
}

/* Fold contiguous p[0..n) into *s for the kinds with a lane form; false for the others. */
static bool oc_red_fold_lanes(oc_rkind k, const float *p, int64_t n, double *s)
{
    double acc[OC_RED_LANES] = {0};
    int64_t i = 0;
    switch (k) {
    case OC_R_SUM: case OC_R_MEAN: case OC_R_LOGSUM:
        *s += oc_red_sum_lanes(p, n);
        return true;
    case OC_R_L2: case OC_R_SUMSQUARE:
        for (; i + OC_RED_LANES <= n; i += OC_RED_LANES)
            for (int l = 0; l < OC_RED_LANES; l++) {
                double v = p[i + l];
                acc[l] += v * v;
            }
        for (int l = 0; l < OC_RED_LANES; l++)
            *s += acc[l];
        for (; i < n; i++) {
            double v = p[i];
            *s += v * v;
        }
        return true;
    case OC_R_MAX: case OC_R_MIN: {
        /* float lanes (the comparisons are exact in float); a lane keeps the first NaN it meets */
        float m[OC_RED_LANES];
        for (int l = 0; l < OC_RED_LANES; l++)
            m[l] = p[l];
        const bool mx = k == OC_R_MAX;
        for (i = OC_RED_LANES; i + OC_RED_LANES <= n; i += OC_RED_LANES)
            for (int l = 0; l < OC_RED_LANES; l++) {
                float v = p[i + l];
                bool keep = (m[l] != m[l]) | (mx ? m[l] > v : m[l] < v);
                m[l] = keep ? m[l] : v;
            }
        for (; i < n; i++) {
            float v = p[i];
            bool keep = (m[0] != m[0]) | (mx ? m[0] > v : m[0] < v);
            m[0] = keep ? m[0] : v;
        }
        for (int l = 0; l < OC_RED_LANES; l++) {
            double v = m[l];
            if ((mx ? v > *s : v < *s) || v != v)
                *s = v;
        }
        return true;
    }
    default: return false;
    }
}

/* Fold n elements at element offset off, stride st, into the accumulator (float path). */
static void oc_red_fold_f(oc_rkind k, int32_t dt, const void *x, int64_t off, int64_t n, int64_t st, oc_racc *a)
{
    if (dt == ONNXC_FLOAT) {
        const float *p = (const float *)x + off;
        double s = a->s;
        if (st == 1 && n >= OC_RED_LANES && oc_red_fold_lanes(k, p, n, &s)) {
            a->s = s;
            return;
        }
        switch (k) {
        case OC_R_SUM: case OC_R_MEAN: case OC_R_LOGSUM:
            for (int64_t i = 0; i < n; i++) s += p[i * st];
            break;
        case OC_R_MAX:
            for (int64_t i = 0; i < n; i++) { double v = p[i * st]; if (v > s || v != v) s = v; }
            break;
        case OC_R_MIN:
            for (int64_t i = 0; i < n; i++) { double v = p[i * st]; if (v < s || v != v) s = v; }
            break;
        case OC_R_PROD:
            for (int64_t i = 0; i < n; i++) s *= p[i * st];
            break;
        case OC_R_L1:
            for (int64_t i = 0; i < n; i++) s += fabs((double)p[i * st]);
            break;
        case OC_R_L2: case OC_R_SUMSQUARE:
            for (int64_t i = 0; i < n; i++) { double v = p[i * st]; s += v * v; }
            break;
        case OC_R_LOGSUMEXP:
            for (int64_t i = 0; i < n; i++) s += exp((double)p[i * st] - a->m);
            break;
        }
        a->s = s;
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        double v = oc_load_f64(dt, x, off + i * st);
        switch (k) {
        case OC_R_SUM: case OC_R_MEAN: case OC_R_LOGSUM: a->s += v; break;
        case OC_R_MAX: if (v > a->s || v != v) a->s = v; break;
        case OC_R_MIN: if (v < a->s || v != v) a->s = v; break;
        case OC_R_PROD: a->s *= v; break;
        case OC_R_L1: a->s += fabs(v); break;
        case OC_R_L2: case OC_R_SUMSQUARE: a->s += v * v; break;
        case OC_R_LOGSUMEXP: a->s += exp(v - a->m); break;
        }
    }
}

/* Integer path: exact int64 arithmetic (wrapping, as the integer type would). */
static void oc_red_fold_i(oc_rkind k, int32_t dt, const void *x, int64_t off, int64_t n, int64_t st, oc_racc *a)
{
    for (int64_t i = 0; i < n; i++) {
        int64_t v = oc_load_i64(dt, x, off + i * st);
        switch (k) {
        case OC_R_MAX: if (v > a->is) a->is = v; break;
        case OC_R_MIN: if (v < a->is) a->is = v; break;
        case OC_R_PROD: a->is = (int64_t)((uint64_t)a->is * (uint64_t)v); break;
        case OC_R_L1: a->is = (int64_t)((uint64_t)a->is + (uint64_t)(v < 0 ? -(uint64_t)v : (uint64_t)v)); break;
        case OC_R_SUMSQUARE: a->is = (int64_t)((uint64_t)a->is + (uint64_t)v * (uint64_t)v); break;
        default: a->is = (int64_t)((uint64_t)a->is + (uint64_t)v); break;
        }
    }
}

static bool oc_red_int_exact(oc_rkind k, int32_t dt)
{
    return oc_dtype_is_int(dt) && dt != ONNXC_UINT64 && k != OC_R_L2 && k != OC_R_LOGSUM && k != OC_R_LOGSUMEXP;
}

static int64_t oc_red_base(const oc_rplan *p, int64_t o)
{
    int64_t off = 0;
    for (int g = p->ng - 1; g >= 0; g--) {
        if (p->gred[g])
            continue;
        off += (o % p->gdim[g]) * p->gstride[g];
        o /= p->gdim[g];
    }
    return off;
}

/* Fold every element reduced into one output (whose kept dims give element offset base): runs along the last
 * reduced group, for each combination of the other reduced groups. */
static void oc_red_one(oc_rkind k, int32_t dt, const void *x, const oc_rplan *p, int last_red, int64_t base, bool ints,
                       oc_racc *a)
{
    int64_t run = last_red >= 0 ? p->gdim[last_red] : 1;
    int64_t rst = last_red >= 0 ? p->gstride[last_red] : 1;
    int64_t combos = run ? p->nred / run : 0;
    for (int64_t r = 0; r < combos; r++) {
        int64_t off = base, rem = r;
        for (int g = last_red - 1; g >= 0; g--) {
            if (!p->gred[g])
                continue;
            off += (rem % p->gdim[g]) * p->gstride[g];
            rem /= p->gdim[g];
        }
        if (ints)
            oc_red_fold_i(k, dt, x, off, run, rst, a);
        else
            oc_red_fold_f(k, dt, x, off, run, rst, a);
    }
}

static void oc_red_init(oc_rkind k, int32_t dt, oc_racc *a)
{
    a->m = 0;
    a->is = 0;
    a->s = 0;
    switch (k) {
    case OC_R_MAX:
        a->s = -INFINITY;
        a->is = INT64_MIN;
        if (oc_dtype_is_int(dt) && !oc_dtype_is_signed_int(dt))
            a->is = 0;
        break;
    case OC_R_MIN:
        a->s = INFINITY;
        a->is = INT64_MAX;
        break;
    case OC_R_PROD: a->s = 1; a->is = 1; break;
    default: break;
    }
}

/* Outputs [lo, hi) of a Reduce* node; each folds its own elements in the same order whoever runs it. */
typedef struct oc_red_job {
    oc_rkind k;
    const onnxc_tensor *x;
    onnxc_tensor *y;
    const oc_rplan *p;
    int last_red;
    bool ints, contiguous;
} oc_red_job;

static void oc_red_outputs(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const oc_red_job *j = arg;
    const oc_rkind k = j->k;
    const oc_rplan *p = j->p;
    const int32_t dt = j->x->dtype;
    const bool ints = j->ints;
    if (j->contiguous) {
        /* Sum / Mean of float over one contiguous run per output: the lane sum straight (the general fold's
         * order for such a run, so the same bits) */
        for (int64_t o = lo; o < hi; o++) {
            const double v = oc_red_sum_lanes((const float *)j->x->data + oc_red_base(p, o), p->nred);
            ((float *)j->y->data)[o] = (float)(k == OC_R_MEAN ? v / (double)p->nred : v);
        }
        return;
    }
    for (int64_t o = lo; o < hi; o++) {
        int64_t base = oc_red_base(p, o);
        oc_racc a;
        if (k == OC_R_LOGSUMEXP) {
            /* shift by the max so exp never overflows */
            oc_red_init(OC_R_MAX, dt, &a);
            oc_red_one(OC_R_MAX, dt, j->x->data, p, j->last_red, base, false, &a);
            double m = isinf(a.s) ? 0 : a.s;
            oc_red_init(k, dt, &a);
            a.m = m;
        } else {
            oc_red_init(k, dt, &a);
        }
        oc_red_one(k, dt, j->x->data, p, j->last_red, base, ints, &a);
        if (ints) {
            int64_t v = a.is;
            if (k == OC_R_MEAN)
                v = p->nred ? a.is / p->nred : 0;
            oc_store_i64(dt, j->y->data, o, v);
            continue;
        }
        double v = a.s;
        switch (k) {
        case OC_R_MEAN: v = a.s / (double)p->nred; break;
        case OC_R_L2: v = sqrt(a.s); break;
        case OC_R_LOGSUM: v = log(a.s); break;
        case OC_R_LOGSUMEXP: v = a.m + log(a.s); break;
        default: break;
        }
        if (dt == ONNXC_FLOAT)
            ((float *)j->y->data)[o] = (float)v;
        else
            oc_store_f64(dt, j->y->data, o, v);
    }
}

static onnxc_status oc_red_run(oc_kctx *c, oc_rkind k, bool axes_input)
{
    onnxc_tensor *y = c->out[0];
    const onnxc_tensor *x = c->in[0];
    if (!y)
        return ONNXC_OK;
    oc_rplan p;
    onnxc_status st = oc_red_plan(c, axes_input, &p);
    if (st != ONNXC_OK)
        return st;
    if (p.noop) {
        memmove(y->data, x->data, y->nbytes);
        return ONNXC_OK;
    }
    int32_t dt = x->dtype;
    bool ints = oc_red_int_exact(k, dt);
    int last_red = -1;
    for (int g = 0; g < p.ng; g++)
        if (p.gred[g])
            last_red = g;
    /* split over outputs only: one output's elements are folded by one thread, in one order */
    const bool contiguous = dt == ONNXC_FLOAT && (k == OC_R_SUM || k == OC_R_MEAN) && last_red == p.ng - 1 &&
                            last_red >= 0 && p.gstride[last_red] == 1 && p.gdim[last_red] == p.nred &&
                            p.nred >= OC_RED_LANES;
    oc_red_job j = {k, x, y, &p, last_red, ints, contiguous};
    oc_par_for(c->pool, p.nout, p.nout * p.nred, oc_red_outputs, &j);
    return ONNXC_OK;
}

#define OC_RED_KERNEL(name, k)                                                                            \
    static onnxc_status oc_infer_##name(oc_kctx *c) { return oc_red_infer(c, k, false); }               \
    static onnxc_status oc_run_##name(oc_kctx *c) { return oc_red_run(c, k, false); }                    \
    static onnxc_status oc_infer_##name##_in(oc_kctx *c) { return oc_red_infer(c, k, true); }           \
    static onnxc_status oc_run_##name##_in(oc_kctx *c) { return oc_red_run(c, k, true); }

OC_RED_KERNEL(rsum, OC_R_SUM)
OC_RED_KERNEL(rmean, OC_R_MEAN)
OC_RED_KERNEL(rmax, OC_R_MAX)
OC_RED_KERNEL(rmin, OC_R_MIN)
OC_RED_KERNEL(rprod, OC_R_PROD)
OC_RED_KERNEL(rl1, OC_R_L1)
OC_RED_KERNEL(rl2, OC_R_L2)
OC_RED_KERNEL(rlse, OC_R_LOGSUMEXP)
OC_RED_KERNEL(rss, OC_R_SUMSQUARE)
OC_RED_KERNEL(rlogsum, OC_R_LOGSUM)

/* ---- ArgMax, ArgMin (keepdims; select_last_index since opset 12) ---- */
static onnxc_status oc_arg_shape(const oc_kctx *c, int *axis, int *out_rank, int64_t *out_dims)
{
    if (c->n_in < 1 || !c->in[0] || c->n_out < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "needs an input and an output");
    const onnxc_tensor *x = c->in[0];
    onnxc_status st = oc_norm_axis(c, oc_attr_int(c->node, "axis", 0), x->rank, axis);
    if (st != ONNXC_OK)
        return st;
    if (x->dims[*axis] == 0)
        return oc_kerr(c, ONNXC_E_INVALID, "cannot take the arg of an empty axis %d", *axis);
    bool keep = oc_attr_int(c->node, "keepdims", 1) != 0;
    *out_rank = 0;
    for (int i = 0; i < x->rank; i++) {
        if (i != *axis)
            out_dims[(*out_rank)++] = x->dims[i];
        else if (keep)
            out_dims[(*out_rank)++] = 1;
    }
    return ONNXC_OK;
}

static onnxc_status oc_arg_infer(oc_kctx *c)
{
    int axis = 0, rank = 0;
    int64_t dims[ONNXC_MAX_RANK];
    onnxc_status st = oc_arg_shape(c, &axis, &rank, dims);
    if (st != ONNXC_OK)
        return st;
    int32_t dt = c->in[0]->dtype;
    if (!oc_dtype_is_float(dt) && !oc_dtype_is_int(dt))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "element type %s is not supported", onnxc_dtype_name(dt));
    if (!c->out[0])
        return ONNXC_OK;
    st = oc_set_shape(c->out[0], ONNXC_INT64, rank, dims);
    return st == ONNXC_OK ? st : oc_kerr(c, st, "%s", onnxc_last_error());
}

/* Rows [lo, hi) of an ArgMax/ArgMin node: row r scans len elements inner apart from r's base. */
typedef struct oc_arg_job {
    const onnxc_tensor *x;
    int64_t *out;
    int64_t inner, len;
    bool is_max, last;
} oc_arg_job;

static void oc_arg_rows(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const oc_arg_job *j = arg;
    const int32_t dt = j->x->dtype;
    const bool ints = oc_dtype_is_int(dt), is_max = j->is_max, last = j->last;
    const int64_t inner = j->inner, len = j->len;
    const void *x = j->x->data;
    for (int64_t r = lo; r < hi; r++) {
        int64_t o = r / inner, jj = r % inner;
        int64_t base = o * len * inner + jj;
        int64_t best_i = 0;
        if (ints) {
            int64_t best = oc_load_i64(dt, x, base);
            for (int64_t i = 1; i < len; i++) {
                int64_t v = oc_load_i64(dt, x, base + i * inner);
                bool better = is_max ? (last ? v >= best : v > best) : (last ? v <= best : v < best);
                if (better) {
                    best = v;
                    best_i = i;
                }
            }
        } else {
            double best = oc_load_f64(dt, x, base);
            for (int64_t i = 1; i < len; i++) {
                double v = oc_load_f64(dt, x, base + i * inner);
                bool better = is_max ? (last ? v >= best : v > best) : (last ? v <= best : v < best);
                if (better) {
                    best = v;
                    best_i = i;
                }
            }
        }
        j->out[r] = best_i;
    }
}

static onnxc_status oc_arg_run(oc_kctx *c, bool is_max)
{
    onnxc_tensor *y = c->out[0];
    const onnxc_tensor *x = c->in[0];
    if (!y)
        return ONNXC_OK;
    int axis = 0, rank = 0;
    int64_t dims[ONNXC_MAX_RANK];
    onnxc_status st = oc_arg_shape(c, &axis, &rank, dims);
    if (st != ONNXC_OK)
        return st;
    bool last = c->opset >= 12 && oc_attr_int(c->node, "select_last_index", 0) != 0;
    int64_t outer = 1, inner = 1, len = x->dims[axis];
    for (int i = 0; i < axis; i++)
        outer *= x->dims[i];
    for (int i = axis + 1; i < x->rank; i++)
        inner *= x->dims[i];
    int64_t rows = outer * inner;
    oc_arg_job j = {x, y->data, inner, len, is_max, last};
    oc_par_for(c->pool, rows, rows * len, oc_arg_rows, &j);
    return ONNXC_OK;
}

static onnxc_status oc_infer_argmax(oc_kctx *c) { return oc_arg_infer(c); }
static onnxc_status oc_run_argmax(oc_kctx *c) { return oc_arg_run(c, true); }
static onnxc_status oc_infer_argmin(oc_kctx *c) { return oc_arg_infer(c); }
static onnxc_status oc_run_argmin(oc_kctx *c) { return oc_arg_run(c, false); }

#define OC_K(op, since_, until_, vin, name)                                                               \
    {.op_type = op, .since = since_, .until = until_, .value_inputs = vin, .infer = oc_infer_##name,         \
     .run = oc_run_##name}

const oc_kernel oc_kernels_reduce[] = {
    OC_K("Softmax", 1, 0, 0, softmax),
    OC_K("LogSoftmax", 1, 0, 0, logsoftmax),
    OC_K("Hardmax", 1, 0, 0, hardmax),
    /* ReduceSum-13 moved axes to an input; the others followed in opset 18 */
    OC_K("ReduceSum", 1, 12, 0, rsum),
    OC_K("ReduceSum", 13, 0, 1u << 1, rsum_in),
    OC_K("ReduceMean", 1, 17, 0, rmean),
    OC_K("ReduceMean", 18, 0, 1u << 1, rmean_in),
    OC_K("ReduceMax", 1, 17, 0, rmax),
    OC_K("ReduceMax", 18, 0, 1u << 1, rmax_in),
    OC_K("ReduceMin", 1, 17, 0, rmin),
    OC_K("ReduceMin", 18, 0, 1u << 1, rmin_in),
    OC_K("ReduceProd", 1, 17, 0, rprod),
    OC_K("ReduceProd", 18, 0, 1u << 1, rprod_in),
    OC_K("ReduceL1", 1, 17, 0, rl1),
    OC_K("ReduceL1", 18, 0, 1u << 1, rl1_in),
    OC_K("ReduceL2", 1, 17, 0, rl2),
    OC_K("ReduceL2", 18, 0, 1u << 1, rl2_in),
    OC_K("ReduceLogSumExp", 1, 17, 0, rlse),
    OC_K("ReduceLogSumExp", 18, 0, 1u << 1, rlse_in),
    OC_K("ReduceSumSquare", 1, 17, 0, rss),
    OC_K("ReduceSumSquare", 18, 0, 1u << 1, rss_in),
    OC_K("ReduceLogSum", 1, 17, 0, rlogsum),
    OC_K("ReduceLogSum", 18, 0, 1u << 1, rlogsum_in),
    OC_K("ArgMax", 1, 0, 0, argmax),
    OC_K("ArgMin", 1, 0, 0, argmin),
    {.op_type = NULL},
};
