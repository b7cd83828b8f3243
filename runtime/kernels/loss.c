/* The losses NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (12, 13: every reduction, class weights,
 * ignore_index, SoftmaxCrossEntropyLoss's log_prob output), and TfIdfVectorizer (9) over integer tokens. Float
 * types are read and summed in double and rounded once on store. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "kutil.h"

enum { RED_NONE, RED_SUM, RED_MEAN };

/* ---------------------------------------------------------------- shared by both losses */

typedef struct loss_geom {
    int64_t n, classes, inner; /* input [N, C, d1..dk]: inner = d1 * ... * dk */
    int reduction;
    bool has_ignore;
    int64_t ignore;
} loss_geom;

static onnxc_status loss_geom_of(const oc_kctx *c, loss_geom *g)
{
    for (int i = 0; i < 2; i++)
        if (i >= c->n_in || !c->in[i])
            return oc_kerr(c, ONNXC_E_INVALID, "missing required input %d", i);
    const onnxc_tensor *x = c->in[0], *t = c->in[1], *w = c->n_in > 2 ? c->in[2] : NULL;
    if (!oc_dtype_is_float(x->dtype))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input type %s (a float type is required)",
                       onnxc_dtype_name(x->dtype));
    if (t->dtype != ONNXC_INT32 && t->dtype != ONNXC_INT64)
        return oc_kerr(c, ONNXC_E_INVALID, "target type %s (int32 or int64 is required)", onnxc_dtype_name(t->dtype));
    if (x->rank < 2)
        return oc_kerr(c, ONNXC_E_INVALID, "input must have shape [N, C, ...], got rank %d", (int)x->rank);
    bool ok = t->rank == x->rank - 1 && t->dims[0] == x->dims[0];
    for (int i = 2; ok && i < x->rank; i++)
        ok = t->dims[i - 1] == x->dims[i];
    if (!ok)
        return oc_kerr(c, ONNXC_E_INVALID, "target shape must be the input's [N, C, d1..dk] without C");
    g->n = x->dims[0];
    g->classes = x->dims[1];
    g->inner = oc_dims_prod(x->dims, 2, x->rank);
    if (w && (w->dtype != x->dtype || w->rank != 1 || w->dims[0] != g->classes))
        return oc_kerr(c, ONNXC_E_INVALID, "weight must be a 1-D %s tensor of C = %lld elements",
                       onnxc_dtype_name(x->dtype), (long long)g->classes);
    char buf[16];
    const char *red = oc_attr_string(c->node, "reduction", "mean", buf, sizeof buf);
    if (strcmp(red, "none") == 0)
        g->reduction = RED_NONE;
    else if (strcmp(red, "sum") == 0)
        g->reduction = RED_SUM;
    else if (strcmp(red, "mean") == 0)
        g->reduction = RED_MEAN;
    else
        return oc_kerr(c, ONNXC_E_INVALID, "reduction '%s' is not none, sum or mean", red);
    g->has_ignore = oc_node_attr(c->node, "ignore_index") != NULL;
    g->ignore = oc_attr_int(c->node, "ignore_index", 0);
    return ONNXC_OK;
}

static onnxc_status loss_out_shape(oc_kctx *c, const loss_geom *g)
{
    const onnxc_tensor *t = c->in[1];
    if (!c->out[0])
        return ONNXC_OK;
    if (g->reduction == RED_NONE)
        return oc_kset_shape(c, c->out[0], c->in[0]->dtype, t->rank, t->dims);
    return oc_kset_shape(c, c->out[0], c->in[0]->dtype, 0, NULL);
}

/* loss[n, i] = -lp[n, target, i] * weight[target]; mean divides the sum by the sum of the weights used (ignored
 * entries count neither), as the ONNX function body does. lp is read through the element accessors. */
