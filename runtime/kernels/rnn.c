/* The recurrent ops RNN, GRU and LSTM (ONNX 1/3/7/14): every direction, both layouts (14), sequence_lens,
 * initial states, peepholes, clip, the spec's activations with activation_alpha / beta, GRU's
 * linear_before_reset, every optional output. float and double; the recurrence itself is in rnn_body.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kernel.h"
#include "kutil.h"
#include "linalg.h"
#include "threadpool.h"

enum { RNN_SIMPLE, RNN_GRU, RNN_LSTM };
enum { RNN_FORWARD, RNN_REVERSE, RNN_BIDIRECTIONAL };
enum {
    RNN_ACT_RELU,
    RNN_ACT_TANH,
    RNN_ACT_SIGMOID,
    RNN_ACT_AFFINE,
    RNN_ACT_LEAKYRELU,
    RNN_ACT_THRESHOLDEDRELU,
    RNN_ACT_SCALEDTANH,
    RNN_ACT_HARDSIGMOID,
    RNN_ACT_ELU,
    RNN_ACT_SOFTSIGN,
    RNN_ACT_SOFTPLUS,
};

typedef struct rnn_act {
    int kind;
    float alpha, beta;
} rnn_act;

typedef struct rnn_cfg {
    int kind, gates, n_act; /* n_act: activations per direction (RNN 1, GRU 2, LSTM 3) */
    int direction, dirs, layout;
    int64_t seq, batch, input, hidden;
    bool has_clip, linear_before_reset, input_forget;
    float clip;
    rnn_act act[6];
} rnn_cfg;

/* float with R constant and a batch of at least RNN_PACK_MIN_BATCH rows: R is packed once at plan time for the
 * packed GEMM (sgemm_packed.c); a BLAS call per step would pack all of R again for a few rows of H. Below it the
 * per-step product is a matrix-vector one and BLAS's gemv is the better kernel. */
#define RNN_PACK_MIN_BATCH 4
#define RNN_PACK_ROWS (8 * OC_GEMM_MR) /* rows of R per work item when the product is split over threads */

typedef struct rnn_state {
    int parts;              /* packed matrices per direction: 2 for GRU without linear_before_reset (Rzr, Rh) */
    oc_packed_a pk[2][2];   /* [direction][part] */
    int64_t ldb, ct_rows;   /* row stride of bt and ct (the batch rounded up to whole panels); rows of ct */
    int64_t *koff;          /* [hidden]: row k of H^T at bt + k * ldb */
    float *bt;              /* [direction]: H^T, [hidden][ldb], zero past the batch */
    float *ct;              /* [direction]: R H^T, [ct_rows][ldb], before it is transposed into hr */
} rnn_state;

typedef struct rnn_job {
    rnn_cfg cfg;
    const rnn_state *st;    /* NULL: the recurrent GEMM goes to BLAS */
    const void *x, *w, *r, *b, *h0, *c0, *p;
    const int64_t *lens;
    void *y, *yh, *yc;
    void *work;
    int64_t per_dir; /* elements of work per direction */
    struct oc_threadpool *pool;
    bool is_double;
} rnn_job;

/* Offsets (in elements) into X rows, Y and the [D, B, H] / [B, D, H] states, by layout. */
static int64_t rnn_x_row(const rnn_cfg *g, int64_t t, int64_t b)
{
    return g->layout ? b * g->seq + t : t * g->batch + b;
}
static int64_t rnn_y_off(const rnn_cfg *g, int64_t t, int d, int64_t b)
{
    return (g->layout ? (b * g->seq + t) * g->dirs + d : ((t * g->dirs) + d) * g->batch + b) * g->hidden;
}
static int64_t rnn_state_off(const rnn_cfg *g, int d, int64_t b)
{
    return (g->layout ? b * g->dirs + d : d * g->batch + b) * g->hidden;
}

