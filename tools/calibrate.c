/* Calibrated swap-norm: fit the per-channel scale and bias of each layer swap-norm made so that it reproduces the
 * original BatchNormalization's output on sample inputs (least squares per channel, sums in double; with the ACT
 * objective, its output after the activation that alone reads it), layer by layer in execution order on the
 * swapped model's own upstream activations; then the final linear layers' refit and the drift of every output. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compare.h"
#include "dtype.h"
#include "ir.h"
#include "plan.h"
#include "session_internal.h"
#include "util.h"

/* Per channel: count, sum n, sum n^2, sum y, sum y^2, sum n*y (n: normalized value, y: target). */
enum { S_CNT, S_N, S_NN, S_Y, S_YY, S_NY, S_K };

typedef struct cal_layer {
    onnxc_calib_layer pub;
    char *node, *output;
    const oc_value *ya;      /* the BN's output in A's session graph */
    const oc_value *xb;      /* the layer's input in B's session graph */
    int xb_input;            /* index of xb among the inputs given, -1 when a node computes it */
    oc_tensor *par[2][2];    /* scale, bias: [0] in swapped's graph, [1] in B's session graph (may be the same) */
    double eps;
    int pos;                 /* position of the layer's last node in B's session order */
    double *sums;            /* S_K per channel */
    float *y;                /* the target of the current sample (float: what the models compute in) */
    int64_t y_n, y_dims[ONNXC_MAX_RANK];
    int y_rank;
    bool have_y, have_x, in_pass, done;
    int64_t *spill_off;      /* per sample: where its target starts in the spill file (floats), or NULL */
    /* the ACT objective (see refine): the activation that alone reads the layer's output, 0 for none */
    int act;                 /* ACT_LEAKY (Relu: alpha 0) or ACT_CLIP */
    double act_alpha, act_lo, act_hi;
    float *nbuf;             /* the normalized value of the current sample, for the temporary file */
    FILE *nfile;             /* the normalized values of every sample of the pass (shared by its layers) */
    int64_t *n_off;          /* per sample: where its normalized value starts in nfile */
    int sample;              /* the sample being accumulated */
} cal_layer;

enum { ACT_LEAKY = 1, ACT_CLIP = 2 };
enum { ACT_PASSES = 8 }; /* at most, passes of refine over the stored values: evaluations, each with a step */

typedef struct cal_head {
    onnxc_calib_head pub;
    char *node, *output;
    oc_tensor *w, *b;        /* weight and bias initializers in swapped's graph (b NULL: weight only) */
    int trans_b;
    double alpha, beta;      /* Gemm's; 1 for MatMul [+ Add] */
    int64_t d, m, d1;        /* op(w) is [d, m]; d1 = d + 1 when the bias is fitted (a column of ones) */
    const oc_value *xb;      /* its input in B's session graph */
    int out_a;               /* its output among A's session outputs */
    double *w0;              /* d1 x m, row-major: the carried alpha op(w) (and beta b as the last row) */
    FILE *rows;              /* per calibration row: x (d1 doubles), y (m doubles) */
    const onnxc_tensor *y;   /* the original's output of the current sample */
    bool have_x;
} cal_head;

struct onnxc_calibration {
    cal_layer *layers;
    int n_layers;
    cal_head *heads;
    int n_heads;
    onnxc_calib_output *outputs;
    int n_outputs;
    int n_samples, n_passes;
    double seconds;
};

static bool is_op(const oc_node *n, const char *op)
{
    return n && oc_domain_is_default(n->domain) && !strcmp(n->op_type, op);
}

static oc_tensor *param_of(oc_value *v)
{
    return v && v->init && v->n_uses == 1 && !(v->flags & OC_V_OUTPUT) ? v->init : NULL;
}

/* From the value y back to x in g: the swapped layer's scale and bias initializers, its group count and
 * epsilon. GroupNormalization-21, or the decomposition [Cast] Reshape InstanceNormalization Reshape Mul Add
 * [Reshape] [Cast]. False when y is not made that way. */
static bool find_layer(const oc_graph *g, const char *y, const char *x, oc_tensor **scale, oc_tensor **bias,
                       int64_t *G, double *eps)
{
    const oc_value *v = oc_graph_find(g, y);
    *scale = *bias = NULL;
    *G = 0;
    for (int step = 0; v && v->producer && step < 16; step++) {
        const oc_node *n = v->producer;
        if (n->n_inputs < 1 || !n->inputs[0])
            return false;
        if (is_op(n, "GroupNormalization") && n->n_inputs >= 3 && step == 0) {
            *scale = param_of(n->inputs[1]);
            *bias = param_of(n->inputs[2]);
            *G = oc_attr_int(n, "num_groups", 0);
            *eps = oc_attr_float(n, "epsilon", 1e-5f);
        } else if (is_op(n, "Add") && n->n_inputs == 2 && !*bias) {
            if (!(*bias = param_of(n->inputs[1])))
                return false;
        } else if (is_op(n, "Mul") && n->n_inputs == 2 && *bias && !*scale) {
            if (!(*scale = param_of(n->inputs[1])))
                return false;
        } else if (is_op(n, "InstanceNormalization") && *scale && n->n_inputs >= 2) {
            const oc_tensor *ones = oc_value_constant(n->inputs[1]);
            *G = ones ? onnxc_tensor_numel(&ones->t) : 0;
            *eps = oc_attr_float(n, "epsilon", 1e-5f);
        } else if (!is_op(n, "Reshape") && !is_op(n, "Cast")) {
            return false;
        }
        v = n->inputs[0];
        if (!strcmp(v->name, x))
            return *scale && *bias && *G > 0 && onnxc_tensor_numel(&(*scale)->t) == onnxc_tensor_numel(&(*bias)->t);
    }
    return false;
}

/* One element as double; f is t's data when t is float32 (the fast path), else NULL. */
static inline double elem(const onnxc_tensor *t, const float *f, int64_t i)
{
    return f ? (double)f[i] : oc_load_f64(t->dtype, t->data, i);
}

static bool same_shape(const onnxc_tensor *t, int rank, const int64_t *dims)
{
    return t->rank == rank && !memcmp(t->dims, dims, (size_t)rank * sizeof *dims);
}

/* The layer's normalized value from its input x (per sample and group: mean and variance over the group's
 * channels and positions, in double), paired with the stored target, into the per-channel sums. */
static onnxc_status accumulate(cal_layer *L, const onnxc_tensor *x)
{
    int64_t C = L->pub.channels, G = L->pub.groups;
    if (!same_shape(x, L->y_rank, L->y_dims) || x->rank < 2 || x->dims[1] != C || !oc_dtype_is_float(x->dtype)) {
        char a[128], b[128];
        return oc_err(ONNXC_E_RUNTIME, "calibrate: layer %s: input has shape %s, the original's output %s", L->node,
                      onnxc_dims_text(x->dims, x->rank, a, sizeof a),
                      onnxc_dims_text(L->y_dims, L->y_rank, b, sizeof b));
    }
    const float *f = x->dtype == ONNXC_FLOAT ? x->data : NULL;
    int64_t N = x->dims[0], S = onnxc_tensor_numel(x) / (N * C > 0 ? N * C : 1), cpg = C / G;
    for (int64_t n = 0; n < N; n++)
        for (int64_t g = 0; g < G; g++) {
            int64_t base = (n * C + g * cpg) * S, m = cpg * S;
            double mean = 0, var = 0;
            for (int64_t i = 0; i < m; i++)
                mean += elem(x, f, base + i);
            mean /= (double)(m ? m : 1);
            for (int64_t i = 0; i < m; i++) {
                double d = elem(x, f, base + i) - mean;
                var += d * d;
            }
            double inv = 1.0 / sqrt(var / (double)(m ? m : 1) + L->eps);
            for (int64_t c = 0; c < cpg; c++) {
                double sn = 0, snn = 0, sy = 0, syy = 0, sny = 0;
                int64_t o = base + c * S;
                for (int64_t i = 0; i < S; i++) {
                    double nv = (elem(x, f, o + i) - mean) * inv, y = (double)L->y[o + i];
                    if (L->nbuf)
                        L->nbuf[o + i] = (float)nv;
                    sn += nv;
                    snn += nv * nv;
                    sy += y;
                    syy += y * y;
                    sny += nv * y;
                }
                double *s = &L->sums[(g * cpg + c) * S_K];
                s[S_CNT] += (double)S;
                s[S_N] += sn;
                s[S_NN] += snn;
                s[S_Y] += sy;
                s[S_YY] += syy;
                s[S_NY] += sny;
            }
        }
    if (L->nbuf) {
        off_t at = ftello(L->nfile);
        if (at < 0 || fwrite(L->nbuf, sizeof *L->nbuf, (size_t)L->y_n, L->nfile) != (size_t)L->y_n)
            return oc_err(ONNXC_E_IO, "calibrate: cannot write normalized values to a temporary file (%s)",
                          strerror(errno));
        L->n_off[L->sample] = (int64_t)at;
    }
    L->have_x = true;
    return ONNXC_OK;
}

/* Sum over one channel of (a n + b - y)^2 from its sums (clamped at 0 against rounding). */
static double sse(const double *s, double a, double b)
{
    double e = a * a * s[S_NN] + 2 * a * b * s[S_N] + b * b * s[S_CNT] - 2 * a * s[S_NY] - 2 * b * s[S_Y] + s[S_YY];
    return e > 0 ? e : 0;
}

/* Fit every channel of L from its sums and store the values in both copies of its scale and bias. */
static void fit(cal_layer *L)
{
    double before = 0, after = 0, total = 0;
    int64_t C = L->pub.channels;
    L->pub.kept_channels = 0;
    for (int64_t c = 0; c < C; c++) {
        const double *s = &L->sums[c * S_K];
        double a0 = oc_get_f64(&L->par[0][0]->t, c), b0 = oc_get_f64(&L->par[0][1]->t, c);
        double cnt = s[S_CNT] > 0 ? s[S_CNT] : 1;
        double mn = s[S_N] / cnt, my = s[S_Y] / cnt;
        double vn = s[S_NN] / cnt - mn * mn, cov = s[S_NY] / cnt - mn * my;
        double a = a0, b = b0;
        /* a channel whose normalized value is constant (a single value per group, or a constant input) carries
         * no information for a slope: it keeps gamma and beta */
        if (vn > 1e-10 * (s[S_NN] / cnt) && vn > 1e-20) {
            a = cov / vn;
            b = my - a * mn;
        } else {
            L->pub.kept_channels++;
        }
        before += sse(s, a0, b0);
        after += sse(s, a, b);
        total += s[S_YY];
        for (int k = 0; k < 2; k++) {
            oc_set_f64(&L->par[0][k]->t, c, k ? b : a);
            if (L->par[1][k] != L->par[0][k])
                oc_set_f64(&L->par[1][k]->t, c, k ? b : a);
        }
    }
    L->pub.residual_before = total > 0 ? sqrt(before / total) : 0;
    L->pub.residual_after = total > 0 ? sqrt(after / total) : 0;
    L->done = true;
}