static onnxc_status nll_compute(const oc_kctx *c, const loss_geom *g, int32_t lp_dt, const void *lp, onnxc_tensor *y)
{
    const onnxc_tensor *t = c->in[1], *w = c->n_in > 2 ? c->in[2] : NULL;
    double sum = 0.0, wsum = 0.0;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t i = 0; i < g->inner; i++) {
            int64_t at = n * g->inner + i, cls = oc_get_i64(t, at);
            double l = 0.0, wt = 0.0;
            if (!(g->has_ignore && cls == g->ignore)) {
                if (cls < 0 || cls >= g->classes)
                    return oc_kerr(c, ONNXC_E_INVALID, "target %lld at element %lld is outside [0, %lld)",
                                   (long long)cls, (long long)at, (long long)g->classes);
                wt = w ? oc_load_f64(w->dtype, w->data, cls) : 1.0;
                l = -oc_load_f64(lp_dt, lp, (n * g->classes + cls) * g->inner + i) * wt;
            }
            if (g->reduction == RED_NONE)
                oc_store_f64(y->dtype, y->data, at, l);
            sum += l;
            wsum += wt;
        }
    if (g->reduction == RED_SUM)
        oc_store_f64(y->dtype, y->data, 0, sum);
    else if (g->reduction == RED_MEAN)
        oc_store_f64(y->dtype, y->data, 0, sum / wsum);
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- NegativeLogLikelihoodLoss */

static onnxc_status nll_infer(oc_kctx *c)
{
    loss_geom g;
    onnxc_status st = loss_geom_of(c, &g);
    return st != ONNXC_OK ? st : loss_out_shape(c, &g);
}

static onnxc_status nll_run(oc_kctx *c)
{
    loss_geom g;
    onnxc_status st = loss_geom_of(c, &g);
    if (st != ONNXC_OK || !c->out[0])
        return st;
    return nll_compute(c, &g, c->in[0]->dtype, c->in[0]->data, c->out[0]);
}

/* ---------------------------------------------------------------- SoftmaxCrossEntropyLoss */

static onnxc_status sce_infer(oc_kctx *c)
{
    loss_geom g;
    onnxc_status st = loss_geom_of(c, &g);
    if (st != ONNXC_OK || (st = loss_out_shape(c, &g)) != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0];
    if (c->n_out > 1 && c->out[1] && (st = oc_kset_shape(c, c->out[1], x->dtype, x->rank, x->dims)) != ONNXC_OK)
        return st;
    /* log-probabilities in double: the losses use them unrounded; log_prob is their rounded copy */
    c->scratch_size = (size_t)onnxc_tensor_numel(x) * sizeof(double);
    return ONNXC_OK;
}

static onnxc_status sce_run(oc_kctx *c)
{
    loss_geom g;
    onnxc_status st = loss_geom_of(c, &g);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0];
    double *lp = c->scratch;
    for (int64_t n = 0; n < g.n; n++)
        for (int64_t i = 0; i < g.inner; i++) {
            int64_t base = n * g.classes * g.inner + i;
            double mx = -INFINITY, s = 0.0;
            for (int64_t k = 0; k < g.classes; k++) {
                double v = oc_load_f64(x->dtype, x->data, base + k * g.inner);
                lp[base + k * g.inner] = v;
                mx = v > mx ? v : mx;
            }
            for (int64_t k = 0; k < g.classes; k++)
                s += exp(lp[base + k * g.inner] - mx);
            double lse = mx + log(s);
            for (int64_t k = 0; k < g.classes; k++)
                lp[base + k * g.inner] -= lse;
        }
    onnxc_tensor *lpo = c->n_out > 1 ? c->out[1] : NULL;
    if (lpo)
        for (int64_t k = 0, e = onnxc_tensor_numel(x); k < e; k++)
            oc_store_f64(lpo->dtype, lpo->data, k, lp[k]);
    if (!c->out[0])
        return ONNXC_OK;
    return nll_compute(c, &g, ONNXC_DOUBLE, lp, c->out[0]);
}

/* ---------------------------------------------------------------- TfIdfVectorizer */