/* float: the pooled GEMM and the kernels' vectorizable exp / tanh / sigmoid */
static void rnn_sgemm(struct oc_threadpool *pool, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                      const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    oc_sgemm_pool(pool, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
static void rnn_dgemm(struct oc_threadpool *pool, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha,
                      const double *a, int64_t lda, const double *b, int64_t ldb, double beta, double *c,
                      int64_t ldc)
{
    (void)pool;
    oc_dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
typedef struct rnn_rec {
    const oc_packed_a *pk;
    const float *bt;       /* H^T: [hidden][ldb], zero past the batch */
    const int64_t *koff;   /* k * ldb */
    int64_t rows_pad, n_pad, ldb;
    float *ct;
} rnn_rec;

static void rnn_rec_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const rnn_rec *r = arg;
    int64_t m0 = item * RNN_PACK_ROWS, m1 = m0 + RNN_PACK_ROWS < r->rows_pad ? m0 + RNN_PACK_ROWS : r->rows_pad;
    oc_gemm_packed_koff(r->pk, m0, m1, 0, r->n_pad, r->bt, r->koff, r->ct, r->ldb, NULL);
}

/* dst[b][0..rows) (row stride ldd) = R[rows] h[b]: part `part` of direction d's packed R, or BLAS on Rrows. */
static void rec_gemm_f32(const rnn_job *j, int d, int part, const float *Rrows, int64_t rows, const float *src,
                         float *dst, int64_t ldd, struct oc_threadpool *pool)
{
    const int64_t Bt = j->cfg.batch, H = j->cfg.hidden;
    if (!j->st) {
        rnn_sgemm(pool, false, true, Bt, rows, H, 1, src, H, Rrows, H, 0, dst, ldd);
        return;
    }
    const rnn_state *st = j->st;
    float *bt = st->bt + (size_t)d * (size_t)(H * st->ldb);
    for (int64_t k = 0; k < H; k++)
        for (int64_t n = 0; n < Bt; n++)
            bt[k * st->ldb + n] = src[n * H + k];
    rnn_rec r = {&st->pk[d][part], bt, st->koff, (rows + OC_GEMM_MR - 1) / OC_GEMM_MR * OC_GEMM_MR,
                 (Bt + 7) / 8 * 8, st->ldb, st->ct + (size_t)d * (size_t)(st->ct_rows * st->ldb)};
    int64_t items = (r.rows_pad + RNN_PACK_ROWS - 1) / RNN_PACK_ROWS;
    /* a step's product below ~64k multiply-adds costs less than waking the workers */
    if (pool && oc_pool_threads(pool) > 1 && items > 1 && (double)r.rows_pad * (double)H * (double)r.n_pad >= 65536.0)
        oc_pool_run(pool, items, rnn_rec_item, &r);
    else
        for (int64_t i = 0; i < items; i++)
            rnn_rec_item(&r, i, 0);
    for (int64_t b = 0; b < Bt; b++)
        for (int64_t k = 0; k < rows; k++)
            dst[b * ldd + k] = r.ct[k * st->ldb + b];
}

static void rec_gemm_f64(const rnn_job *j, int d, int part, const double *Rrows, int64_t rows, const double *src,
                         double *dst, int64_t ldd, struct oc_threadpool *pool)
{
    (void)d, (void)part, (void)pool;
    oc_dgemm(false, true, j->cfg.batch, rows, j->cfg.hidden, 1, src, j->cfg.hidden, Rrows, j->cfg.hidden, 0, dst,
             ldd);
}

static double rnn_dsigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)); }

#define RT float
#define SFX f32
#define RT_GEMM rnn_sgemm
#define RT_REC rec_gemm_f32
#define RT_EXP expf
#define RT_TANH oc_fast_tanhf
#define RT_SIGMOID oc_fast_sigmoidf
#define RT_LOG1P log1pf
#include "rnn_body.h"
#undef RT
#undef SFX
#undef RT_GEMM
#undef RT_REC
#undef RT_EXP
#undef RT_TANH
#undef RT_SIGMOID
#undef RT_LOG1P