/* The activation f(u) of layer L, its slope s and offset c (f(u) = s u + c on u's piece). */
static inline double act_of(const cal_layer *L, double u, double *s, double *c)
{
    if (L->act == ACT_LEAKY) {
        *c = 0;
        *s = u > 0 ? 1 : L->act_alpha;
        return *s * u;
    }
    if (u < L->act_lo || u > L->act_hi) {
        *s = 0;
        return *c = u < L->act_lo ? L->act_lo : L->act_hi;
    }
    *s = 1;
    *c = 0;
    return u;
}

/* Gauss-Newton sums per channel: sum s^2, s^2 n, s^2 n^2, s r, s r n (r = f(y) - c), error, f(y)^2, carried. */
enum { G_W, G_WN, G_WNN, G_R, G_RN, G_E, G_TT, G_E0, G_K };

/* The ACT objective for L after fit(): minimize sum (f(a n + b) - f(y))^2 per channel, f the activation that
 * alone reads the layer's output (the next layer sees only f's values). From the least-squares fit, damped
 * Gauss-Newton: each pass over the samples (their normalized values from L->nfile, written while the sums were
 * accumulated, and their targets from the spill file) evaluates the error of the current (a, b) and, when it is the
 * lowest so far, steps to the least-squares fit of the linearized f on the current pieces; when it is not, halves
 * the step back toward the best; stops early when no channel moves. Keeps the best evaluated; memory: one sample's
 * values and G_K + 6 doubles per channel. The residuals become the ones after f. */
static onnxc_status refine(cal_layer *L, FILE *spill, int n_samples, int passes, const double *a0s,
                           const double *b0s)
{
    int64_t C = L->pub.channels, S = 0, N = 0;
    double *g = oc_calloc((size_t)C * G_K, sizeof *g), *st = oc_malloc((size_t)C * 6 * sizeof *st);
    unsigned char *fixed = oc_calloc((size_t)C + 1, 1);
    onnxc_status err = ONNXC_OK;
    if (!g || !st || !fixed || !L->y) {
        err = oc_err(ONNXC_E_NOMEM, "out of memory");
        goto done;
    }
    N = L->y_dims[0];
    S = L->y_n / (N * C > 0 ? N * C : 1);
    /* st per channel: a, b (current: fit()'s to start), best a, best b, best error, the carried values' error;
     * a channel fit() left at the carried values (no variance) stays there */
    for (int64_t c = 0; c < C; c++) {
        st[c * 6 + 0] = st[c * 6 + 2] = oc_get_f64(&L->par[0][0]->t, c);
        st[c * 6 + 1] = st[c * 6 + 3] = oc_get_f64(&L->par[0][1]->t, c);
        st[c * 6 + 4] = INFINITY;
        st[c * 6 + 5] = 0;
        fixed[c] = (float)st[c * 6] == (float)a0s[c] && (float)st[c * 6 + 1] == (float)b0s[c];
    }
    for (int it = 0; it < passes && err == ONNXC_OK; it++) {
        memset(g, 0, (size_t)C * G_K * sizeof *g);
        for (int smp = 0; smp < n_samples && err == ONNXC_OK; smp++) {
            if (fseeko(spill, (off_t)L->spill_off[smp], SEEK_SET) != 0 ||
                fread(L->y, sizeof *L->y, (size_t)L->y_n, spill) != (size_t)L->y_n ||
                fseeko(L->nfile, (off_t)L->n_off[smp], SEEK_SET) != 0 ||
                fread(L->nbuf, sizeof *L->nbuf, (size_t)L->y_n, L->nfile) != (size_t)L->y_n) {
                err = oc_err(ONNXC_E_IO, "calibrate: cannot read values back from a temporary file");
                break;
            }
            for (int64_t n = 0; n < N; n++)
                for (int64_t c = 0; c < C; c++) {
                    const float *nv = L->nbuf + (n * C + c) * S, *yv = L->y + (n * C + c) * S;
                    double a = st[c * 6], b = st[c * 6 + 1], a0 = a0s[c], b0 = b0s[c];
                    double w = 0, wn = 0, wnn = 0, r1 = 0, rn = 0, e = 0, tt = 0, e0 = 0;
                    for (int64_t i = 0; i < S; i++) {
                        double sl, off, x = nv[i];
                        double t = act_of(L, yv[i], &sl, &off);
                        double fu = act_of(L, a * x + b, &sl, &off);
                        double d = fu - t, r = t - off;
                        e += d * d;
                        tt += t * t;
                        w += sl * sl;
                        wn += sl * sl * x;
                        wnn += sl * sl * x * x;
                        r1 += sl * r;
                        rn += sl * r * x;
                        if (it == 0) {
                            double s0, o0, d0 = act_of(L, a0 * x + b0, &s0, &o0) - t;
                            e0 += d0 * d0;
                        }
                    }
                    double *q = &g[c * G_K];
                    q[G_W] += w;
                    q[G_WN] += wn;
                    q[G_WNN] += wnn;
                    q[G_R] += r1;
                    q[G_RN] += rn;
                    q[G_E] += e;
                    q[G_TT] += tt;
                    q[G_E0] += e0;
                }
        }
        if (err != ONNXC_OK)
            break;
        double before = 0, after = 0, total = 0;
        bool moved = false;
        for (int64_t c = 0; c < C; c++) {
            double *q = &g[c * G_K], *p = &st[c * 6], pa = p[0], pb = p[1];
            if (it == 0)
                p[5] = q[G_E0];
            if (q[G_E] <= p[4]) {
                p[2] = p[0];
                p[3] = p[1];
                p[4] = q[G_E];
                double det = q[G_WNN] * q[G_W] - q[G_WN] * q[G_WN];
                if (!fixed[c] && q[G_W] > 0 && det > 1e-12 * q[G_WNN] * q[G_W]) {
                    p[0] = (q[G_W] * q[G_RN] - q[G_WN] * q[G_R]) / det;
                    p[1] = (q[G_WNN] * q[G_R] - q[G_WN] * q[G_RN]) / det;
                }
            } else {
                p[0] = 0.5 * (p[0] + p[2]);
                p[1] = 0.5 * (p[1] + p[3]);
            }
            moved = moved || fabs(p[0] - pa) + fabs(p[1] - pb) > 1e-9 * (fabs(pa) + fabs(pb)) + 1e-30;
            before += p[5];
            after += p[4];
            total += q[G_TT];
        }
        L->pub.residual_before = total > 0 ? sqrt(before / total) : 0;
        L->pub.residual_after = total > 0 ? sqrt(after / total) : 0;
        if (it == 0)
            L->pub.residual_bn_fit = L->pub.residual_after; /* the first pass evaluates fit()'s values */
        if (!moved)
            break; /* every channel at a fixed point (its pieces no longer change): more passes change nothing */
    }
    for (int64_t c = 0; err == ONNXC_OK && c < C; c++)
        for (int k = 0; k < 2; k++) {
            double v = st[c * 6 + 2 + k];
            oc_set_f64(&L->par[0][k]->t, c, v);
            if (L->par[1][k] != L->par[0][k])
                oc_set_f64(&L->par[1][k]->t, c, v);
        }
done:
    oc_free(g);
    oc_free(st);
    oc_free(fixed);
    return err;
}

typedef struct cal_run {
    cal_layer *layers;
    int n_layers;
    FILE *spill;   /* the original's targets of every sample, written by its one run per sample */
    int sample;
    int want, got; /* layers of the pass still to see in this run */
    bool stopped;  /* the observer stopped the run on purpose */
    onnxc_status err;
    /* segment runs of the swapped model (see run_segment) */
    onnxc_session *sb;
    const oc_value **save; /* the frontier to save when the run reaches position save_at */
    int n_save, save_at;
    bool saved;
    FILE *save_to;
    int64_t *save_off;     /* per sample: where its frontier starts in save_to */
} cal_run;

/* A's run: copy the targets of the layers in the pass, stop when all are in. */
static onnxc_status observe_a(void *user, const oc_node *n, const oc_value *v, const onnxc_tensor *t)
{
    (void)n;
    cal_run *r = user;
    for (int i = 0; i < r->n_layers; i++) {
        cal_layer *L = &r->layers[i];
        if (!L->in_pass || L->ya != v || L->have_y)
            continue;
        int64_t numel = onnxc_tensor_numel(t);
        if (numel != L->y_n || !oc_dtype_is_float(t->dtype)) {
            if (L->y_n && numel != L->y_n)
                return r->err = oc_err(ONNXC_E_RUNTIME, "calibrate: layer %s: its output changed size between "
                                       "samples", L->node);
            oc_free(L->y);
            L->y = oc_malloc((size_t)(numel ? numel : 1) * sizeof *L->y);
            if (!L->y)
                return r->err = oc_err(ONNXC_E_NOMEM, "out of memory");
            L->y_n = numel;
        }
        if (t->dtype == ONNXC_FLOAT)
            memcpy(L->y, t->data, (size_t)numel * sizeof *L->y);
        else
            for (int64_t k = 0; k < numel; k++)
                L->y[k] = (float)oc_get_f64(t, k);
        L->y_rank = t->rank;
        memcpy(L->y_dims, t->dims, sizeof L->y_dims);
        L->have_y = true;
        if (++r->got == r->want) {
            r->stopped = true;
            return ONNXC_E_RUNTIME;
        }
    }
    return ONNXC_OK;
}

/* The original's one run per sample: every layer's target appended to the spill file. */
static onnxc_status observe_spill(void *user, const oc_node *n, const oc_value *v, const onnxc_tensor *t)
{
    (void)n;
    cal_run *r = user;
    for (int i = 0; i < r->n_layers; i++) {
        cal_layer *L = &r->layers[i];
        if (L->ya != v || L->have_y)
            continue;
        int64_t numel = onnxc_tensor_numel(t);
        if (!oc_dtype_is_float(t->dtype) || (L->y_n && numel != L->y_n))
            return r->err = oc_err(ONNXC_E_RUNTIME, "calibrate: layer %s: its output changed size between "
                                   "samples", L->node);
        L->y_n = numel;
        L->y_rank = t->rank;
        memcpy(L->y_dims, t->dims, sizeof L->y_dims);
        off_t at = ftello(r->spill);
        bool ok = at >= 0;
        if (ok && t->dtype == ONNXC_FLOAT) {
            ok = fwrite(t->data, sizeof(float), (size_t)numel, r->spill) == (size_t)numel;
        } else {
            for (int64_t k = 0; ok && k < numel; k++) {
                float f = (float)oc_get_f64(t, k);
                ok = fwrite(&f, sizeof f, 1, r->spill) == 1;
            }
        }
        if (!ok)
            return r->err = oc_err(ONNXC_E_IO, "calibrate: cannot write the targets to a temporary file (%s)",
                                   strerror(errno));
        L->spill_off[r->sample] = (int64_t)at;
        L->have_y = true;
        if (++r->got == r->want) {
            r->stopped = true;
            return ONNXC_E_RUNTIME;
        }
    }
    return ONNXC_OK;
}