typedef struct tfidf_cfg {
    int64_t min_n, max_n, max_skip;
    int mode; /* 0 TF, 1 IDF, 2 TFIDF */
    const int64_t *counts, *indexes, *pool;
    size_t n_counts, n_indexes, n_pool, n_weights;
    const float *weights;
    int64_t out_size;
} tfidf_cfg;

static onnxc_status tfidf_cfg_of(const oc_kctx *c, tfidf_cfg *f)
{
    const oc_node *nd = c->node;
    f->min_n = oc_attr_int(nd, "min_gram_length", 0);
    f->max_n = oc_attr_int(nd, "max_gram_length", 0);
    f->max_skip = oc_attr_int(nd, "max_skip_count", 0);
    if (f->min_n < 1 || f->max_n < f->min_n)
        return oc_kerr(c, ONNXC_E_INVALID, "min_gram_length %lld and max_gram_length %lld must satisfy 1 <= min <= max",
                       (long long)f->min_n, (long long)f->max_n);
    if (f->max_skip < 0)
        return oc_kerr(c, ONNXC_E_INVALID, "max_skip_count %lld is negative", (long long)f->max_skip);
    char buf[16];
    const char *mode = oc_attr_string(nd, "mode", "", buf, sizeof buf);
    f->mode = strcmp(mode, "TF") == 0 ? 0 : strcmp(mode, "IDF") == 0 ? 1 : strcmp(mode, "TFIDF") == 0 ? 2 : -1;
    if (f->mode < 0)
        return oc_kerr(c, ONNXC_E_INVALID, "mode '%s' is not TF, IDF or TFIDF", mode);
    f->counts = oc_attr_ints(nd, "ngram_counts", &f->n_counts);
    f->indexes = oc_attr_ints(nd, "ngram_indexes", &f->n_indexes);
    f->pool = oc_attr_ints(nd, "pool_int64s", &f->n_pool);
    f->weights = oc_attr_floats(nd, "weights", &f->n_weights);
    if (!f->pool) {
        if (oc_node_attr(nd, "pool_strings"))
            return oc_kerr(c, ONNXC_E_UNSUPPORTED, "string pools (pool_strings) are not supported");
        return oc_kerr(c, ONNXC_E_INVALID, "attribute 'pool_int64s' is missing");
    }
    if (!f->counts || !f->indexes)
        return oc_kerr(c, ONNXC_E_INVALID, "attributes 'ngram_counts' and 'ngram_indexes' are required");
    /* ngram_counts[i]: where the (i+1)-grams start in the pool; every level must hold whole n-grams */
    size_t total = 0;
    for (size_t i = 0; i < f->n_counts; i++) {
        int64_t lo = f->counts[i], hi = i + 1 < f->n_counts ? f->counts[i + 1] : (int64_t)f->n_pool;
        if (lo < 0 || hi < lo || hi > (int64_t)f->n_pool || (hi - lo) % (int64_t)(i + 1))
            return oc_kerr(c, ONNXC_E_INVALID, "ngram_counts[%zu] = %lld does not split the pool into whole %zu-grams",
                           i, (long long)lo, i + 1);
        total += (size_t)((hi - lo) / (int64_t)(i + 1));
    }
    if (total != f->n_indexes)
        return oc_kerr(c, ONNXC_E_INVALID, "ngram_indexes has %zu entries; the pool holds %zu n-grams", f->n_indexes,
                       total);
    if (f->weights && f->n_weights != f->n_indexes)
        return oc_kerr(c, ONNXC_E_INVALID, "weights has %zu entries; ngram_indexes has %zu", f->n_weights,
                       f->n_indexes);
    f->out_size = 0;
    for (size_t i = 0; i < f->n_indexes; i++) {
        if (f->indexes[i] < 0 || f->indexes[i] > (INT64_C(1) << 40))
            return oc_kerr(c, ONNXC_E_INVALID, "ngram_indexes[%zu] = %lld is not a valid output index", i,
                           (long long)f->indexes[i]);
        if (f->indexes[i] + 1 > f->out_size)
            f->out_size = f->indexes[i] + 1;
    }
    return ONNXC_OK;
}