#define RT double
#define SFX f64
#define RT_GEMM rnn_dgemm
#define RT_REC rec_gemm_f64
#define RT_EXP exp
#define RT_TANH tanh
#define RT_SIGMOID rnn_dsigmoid
#define RT_LOG1P log1p
#include "rnn_body.h"

/* ---------------------------------------------------------------- attributes and shapes */

static const struct {
    const char *name;
    int kind;
    bool alpha, beta;
    float da, db; /* defaults: ONNX Runtime's, ThresholdedRelu's that of the ONNX op */
} rnn_act_names[] = {
    {"Relu", RNN_ACT_RELU, false, false, 0, 0},
    {"Tanh", RNN_ACT_TANH, false, false, 0, 0},
    {"Sigmoid", RNN_ACT_SIGMOID, false, false, 0, 0},
    {"Affine", RNN_ACT_AFFINE, true, true, 1.0f, 0.0f},
    {"LeakyRelu", RNN_ACT_LEAKYRELU, true, false, 0.01f, 0},
    {"ThresholdedRelu", RNN_ACT_THRESHOLDEDRELU, true, false, 1.0f, 0},
    {"ScaledTanh", RNN_ACT_SCALEDTANH, true, true, 1.0f, 1.0f},
    {"HardSigmoid", RNN_ACT_HARDSIGMOID, true, true, 0.2f, 0.5f},
    {"Elu", RNN_ACT_ELU, true, false, 1.0f, 0},
    {"Softsign", RNN_ACT_SOFTSIGN, false, false, 0, 0},
    {"Softplus", RNN_ACT_SOFTPLUS, false, false, 0, 0},
};

static int rnn_kind_of(const oc_kctx *c)
{
    const char *op = c->node->op_type;
    return strcmp(op, "LSTM") == 0 ? RNN_LSTM : strcmp(op, "GRU") == 0 ? RNN_GRU : RNN_SIMPLE;
}

/* activations, activation_alpha, activation_beta: one list for all directions, alpha and beta consumed in order
 * by the activations that take them (ONNX Runtime's reading of the spec); a list of one direction's count is
 * used for both directions. */
static onnxc_status rnn_parse_acts(const oc_kctx *c, rnn_cfg *g)
{
    static const int dflt[3][3] = {
        {RNN_ACT_TANH, 0, 0},
        {RNN_ACT_SIGMOID, RNN_ACT_TANH, 0},
        {RNN_ACT_SIGMOID, RNN_ACT_TANH, RNN_ACT_TANH},
    };
    const oc_attr *acts = oc_node_attr(c->node, "activations");
    size_t na = 0, nb = 0, ia = 0, ib = 0;
    const float *al = oc_attr_floats(c->node, "activation_alpha", &na);
    const float *be = oc_attr_floats(c->node, "activation_beta", &nb);
    size_t n = acts ? acts->n_strings : 0;
    size_t want = (size_t)(g->n_act * g->dirs);
    if (n && n != want && n != (size_t)g->n_act)
        return oc_kerr(c, ONNXC_E_INVALID, "attribute 'activations' lists %zu functions; expected %zu", n, want);
    for (int i = 0; i < g->n_act * g->dirs; i++) {
        rnn_act *a = &g->act[i];
        if (!n) {
            a->kind = dflt[g->kind][i % g->n_act];
            a->alpha = a->beta = 0;
            continue;
        }
        const oc_bytes *s = &acts->strings[(size_t)i % n];
        size_t k = 0, nk = sizeof rnn_act_names / sizeof rnn_act_names[0];
        for (; k < nk; k++)
            if (strlen(rnn_act_names[k].name) == s->len &&
                strncasecmp(rnn_act_names[k].name, (const char *)s->data, s->len) == 0)
                break;
        if (k == nk)
            return oc_kerr(c, ONNXC_E_UNSUPPORTED, "activation '%.*s' is not one the spec lists", (int)s->len,
                           (const char *)s->data);
        a->kind = rnn_act_names[k].kind;
        a->alpha = rnn_act_names[k].da;
        a->beta = rnn_act_names[k].db;
        if (rnn_act_names[k].alpha && ia < na)
            a->alpha = al[ia++];
        if (rnn_act_names[k].beta && ib < nb)
            a->beta = be[ib++];
    }
    return ONNXC_OK;
}

