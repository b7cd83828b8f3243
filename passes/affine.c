/* Per-channel affine folding into Conv / ConvTranspose / Gemm / MatMul weights and biases (see affine.h).
 * The arithmetic is done in double and rounded once into the weight's own dtype. */
#include "affine.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dtype.h"
#include "pass.h"

bool oc_why(char *why, size_t cap, const char *fmt, ...)
{
    if (why && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return false;
}


static bool is_op(const oc_node *n, const char *op) { return oc_domain_is_default(n->domain) && !strcmp(n->op_type, op); }

bool oc_tensor_to_f64(const oc_tensor *c, double *out)
{
    const onnxc_tensor *t = &c->t;
    int64_t n = onnxc_tensor_numel(t);
    if (n < 0)
        return false;
    switch (t->dtype) {
    case ONNXC_FLOAT:
        for (int64_t i = 0; i < n; i++)
            out[i] = ((const float *)t->data)[i];
        return true;
    case ONNXC_DOUBLE:
        memcpy(out, t->data, (size_t)n * sizeof(double));
        return true;
    case ONNXC_FLOAT16:
        for (int64_t i = 0; i < n; i++)
            out[i] = oc_half_to_float(((const uint16_t *)t->data)[i]);
        return true;
    case ONNXC_BFLOAT16:
        for (int64_t i = 0; i < n; i++)
            out[i] = oc_bf16_to_float(((const uint16_t *)t->data)[i]);
        return true;
    default:
        return false;
    }
}

oc_tensor *oc_tensor_from_f64(int32_t dtype, int rank, const int64_t *dims, const double *v, char *why, size_t cap)
{
    onnxc_tensor *nt = NULL;
    if (onnxc_tensor_create(dtype, rank, dims, &nt) != ONNXC_OK) {
        oc_why(why, cap, "%s", onnxc_last_error());
        return NULL;
    }
    int64_t n = onnxc_tensor_numel(nt);
    bool ok = true;
    for (int64_t i = 0; i < n && ok; i++) {
        double x = v[i];
        switch (dtype) {
        case ONNXC_FLOAT:
            ((float *)nt->data)[i] = (float)x;
            break;
        case ONNXC_DOUBLE:
            ((double *)nt->data)[i] = x;
            break;
        case ONNXC_FLOAT16:
        case ONNXC_BFLOAT16: {
            /* one rounding from double; 65504 is float16's largest finite value (beyond it the folded weight would
             * be inf), bfloat16 overflows past float's range */
            const bool h = dtype == ONNXC_FLOAT16;
            const uint16_t q = h ? oc_double_to_half(x) : oc_double_to_bf16(x);
            const double back = h ? oc_half_to_float(q) : oc_bf16_to_float(q);
            if (!isfinite(x) || (h && fabs(x) > 65504.0) || !isfinite(back))
                ok = oc_why(why, cap, "folded value %g (element %lld) overflows %s", x, (long long)i,
                            onnxc_dtype_name(dtype));
            else if (x != 0 && fabs(back - x) > fabs(x) / 8)
                /* lost to underflow: a nonzero value stored as zero, or as a subnormal with under 3 bits left */
                ok = oc_why(why, cap, "folded value %g (element %lld) underflows %s to %g", x, (long long)i,
                            onnxc_dtype_name(dtype), back);
            else
                ((uint16_t *)nt->data)[i] = q;
            break;
        }
        default:
            ok = oc_why(why, cap, "dtype %s cannot hold a folded value", onnxc_dtype_name(dtype));
        }
    }
    if (!ok) {
        onnxc_tensor_free(nt);
        return NULL;
    }
    oc_tensor *t = oc_tensor_adopt(nt);
    if (!t)
        oc_why(why, cap, "out of memory");
    return t;
}

oc_value *oc_add_const(oc_graph *g, const char *base, int32_t dtype, int rank, const int64_t *dims,
                       const void *data)
{
    onnxc_tensor *t = NULL;
    if (onnxc_tensor_create(dtype, rank, dims, &t) != ONNXC_OK)
        return NULL;
    if (t->nbytes)
        memcpy(t->data, data, t->nbytes);
    oc_tensor *w = oc_tensor_adopt(t);
    oc_value *v = w ? oc_graph_add_initializer(g, base, w) : NULL;
    if (!v)
        oc_tensor_free(w);
    return v;
}

onnxc_status oc_set_constant_input(oc_graph *g, oc_node *n, int slot, oc_tensor *t, const char *base)
{
    oc_value *old = slot < n->n_inputs ? n->inputs[slot] : NULL;
    if (old && old->init && !(old->flags & (OC_V_INPUT | OC_V_OUTPUT)) && old->n_uses == 1 && old->uses[0].node == n &&
        !oc_name_in_subgraphs(g, old->name)) {
        /* unshared initializer: rewrite in place, keeping its name */
        oc_free(t->name);
        t->name = oc_strdup(old->name);
        oc_tensor_free(old->init);
        old->init = t;
        return oc_graph_sync_initializer_input(g, old);
    }
    oc_value *v = oc_graph_add_initializer(g, base, t);
    if (!v) {
        oc_tensor_free(t);
        return oc_err(ONNXC_E_NOMEM, "out of memory adding an initializer");
    }
    return oc_node_set_input(n, slot, v);
}

int64_t oc_affine_channels(const oc_node *p, char *why, size_t cap)
{
    char lbl[200];
    oc_node_label(p, lbl, sizeof lbl);
    const oc_tensor *w = p->n_inputs > 1 ? oc_value_constant(p->inputs[1]) : NULL;
    if (!w)
        return oc_why(why, cap, "%s weight is not a constant", lbl), -1;
    const onnxc_tensor *t = &w->t;
    if (is_op(p, "Conv") || is_op(p, "ConvTranspose")) {
        if (t->rank < 3)
            return oc_why(why, cap, "%s weight has rank %d", lbl, (int)t->rank), -1;
        if (is_op(p, "Conv"))
            return t->dims[0];
        int64_t m, grp = oc_attr_int(p, "group", 1);
        if (grp < 1 || !oc_mul_i64(t->dims[1], grp, &m))
            return oc_why(why, cap, "%s has a bad group count", lbl), -1;
        return m;
    }
    if (is_op(p, "Gemm") || is_op(p, "MatMul")) {
        if (t->rank != 2)
            return oc_why(why, cap, "%s weight has rank %d, expected 2", lbl, (int)t->rank), -1;
        if (is_op(p, "Gemm") && oc_attr_int(p, "transB", 0))
            return t->dims[0];
        return t->dims[1];
    }
    return oc_why(why, cap, "%s is not a Conv, ConvTranspose, Gemm or MatMul", lbl), -1;
}

bool oc_affine_target_ok(const oc_node *p, char *why, size_t cap)
{
    char lbl[200], olbl[200];
    oc_node_label(p, lbl, sizeof lbl);
    if (!(is_op(p, "Conv") || is_op(p, "ConvTranspose") || is_op(p, "Gemm") || is_op(p, "MatMul")))
        return oc_why(why, cap, "%s is not a Conv, ConvTranspose, Gemm or MatMul", lbl);
    const oc_value *y = p->n_outputs > 0 ? p->outputs[0] : NULL;
    if (!y)
        return oc_why(why, cap, "%s has no output", lbl);
    if (y->flags & OC_V_OUTPUT)
        return oc_why(why, cap, "%s output '%s' is a graph output", lbl, y->name);
    if (!oc_value_is_private(y))
        return oc_why(why, cap, "%s output '%s' is read by a subgraph", lbl, y->name);
    if (y->n_uses != 1) {
        /* name every consumer so the user sees which one blocks the fold */
        char list[400] = "";
        size_t off = 0;
        for (int u = 0; u < y->n_uses && u < 4 && off < sizeof list; u++)
            off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", u ? ", " : "",
                                    oc_node_label(y->uses[u].node, olbl, sizeof olbl));
        return oc_why(why, cap, "%s output '%s' has %d consumers (%s%s)", lbl, y->name, y->n_uses, list,
                      y->n_uses > 4 ? ", ..." : "");
    }
    for (int i = 1; i < 3 && i < p->n_inputs; i++) {
        /* a quantized (QDQ) weight or bias: folding a scale into it would need new quantization scales, and
         * storing it as float would drop the quantization */
        const oc_node *dq = p->inputs[i] ? p->inputs[i]->producer : NULL;
        if (dq && !dq->dead && is_op(dq, "DequantizeLinear"))
            return oc_why(why, cap, "%s %s '%s' comes from %s (a quantized %s is left as it is)",
                          lbl, i == 1 ? "weight" : "bias", p->inputs[i]->name, oc_node_label(dq, olbl, sizeof olbl),
                          i == 1 ? "weight" : "bias");
    }
    if (p->n_inputs < 2 || !oc_value_is_constant(p->inputs[1]))
        return oc_why(why, cap, "%s weight is not a constant", lbl);
    if (p->n_inputs > 2 && p->inputs[2] && !oc_value_is_constant(p->inputs[2]))
        return oc_why(why, cap, "%s bias '%s' is not a constant", lbl, p->inputs[2]->name);
    const oc_tensor *w = oc_value_constant(p->inputs[1]);
    if (w->t.dtype != ONNXC_FLOAT && w->t.dtype != ONNXC_DOUBLE && w->t.dtype != ONNXC_FLOAT16 &&
        w->t.dtype != ONNXC_BFLOAT16)
        return oc_why(why, cap, "%s weight has type %s", lbl, onnxc_dtype_name(w->t.dtype));
    if (is_op(p, "MatMul")) {
        /* only a rank-2 product has its channels on the weight's last axis and fits Gemm */
        int rank = p->inputs[0] ? oc_value_rank(p->inputs[0]) : -1;
        if (rank != 2)
            return oc_why(why, cap, rank < 0 ? "%s input rank is unknown (need rank 2 to become Gemm)"
                                             : "%s input has rank %d (need rank 2 to become Gemm)",
                          lbl, rank);
    }
    return oc_affine_channels(p, why, cap) >= 0;
}