static onnxc_status tfidf_infer(oc_kctx *c)
{
    if (c->n_in < 1 || !c->in[0])
        return oc_kerr(c, ONNXC_E_INVALID, "missing required input 0");
    const onnxc_tensor *x = c->in[0];
    if (x->dtype != ONNXC_INT32 && x->dtype != ONNXC_INT64)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input type %s (int32 or int64 tokens are supported)",
                       onnxc_dtype_name(x->dtype));
    if (x->rank != 1 && x->rank != 2)
        return oc_kerr(c, ONNXC_E_INVALID, "input must be [C] or [N, C], got rank %d", (int)x->rank);
    tfidf_cfg f;
    onnxc_status st = tfidf_cfg_of(c, &f);
    if (st != ONNXC_OK)
        return st;
    int64_t d[2] = {x->dims[0], f.out_size};
    if (x->rank == 1)
        d[0] = f.out_size;
    return oc_kset_shape(c, c->out[0], ONNXC_FLOAT, x->rank, d);
}

/* The pool index of the n-gram tok[0], tok[step], ... (n tokens) among the n-grams of that length, or -1. */
static int64_t tfidf_find(const tfidf_cfg *f, const onnxc_tensor *x, int64_t at, int64_t step, int64_t n)
{
    if ((size_t)n > f->n_counts)
        return -1;
    int64_t lo = f->counts[n - 1], hi = (size_t)n < f->n_counts ? f->counts[n] : (int64_t)f->n_pool;
    int64_t before = 0; /* n-grams of shorter lengths, for the ngram_indexes position */
    for (int64_t k = 1; k < n; k++) {
        int64_t l = f->counts[k - 1], h = (size_t)k < f->n_counts ? f->counts[k] : (int64_t)f->n_pool;
        before += (h - l) / k;
    }
    for (int64_t p = lo, idx = 0; p + n <= hi; p += n, idx++) {
        int64_t k = 0;
        while (k < n && f->pool[p + k] == oc_get_i64(x, at + k * step))
            k++;
        if (k == n)
            return before + idx;
    }
    return -1;
}

static onnxc_status tfidf_run(oc_kctx *c)
{
    tfidf_cfg f;
    onnxc_status st = tfidf_cfg_of(c, &f);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0];
    float *y = c->out[0]->data;
    int64_t rows = x->rank == 2 ? x->dims[0] : 1, len = x->dims[x->rank - 1];
    memset(y, 0, (size_t)(rows * f.out_size) * sizeof *y);
    for (int64_t r = 0; r < rows; r++) {
        float *yr = y + r * f.out_size;
        for (int64_t s = 0; s < len; s++)
            for (int64_t skip = 0; skip <= f.max_skip; skip++) {
                int64_t step = skip + 1;
                for (int64_t n = f.min_n; n <= f.max_n; n++) {
                    /* a unigram is the same whatever the skip: counted once, at skip 0 */
                    if (n == 1 && skip > 0)
                        continue;
                    if (s + (n - 1) * step >= len)
                        break;
                    int64_t k = tfidf_find(&f, x, r * len + s, step, n);
                    if (k >= 0)
                        yr[f.indexes[k]] += 1.0f;
                }
            }
        /* IDF: 1 (or the weight) where the n-gram occurs; TFIDF: count times weight */
        for (size_t k = 0; k < f.n_indexes && f.mode != 0; k++) {
            float *o = &yr[f.indexes[k]];
            float wt = f.weights ? f.weights[k] : 1.0f;
            *o = f.mode == 1 ? (*o > 0 ? wt : 0.0f) : *o * wt;
        }
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- the table */

const oc_kernel oc_kernels_loss[] = {
    {"NegativeLogLikelihoodLoss", NULL, 12, 0, 0, nll_infer, NULL, nll_run, NULL, 0},
    {"SoftmaxCrossEntropyLoss", NULL, 12, 0, 0, sce_infer, NULL, sce_run, NULL, 0},
    {"TfIdfVectorizer", NULL, 9, 0, 0, tfidf_infer, NULL, tfidf_run, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