static const char *shape_text(const onnxc_tensor *t, char *buf, size_t cap)
{
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < t->rank && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i ? "," : "", (long long)t->dims[i]);
    if (o < cap)
        snprintf(buf + o, cap - o, "]");
    return buf;
}

/* Input k (optional unless required) must be of X's type and have the given shape. */
static onnxc_status rnn_check_input(const oc_kctx *c, int k, const char *name, int32_t dt, int rank,
                                    const int64_t *dims, const char *expect)
{
    const onnxc_tensor *t = k < c->n_in ? c->in[k] : NULL;
    if (!t)
        return ONNXC_OK;
    char buf[96];
    if (t->dtype != dt)
        return oc_kerr(c, ONNXC_E_INVALID, "input '%s' is %s; X is %s", name, onnxc_dtype_name(t->dtype),
                       onnxc_dtype_name(dt));
    bool ok = t->rank == rank;
    for (int i = 0; ok && i < rank; i++)
        ok = t->dims[i] == dims[i];
    if (!ok)
        return oc_kerr(c, ONNXC_E_INVALID, "input '%s' has shape %s; expected %s", name,
                       shape_text(t, buf, sizeof buf), expect);
    return ONNXC_OK;
}

static onnxc_status rnn_parse(const oc_kctx *c, rnn_cfg *g)
{
    memset(g, 0, sizeof *g);
    g->kind = rnn_kind_of(c);
    g->gates = g->kind == RNN_LSTM ? 4 : g->kind == RNN_GRU ? 3 : 1;
    g->n_act = g->kind == RNN_LSTM ? 3 : g->kind == RNN_GRU ? 2 : 1;
    for (int i = 0; i < 3; i++)
        if (i >= c->n_in || !c->in[i])
            return oc_kerr(c, ONNXC_E_INVALID, "missing required input %s", i == 0 ? "'X'" : i == 1 ? "'W'" : "'R'");
    const onnxc_tensor *x = c->in[0], *r = c->in[2];
    if (x->dtype != ONNXC_FLOAT && x->dtype != ONNXC_DOUBLE)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input 'X' is %s; float and double are supported",
                       onnxc_dtype_name(x->dtype));
    char buf[32];
    const char *dir = oc_attr_string(c->node, "direction", "forward", buf, sizeof buf);
    if (strcmp(dir, "forward") == 0)
        g->direction = RNN_FORWARD;
    else if (strcmp(dir, "reverse") == 0)
        g->direction = RNN_REVERSE;
    else if (strcmp(dir, "bidirectional") == 0)
        g->direction = RNN_BIDIRECTIONAL;
    else
        return oc_kerr(c, ONNXC_E_INVALID, "direction '%s' is not forward, reverse or bidirectional", dir);
    g->dirs = g->direction == RNN_BIDIRECTIONAL ? 2 : 1;
    g->layout = c->opset >= 14 ? (int)oc_attr_int(c->node, "layout", 0) : 0;
    if (g->layout != 0 && g->layout != 1)
        return oc_kerr(c, ONNXC_E_INVALID, "layout %d is neither 0 nor 1", g->layout);
    if (x->rank != 3)
        return oc_kerr(c, ONNXC_E_INVALID, "input 'X' must be 3-D, got rank %d", (int)x->rank);
    g->seq = x->dims[g->layout ? 1 : 0];
    g->batch = x->dims[g->layout ? 0 : 1];
    g->input = x->dims[2];
    if (r->rank != 3)
        return oc_kerr(c, ONNXC_E_INVALID, "input 'R' must be 3-D, got rank %d", (int)r->rank);
    g->hidden = oc_attr_int(c->node, "hidden_size", r->dims[2]);
    if (g->hidden <= 0 || g->hidden > (INT64_C(1) << 30))
        return oc_kerr(c, ONNXC_E_INVALID, "hidden_size %lld is not a positive size", (long long)g->hidden);
    const int64_t D = g->dirs, H = g->hidden, GH = g->gates * H, G = g->gates;
    char ex[160];
    snprintf(ex, sizeof ex, "[num_directions=%lld, %lld*hidden_size=%lld, input_size=%lld]", (long long)D,
             (long long)G, (long long)GH, (long long)g->input);
    onnxc_status st;
    if ((st = rnn_check_input(c, 1, "W", x->dtype, 3, (int64_t[]){D, GH, g->input}, ex)) != ONNXC_OK)
        return st;
    snprintf(ex, sizeof ex, "[num_directions=%lld, %lld*hidden_size=%lld, hidden_size=%lld]", (long long)D,
             (long long)G, (long long)GH, (long long)H);
    if ((st = rnn_check_input(c, 2, "R", x->dtype, 3, (int64_t[]){D, GH, H}, ex)) != ONNXC_OK)
        return st;
    snprintf(ex, sizeof ex, "[num_directions=%lld, %lld*hidden_size=%lld]", (long long)D, (long long)(2 * G),
             (long long)(2 * GH));
    if ((st = rnn_check_input(c, 3, "B", x->dtype, 2, (int64_t[]){D, 2 * GH}, ex)) != ONNXC_OK)
        return st;
    const onnxc_tensor *sl = c->n_in > 4 ? c->in[4] : NULL;
    if (sl && ((sl->dtype != ONNXC_INT32 && sl->dtype != ONNXC_INT64) || sl->rank != 1 || sl->dims[0] != g->batch))
        return oc_kerr(c, ONNXC_E_INVALID, "input 'sequence_lens' must be an int32 tensor of shape [batch_size=%lld]",
                       (long long)g->batch);
    int64_t sd[3] = {g->layout ? g->batch : D, g->layout ? D : g->batch, H};
    if (g->layout)
        snprintf(ex, sizeof ex, "[batch_size=%lld, num_directions=%lld, hidden_size=%lld]", (long long)g->batch,
                 (long long)D, (long long)H);
    else
        snprintf(ex, sizeof ex, "[num_directions=%lld, batch_size=%lld, hidden_size=%lld]", (long long)D,
                 (long long)g->batch, (long long)H);
    if ((st = rnn_check_input(c, 5, "initial_h", x->dtype, 3, sd, ex)) != ONNXC_OK)
        return st;
    if (g->kind == RNN_LSTM) {
        if ((st = rnn_check_input(c, 6, "initial_c", x->dtype, 3, sd, ex)) != ONNXC_OK)
            return st;
        snprintf(ex, sizeof ex, "[num_directions=%lld, 3*hidden_size=%lld]", (long long)D, (long long)(3 * H));
        if ((st = rnn_check_input(c, 7, "P", x->dtype, 2, (int64_t[]){D, 3 * H}, ex)) != ONNXC_OK)
            return st;
        g->input_forget = oc_attr_int(c->node, "input_forget", 0) != 0;
    }
    if (g->kind == RNN_GRU)
        g->linear_before_reset = oc_attr_int(c->node, "linear_before_reset", 0) != 0;
    const oc_attr *ca = oc_node_attr(c->node, "clip");
    if (ca) {
        g->has_clip = true;
        g->clip = oc_attr_float(c->node, "clip", 0.0f);
        if (!(g->clip > 0))
            return oc_kerr(c, ONNXC_E_INVALID, "clip %g is not a positive threshold", (double)g->clip);
    }
    return rnn_parse_acts(c, g);
}