bool oc_affine_fold(oc_graph *g, oc_node *p, const double *s, const double *t, int64_t C, char *why, size_t cap)
{
    char lbl[200];
    oc_node_label(p, lbl, sizeof lbl);
    int64_t pc = oc_affine_channels(p, why, cap);
    if (pc < 0)
        return false;
    if (pc != C)
        return oc_why(why, cap, "%s has %lld output channels, the affine map has %lld", lbl, (long long)pc,
                      (long long)C);
    const oc_tensor *wc = oc_value_constant(p->inputs[1]);
    const onnxc_tensor *w = &wc->t;
    int64_t wn = onnxc_tensor_numel(w);
    double *wv = oc_malloc((size_t)wn * sizeof *wv);
    double *bv = oc_calloc((size_t)C, sizeof *bv);
    double *cv = NULL;
    oc_tensor *nw = NULL, *nb = NULL;
    bool ok = false;
    if (!wv || !bv) {
        oc_why(why, cap, "out of memory");
        goto out;
    }
    oc_tensor_to_f64(wc, wv);

    bool gemm = is_op(p, "Gemm"), matmul = is_op(p, "MatMul");
    if (is_op(p, "Conv")) {
        /* W is [M, C/group, k...]: output channel m owns W[m]. */
        int64_t per = wn / C;
        for (int64_t m = 0; m < C; m++)
            for (int64_t i = 0; i < per; i++)
                wv[m * per + i] *= s[m];
    } else if (is_op(p, "ConvTranspose")) {
        /* W is [C_in, M/group, k...]; input channel ci belongs to group ci / (C_in/group), and W[ci, j] feeds
         * output channel group*(M/group) + j. */
        int64_t grp = oc_attr_int(p, "group", 1), cin = w->dims[0], mg = w->dims[1];
        if (grp < 1 || cin % grp) {
            oc_why(why, cap, "%s: %lld input channels do not split into %lld groups", lbl, (long long)cin,
                   (long long)grp);
            goto out;
        }
        int64_t per = wn / (cin * mg), cin_g = cin / grp;
        for (int64_t ci = 0; ci < cin; ci++) {
            int64_t gi = ci / cin_g;
            for (int64_t j = 0; j < mg; j++)
                for (int64_t i = 0; i < per; i++)
                    wv[(ci * mg + j) * per + i] *= s[gi * mg + j];
        }
    } else {
        /* Gemm/MatMul weight [K, N] (or [N, K] with transB): scale output column n. */
        bool transb = gemm && oc_attr_int(p, "transB", 0);
        int64_t rows = w->dims[0], cols = w->dims[1];
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < cols; c++)
                wv[r * cols + c] *= s[transb ? r : c];
    }

    /* bias: Conv/ConvTranspose b' = s*b + t. Gemm: Y = alpha*AB + beta*C, so C' = s*C + t/beta. */
    const oc_tensor *bc = p->n_inputs > 2 && p->inputs[2] ? oc_value_constant(p->inputs[2]) : NULL;
    int64_t brank = 1, bdims[2] = {C, 0};
    if (gemm || matmul) {
        double beta = gemm ? oc_attr_float(p, "beta", 1.0f) : 1.0;
        if (bc && beta != 0.0) {
            const onnxc_tensor *b = &bc->t;
            int64_t bn = onnxc_tensor_numel(b);
            double *braw = oc_malloc((size_t)(bn ? bn : 1) * sizeof *braw);
            if (!braw || !oc_tensor_to_f64(bc, braw)) {
                oc_free(braw);
                oc_why(why, cap, "%s bias has type %s", lbl, onnxc_dtype_name(b->dtype));
                goto out;
            }
            /* C broadcasts to [M, N]: keep a per-row C as [M, N], otherwise make it [N] */
            int64_t m_rows = b->rank == 2 && b->dims[0] > 1 ? b->dims[0] : 1;
            int64_t ncols = b->rank >= 1 ? b->dims[b->rank - 1] : 1;
            if (ncols != 1 && ncols != C) {
                oc_free(braw);
                oc_why(why, cap, "%s bias shape does not broadcast to %lld columns", lbl, (long long)C);
                goto out;
            }
            cv = oc_malloc((size_t)(m_rows * C) * sizeof *cv);
            if (!cv) {
                oc_free(braw);
                goto out;
            }
            for (int64_t r = 0; r < m_rows; r++)
                for (int64_t n = 0; n < C; n++)
                    cv[r * C + n] = s[n] * braw[r * ncols + (ncols == 1 ? 0 : n)] + t[n] / beta;
            oc_free(braw);
            if (m_rows > 1) {
                brank = 2;
                bdims[0] = m_rows;
                bdims[1] = C;
            }
        } else {
            cv = oc_malloc((size_t)C * sizeof *cv);
            if (!cv)
                goto out;
            for (int64_t n = 0; n < C; n++)
                cv[n] = t[n];
        }
    } else {
        if (bc) {
            if (bc->t.rank != 1 || bc->t.dims[0] != C || !oc_tensor_to_f64(bc, bv)) {
                oc_why(why, cap, "%s bias is not a float vector of %lld", lbl, (long long)C);
                goto out;
            }
        }
        cv = oc_malloc((size_t)C * sizeof *cv);
        if (!cv)
            goto out;
        for (int64_t m = 0; m < C; m++)
            cv[m] = s[m] * bv[m] + t[m];
    }

    nw = oc_tensor_from_f64(w->dtype, w->rank, w->dims, wv, why, cap);
    if (!nw)
        goto out;
    int32_t bdtype = bc ? bc->t.dtype : w->dtype;
    nb = oc_tensor_from_f64(bdtype, (int)brank, bdims, cv, why, cap);
    if (!nb)
        goto out;

    char base[300];
    snprintf(base, sizeof base, "%s_folded", p->inputs[1]->name);
    if (oc_set_constant_input(g, p, 1, nw, base) != ONNXC_OK) {
        nw = NULL;
        oc_why(why, cap, "%s", onnxc_last_error());
        goto out;
    }
    nw = NULL;
    if (bc)
        snprintf(base, sizeof base, "%s_folded", p->inputs[2]->name);
    else
        snprintf(base, sizeof base, "%s_bias", p->name && *p->name ? p->name : p->outputs[0]->name);
    if (bc) {
        if (oc_set_constant_input(g, p, 2, nb, base) != ONNXC_OK) {
            nb = NULL;
            oc_why(why, cap, "%s", onnxc_last_error());
            goto out;
        }
    } else {
        oc_value *v = oc_graph_add_initializer(g, base, nb);
        if (!v || oc_node_set_input(p, 2, v) != ONNXC_OK) {
            if (!v)
                oc_tensor_free(nb);
            nb = NULL;
            oc_why(why, cap, "out of memory");
            goto out;
        }
    }
    nb = NULL;
    if (matmul) {
        /* MatMul(A, W) + C is Gemm(A, W, C) for a rank-2 A (checked by oc_affine_target_ok). */
        oc_free(p->op_type);
        p->op_type = oc_strdup("Gemm");
    } else if (gemm && !bc) {
        oc_node_set_attr_float(p, "beta", 1.0f);
    } else if (gemm && oc_attr_float(p, "beta", 1.0f) == 0.0f) {
        oc_node_set_attr_float(p, "beta", 1.0f);
    }
    ok = true;
