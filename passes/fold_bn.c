/* fold-bn: BatchNormalization in inference mode folded into the Conv / ConvTranspose / Gemm / MatMul before it;
 * a BN with nothing to fold into stays one BatchNormalization (one node, one pass over memory), or becomes a
 * per-channel Mul + Add when asked (fold-bn.mul-add, for targets that lack BatchNormalization). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "affine.h"
#include "bn_match.h"
#include "infer.h"
#include "pass.h"

enum { FB_MUL_ADD, FB_N_OPTIONS };

/* s = scale / sqrt(var + eps), t = B - mean * s, in double. False (why set) when a parameter is unusable. */
static bool bn_affine(const oc_node *bn, double **s_out, double **t_out, int64_t *c_out, char *why, size_t cap)
{
    const oc_tensor *p[4];
    for (int i = 0; i < 4; i++) {
        p[i] = bn->n_inputs > i + 1 ? oc_value_constant(bn->inputs[i + 1]) : NULL;
        if (!p[i] || p[i]->t.rank != 1) {
            snprintf(why, cap, "parameter %d is not a constant vector", i + 1);
            return false;
        }
    }
    int64_t C = p[0]->t.dims[0];
    for (int i = 1; i < 4; i++)
        if (p[i]->t.dims[0] != C) {
            snprintf(why, cap, "parameters have different lengths");
            return false;
        }
    double *v = oc_malloc((size_t)(4 * C + 1) * sizeof *v);
    double *s = oc_malloc((size_t)(C + 1) * sizeof *s);
    double *t = oc_malloc((size_t)(C + 1) * sizeof *t);
    if (!v || !s || !t) {
        oc_free(v);
        oc_free(s);
        oc_free(t);
        snprintf(why, cap, "out of memory");
        return false;
    }
    for (int i = 0; i < 4; i++)
        if (!oc_tensor_to_f64(p[i], v + i * C)) {
            snprintf(why, cap, "parameter %d has type %s", i + 1, onnxc_dtype_name(p[i]->t.dtype));
            oc_free(v);
            oc_free(s);
            oc_free(t);
            return false;
        }
    /* epsilon: attribute default 1e-5 in every BatchNormalization version */
    double eps = oc_attr_float(bn, "epsilon", 1e-5f);
    bool ok = true;
    for (int64_t c = 0; c < C && ok; c++) {
        double var = v[3 * C + c];
        if (!(var + eps > 0)) {
            snprintf(why, cap, "channel %lld has var + epsilon = %g (not positive)", (long long)c, var + eps);
            ok = false;
            break;
        }
        s[c] = v[c] / sqrt(var + eps);
        t[c] = v[C + c] - v[2 * C + c] * s[c];
        if (!isfinite(s[c]) || !isfinite(t[c])) {
            snprintf(why, cap, "channel %lld gives a non-finite scale or shift", (long long)c);
            ok = false;
        }
    }
    oc_free(v);
    if (!ok) {
        oc_free(s);
        oc_free(t);
        return false;
    }
    *s_out = s;
    *t_out = t;
    *c_out = C;
    return true;
}

static int32_t input_dtype(const oc_node *bn)
{
    const oc_type *ty = oc_value_type(bn->inputs[0]);
    if (ty && ty->kind == OC_TYPE_TENSOR && ty->has_elem_type)
        return ty->elem_type;
    return oc_value_constant(bn->inputs[1])->t.dtype;
}

/* BN -> Mul(X, s[C,1..]) -> Add(t[C,1..]), the output keeping the BN's name. */
static bool bn_to_mul_add(oc_graph *g, oc_node *bn, const double *s, const double *t, int64_t C,
                          oc_infer **inf, char *why, size_t cap)
{
    int rank = oc_value_rank(bn->inputs[0]);
    if (rank < 0) {
        /* behind a Concat, a Resize, ...: shape inference (src/infer.c) knows the rank; run once per pass */
        if (!*inf && oc_infer_graph(g, true, inf) != ONNXC_OK)
            *inf = NULL;
        if (*inf)
            rank = oc_infer_get(*inf, bn->inputs[0])->rank;
    }
    if (rank < 2) {
        snprintf(why, cap, rank < 0 ? "the rank of input '%s' is unknown" : "input '%s' has rank below 2",
                 bn->inputs[0]->name);
        return false;
    }
    int64_t dims[ONNXC_MAX_RANK];
    dims[0] = C;
    for (int i = 1; i < rank - 1; i++)
        dims[i] = 1;
    int32_t dt = input_dtype(bn);
    oc_tensor *ts = oc_tensor_from_f64(dt, rank - 1, dims, s, why, cap);
    oc_tensor *tt = ts ? oc_tensor_from_f64(dt, rank - 1, dims, t, why, cap) : NULL;
    if (!ts || !tt) {
        oc_tensor_free(ts);
        return false;
    }
    const char *base = bn->name && *bn->name ? bn->name : bn->outputs[0]->name;
    char nm[300];
    snprintf(nm, sizeof nm, "%s_scale", base);
    oc_value *vs = oc_graph_add_initializer(g, nm, ts);
    snprintf(nm, sizeof nm, "%s_shift", base);
    oc_value *vt = vs ? oc_graph_add_initializer(g, nm, tt) : NULL;
    if (!vs)
        oc_tensor_free(ts);
    if (!vt) {
        oc_tensor_free(tt);
        snprintf(why, cap, "out of memory");
        return false;
    }
    snprintf(nm, sizeof nm, "%s_mul", base);
    oc_node *mul = oc_graph_insert_node(g, bn, "Mul", NULL, nm);
    oc_node *add = oc_graph_insert_node(g, bn, "Add", NULL, bn->name);
    snprintf(nm, sizeof nm, "%s_scaled", base);
    oc_value *mid = oc_graph_new_value(g, nm);
    if (!mul || !add || !mid) {
        snprintf(why, cap, "out of memory");
        return false;
    }
    oc_value *x = bn->inputs[0], *y = bn->outputs[0];
    oc_remove_node(bn);
    oc_node_set_input(mul, 0, x);
    oc_node_set_input(mul, 1, vs);
    oc_node_set_output(mul, 0, mid);
    oc_node_set_input(add, 0, mid);
    oc_node_set_input(add, 1, vt);
    oc_node_set_output(add, 0, y);
    return true;
}