static onnxc_status rnn_sizes(const oc_kctx *c, const rnn_cfg *g, int64_t *per_dir, size_t *bytes)
{
    const double GH = (double)g->gates * (double)g->hidden;
    double pd = (double)g->seq * (double)g->batch * GH + (double)g->batch * GH + 3.0 * (double)g->batch *
                (double)g->hidden + GH + (double)g->hidden;
    double es = g->dirs * pd * 8.0 + (double)g->batch * 8.0;
    if (es > 1e15 || !oc_blas_fits(g->seq * g->batch) || !oc_blas_fits(g->gates * g->hidden) ||
        !oc_blas_fits(g->input))
        return oc_kerr(c, ONNXC_E_INVALID, "sizes too large (sequence %lld x batch %lld x %d*hidden_size %lld)",
                       (long long)g->seq, (long long)g->batch, g->gates, (long long)g->hidden);
    *per_dir = (int64_t)pd;
    size_t esz = onnxc_dtype_size(c->in[0]->dtype);
    *bytes = (size_t)g->batch * sizeof(int64_t) + (size_t)g->dirs * (size_t)pd * esz;
    return ONNXC_OK;
}

static onnxc_status rnn_infer(oc_kctx *c)
{
    rnn_cfg g;
    onnxc_status st = rnn_parse(c, &g);
    if (st != ONNXC_OK)
        return st;
    int32_t dt = c->in[0]->dtype;
    const int64_t D = g.dirs, H = g.hidden;
    int64_t yd[4] = {g.seq, D, g.batch, H}, yl[4] = {g.batch, g.seq, D, H};
    int64_t hd[3] = {D, g.batch, H}, hl[3] = {g.batch, D, H};
    if (c->n_out > 0 && c->out[0] && (st = oc_kset_shape(c, c->out[0], dt, 4, g.layout ? yl : yd)) != ONNXC_OK)
        return st;
    for (int k = 1; k < c->n_out && k < (g.kind == RNN_LSTM ? 3 : 2); k++)
        if (c->out[k] && (st = oc_kset_shape(c, c->out[k], dt, 3, g.layout ? hl : hd)) != ONNXC_OK)
            return st;
    int64_t per_dir;
    return rnn_sizes(c, &g, &per_dir, &c->scratch_size);
}