out:
    oc_free(wv);
    oc_free(bv);
    oc_free(cv);
    oc_tensor_free(nw);
    oc_tensor_free(nb);
    return ok;
}

/* A per-channel map folded forward (see affine.h): the Conv reads y = s*x + t (per input channel c), so
 *   W'[m, c', k] = W[m, c', k] * s[c],  b'[m] = b[m] + sum_{c', k} W[m, c', k] * t[c],  c = grp(m) * C/group + c'.
 * Exact when the Conv reads no padding: a padded border is 0 in y, but in x it would stand for t after the fold
 * (b' adds t for every kernel tap), so with padding only a BN whose shift t is zero in every channel folds.
 */
bool oc_affine_fold_forward(oc_graph *g, oc_node *n, const double *s, const double *t, int64_t C,
                            struct oc_pass_ctx *ctx, bool *no_budget, char *why, size_t cap)
{
    *no_budget = false;
    oc_value *y = n->outputs[0], *x = n->inputs[0];
    if (!y || (y->flags & OC_V_OUTPUT))
        return oc_why(why, cap, "its output is a graph output");
    if (y->n_uses != 1)
        return oc_why(why, cap, "its output '%s' has %d consumers", y->name, y->n_uses);
    oc_node *cv = y->uses[0].node;
    char lbl[200];
    oc_node_label(cv, lbl, sizeof lbl);
    if (!oc_node_is_op(cv, "Conv") || y->uses[0].slot != 0)
        return oc_why(why, cap, "its consumer %s is not a Conv reading it as X", lbl);
    if (oc_name_in_subgraphs(g, y->name))
        return oc_why(why, cap, "a subgraph refers to '%s'", y->name);
    const oc_tensor *wc = cv->n_inputs > 1 ? oc_value_constant(cv->inputs[1]) : NULL;
    const oc_tensor *bc = cv->n_inputs > 2 && cv->inputs[2] ? oc_value_constant(cv->inputs[2]) : NULL;
    if (!wc)
        return oc_why(why, cap, "the weight of %s is not a constant", lbl);
    if (cv->n_inputs > 2 && cv->inputs[2] && !bc)
        return oc_why(why, cap, "the bias of %s is not a constant", lbl);
    const onnxc_tensor *w = &wc->t;
    int64_t grp = oc_attr_int(cv, "group", 1);
    if (w->rank < 3 || grp < 1 || w->dims[0] < 1 || w->dims[1] < 1 || w->dims[0] % grp || w->dims[1] * grp != C ||
        onnxc_tensor_numel(w) < 1)
        return oc_why(why, cap, "%s weight does not read %lld input channels", lbl, (long long)C);
    if (bc && (bc->t.rank != 1 || bc->t.dims[0] != w->dims[0]))
        return oc_why(why, cap, "%s bias is not a vector of its %lld output channels", lbl, (long long)w->dims[0]);
    char apbuf[32];
    const char *ap = oc_attr_string(cv, "auto_pad", "NOTSET", apbuf, sizeof apbuf);
    bool pads = strcmp(ap, "NOTSET") != 0 && strcmp(ap, "VALID") != 0;
    size_t np = 0;
    const int64_t *pv = oc_attr_ints(cv, "pads", &np);
    for (size_t i = 0; i < np && !strcmp(ap, "NOTSET"); i++)
        pads = pads || pv[i] != 0;
    if (pads)
        for (int64_t c = 0; c < C; c++)
            if (t[c] != 0)
                return oc_why(why, cap, "%s pads its input and the shift is not zero (channel %lld: %g), so the "
                              "padded border would change", lbl, (long long)c, t[c]);
    int64_t M = w->dims[0], cg = w->dims[1], mg = M / grp, wn = onnxc_tensor_numel(w), per = wn / (M * cg);
    double *wv = oc_malloc((size_t)wn * sizeof *wv), *bv = oc_calloc((size_t)M, sizeof *bv);
    bool ok = wv && bv && oc_tensor_to_f64(wc, wv) && (!bc || oc_tensor_to_f64(bc, bv));
    if (!ok) {
        oc_free(wv);
        oc_free(bv);
        return oc_why(why, cap, wv && bv ? "%s weight or bias is not a float tensor" : "out of memory", lbl);
    }
    for (int64_t m = 0; m < M; m++)
        for (int64_t j = 0; j < cg; j++) {
            int64_t c = (m / mg) * cg + j;
            for (int64_t k = 0; k < per; k++) {
                double *e = &wv[(m * cg + j) * per + k];
                bv[m] += *e * t[c];
                *e *= s[c];
            }
        }
    oc_tensor *nw = oc_tensor_from_f64(w->dtype, w->rank, w->dims, wv, why, cap);
    oc_tensor *nb = nw ? oc_tensor_from_f64(bc ? bc->t.dtype : w->dtype, 1, &M, bv, why, cap) : NULL;
    oc_free(wv);
    oc_free(bv);
    if (!nw || !nb) {
        oc_tensor_free(nw);
        return false;
    }
    if (!oc_pass_may_rewrite(ctx)) {
        oc_tensor_free(nw);
        oc_tensor_free(nb);
        *no_budget = true;
        return false;
    }
    char base[300];
    snprintf(base, sizeof base, "%s_folded", cv->inputs[1]->name);
    if (oc_set_constant_input(g, cv, 1, nw, base) != ONNXC_OK) {
        oc_tensor_free(nb);
        return oc_why(why, cap, "%s", onnxc_last_error());
    }
    if (bc) {
        snprintf(base, sizeof base, "%s_folded", cv->inputs[2]->name);
        if (oc_set_constant_input(g, cv, 2, nb, base) != ONNXC_OK)
            return oc_why(why, cap, "%s", onnxc_last_error());
    } else {
        snprintf(base, sizeof base, "%s_bias", cv->name && *cv->name ? cv->name : cv->outputs[0]->name);
        oc_value *v = oc_graph_add_initializer(g, base, nb);
        if (!v) {
            oc_tensor_free(nb);
            return oc_why(why, cap, "out of memory");
        }
        oc_node_set_input(cv, 2, v);
    }
    oc_remove_node(n);
    oc_node_set_input(cv, 0, x);
    return true;
}