/* A pass layer's target of sample s back from the spill file into L->y. */
static onnxc_status load_target(FILE *spill, cal_layer *L, int s)
{
    if (!L->y) {
        L->y = oc_malloc((size_t)(L->y_n ? L->y_n : 1) * sizeof *L->y);
        if (!L->y)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    if (fseeko(spill, (off_t)L->spill_off[s], SEEK_SET) != 0 ||
        fread(L->y, sizeof *L->y, (size_t)L->y_n, spill) != (size_t)L->y_n)
        return oc_err(ONNXC_E_IO, "calibrate: cannot read the targets back from the temporary file");
    L->have_y = true;
    return ONNXC_OK;
}

/* B's run: each pass layer's input into its sums, stop when all are in. */
static onnxc_status observe_b(void *user, const oc_node *n, const oc_value *v, const onnxc_tensor *t)
{
    (void)n;
    cal_run *r = user;
    for (int i = 0; i < r->n_layers; i++) {
        cal_layer *L = &r->layers[i];
        if (!L->in_pass || L->xb != v || L->have_x)
            continue;
        onnxc_status st = accumulate(L, t);
        if (st != ONNXC_OK)
            return r->err = st;
        if (++r->got == r->want) {
            r->stopped = true;
            return ONNXC_E_RUNTIME;
        }
    }
    return ONNXC_OK;
}

/* The frontier values of this sample into r->save_to, from their planned memory. */
static void save_frontier(cal_run *r)
{
    r->saved = true;
    off_t at = ftello(r->save_to);
    bool ok = at >= 0;
    r->save_off[r->sample] = (int64_t)at;
    for (int i = 0; ok && i < r->n_save; i++) {
        const onnxc_tensor *t = &r->sb->rv[r->save[i]->id].t;
        ok = t->data && fwrite(t->data, 1, t->nbytes, r->save_to) == t->nbytes;
    }
    if (!ok && r->err == ONNXC_OK)
        r->err = oc_err(ONNXC_E_IO, "calibrate: cannot write activations to a temporary file (%s)", strerror(errno));
}

static void segment_before(void *user, const oc_node *n)
{
    cal_run *r = user;
    if (r->n_save && !r->saved && oc_plan_pos(r->sb, n) >= r->save_at)
        save_frontier(r);
}

/* B's segment run: each pass layer's input into its sums. */
static onnxc_status segment_after(void *user, const oc_node *n, const onnxc_tensor *const *outs)
{
    cal_run *r = user;
    for (int o = 0; o < n->n_outputs; o++)
        for (int i = 0; n->outputs[o] && outs[o] && i < r->n_layers; i++) {
            cal_layer *L = &r->layers[i];
            if (!L->in_pass || L->xb != n->outputs[o] || L->have_x)
                continue;
            onnxc_status st = accumulate(L, outs[o]);
            if (st != ONNXC_OK)
                return r->err = st;
            r->got++;
        }
    return ONNXC_OK;
}

/* One run of the swapped model over run-order positions [first, last] for this sample: the values it reads
 * from before `first` (the frontier `restore`, saved by the previous pass at its `save_at`) are written back into
 * their planned memory first, and the frontier at r->save_at is saved when the run gets there. So each pass
 * runs only the part of the model its fit changed instead of everything from the input. */
static onnxc_status run_segment(cal_run *r, int n, const char *const *names, const onnxc_tensor *const *in,
                                int first, int last, const oc_value *const *restore, int n_restore, FILE *from,
                                int64_t from_off)
{
    onnxc_session *s = r->sb;
    r->err = ONNXC_OK;
    r->saved = false;
    onnxc_status st = oc_session_plan(s, n, names, in);
    if (st != ONNXC_OK)
        return st;
    if (n_restore && fseeko(from, (off_t)from_off, SEEK_SET) != 0)
        return oc_err(ONNXC_E_IO, "calibrate: cannot read activations back from a temporary file");
    for (int i = 0; i < n_restore; i++) {
        onnxc_tensor *t = &s->rv[restore[i]->id].t;
        if (!t->data || fread(t->data, 1, t->nbytes, from) != t->nbytes)
            return oc_err(ONNXC_E_IO, "calibrate: cannot read activations back from a temporary file");
    }
    if (r->n_save && fseeko(r->save_to, 0, SEEK_END) != 0)
        return oc_err(ONNXC_E_IO, "calibrate: cannot write activations to a temporary file");
    oc_session_set_range(s, first, last);
    s->hook = r;
    s->hook_before = segment_before;
    s->hook_after = segment_after;
    st = onnxc_session_run(s, n, names, in);
    s->hook = NULL;
    s->hook_before = NULL;
    s->hook_after = NULL;
    oc_session_set_range(s, 0, -1);
    if (st == ONNXC_OK && r->n_save && !r->saved)
        save_frontier(r);
    if (st == ONNXC_OK)
        st = r->err;
    if (st != ONNXC_OK)
        return st;
    return r->got == r->want ? ONNXC_OK : oc_err(ONNXC_E_RUNTIME, "calibrate: a layer's value was not computed");
}

static onnxc_status run_until(onnxc_session *s, int n, const char *const *names, const onnxc_tensor *const *in,
                              oc_value_observer fn, cal_run *r)
{
    r->stopped = false;
    r->err = ONNXC_OK;
    onnxc_status st = r->want > r->got ? oc_run_observed_kept(s, n, names, in, fn, r) : ONNXC_OK;
    if (r->stopped)
        return ONNXC_OK;
    if (st != ONNXC_OK)
        return st;
    return r->got == r->want ? ONNXC_OK : oc_err(ONNXC_E_RUNTIME, "calibrate: a layer's value was not computed");
}

/* Every real input of model m given once, each sample's tensors of the declared type and static dims. */
static onnxc_status check_samples(const onnxc_model *m, int n_samples, int n_inputs, const char *const *names,
                                  const onnxc_tensor *const *samples, const onnxc_calibrate_options *o)
{
    if (n_samples < 1 || !samples)
        return oc_err(ONNXC_E_ARG, "calibrate: no calibration samples given");
    int n_real = onnxc_model_num_inputs(m);
    for (int i = 0; i < n_inputs; i++) {
        int found = -1;
        for (int k = 0; k < n_real; k++) {
            onnxc_io_info info;
            if (onnxc_model_input_info(m, k, &info) == ONNXC_OK && names[i] && !strcmp(info.name, names[i]))
                found = k;
        }
        if (found < 0) {
            char list[400] = "";
            for (int k = 0; k < n_real; k++) {
                onnxc_io_info info;
                if (onnxc_model_input_info(m, k, &info) == ONNXC_OK)
                    snprintf(list + strlen(list), sizeof list - strlen(list), "%s'%s'", k ? ", " : "", info.name);
            }
            return oc_err(ONNXC_E_ARG, "calibrate: '%s' is not an input of the model (its inputs: %s)",
                          names[i] ? names[i] : "(null)", list);
        }
        for (int k = 0; k < i; k++)
            if (!strcmp(names[k], names[i]))
                return oc_err(ONNXC_E_ARG, "calibrate: input '%s' given twice", names[i]);
    }
    for (int k = 0; k < n_real; k++) {
        onnxc_io_info info;
        onnxc_status st = onnxc_model_input_info(m, k, &info);
        if (st != ONNXC_OK)
            return st;
        int idx = -1;
        for (int i = 0; i < n_inputs; i++)
            if (!strcmp(names[i], info.name))
                idx = i;
        if (idx < 0)
            return oc_err(ONNXC_E_ARG, "calibrate: no calibration data for input '%s'", info.name);
        for (int s = 0; s < n_samples; s++) {
            const onnxc_tensor *t = samples[(size_t)s * (size_t)n_inputs + (size_t)idx];
            char lbl[300], a[128], b[128];
            if (o && o->sample_labels && o->sample_labels[s])
                snprintf(lbl, sizeof lbl, "'%s'", o->sample_labels[s]);
            else
                snprintf(lbl, sizeof lbl, "sample %d", s);
            if (!t)
                return oc_err(ONNXC_E_ARG, "calibrate: %s: no tensor for input '%s'", lbl, info.name);
            if (info.dtype && t->dtype != info.dtype)
                return oc_err(ONNXC_E_ARG, "calibrate: %s for input '%s' is %s; the model declares %s", lbl,
                              info.name, onnxc_dtype_name(t->dtype), onnxc_dtype_name(info.dtype));
            bool fits = info.rank < 0 || t->rank == info.rank;
            for (int d = 0; fits && info.rank > 0 && d < info.rank; d++)
                fits = info.dims[d] < 0 || info.dims[d] == t->dims[d];
            if (!fits) {
                onnxc_io_info_shape_text(&info, b, sizeof b);
                return oc_err(ONNXC_E_ARG, "calibrate: %s for input '%s' has shape %s; the model declares %s", lbl,
                              info.name, onnxc_dims_text(t->dims, t->rank, a, sizeof a), b);
            }
        }
    }
    return ONNXC_OK;
}

static void progress(const onnxc_calibrate_options *o, int phase, int first, int last, int n_layers, int sample,
                     int n_samples)
{
    if (o && o->progress) {
        onnxc_calib_progress p = {phase, first, last, n_layers, sample, n_samples};
        o->progress(o->progress_user, &p);
    }
}

/* For the ACT objective: the activation that alone reads value y in g (Relu, LeakyRelu, or Clip with constant
 * bounds), into L; false for none. */
static bool find_act(const oc_graph *g, const char *y, cal_layer *L)
{
    const oc_value *v = oc_graph_find(g, y);
    if (!v || v->n_uses != 1 || (v->flags & OC_V_OUTPUT) || v->uses[0].slot != 0)
        return false;
    const oc_node *u = v->uses[0].node;
    if (is_op(u, "Relu") || is_op(u, "LeakyRelu")) {
        L->act = ACT_LEAKY;
        L->act_alpha = is_op(u, "Relu") ? 0.0 : oc_attr_float(u, "alpha", 0.01f);
        L->pub.objective = is_op(u, "Relu") ? "Relu" : "LeakyRelu";
        return L->act_alpha >= 0 && L->act_alpha < 1;
    }
    if (!is_op(u, "Clip"))
        return false;
    L->act_lo = oc_attr_float(u, "min", -INFINITY);
    L->act_hi = oc_attr_float(u, "max", INFINITY);
    for (int k = 1; k < 3 && k < u->n_inputs; k++) {
        const oc_value *b = u->inputs[k];
        if (!b || !b->name[0])
            continue;
        const oc_tensor *t = oc_value_constant(b);
        if (!t || onnxc_tensor_numel(&t->t) != 1)
            return false;
        *(k == 1 ? &L->act_lo : &L->act_hi) = oc_get_f64(&t->t, 0);
    }
    L->act = ACT_CLIP;
    L->pub.objective = "Clip";
    return L->act_lo < L->act_hi;
}

/* The swapped layers: every BN of the original whose output swapped makes with a normalizer, in B's order. */
static onnxc_status find_layers(onnxc_calibration *c, const onnxc_model *original, onnxc_model *swapped,
                                const onnxc_session *sa, const onnxc_session *sb, int objective)
{
    const oc_graph *ga = original->graph;
    int n_bn = 0;
    for (int i = 0; i < ga->n_nodes; i++)
        n_bn += !ga->nodes[i]->dead && is_op(ga->nodes[i], "BatchNormalization");
    c->layers = oc_calloc((size_t)n_bn + 1, sizeof *c->layers);
    if (!c->layers)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    for (int i = 0; i < ga->n_nodes; i++) {
        const oc_node *bn = ga->nodes[i];
        if (bn->dead || !is_op(bn, "BatchNormalization") || !bn->outputs[0] || !bn->inputs[0])
            continue;
        const char *y = bn->outputs[0]->name, *x = bn->inputs[0]->name;
        cal_layer L = {0};
        int64_t G = 0, G1 = 0;
        double eps1 = 0;
        if (!find_layer(swapped->graph, y, x, &L.par[0][0], &L.par[0][1], &G, &L.eps))
            continue; /* not swapped (--only/--exclude, or skipped by the pass) */
        if (!find_layer(sb->g, y, x, &L.par[1][0], &L.par[1][1], &G1, &eps1) || G1 != G)
            return oc_err(ONNXC_E_INVALID, "calibrate: the session's copy of layer '%s' differs", y);
        L.pub.channels = onnxc_tensor_numel(&L.par[0][0]->t);
        L.pub.groups = G;
        if (L.pub.channels % G)
            return oc_err(ONNXC_E_INVALID, "calibrate: layer '%s' has %lld channels in %lld groups", y,
                          (long long)L.pub.channels, (long long)G);
        L.pub.training_mode = oc_attr_int(bn, "training_mode", 0) != 0;
        L.pub.objective = "bn";
        L.pub.residual_bn_fit = NAN;
        if (objective == ONNXC_CALIB_FIT_ACT && !find_act(swapped->graph, y, &L)) {
            L.act = 0;
            L.pub.objective = "bn";
        }
        char lbl[300];
        L.node = oc_strdup(oc_node_label(bn, lbl, sizeof lbl));
        L.output = oc_strdup(y);
        L.sums = oc_calloc((size_t)L.pub.channels * S_K, sizeof *L.sums);
        L.ya = oc_graph_find(sa->g, y);
        L.xb = oc_graph_find(sb->g, x);
        L.pos = -1;
        for (int k = 0; k < sb->n_order && L.pos < 0; k++)
            for (int o = 0; o < sb->order[k]->n_outputs; o++)
                if (sb->order[k]->outputs[o] && !strcmp(sb->order[k]->outputs[o]->name, y))
                    L.pos = k;
        c->layers[c->n_layers++] = L;
        if (!L.node || !L.output || !L.sums)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        if (!L.ya || !L.xb || L.pos < 0)
            return oc_err(ONNXC_E_INVALID, "calibrate: layer '%s' is not part of the sessions' plans", y);
        L.pub.node = L.node;
        L.pub.output = L.output;
        c->layers[c->n_layers - 1].pub = L.pub;
    }
    /* execution order of the swapped model (insertion sort: a few hundred layers at most) */
    for (int i = 1; i < c->n_layers; i++)
        for (int k = i; k > 0 && c->layers[k - 1].pos > c->layers[k].pos; k--) {
            cal_layer t = c->layers[k];
            c->layers[k] = c->layers[k - 1];
            c->layers[k - 1] = t;
        }
    return ONNXC_OK;
}

/* dep[j * n + i]: layer i lies upstream of layer j's input in g (so j must wait for i's fit). */
static onnxc_status upstream(const onnxc_calibration *c, const oc_graph *g, unsigned char *dep)
{
    int n = c->n_layers;
    int *layer_of = oc_malloc((size_t)g->n_values * sizeof *layer_of);
    unsigned char *seen = oc_malloc((size_t)g->n_values);
    const oc_value **stack = oc_malloc((size_t)g->n_values * sizeof *stack);
    if (!layer_of || !seen || !stack) {
        oc_free(layer_of);
        oc_free(seen);
        oc_free(stack);
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    for (int v = 0; v < g->n_values; v++)
        layer_of[v] = -1;
    for (int i = 0; i < n; i++) {
        const oc_value *y = oc_graph_find(g, c->layers[i].output);
        if (y && y->graph == g)
            layer_of[y->id] = i;
    }
    for (int j = 0; j < n; j++) {
        memset(seen, 0, (size_t)g->n_values);
        int sp = 0;
        const oc_value *x = c->layers[j].xb;
        if (x->graph == g) {
            stack[sp++] = x;
            seen[x->id] = 1;
        }
        while (sp > 0) {
            const oc_value *v = stack[--sp];
            if (layer_of[v->id] >= 0)
                dep[j * n + layer_of[v->id]] = 1;
            const oc_node *p = v->producer;
            for (int k = 0; p && k < p->n_inputs; k++) {
                const oc_value *u = p->inputs[k];
                if (u && u->graph == g && !seen[u->id]) {
                    seen[u->id] = 1;
                    stack[sp++] = u;
                }
            }
        }
    }
    oc_free(layer_of);
    oc_free(seen);
    oc_free(stack);
    return ONNXC_OK;
}

/* The drift of every output of B against A over the samples. */
static onnxc_status drift(onnxc_calibration *c, onnxc_session *sa, onnxc_session *sb, int n_samples, int n_inputs,
                          const char *const *names, const onnxc_tensor *const *samples,
                          const onnxc_calibrate_options *o)
{
    int nb = onnxc_session_num_outputs(sb);
    c->outputs = oc_calloc((size_t)nb + 1, sizeof *c->outputs);
    if (!c->outputs)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    for (int s = 0; s < n_samples; s++) {
        const onnxc_tensor *const *in = samples + (size_t)s * (size_t)n_inputs;
        onnxc_status st = onnxc_session_run(sa, n_inputs, names, in);
        if (st == ONNXC_OK)
            st = onnxc_session_run(sb, n_inputs, names, in);
        if (st != ONNXC_OK)
            return st;
        c->n_outputs = 0;
        for (int i = 0; i < nb; i++) {
            const char *name = onnxc_session_output_name(sb, i);
            for (int k = 0; k < onnxc_session_num_outputs(sa); k++) {
                if (strcmp(onnxc_session_output_name(sa, k), name))
                    continue;
                onnxc_metrics m;
                st = onnxc_metrics_compute(onnxc_session_output(sa, k), onnxc_session_output(sb, i),
                                           ONNXC_COMPARE_ATOL, ONNXC_COMPARE_RTOL, &m);
                if (st == ONNXC_E_UNSUPPORTED)
                    break;
                if (st != ONNXC_OK)
                    return st;
                onnxc_calib_output *co = &c->outputs[c->n_outputs++];
                co->name = onnxc_session_output_name(sb, i);
                onnxc_metrics_merge(&co->metrics, &m);
                break;
            }
        }
        progress(o, 1, c->n_layers, c->n_layers, c->n_layers, s + 1, n_samples);
    }
    return ONNXC_OK;
}

/* ---- the final linear layers (heads): refit toward the carried weights so the logits match the original's ---- */


typedef struct head_run {
    cal_head *h;
    int n, want, got;
    bool stopped;
    onnxc_status err;
} head_run;

/* A rank-2 initializer that only this node reads, or NULL. */
static oc_tensor *matrix_of(oc_value *v)
{
    oc_tensor *t = param_of(v);
    return t && t->t.rank == 2 && oc_dtype_is_float(t->t.dtype) ? t : NULL;
}

/* Does a swapped layer's output lie upstream of v in g? */
static bool fed_by_layer(const onnxc_calibration *c, const oc_graph *g, const oc_value *v)
{
    unsigned char *seen = oc_calloc((size_t)g->n_values + 1, 1);
    const oc_value **stack = oc_malloc(((size_t)g->n_values + 1) * sizeof *stack);
    bool fed = false;
    int sp = 0;
    if (seen && stack && v->graph == g) {
        stack[sp++] = v;
        seen[v->id] = 1;
    }
    while (sp > 0 && !fed) {
        const oc_value *u = stack[--sp];
        for (int i = 0; i < c->n_layers && !fed; i++)
            fed = !strcmp(u->name, c->layers[i].output);
        const oc_node *p = u->producer;
        for (int k = 0; p && k < p->n_inputs; k++) {
            const oc_value *w = p->inputs[k];
            if (w && w->graph == g && !seen[w->id]) {
                seen[w->id] = 1;
                stack[sp++] = w;
            }
        }
    }
    oc_free(seen);
    oc_free(stack);
    return fed;
}

/* The heads of swapped: each model output made by Gemm (transA 0), MatMul or MatMul + Add from an input that
 * a swapped layer feeds, with its weight (and bias) initializers of its own. Others are left alone. */
static onnxc_status find_heads(onnxc_calibration *c, onnxc_model *swapped, const onnxc_session *sa,
                               const onnxc_session *sb)
{
    const oc_graph *g = swapped->graph;
    c->heads = oc_calloc((size_t)g->n_outputs + 1, sizeof *c->heads);
    if (!c->heads)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    for (int o = 0; o < g->n_outputs; o++) {
        oc_value *y = g->outputs[o].value;
        oc_node *p = y ? y->producer : NULL;
        cal_head H = {0};
        oc_value *x = NULL, *bias = NULL;
        H.alpha = H.beta = 1;
        if (is_op(p, "Gemm") && p->n_inputs >= 2 && oc_attr_int(p, "transA", 0) == 0) {
            x = p->inputs[0];
            H.w = matrix_of(p->inputs[1]);
            H.trans_b = oc_attr_int(p, "transB", 0) != 0;
            H.alpha = oc_attr_float(p, "alpha", 1.0f);
            H.beta = oc_attr_float(p, "beta", 1.0f);
            bias = p->n_inputs >= 3 && H.beta != 0 ? p->inputs[2] : NULL;
        } else if (is_op(p, "Add") && p->n_inputs == 2) {
            for (int k = 0; k < 2 && !x; k++) {
                oc_value *mm = p->inputs[k];
                if (mm && is_op(mm->producer, "MatMul") && mm->n_uses == 1 && !(mm->flags & OC_V_OUTPUT) &&
                    mm->producer->n_inputs == 2) {
                    x = mm->producer->inputs[0];
                    H.w = matrix_of(mm->producer->inputs[1]);
                    bias = p->inputs[1 - k];
                    p = mm->producer;
                }
            }
            if (!bias || !param_of(bias))
                continue; /* an Add of something else: not a head we refit */
        } else if (is_op(p, "MatMul") && p->n_inputs == 2) {
            x = p->inputs[0];
            H.w = matrix_of(p->inputs[1]);
        }
        if (!x || !H.w || H.alpha == 0)
            continue;
        H.d = H.w->t.dims[H.trans_b ? 1 : 0];
        H.m = H.w->t.dims[H.trans_b ? 0 : 1];
        H.b = bias ? param_of(bias) : NULL;
        if (H.b && (onnxc_tensor_numel(&H.b->t) != H.m || !oc_dtype_is_float(H.b->t.dtype)))
            H.b = NULL; /* a broadcast bias: kept, the weight alone is refitted */
        H.d1 = H.d + (H.b ? 1 : 0);
        H.xb = oc_graph_find(sb->g, x->name);
        H.out_a = -1;
        for (int k = 0; k < onnxc_session_num_outputs(sa); k++)
            if (!strcmp(onnxc_session_output_name(sa, k), y->name))
                H.out_a = k;
        if (H.d < 1 || H.m < 1 || !H.xb || !H.xb->producer || H.out_a < 0 || !fed_by_layer(c, sb->g, H.xb))
            continue;
        char lbl[300];
        H.node = oc_strdup(oc_node_label(p, lbl, sizeof lbl));
        H.output = oc_strdup(y->name);
        H.w0 = oc_malloc((size_t)(H.d1 * H.m) * sizeof *H.w0);
        c->heads[c->n_heads++] = H;
        if (!H.node || !H.output || !H.w0)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        for (int64_t k = 0; k < H.d; k++)
            for (int64_t j = 0; j < H.m; j++)
                H.w0[k * H.m + j] = H.alpha * oc_get_f64(&H.w->t, H.trans_b ? j * H.d + k : k * H.m + j);
        for (int64_t j = 0; H.b && j < H.m; j++)
            H.w0[H.d * H.m + j] = H.beta * oc_get_f64(&H.b->t, j);
        H.pub.node = H.node;
        H.pub.output = H.output;
        H.pub.inputs = H.d;
        H.pub.outputs = H.m;
        H.pub.bias = H.b != NULL;
        c->heads[c->n_heads - 1].pub = H.pub;
    }
    return ONNXC_OK;
}

/* B's run for the heads: each head's input, paired with the original's output, appended as rows. */
static onnxc_status observe_head(void *user, const oc_node *n, const oc_value *v, const onnxc_tensor *t)
{
    (void)n;
    head_run *r = user;
    for (int i = 0; i < r->n; i++) {
        cal_head *H = &r->h[i];
        if (H->xb != v || H->have_x)
            continue;
        int64_t nx = onnxc_tensor_numel(t), ny = onnxc_tensor_numel(H->y), rows = nx / H->d;
        if (!oc_dtype_is_float(t->dtype) || !oc_dtype_is_float(H->y->dtype) || nx % H->d || ny != rows * H->m ||
            t->dims[t->rank - 1] != H->d)
            return r->err = oc_err(ONNXC_E_RUNTIME, "calibrate: head %s: its input has %lld values and the "
                                   "original's output %lld; not rows of %lld and %lld", H->node, (long long)nx,
                                   (long long)ny, (long long)H->d, (long long)H->m);
        const float *fx = t->dtype == ONNXC_FLOAT ? t->data : NULL, *fy = H->y->dtype == ONNXC_FLOAT ? H->y->data : NULL;
        bool ok = true;
        for (int64_t row = 0; ok && row < rows; row++) {
            for (int64_t k = 0; ok && k < H->d1; k++) {
                double e = k < H->d ? elem(t, fx, row * H->d + k) : 1.0;
                ok = fwrite(&e, sizeof e, 1, H->rows) == 1;
            }
            for (int64_t j = 0; ok && j < H->m; j++) {
                double e = elem(H->y, fy, row * H->m + j);
                ok = fwrite(&e, sizeof e, 1, H->rows) == 1;
            }
        }
        if (!ok)
            return r->err = oc_err(ONNXC_E_IO, "calibrate: cannot write a head's rows to a temporary file (%s)",
                                   strerror(errno));
        H->pub.rows += rows;
        H->have_x = true;
        if (++r->got == r->want) {
            r->stopped = true;
            return ONNXC_E_RUNTIME;
        }
    }
    return ONNXC_OK;
}

/* In-place Cholesky of the p x p SPD matrix a (lower triangle, row-major); false when not positive. */
static bool cholesky(double *a, int64_t p)
{
    for (int64_t j = 0; j < p; j++) {
        double *aj = a + j * p;
        double s = aj[j];
        for (int64_t k = 0; k < j; k++)
            s -= aj[k] * aj[k];
        if (!(s > 0))
            return false;
        aj[j] = sqrt(s);
        for (int64_t i = j + 1; i < p; i++) {
            double *ai = a + i * p, t = ai[j];
            for (int64_t k = 0; k < j; k++)
                t -= ai[k] * aj[k];
            ai[j] = t / aj[j];
        }
    }
    return true;
}

/* Solve L L^T z = b in place (L from cholesky). */
static void chol_solve(const double *l, int64_t p, double *b)
{
    for (int64_t i = 0; i < p; i++) {
        double s = b[i];
        for (int64_t k = 0; k < i; k++)
            s -= l[i * p + k] * b[k];
        b[i] = s / l[i * p + i];
    }
    for (int64_t i = p - 1; i >= 0; i--) {
        double s = b[i];
        for (int64_t k = i + 1; k < p; k++)
            s -= l[k * p + i] * b[k];
        b[i] = s / l[i * p + i];
    }
}

static bool read_row(FILE *f, double *x, int64_t d1, double *y, int64_t m)
{
    return fread(x, sizeof *x, (size_t)d1, f) == (size_t)d1 && fread(y, sizeof *y, (size_t)m, f) == (size_t)m;
}

/* The ridge grid: lambda = 10^(k/2 - 4) * trace(X^T X) / d1, k = 0..10 (1e-4 .. 10). */
enum { HEAD_GRID = 11 };
static double grid_rel(int k) { return pow(10.0, 0.5 * k - 4.0); }

/* Fit one head from its rows: ridge toward w0 with lambda chosen by the leave-one-row-out residual (exact for
 * ridge: e_i / (1 - h_ii)). With fewer rows than d1 in the dual (n x n Gram) form, else in the primal (d1 x d1).
 * The fitted weight goes into W (d1 x m). */
static onnxc_status head_fit(cal_head *H, double *W)
{
    int64_t n = H->pub.rows, d1 = H->d1, m = H->m;
    onnxc_status st = ONNXC_OK;
    bool dual = n <= d1;
    int64_t p = dual ? n : d1;
    double *X = NULL, *Y = NULL, *K = oc_malloc((size_t)(p * p) * sizeof *K), *L = oc_malloc((size_t)(p * p) * sizeof *L);
    double *xr = oc_malloc((size_t)(d1 + m + p) * sizeof *xr), *rhs = NULL, *sol = oc_malloc((size_t)(p * m) * sizeof *sol);
    double yy = 0, tr = 0, e0 = 0, best, best_rel = -1;
    memcpy(W, H->w0, (size_t)(d1 * m) * sizeof *W);
    if (!K || !L || !xr || !sol)
        goto nomem;
    if (fflush(H->rows) != 0 || fseeko(H->rows, 0, SEEK_SET) != 0)
        goto io;
    memset(K, 0, (size_t)(p * p) * sizeof *K);
    if (dual) {
        /* X (n x d1) and R0 = Y - X W0 (column-major m x n) in memory: n <= d1, so no more than K's d1 x d1 */
        X = oc_malloc((size_t)(n * d1) * sizeof *X);
        Y = oc_malloc((size_t)(n * m) * sizeof *Y);
        if (!X || !Y)
            goto nomem;
        for (int64_t i = 0; i < n; i++) {
            double *y = xr + d1;
            if (!read_row(H->rows, X + i * d1, d1, y, m))
                goto io;
            for (int64_t j = 0; j < m; j++) {
                double f = 0;
                for (int64_t k = 0; k < d1; k++)
                    f += X[i * d1 + k] * H->w0[k * m + j];
                Y[j * n + i] = y[j] - f;
                yy += y[j] * y[j];
                e0 += (y[j] - f) * (y[j] - f);
            }
        }
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j <= i; j++) {
                double s = 0;
                for (int64_t k = 0; k < d1; k++)
                    s += X[i * d1 + k] * X[j * d1 + k];
                K[i * n + j] = K[j * n + i] = s;
            }
    } else {
        /* X^T X and X^T Y (column-major m x d1) streamed over the rows */
        rhs = oc_calloc((size_t)(d1 * m), sizeof *rhs);
        if (!rhs)
            goto nomem;
        for (int64_t i = 0; i < n; i++) {
            double *y = xr + d1;
            if (!read_row(H->rows, xr, d1, y, m))
                goto io;
            for (int64_t a = 0; a < d1; a++) {
                for (int64_t b = 0; b <= a; b++)
                    K[a * d1 + b] += xr[a] * xr[b];
                for (int64_t j = 0; j < m; j++)
                    rhs[j * d1 + a] += xr[a] * y[j];
            }
            for (int64_t j = 0; j < m; j++) {
                double f = 0;
                for (int64_t k = 0; k < d1; k++)
                    f += xr[k] * H->w0[k * m + j];
                yy += y[j] * y[j];
                e0 += (y[j] - f) * (y[j] - f);
            }
        }
        for (int64_t a = 0; a < d1; a++)
            for (int64_t b = 0; b < a; b++)
                K[b * d1 + a] = K[a * d1 + b];
    }
    for (int64_t i = 0; i < p; i++)
        tr += K[i * p + i];
    H->pub.residual_before = H->pub.residual_after = H->pub.residual_loo = NAN;
    H->pub.lambda_rel = NAN;
    if (!(tr > 0) || !(yy > 0) || n < 2)
        goto residuals; /* nothing to fit on: the carried weights stay */
    /* the carried weights are not fitted to these rows, so their residual is their left-out residual too: a
     * lambda must beat it to be used */
    best = e0;
    /* the grid, then the best lambda once more to keep its solution */
    for (int g = 0; g <= HEAD_GRID; g++) {
        double rel = g < HEAD_GRID ? grid_rel(g) : best_rel, lam = rel * tr / (double)d1, loo = 0;
        if (g == HEAD_GRID && best_rel < 0)
            break;
        memcpy(L, K, (size_t)(p * p) * sizeof *L);
        for (int64_t i = 0; i < p; i++)
            L[i * p + i] += lam;
        if (!cholesky(L, p))
            continue;
        for (int64_t j = 0; j < m; j++) {
            double *s = sol + j * p;
            for (int64_t i = 0; i < p; i++)
                s[i] = dual ? Y[j * n + i] : rhs[j * d1 + i] + lam * H->w0[i * m + j];
            chol_solve(L, p, s);
        }
        if (g == HEAD_GRID)
            break;
        if (dual) {
            /* alpha = (K + lam I)^-1 R0; the left-out residual of row i is alpha_i / [(K + lam I)^-1]_ii */
            for (int64_t i = 0; i < n; i++) {
                double *e = xr;
                memset(e, 0, (size_t)n * sizeof *e);
                e[i] = 1;
                chol_solve(L, n, e);
                for (int64_t j = 0; j < m; j++) {
                    double r = sol[j * n + i] / e[i];
                    loo += r * r;
                }
            }
        } else {
            if (fseeko(H->rows, 0, SEEK_SET) != 0)
                goto io;
            double *z = xr + d1 + m;
            for (int64_t i = 0; i < n; i++) {
                double *y = xr + d1;
                if (!read_row(H->rows, xr, d1, y, m))
                    goto io;
                memcpy(z, xr, (size_t)d1 * sizeof *z);
                chol_solve(L, d1, z);
                double h = 0;
                for (int64_t k = 0; k < d1; k++)
                    h += xr[k] * z[k];
                for (int64_t j = 0; j < m; j++) {
                    double f = 0;
                    for (int64_t k = 0; k < d1; k++)
                        f += xr[k] * sol[j * d1 + k];
                    double r = (y[j] - f) / (1 - h);
                    loo += r * r;
                }
            }
        }
        if (loo < best) {
            best = loo;
            best_rel = rel;
        }
    }
    H->pub.residual_loo = sqrt(best / yy);
    if (best_rel < 0)
        goto residuals; /* no lambda of the grid predicts left-out rows better: the carried weights stay */
    H->pub.lambda_rel = best_rel;
    H->pub.refitted = 1;
    if (dual) {
        for (int64_t k = 0; k < d1; k++)
            for (int64_t j = 0; j < m; j++) {
                double s = 0;
                for (int64_t i = 0; i < n; i++)
                    s += X[i * d1 + k] * sol[j * n + i];
                W[k * m + j] += s;
            }
    } else {
        for (int64_t k = 0; k < d1; k++)
            for (int64_t j = 0; j < m; j++)
                W[k * m + j] = sol[j * d1 + k];
    }
residuals:
    /* ||X W - Y|| / ||Y|| with the carried and with the fitted weight */
    if (fseeko(H->rows, 0, SEEK_SET) != 0)
        goto io;
    {
        double e0 = 0, e1 = 0;
        for (int64_t i = 0; i < n; i++) {
            double *y = xr + d1;
            if (!read_row(H->rows, xr, d1, y, m))
                goto io;
            for (int64_t j = 0; j < m; j++) {
                double f0 = 0, f1 = 0;
                for (int64_t k = 0; k < d1; k++) {
                    f0 += xr[k] * H->w0[k * m + j];
                    f1 += xr[k] * W[k * m + j];
                }
                e0 += (y[j] - f0) * (y[j] - f0);
                e1 += (y[j] - f1) * (y[j] - f1);
            }
        }
        H->pub.residual_before = yy > 0 ? sqrt(e0 / yy) : 0;
        H->pub.residual_after = yy > 0 ? sqrt(e1 / yy) : 0;
    }
    goto done;
nomem:
    st = oc_err(ONNXC_E_NOMEM, "out of memory");
    goto done;
io:
    st = oc_err(ONNXC_E_IO, "calibrate: cannot read a head's rows back from a temporary file");
done:
    oc_free(X);
    oc_free(Y);
    oc_free(K);
    oc_free(L);
    oc_free(xr);
    oc_free(rhs);
    oc_free(sol);
    return st;
}

/* Write W (d1 x m, effective) into the head's weight (and bias) initializers. */
static void head_store(cal_head *H, const double *W)
{
    for (int64_t k = 0; k < H->d; k++)
        for (int64_t j = 0; j < H->m; j++)
            oc_set_f64(&H->w->t, H->trans_b ? j * H->d + k : k * H->m + j, W[k * H->m + j] / H->alpha);
    for (int64_t j = 0; H->b && j < H->m; j++)
        oc_set_f64(&H->b->t, j, W[H->d * H->m + j] / H->beta);
}

/* The heads' pass over the samples (the original, then the calibrated model up to the heads' inputs), their
 * fits, and the new weights into swapped. On failure the carried weights stay. */
static onnxc_status refit_heads(onnxc_calibration *c, onnxc_session *sa, onnxc_session *sb, int n_samples,
                                int n_inputs, const char *const *names, const onnxc_tensor *const *samples,
                                const onnxc_calibrate_options *o)
{
    onnxc_status st = ONNXC_OK;
    for (int i = 0; i < c->n_heads; i++)
        if (!(c->heads[i].rows = tmpfile()))
            return oc_err(ONNXC_E_IO, "calibrate: cannot create a temporary file (%s)", strerror(errno));
    head_run r = {.h = c->heads, .n = c->n_heads};
    for (int s = 0; s < n_samples && st == ONNXC_OK; s++) {
        const onnxc_tensor *const *in = samples + (size_t)s * (size_t)n_inputs;
        st = onnxc_session_run(sa, n_inputs, names, in);
        for (int i = 0; i < c->n_heads; i++) {
            c->heads[i].y = onnxc_session_output(sa, c->heads[i].out_a);
            c->heads[i].have_x = false;
        }
        r.want = c->n_heads;
        r.got = 0;
        r.stopped = false;
        r.err = ONNXC_OK;
        if (st == ONNXC_OK)
            st = oc_run_observed_kept(sb, n_inputs, names, in, observe_head, &r);
        if (r.stopped)
            st = ONNXC_OK;
        else if (st == ONNXC_OK && r.got != r.want)
            st = oc_err(ONNXC_E_RUNTIME, "calibrate: a head's input was not computed");
        progress(o, 3, c->n_layers, c->n_layers, c->n_layers, s + 1, n_samples);
    }
    double **W = oc_calloc((size_t)c->n_heads + 1, sizeof *W);
    if (!W && st == ONNXC_OK)
        st = oc_err(ONNXC_E_NOMEM, "out of memory");
    for (int i = 0; i < c->n_heads && st == ONNXC_OK; i++) {
        if (!(W[i] = oc_malloc((size_t)(c->heads[i].d1 * c->heads[i].m) * sizeof **W)))
            st = oc_err(ONNXC_E_NOMEM, "out of memory");
        else
            st = head_fit(&c->heads[i], W[i]);
    }
    for (int i = 0; i < c->n_heads && st == ONNXC_OK; i++)
        head_store(&c->heads[i], W[i]);
    for (int i = 0; W && i < c->n_heads; i++)
        oc_free(W[i]);
    oc_free(W);
    for (int i = 0; i < c->n_heads; i++) {
        if (c->heads[i].rows)
            fclose(c->heads[i].rows);
        c->heads[i].rows = NULL;
        c->heads[i].y = NULL;
    }
    return st;
}

onnxc_status onnxc_swap_norm_calibrate(const onnxc_model *original, onnxc_model *swapped, int n_samples,
                                       int n_inputs, const char *const *names, const onnxc_tensor *const *samples,
                                       const onnxc_calibrate_options *opts, onnxc_calibration **out)
{
    if (out)
        *out = NULL;
    if (!original || !swapped || (n_inputs > 0 && !names) || n_inputs < 0)
        return oc_err(ONNXC_E_ARG, "calibrate: no model, or input names missing");
    if (opts && (opts->objective < ONNXC_CALIB_FIT_DEFAULT || opts->objective > ONNXC_CALIB_FIT_ACT))
        return oc_err(ONNXC_E_ARG, "calibrate: objective %d is not one of ONNXC_CALIB_FIT_DEFAULT, _BN, _ACT",
                      opts->objective);
    onnxc_status st = check_samples(original, n_samples, n_inputs, names, samples, opts);
    if (st != ONNXC_OK)
        return st;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    onnxc_session_options so = {.threads = opts ? opts->threads : 0};
    onnxc_session *sa = NULL, *sb = NULL;
    unsigned char *dep = NULL;
    onnxc_calibration *c = oc_calloc(1, sizeof *c);
    if (!c)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    c->n_samples = n_samples;
    st = onnxc_session_create(original, &so, &sa);
    if (st == ONNXC_OK)
        st = onnxc_session_create(swapped, &so, &sb);
    if (st == ONNXC_OK)
        st = find_layers(c, original, swapped, sa, sb, opts ? opts->objective : 0);
    if (st == ONNXC_OK && !(opts && opts->keep_head))
        st = find_heads(c, swapped, sa, sb);
    if (st != ONNXC_OK)
        goto out;
    int n = c->n_layers;
    /* the values before any fit, so a failure leaves swapped as it was */
    double **keep = oc_calloc((size_t)n * 2 + 1, sizeof *keep);
    dep = oc_calloc((size_t)n * (size_t)n + 1, 1);
    if (!keep || !dep) {
        oc_free(keep);
        st = oc_err(ONNXC_E_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n && st == ONNXC_OK; i++)
        for (int k = 0; k < 2 && st == ONNXC_OK; k++) {
            cal_layer *L = &c->layers[i];
            keep[2 * i + k] = oc_malloc((size_t)L->pub.channels * sizeof **keep);
            if (!keep[2 * i + k]) {
                st = oc_err(ONNXC_E_NOMEM, "out of memory");
                break;
            }
            for (int64_t ch = 0; ch < L->pub.channels; ch++)
                keep[2 * i + k][ch] = oc_get_f64(&L->par[0][k]->t, ch);
        }
    if (st == ONNXC_OK)
        st = upstream(c, sb->g, dep);
    /* The pass schedule (a layer's pass: one after the last of the layers upstream of it), and for each pass the
     * run-order segment it runs: from where the previous pass's fitted layers start (nothing before changed) to
     * the last input it fits; the values that cross from before a pass's start to it are saved per sample
     * (a temporary file) by the previous pass and written back. Not with subgraphs (their reads of outer
     * values are not node inputs), nor without temporary files: then every pass runs from the input. */
    int n_sched = 0, *pass_of = NULL, *seg_p = NULL, *seg_e = NULL, *n_fr = NULL;
    const oc_value ***fr = NULL;
    FILE *fr_file[2] = {NULL, NULL};
    int64_t *fr_off[2] = {NULL, NULL};
    bool segments = st == ONNXC_OK && n > 0;
    for (int k = 0; segments && k < sb->n_order; k++)
        for (int a = 0; a < sb->order[k]->n_attrs; a++)
            if (sb->order[k]->attrs[a].type == OC_ATTR_GRAPH || sb->order[k]->attrs[a].type == OC_ATTR_GRAPHS)
                segments = false;
    if (segments) {
        st = oc_session_plan(sb, n_inputs, names, samples);
        int nv = sb->g->n_values;
        int *prod = oc_malloc((size_t)nv * sizeof *prod), *first_use = oc_malloc((size_t)nv * sizeof *first_use),
            *last_use = oc_malloc((size_t)nv * sizeof *last_use);
        pass_of = oc_calloc((size_t)n + 1, sizeof *pass_of);
        seg_p = oc_calloc((size_t)n + 1, sizeof *seg_p);
        seg_e = oc_calloc((size_t)n + 1, sizeof *seg_e);
        n_fr = oc_calloc((size_t)n + 1, sizeof *n_fr);
        fr = oc_calloc((size_t)n + 1, sizeof *fr);
        fr_file[0] = tmpfile();
        fr_file[1] = tmpfile();
        fr_off[0] = oc_calloc((size_t)n_samples, sizeof *fr_off[0]);
        fr_off[1] = oc_calloc((size_t)n_samples, sizeof *fr_off[1]);
        if (st == ONNXC_OK && (!prod || !first_use || !last_use || !pass_of || !seg_p || !seg_e || !n_fr || !fr ||
                               !fr_off[0] || !fr_off[1]))
            st = oc_err(ONNXC_E_NOMEM, "out of memory");
        segments = st == ONNXC_OK && fr_file[0] && fr_file[1];
        for (int v = 0; segments && v < nv; v++)
            prod[v] = first_use[v] = last_use[v] = -1;
        for (int k = 0; segments && k < sb->n_order; k++) {
            const oc_node *nd = sb->order[k];
            for (int o = 0; o < nd->n_outputs; o++)
                if (nd->outputs[o] && nd->outputs[o]->graph == sb->g)
                    prod[nd->outputs[o]->id] = k;
            for (int i = 0; i < nd->n_inputs; i++) {
                const oc_value *u = nd->inputs[i];
                if (u && u->graph == sb->g) {
                    if (first_use[u->id] < 0)
                        first_use[u->id] = k;
                    last_use[u->id] = k;
                }
            }
        }
        for (int j = 0; segments && j < n; j++) {
            for (int i = 0; i < j; i++)
                if (dep[j * n + i] && pass_of[i] + 1 > pass_of[j])
                    pass_of[j] = pass_of[i] + 1;
            if (pass_of[j] + 1 > n_sched)
                n_sched = pass_of[j] + 1;
        }
        for (int k = 0; segments && k < n_sched; k++) {
            seg_p[k] = sb->n_order;
            seg_e[k] = -1;
            for (int j = 0; j < n; j++)
                if (pass_of[j] == k) {
                    const oc_value *x = c->layers[j].xb;
                    if (first_use[x->id] >= 0 && first_use[x->id] < seg_p[k])
                        seg_p[k] = first_use[x->id];
                    if (prod[x->id] > seg_e[k])
                        seg_e[k] = prod[x->id];
                }
            if (seg_e[k] < seg_p[k] - 1)
                seg_e[k] = seg_p[k] - 1;
            if (k > 0 && seg_p[k] <= seg_p[k - 1])
                segments = false; /* not expected (a pass's layers come after one of the previous pass's) */
        }
        for (int k = 0; segments && k + 1 < n_sched; k++) {
            fr[k] = oc_calloc((size_t)nv + 1, sizeof *fr[k]);
            if (!fr[k]) {
                st = oc_err(ONNXC_E_NOMEM, "out of memory");
                segments = false;
                break;
            }
            for (int v = 0; v < nv; v++)
                if (prod[v] >= 0 && prod[v] < seg_p[k] && last_use[v] >= seg_p[k] && !sb->rv[v].known &&
                    !sb->nodes[prod[v]].folded)
                    fr[k][n_fr[k]++] = sb->g->values[v];
        }
        oc_free(prod);
        oc_free(first_use);
        oc_free(last_use);
    }
    /* the observed runs use the sessions' fast (fused) plans, keeping only the values the fit reads: each
     * layer's target in the original, its input in the swapped model */
    if (st == ONNXC_OK) {
        const oc_value **kv = oc_calloc((size_t)n + 1, sizeof *kv);
        if (!kv)
            st = oc_err(ONNXC_E_NOMEM, "out of memory");
        for (int i = 0; st == ONNXC_OK && i < n; i++)
            kv[i] = c->layers[i].ya;
        if (st == ONNXC_OK)
            st = oc_session_keep_values(sa, kv, n);
        int nk = 0, nkv = n + c->n_heads;
        for (int k = 0; segments && k < n_sched; k++)
            nkv += n_fr[k];
        const oc_value **kb = oc_calloc((size_t)nkv + 1, sizeof *kb);
        if (!kb && st == ONNXC_OK)
            st = oc_err(ONNXC_E_NOMEM, "out of memory");
        for (int i = 0; st == ONNXC_OK && i < n; i++)
            if (c->layers[i].xb->producer)
                kb[nk++] = c->layers[i].xb;
        for (int k = 0; st == ONNXC_OK && segments && k < n_sched; k++)
            for (int i = 0; i < n_fr[k]; i++)
                kb[nk++] = fr[k][i];
        for (int i = 0; st == ONNXC_OK && i < c->n_heads; i++)
            kb[nk++] = c->heads[i].xb;
        if (st == ONNXC_OK)
            st = oc_session_keep_values(sb, kb, nk);
        oc_free(kb);
        oc_free(kv);
    }
    for (int i = 0; i < n; i++) {
        const oc_value *x = c->layers[i].xb;
        c->layers[i].xb_input = -1;
        for (int k = 0; k < n_inputs; k++)
            if (!x->producer && !strcmp(x->name, names[k]))
                c->layers[i].xb_input = k;
        if (!x->producer && c->layers[i].xb_input < 0 && st == ONNXC_OK)
            st = oc_err(ONNXC_E_UNSUPPORTED, "calibrate: layer %s: its input '%s' is a constant",
                        c->layers[i].node, x->name);
    }
    cal_run r = {.layers = c->layers, .n_layers = n};
    /* The targets depend on the original alone: run it once per sample with every layer observed and keep
     * them in a temporary file (memory stays at one sample's activations), so each pass runs only the swapped
     * model. Without a temporary file, each pass runs the original again. */
    r.spill = st == ONNXC_OK && n > 0 ? tmpfile() : NULL;
    for (int i = 0; r.spill && i < n; i++)
        if (!(c->layers[i].spill_off = oc_calloc((size_t)n_samples, sizeof *c->layers[i].spill_off)))
            st = oc_err(ONNXC_E_NOMEM, "out of memory");
    for (int s = 0; r.spill && s < n_samples && st == ONNXC_OK; s++) {
        for (int j = 0; j < n; j++)
            c->layers[j].have_y = false;
        r.want = n;
        r.got = 0;
        r.sample = s;
        r.stopped = false;
        r.err = ONNXC_OK;
        st = oc_run_observed_kept(sa, n_inputs, names, samples + (size_t)s * (size_t)n_inputs, observe_spill, &r);
        if (r.stopped)
            st = ONNXC_OK;
        else if (st == ONNXC_OK && r.got != r.want)
            st = oc_err(ONNXC_E_RUNTIME, "calibrate: a layer's value was not computed");
        progress(opts, 2, 0, n - 1, n, s + 1, n_samples);
    }
    /* the ACT objective keeps each pass's normalized values in a temporary file (needs the spill file too) */
    FILE *nfile = NULL;
    for (int j = 0; j < n && st == ONNXC_OK; j++) {
        cal_layer *L = &c->layers[j];
        if (L->act && r.spill && !nfile)
            nfile = tmpfile();
        if (L->act && (!r.spill || !nfile)) {
            L->act = 0; /* no temporary file: the BN objective */
            L->pub.objective = "bn";
        }
        if (L->act && !(L->n_off = oc_calloc((size_t)n_samples, sizeof *L->n_off)))
            st = oc_err(ONNXC_E_NOMEM, "out of memory");
        L->nfile = nfile;
    }
    int n_done = 0;
    while (st == ONNXC_OK && n_done < n) {
        /* one pass over the samples fits every layer that no unfitted layer feeds */
        int first = -1, last = -1, want = 0;
        for (int j = 0; j < n; j++) {
            cal_layer *L = &c->layers[j];
            L->in_pass = false;
            if (L->done)
                continue;
            bool ready = true;
            for (int i = 0; i < n && ready; i++)
                ready = !(i != j && !c->layers[i].done && dep[j * n + i]);
            if (ready) {
                L->in_pass = true;
                want++;
                if (first < 0)
                    first = j;
                last = j;
            }
        }
        if (want == 0) {
            st = oc_err(ONNXC_E_INVALID, "calibrate: the swapped layers feed each other in a cycle");
            break;
        }
        c->n_passes++;
        for (int j = 0; segments && j < n; j++)
            if (c->layers[j].in_pass != (pass_of[j] == c->n_passes - 1))
                segments = false; /* the schedule is not this loop's: run from the input (not expected) */
        bool act_pass = false;
        for (int j = 0; j < n && st == ONNXC_OK; j++) {
            cal_layer *L = &c->layers[j];
            if (L->in_pass && L->act) {
                act_pass = true;
                if (!(L->nbuf = oc_malloc((size_t)(L->y_n ? L->y_n : 1) * sizeof *L->nbuf)))
                    st = oc_err(ONNXC_E_NOMEM, "out of memory");
            }
        }
        if (act_pass && st == ONNXC_OK &&
            (fflush(nfile) != 0 || ftruncate(fileno(nfile), 0) != 0 || fseeko(nfile, 0, SEEK_SET) != 0))
            st = oc_err(ONNXC_E_IO, "calibrate: cannot reuse a temporary file (%s)", strerror(errno));
        if (segments && st == ONNXC_OK) {
            FILE *w = fr_file[(c->n_passes - 1) % 2];
            if (fflush(w) != 0 || ftruncate(fileno(w), 0) != 0 || fseeko(w, 0, SEEK_SET) != 0)
                st = oc_err(ONNXC_E_IO, "calibrate: cannot reuse a temporary file (%s)", strerror(errno));
        }
        for (int s = 0; s < n_samples && st == ONNXC_OK; s++) {
            const onnxc_tensor *const *in = samples + (size_t)s * (size_t)n_inputs;
            for (int j = 0; j < n; j++) {
                c->layers[j].have_x = c->layers[j].have_y = false;
                c->layers[j].sample = s;
            }
            r.want = want;
            r.got = 0;
            if (r.spill) {
                for (int j = 0; j < n && st == ONNXC_OK; j++)
                    if (c->layers[j].in_pass)
                        st = load_target(r.spill, &c->layers[j], s);
            } else {
                st = run_until(sa, n_inputs, names, in, observe_a, &r);
            }
            if (st != ONNXC_OK)
                break;
            r.got = 0;
            for (int j = 0; j < n && st == ONNXC_OK; j++)
                if (c->layers[j].in_pass && c->layers[j].xb_input >= 0) {
                    st = accumulate(&c->layers[j], in[c->layers[j].xb_input]);
                    r.got++;
                }
            if (st == ONNXC_OK && segments) {
                int k = c->n_passes - 1;
                r.sb = sb;
                r.sample = s;
                r.n_save = k + 1 < n_sched ? n_fr[k] : 0;
                r.save = fr[k];
                r.save_at = seg_p[k];
                r.save_to = fr_file[k % 2];
                r.save_off = fr_off[k % 2];
                st = run_segment(&r, n_inputs, names, in, k ? seg_p[k - 1] : 0, seg_e[k], k ? fr[k - 1] : NULL,
                                 k ? n_fr[k - 1] : 0, fr_file[(k + 1) % 2], fr_off[(k + 1) % 2][s]);
            } else if (st == ONNXC_OK) {
                st = run_until(sb, n_inputs, names, in, observe_b, &r);
            }
            progress(opts, 0, first, last, n, s + 1, n_samples);
        }
        for (int j = 0; j < n && st == ONNXC_OK; j++)
            if (c->layers[j].in_pass) {
                fit(&c->layers[j]);
                if (c->layers[j].act) {
                    st = refine(&c->layers[j], r.spill, n_samples, ACT_PASSES, keep[2 * j], keep[2 * j + 1]);
                    progress(opts, 4, j, j, n, n_samples, n_samples);
                }
                oc_free(c->layers[j].nbuf);
                c->layers[j].nbuf = NULL;
                n_done++;
                oc_free(c->layers[j].y);
                c->layers[j].y = NULL;
                c->layers[j].y_n = 0;
            }
    }
    if (nfile)
        fclose(nfile);
    for (int k = 0; fr && k < n; k++)
        oc_free(fr[k]);
    oc_free(fr);
    oc_free(pass_of);
    oc_free(seg_p);
    oc_free(seg_e);
    oc_free(n_fr);
    for (int k = 0; k < 2; k++) {
        if (fr_file[k])
            fclose(fr_file[k]);
        oc_free(fr_off[k]);
    }
    /* the final linear layers on the calibrated model's activations, then a fresh session of the result for the
     * drift (a session may hold its own copy of a weight) */
    bool heads_stored = false;
    if (st == ONNXC_OK && c->n_heads) {
        st = refit_heads(c, sa, sb, n_samples, n_inputs, names, samples, opts);
        heads_stored = st == ONNXC_OK;
        onnxc_session_free(sb);
        sb = NULL;
        if (st == ONNXC_OK)
            st = onnxc_session_create(swapped, &so, &sb);
    }
    if (st == ONNXC_OK)
        st = drift(c, sa, sb, n_samples, n_inputs, names, samples, opts);
    /* the output names point into sb's model, which is swapped: copy them before the session goes (a failure
     * here undoes the fit too) */
    for (int i = 0; st == ONNXC_OK && i < c->n_outputs; i++) {
        char *copy = oc_strdup(c->outputs[i].name);
        if (!copy) {
            for (int k = 0; k < i; k++) {
                oc_free((char *)c->outputs[k].name);
                c->outputs[k].name = NULL;
            }
            c->n_outputs = 0; /* none copied */
            st = oc_err(ONNXC_E_NOMEM, "out of memory");
            break;
        }
        c->outputs[i].name = copy;
    }
    if (st != ONNXC_OK) {
        for (int i = 0; heads_stored && i < c->n_heads; i++)
            head_store(&c->heads[i], c->heads[i].w0);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < 2 && keep[2 * i + k]; k++)
                for (int64_t ch = 0; ch < c->layers[i].pub.channels; ch++)
                    oc_set_f64(&c->layers[i].par[0][k]->t, ch, keep[2 * i + k][ch]);
    }
    for (int i = 0; i < 2 * n; i++)
        oc_free(keep[i]);
    oc_free(keep);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    c->seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (r.spill)
        fclose(r.spill);
out:
    oc_free(dep);
    onnxc_session_free(sa);
    onnxc_session_free(sb);
    if (st != ONNXC_OK || !out) {
        if (st != ONNXC_OK)
            c->n_outputs = 0; /* names not copied */
        onnxc_calibration_free(c);
        return st;
    }
    for (int i = 0; i < c->n_layers; i++) {
        oc_free(c->layers[i].sums);
        c->layers[i].sums = NULL;
    }
    *out = c;
    return ONNXC_OK;
}

int onnxc_calibration_num_layers(const onnxc_calibration *c) { return c ? c->n_layers : 0; }

const onnxc_calib_layer *onnxc_calibration_layer(const onnxc_calibration *c, int i)
{
    return c && i >= 0 && i < c->n_layers ? &c->layers[i].pub : NULL;
}

int onnxc_calibration_num_heads(const onnxc_calibration *c) { return c ? c->n_heads : 0; }

const onnxc_calib_head *onnxc_calibration_head(const onnxc_calibration *c, int i)
{
    return c && i >= 0 && i < c->n_heads ? &c->heads[i].pub : NULL;
}

int onnxc_calibration_num_outputs(const onnxc_calibration *c) { return c ? c->n_outputs : 0; }

int onnxc_calibration_num_samples(const onnxc_calibration *c) { return c ? c->n_samples : 0; }

const onnxc_calib_output *onnxc_calibration_output(const onnxc_calibration *c, int i)
{
    return c && i >= 0 && i < c->n_outputs ? &c->outputs[i] : NULL;
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.9g", v);
    else
        fputs("null", f);
}

void onnxc_calibration_print(const onnxc_calibration *c, FILE *f, int json)
{
    if (!c || !f)
        return;
    if (json) {
        fprintf(f, "{\"samples\": %d, \"passes\": %d, \"seconds\": ", c->n_samples, c->n_passes);
        json_num(f, c->seconds);
        fputs(", \"layers\": [", f);
        for (int i = 0; i < c->n_layers; i++) {
            const onnxc_calib_layer *L = &c->layers[i].pub;
            fputs(i ? ", {\"node\": " : "{\"node\": ", f);
            onnxc_json_write_string(f, L->node);
            fputs(", \"output\": ", f);
            onnxc_json_write_string(f, L->output);
            fprintf(f, ", \"channels\": %lld, \"groups\": %lld, \"residual_before\": ", (long long)L->channels,
                    (long long)L->groups);
            json_num(f, L->residual_before);
            fputs(", \"residual_after\": ", f);
            json_num(f, L->residual_after);
            fprintf(f, ", \"kept_channels\": %lld, \"training_mode\": %s, \"objective\": ",
                    (long long)L->kept_channels, L->training_mode ? "true" : "false");
            onnxc_json_write_string(f, L->objective);
            fputs(", \"residual_bn_fit\": ", f);
            json_num(f, L->residual_bn_fit);
            fputc('}', f);
        }
        fputs("], \"heads\": [", f);
        for (int i = 0; i < c->n_heads; i++) {
            const onnxc_calib_head *H = &c->heads[i].pub;
            fputs(i ? ", {\"node\": " : "{\"node\": ", f);
            onnxc_json_write_string(f, H->node);
            fputs(", \"output\": ", f);
            onnxc_json_write_string(f, H->output);
            fprintf(f, ", \"inputs\": %lld, \"outputs\": %lld, \"rows\": %lld, \"bias\": %s, \"lambda_rel\": ",
                    (long long)H->inputs, (long long)H->outputs, (long long)H->rows, H->bias ? "true" : "false");
            json_num(f, H->lambda_rel);
            fprintf(f, ", \"refitted\": %s, \"residual_before\": ", H->refitted ? "true" : "false");
            json_num(f, H->residual_before);
            fputs(", \"residual_after\": ", f);
            json_num(f, H->residual_after);
            fputs(", \"residual_loo\": ", f);
            json_num(f, H->residual_loo);
            fputc('}', f);
        }
        fputs("], \"outputs\": [", f);
        for (int i = 0; i < c->n_outputs; i++) {
            const onnxc_metrics *m = &c->outputs[i].metrics;
            fputs(i ? ", {\"name\": " : "{\"name\": ", f);
            onnxc_json_write_string(f, c->outputs[i].name);
            fputs(", \"nmse\": ", f);
            json_num(f, m->nmse);
            fputs(", \"max_abs\": ", f);
            json_num(f, m->max_abs);
            fputs(", \"cosine\": ", f);
            json_num(f, m->cosine);
            fprintf(f, ", \"top1_rows\": %lld, \"top1_agree\": %lld}", (long long)m->top1_rows,
                    (long long)m->top1_agree);
        }
        fputs("]}\n", f);
        return;
    }
    fprintf(f, "calibration: %d layer%s on %d sample%s in %d pass%s over the samples (%.2f s)\n", c->n_layers,
            c->n_layers == 1 ? "" : "s", c->n_samples, c->n_samples == 1 ? "" : "s", c->n_passes,
            c->n_passes == 1 ? "" : "es", c->seconds);
    fprintf(f, "  %-40s %6s %6s  %s\n", "layer", "C", "G",
            "residual before -> after (of the BN output, or after its activation)");
    for (int i = 0; i < c->n_layers; i++) {
        const onnxc_calib_layer *L = &c->layers[i].pub;
        fprintf(f, "  %-40s %6lld %6lld  %.4g -> %.4g", L->node, (long long)L->channels, (long long)L->groups,
                L->residual_before, L->residual_after);
        if (strcmp(L->objective, "bn"))
            fprintf(f, "  (after the %s; the bn fit: %.4g)", L->objective, L->residual_bn_fit);
        if (L->kept_channels)
            fprintf(f, "  (warning: %lld channel%s without variance kept gamma/beta)", (long long)L->kept_channels,
                    L->kept_channels == 1 ? "" : "s");
        if (L->training_mode)
            fputs("  (the original ran in training mode: fitted to its batch statistics on each sample)", f);
        fputc('\n', f);
    }
    for (int i = 0; i < c->n_heads; i++) {
        const onnxc_calib_head *H = &c->heads[i].pub;
        fprintf(f, "head %s (%lld -> %lld%s, %lld rows): ", H->node, (long long)H->inputs, (long long)H->outputs,
                H->bias ? " + bias" : "", (long long)H->rows);
        if (H->refitted)
            fprintf(f, "output residual %.4g -> %.4g (left-out rows: %.4g, lambda %.3g x trace/d)\n",
                    H->residual_before, H->residual_after, H->residual_loo, H->lambda_rel);
        else
            fprintf(f, "kept (output residual %.4g; no refit predicts left-out rows better)\n",
                    H->residual_before);
    }
    fprintf(f, "drift of the outputs against the original on the calibration samples (the worst sample's):\n");
    for (int i = 0; i < c->n_outputs; i++) {
        const onnxc_metrics *m = &c->outputs[i].metrics;
        fprintf(f, "  %s: NMSE %.3g, max abs %.3g, cosine %.6f", c->outputs[i].name, m->nmse, m->max_abs,
                m->cosine);
        if (m->top1_rows)
            fprintf(f, ", top-1 agrees %lld of %lld", (long long)m->top1_agree, (long long)m->top1_rows);
        fputc('\n', f);
    }
}

onnxc_status onnxc_calibration_json(const onnxc_calibration *c, char **json)
{
    if (!json || !c) {
        if (json)
            *json = NULL;
        return oc_err(ONNXC_E_ARG, "onnxc_calibration_json: NULL argument");
    }
    oc_membuf b;
    onnxc_status st = oc_membuf_open(&b);
    if (st != ONNXC_OK) {
        *json = NULL;
        return st;
    }
    onnxc_calibration_print(c, b.f, 1);
    return oc_membuf_take(&b, json);
}

void onnxc_calibration_free(onnxc_calibration *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n_layers; i++) {
        oc_free(c->layers[i].node);
        oc_free(c->layers[i].output);
        oc_free(c->layers[i].sums);
        oc_free(c->layers[i].y);
        oc_free(c->layers[i].spill_off);
        oc_free(c->layers[i].nbuf);
        oc_free(c->layers[i].n_off);
    }
    oc_free(c->layers);
    for (int i = 0; i < c->n_heads; i++) {
        oc_free(c->heads[i].node);
        oc_free(c->heads[i].output);
        oc_free(c->heads[i].w0);
        if (c->heads[i].rows)
            fclose(c->heads[i].rows);
    }
    oc_free(c->heads);
    for (int i = 0; i < c->n_outputs; i++)
        oc_free((char *)c->outputs[i].name);
    oc_free(c->outputs);
    oc_free(c);
}