static void rnn_release(void *state)
{
    rnn_state *st = state;
    if (!st)
        return;
    for (int d = 0; d < 2; d++)
        for (int p = 0; p < 2; p++)
            oc_packed_a_free(&st->pk[d][p]);
    oc_free(st->koff);
    oc_free(st->bt);
    oc_free(st->ct);
    oc_free(st);
}

static onnxc_status rnn_prepare(oc_kctx *c)
{
    rnn_cfg g;
    onnxc_status st = rnn_parse(c, &g);
    if (st != ONNXC_OK)
        return st;
    if (c->in[0]->dtype != ONNXC_FLOAT || !(c->const_inputs & (1u << 2)) || !c->in[2]->data ||
        g.batch < RNN_PACK_MIN_BATCH)
        return ONNXC_OK;
    rnn_state *s = oc_calloc(1, sizeof *s);
    if (!s)
        return oc_kerr(c, ONNXC_E_NOMEM, "out of memory packing R");
    const int64_t H = g.hidden, GH = g.gates * H;
    bool split = g.kind == RNN_GRU && !g.linear_before_reset;
    s->parts = split ? 2 : 1;
    for (int d = 0; d < g.dirs && st == ONNXC_OK; d++) {
        const float *R = (const float *)c->in[2]->data + (size_t)d * (size_t)(GH * H);
        st = oc_pack_a(R, H, split ? 2 * H : GH, H, &s->pk[d][0]);
        if (st == ONNXC_OK && split)
            st = oc_pack_a(R + 2 * H * H, H, H, H, &s->pk[d][1]);
    }
    if (st == ONNXC_OK) {
        /* the packed GEMM reads B rows and writes C tiles whole: both padded to OC_GEMM_NR columns, C's rows
         * to OC_GEMM_MR */
        s->ldb = (g.batch + OC_GEMM_NR - 1) / OC_GEMM_NR * OC_GEMM_NR;
        s->ct_rows = (GH + OC_GEMM_MR - 1) / OC_GEMM_MR * OC_GEMM_MR;
        s->koff = oc_malloc((size_t)H * sizeof *s->koff);
        s->bt = oc_calloc((size_t)(g.dirs * H * s->ldb), sizeof(float));
        s->ct = oc_malloc((size_t)(g.dirs * s->ct_rows * s->ldb) * sizeof(float));
        for (int64_t k = 0; s->koff && k < H; k++)
            s->koff[k] = k * s->ldb;
        if (!s->koff || !s->bt || !s->ct)
            st = oc_kerr(c, ONNXC_E_NOMEM, "out of memory packing R");
    }
    if (st != ONNXC_OK) {
        rnn_release(s);
        return st;
    }
    c->state = s;
    return ONNXC_OK;
}