int oc_value_rank(const oc_value *v)
{
    /* walk back through rank-preserving ops until something declares the rank */
    for (int depth = 0; v && depth < 10000; depth++) {
        const oc_type *ty = oc_value_type(v);
        if (ty && ty->kind == OC_TYPE_TENSOR && ty->rank >= 0)
            return ty->rank;
        const oc_tensor *c = oc_value_constant(v);
        if (c)
            return c->t.rank;
        const oc_node *p = v->producer;
        if (!p)
            return -1;
        if ((is_op(p, "Conv") || is_op(p, "ConvTranspose")) && p->n_inputs > 1 && v->producer_slot == 0) {
            const oc_tensor *w = oc_value_constant(p->inputs[1]);
            return w ? w->t.rank : -1;
        }
        if (is_op(p, "Gemm") || is_op(p, "Flatten"))
            return 2;
        if (is_op(p, "MatMul") && p->n_inputs == 2 && p->inputs[0] && p->inputs[1]) {
            const oc_tensor *w = oc_value_constant(p->inputs[1]);
            if (w && w->t.rank == 2) {
                v = p->inputs[0]; /* [.., K] x [K, N] keeps A's rank */
                continue;
            }
            return -1;
        }
        bool keeps_rank = is_op(p, "Relu") || is_op(p, "Clip") || is_op(p, "BatchNormalization") ||
                          is_op(p, "Sigmoid") || is_op(p, "LeakyRelu") || is_op(p, "Identity") ||
                          is_op(p, "MaxPool") || is_op(p, "AveragePool") || is_op(p, "HardSwish") ||
                          is_op(p, "Tanh") || is_op(p, "Dropout");
        if (!keeps_rank || p->n_inputs < 1)
            return -1;
        v = p->inputs[0];
    }
    return -1;
}