static onnxc_status fold_bn_run(oc_graph *g, oc_pass_ctx *ctx)
{
    oc_infer *inf = NULL; /* made when a rank is needed; rewrites after it only add Mul + Add of known ranks */
    for (int i = 0; i < g->n_nodes; i++) { /* n_nodes grows when a BN becomes Mul + Add */
        oc_node *bn = g->nodes[i];
        if (!oc_is_batchnorm(bn))
            continue;
        char why[400] = "", why2[400] = "";
        oc_node *p = NULL;
        double *s = NULL, *t = NULL;
        int64_t C = 0;
        if (oc_bn_is_training(bn, why, sizeof why)) {
            oc_report_skipped(ctx, bn, "not folded: %s, so it normalizes with each batch's statistics; if the model "
                              "is meant for inference, the eval-mode pass (optimize --eval-mode) makes it use its "
                              "running statistics", why);
            continue;
        }
        if (oc_bn_foldable(bn, &p, why, sizeof why)) {
            if (!bn_affine(bn, &s, &t, &C, why, sizeof why)) {
                oc_report_skipped(ctx, bn, "not folded: %s", why);
                continue;
            }
            if (!oc_pass_may_rewrite(ctx)) {
                oc_free(s);
                oc_free(t);
                oc_infer_free(inf);
                return ONNXC_OK;
            }
            char plbl[200];
            oc_node_label(p, plbl, sizeof plbl);
            if (oc_affine_fold(g, p, s, t, C, why, sizeof why)) {
                oc_value *y = bn->outputs[0];
                oc_remove_node(bn);
                oc_node_set_output(p, 0, y); /* the producer takes over the BN's output name */
                oc_report_changed(ctx, bn, "folded into %s", plbl);
            } else {
                oc_report_skipped(ctx, bn, "not folded into %s: %s", plbl, why);
            }
            oc_free(s);
            oc_free(t);
            continue;
        }
        /* Nothing before it to fold into: forward into the Conv after it, else it stays (or becomes Mul + Add). */
        if (!oc_bn_params_ok(bn, why2, sizeof why2)) {
            oc_report_skipped(ctx, bn, "not folded: %s", why2);
            continue;
        }
        /* forward into the Conv it feeds, when exact */
        if (!bn_affine(bn, &s, &t, &C, why2, sizeof why2)) {
            oc_report_skipped(ctx, bn, "not folded: %s", why2);
            continue;
        }
        char why3[400] = "";
        bool no_budget = false;
        oc_node *next = bn->outputs[0] && bn->outputs[0]->n_uses == 1 ? bn->outputs[0]->uses[0].node : NULL;
        char nlbl[200] = "";
        if (next)
            oc_node_label(next, nlbl, sizeof nlbl);
        bool fwd = oc_affine_fold_forward(g, bn, s, t, C, ctx, &no_budget, why3, sizeof why3);
        oc_free(s);
        oc_free(t);
        s = t = NULL;
        if (no_budget)
            break;
        if (fwd) {
            oc_report_changed(ctx, bn, "folded forward into %s", nlbl);
            continue;
        }
        snprintf(why + strlen(why), sizeof why - strlen(why), "; not forward: %s", why3);
        if (!oc_pass_opt(ctx, FB_MUL_ADD)->b) {
            oc_report_skipped(ctx, bn, "not folded: %s (kept as one BatchNormalization; fold-bn.mul-add would make "
                              "it Mul + Add)", why);
            continue;
        }
        if (!bn_affine(bn, &s, &t, &C, why2, sizeof why2)) {
            oc_report_skipped(ctx, bn, "not folded: %s", why2);
            continue;
        }
        if (!oc_pass_may_rewrite(ctx)) {
            oc_free(s);
            oc_free(t);
            break;
        }
        if (bn_to_mul_add(g, bn, s, t, C, &inf, why2, sizeof why2))
            oc_report_changed(ctx, bn, "not folded (%s): replaced by Mul + Add", why);
        else
            oc_report_skipped(ctx, bn, "not folded: %s; not replaced by Mul + Add: %s", why, why2);
        oc_free(s);
        oc_free(t);
    }
    oc_infer_free(inf);
    return ONNXC_OK;
}

static const oc_opt_def fold_bn_options[] = {
    [FB_MUL_ADD] = {.name = "fold-bn.mul-add", .type = OC_OPT_BOOL, .dflt = "false",
                    .help = "replace a BatchNormalization that has nothing to fold into by a per-channel Mul + Add "
                            "(for targets without BatchNormalization; by default it stays one node)"},
};
_Static_assert(sizeof fold_bn_options / sizeof fold_bn_options[0] == FB_N_OPTIONS, "one entry per option");

const oc_pass oc_pass_fold_bn = {
    .name = "fold-bn",
    .summary = "fold inference BatchNormalization into the Conv/ConvTranspose/Gemm/MatMul before it or an unpadded Conv after it",
    .exact = true,
    .in_default = true,
    .options = fold_bn_options,
    .n_options = FB_N_OPTIONS,
    .run = fold_bn_run,
};