static void rnn_dir_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const rnn_job *j = arg;
    /* with two directions each runs on its own thread and its GEMMs on that thread alone */
    struct oc_threadpool *pool = j->cfg.dirs > 1 && oc_pool_threads(j->pool) > 1 ? NULL : j->pool;
    if (j->is_double)
        rnn_dir_f64(j, (int)item, pool);
    else
        rnn_dir_f32(j, (int)item, pool);
}

static onnxc_status rnn_run(oc_kctx *c)
{
    rnn_job j;
    onnxc_status st = rnn_parse(c, &j.cfg);
    if (st != ONNXC_OK)
        return st;
    size_t bytes;
    if ((st = rnn_sizes(c, &j.cfg, &j.per_dir, &bytes)) != ONNXC_OK)
        return st;
    int64_t *lens = c->scratch;
    const onnxc_tensor *sl = c->n_in > 4 ? c->in[4] : NULL;
    for (int64_t b = 0; b < j.cfg.batch; b++) {
        int64_t L = sl ? oc_get_i64(sl, b) : j.cfg.seq;
        if (L < 0 || L > j.cfg.seq)
            return oc_kerr(c, ONNXC_E_INVALID, "sequence_lens[%lld] = %lld is outside [0, %lld]", (long long)b,
                           (long long)L, (long long)j.cfg.seq);
        lens[b] = L;
    }
    j.lens = lens;
    j.work = lens + j.cfg.batch;
    j.x = c->in[0]->data, j.w = c->in[1]->data, j.r = c->in[2]->data;
    j.b = c->n_in > 3 && c->in[3] ? c->in[3]->data : NULL;
    j.h0 = c->n_in > 5 && c->in[5] ? c->in[5]->data : NULL;
    bool lstm = j.cfg.kind == RNN_LSTM;
    j.c0 = lstm && c->n_in > 6 && c->in[6] ? c->in[6]->data : NULL;
    j.p = lstm && c->n_in > 7 && c->in[7] ? c->in[7]->data : NULL;
    j.y = c->n_out > 0 && c->out[0] ? c->out[0]->data : NULL;
    j.yh = c->n_out > 1 && c->out[1] ? c->out[1]->data : NULL;
    j.yc = lstm && c->n_out > 2 && c->out[2] ? c->out[2]->data : NULL;
    j.pool = c->pool;
    j.st = c->state;
    j.is_double = c->in[0]->dtype == ONNXC_DOUBLE;
    if (j.cfg.dirs > 1 && oc_pool_threads(c->pool) > 1)
        oc_pool_run(c->pool, j.cfg.dirs, rnn_dir_item, &j);
    else
        for (int d = 0; d < j.cfg.dirs; d++)
            rnn_dir_item(&j, d, 0);
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- the table */

const oc_kernel oc_kernels_rnn[] = {
    {"RNN", NULL, 1, 0, 0, rnn_infer, rnn_prepare, rnn_run, rnn_release, 0},
    {"GRU", NULL, 1, 0, 0, rnn_infer, rnn_prepare, rnn_run, rnn_release, 0},
    {"LSTM", NULL, 1, 0, 0, rnn_infer, rnn_prepare, rnn_run, rnn_release, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
