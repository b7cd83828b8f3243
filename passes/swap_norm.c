/* swap-norm: replace BatchNormalization by a per-sample normalizer (group, instance or layer norm) so a pretrained
 * model can be fine-tuned with tiny batches. Changes outputs on purpose: the running statistics are dropped. */
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "affine.h"
#include "bn_match.h"
#include "pass.h"

/* Ops whose meaning changes when the default opset rises to `since` or later (attribute became input, semantics
 * changed, op removed). Raising a model's opset across one of these would silently change it. From the ONNX
 * operator changelog. */
static const struct {
    const char *op;
    int since;
    const char *why;
} oc_breaking[] = {
    {"Upsample", 10, "was removed in opset 10"},
    {"Slice", 10, "takes starts/ends as inputs from opset 10"},
    {"TopK", 10, "takes k as an input from opset 10"},
    {"Scatter", 11, "was removed in opset 11"},
    {"Clip", 11, "takes min/max as inputs from opset 11"},
    {"Pad", 11, "takes pads as an input from opset 11"},
    {"Resize", 11, "gained the roi input in opset 11"},
    {"Dropout", 12, "takes ratio as an input from opset 12"},
    {"Softmax", 13, "normalizes one axis instead of a 2-D coercion from opset 13"},
    {"LogSoftmax", 13, "normalizes one axis instead of a 2-D coercion from opset 13"},
    {"Hardmax", 13, "works on one axis instead of a 2-D coercion from opset 13"},
    {"Squeeze", 13, "takes axes as an input from opset 13"},
    {"Unsqueeze", 13, "takes axes as an input from opset 13"},
    {"Split", 13, "takes split as an input from opset 13"},
    {"ReduceSum", 13, "takes axes as an input from opset 13"},
    {"RoiAlign", 16, "changed its default coordinate_transformation_mode in opset 16"},
    {"ReduceMean", 18, "takes axes as an input from opset 18"},
    {"ReduceMax", 18, "takes axes as an input from opset 18"},
    {"ReduceMin", 18, "takes axes as an input from opset 18"},
    {"ReduceProd", 18, "takes axes as an input from opset 18"},
    {"ReduceL1", 18, "takes axes as an input from opset 18"},
    {"ReduceL2", 18, "takes axes as an input from opset 18"},
    {"ReduceLogSum", 18, "takes axes as an input from opset 18"},
    {"ReduceLogSumExp", 18, "takes axes as an input from opset 18"},
    {"ReduceSumSquare", 18, "takes axes as an input from opset 18"},
    {"GroupNormalization", 21, "changed scale/bias from per-group to per-channel in opset 21"},
    {"GridSample", 20, "renamed its modes in opset 20"},
    {"DFT", 20, "takes axis as an input from opset 20"},
};

/* Why the default opset cannot rise from `from` to 21, or NULL when it can. */
static const char *opset_raise_blocker(const oc_graph *g, int64_t from, const oc_node **at)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const oc_node *n = g->nodes[i];
        if (n->dead || (n->domain && *n->domain))
            continue;
        for (size_t k = 0; k < sizeof oc_breaking / sizeof oc_breaking[0]; k++)
            if (!strcmp(n->op_type, oc_breaking[k].op) && from < oc_breaking[k].since) {
                *at = n;
                return oc_breaking[k].why;
            }
        /* BatchNormalization-9 dropped spatial: a BN we keep that still carries it would change meaning */
        if (!strcmp(n->op_type, "BatchNormalization") && from < 9 && oc_node_attr(n, "spatial")) {
            *at = n;
            return "carries the spatial attribute BatchNormalization-9 removed";
        }
    }
    return NULL;
}

static bool matches(const regex_t *re, const oc_node *bn)
{
    if ((bn->name && regexec(re, bn->name, 0, NULL, 0) == 0) ||
        (bn->outputs[0] && regexec(re, bn->outputs[0]->name, 0, NULL, 0) == 0))
        return true;
    return false;
}

static int64_t largest_divisor_at_most(int64_t c, int64_t g)
{
    for (int64_t d = g < c ? g : c; d > 1; d--)
        if (c % d == 0)
            return d;
    return 1;
}

static oc_tensor *const_tensor(int32_t dtype, int rank, const int64_t *dims, const double *v, char *why, size_t cap)
{
    return oc_tensor_from_f64(dtype, rank, dims, v, why, cap);
}

static oc_value *add_const(oc_graph *g, const char *base, const char *suffix, oc_tensor *t)
{
    char nm[400];
    snprintf(nm, sizeof nm, "%s_%s", base, suffix);
    oc_value *v = t ? oc_graph_add_initializer(g, nm, t) : NULL;
    if (!v)
        oc_tensor_free(t);
    return v;
}

static oc_value *add_i64(oc_graph *g, const char *base, const char *suffix, int n, const int64_t *vals)
{
    onnxc_tensor *t = NULL;
    int64_t d = n;
    if (onnxc_tensor_create(ONNXC_INT64, 1, &d, &t) != ONNXC_OK)
        return NULL;
    memcpy(t->data, vals, (size_t)n * sizeof *vals);
    oc_tensor *w = oc_calloc(1, sizeof *w);
    if (!w) {
        onnxc_tensor_free(t);
        return NULL;
    }
    w->t = *t;
    oc_free(t);
    w->has_data_type = true;
    return add_const(g, base, suffix, w);
}

/* Build the replacement for bn in front of it; returns false (why set) without touching the graph on failure. */
static bool swap_one(oc_graph *g, oc_node *bn, int64_t G, bool op_form, char *why, size_t cap)
{
    const oc_tensor *gamma = oc_value_constant(bn->inputs[1]), *beta = oc_value_constant(bn->inputs[2]);
    int64_t C = gamma->t.dims[0];
    int rank = oc_value_rank(bn->inputs[0]);
    if (!op_form && rank < 3) {
        snprintf(why, cap, rank < 0 ? "the rank of input '%s' is unknown" : "input '%s' has rank below 3",
                 bn->inputs[0]->name);
        return false;
    }
    const oc_type *xt = oc_value_type(bn->inputs[0]);
    int32_t dt = xt && xt->kind == OC_TYPE_TENSOR && xt->has_elem_type ? xt->elem_type : gamma->t.dtype;
    double *gv = oc_malloc((size_t)C * sizeof *gv), *bv = oc_malloc((size_t)C * sizeof *bv);
    double *ones = oc_malloc((size_t)(G + 1) * sizeof *ones), *zeros = oc_calloc((size_t)G + 1, sizeof *zeros);
    bool ok = gv && bv && ones && zeros && oc_tensor_to_f64(gamma, gv) && oc_tensor_to_f64(beta, bv);
    if (!ok)
        snprintf(why, cap, "scale or bias is not a float vector");
    for (int64_t i = 0; ok && i < G; i++)
        ones[i] = 1.0;
    float eps = oc_attr_float(bn, "epsilon", 1e-5f);
    const char *base = bn->name && *bn->name ? bn->name : bn->outputs[0]->name;
    oc_value *x = bn->inputs[0], *y = bn->outputs[0];
    if (ok && op_form) {
        /* GroupNormalization-21: per-channel scale and bias, like PyTorch's nn.GroupNorm */
        int64_t cd = C;
        oc_value *sc = add_const(g, base, "gn_scale", const_tensor(dt, 1, &cd, gv, why, cap));
        oc_value *bi = sc ? add_const(g, base, "gn_bias", const_tensor(dt, 1, &cd, bv, why, cap)) : NULL;
        oc_node *gn = bi ? oc_graph_insert_node(g, bn, "GroupNormalization", NULL, bn->name) : NULL;
        if (!gn) {
            ok = false;
            if (!*why)
                snprintf(why, cap, "out of memory");
        } else {
            oc_node_set_attr_int(gn, "num_groups", G);
            oc_node_set_attr_float(gn, "epsilon", eps);
            oc_remove_node(bn);
            oc_node_set_input(gn, 0, x);
            oc_node_set_input(gn, 1, sc);
            oc_node_set_input(gn, 2, bi);
            oc_node_set_output(gn, 0, y);
        }
    } else if (ok) {
        /* Reshape [0, G, -1] -> InstanceNormalization(ones[G], zeros[G]) -> Reshape(Shape(x)) -> Mul gamma[C,1..]
         * -> Add beta[C,1..]: what PyTorch's exporter writes for nn.GroupNorm, valid on any opset >= 6, and it
         * keeps a dynamic batch (0 copies N). */
        int64_t gd = G, cdims[ONNXC_MAX_RANK];
        cdims[0] = C;
        for (int i = 1; i < rank - 1; i++)
            cdims[i] = 1;
        const int64_t grouped[3] = {0, G, -1};
        oc_value *shape_g = add_i64(g, base, "group_shape", 3, grouped);
        oc_value *in_s = shape_g ? add_const(g, base, "in_scale", const_tensor(dt, 1, &gd, ones, why, cap)) : NULL;
        oc_value *in_b = in_s ? add_const(g, base, "in_bias", const_tensor(dt, 1, &gd, zeros, why, cap)) : NULL;
        oc_value *gm = in_b ? add_const(g, base, "gamma", const_tensor(dt, rank - 1, cdims, gv, why, cap)) : NULL;
        oc_value *bt = gm ? add_const(g, base, "beta", const_tensor(dt, rank - 1, cdims, bv, why, cap)) : NULL;
        char nm[400];
        oc_node *nodes[6] = {0};
        static const char *const ops[6] = {"Shape", "Reshape", "InstanceNormalization", "Reshape", "Mul", "Add"};
        static const char *const sfx[6] = {"shape", "group", "norm", "ungroup", "scale", ""};
        oc_value *mids[5] = {0};
        for (int k = 0; bt && k < 6; k++) {
            if (k < 5)
                snprintf(nm, sizeof nm, "%s_%s", base, sfx[k]);
            nodes[k] = oc_graph_insert_node(g, bn, ops[k], NULL, k < 5 ? nm : bn->name);
            if (k < 5)
                mids[k] = oc_graph_new_value(g, nm);
            if (!nodes[k] || (k < 5 && !mids[k]))
                bt = NULL;
        }
        if (!bt) {
            ok = false;
            if (!*why)
                snprintf(why, cap, "out of memory");
        } else {
            oc_remove_node(bn);
            oc_node_set_input(nodes[0], 0, x); /* Shape(x) */
            oc_node_set_output(nodes[0], 0, mids[0]);
            oc_node_set_input(nodes[1], 0, x); /* Reshape(x, [0, G, -1]) */
            oc_node_set_input(nodes[1], 1, shape_g);
            oc_node_set_output(nodes[1], 0, mids[1]);
            oc_node_set_input(nodes[2], 0, mids[1]); /* InstanceNormalization */
            oc_node_set_input(nodes[2], 1, in_s);
            oc_node_set_input(nodes[2], 2, in_b);
            oc_node_set_attr_float(nodes[2], "epsilon", eps);
            oc_node_set_output(nodes[2], 0, mids[2]);
            oc_node_set_input(nodes[3], 0, mids[2]); /* Reshape back */
            oc_node_set_input(nodes[3], 1, mids[0]);
            oc_node_set_output(nodes[3], 0, mids[3]);
            oc_node_set_input(nodes[4], 0, mids[3]); /* * gamma */
            oc_node_set_input(nodes[4], 1, gm);
            oc_node_set_output(nodes[4], 0, mids[4]);
            oc_node_set_input(nodes[5], 0, mids[4]); /* + beta */
            oc_node_set_input(nodes[5], 1, bt);
            oc_node_set_output(nodes[5], 0, y);
        }
    }
    oc_free(gv);
    oc_free(bv);
    oc_free(ones);
    oc_free(zeros);
    return ok;
}

static onnxc_status swap_norm_run(oc_graph *g, oc_pass_ctx *ctx)
{
    const onnxc_optimize_options *o = ctx->opts;
    const char *to = o->swap_to && *o->swap_to ? o->swap_to : "group";
    const char *form = o->swap_form && *o->swap_form ? o->swap_form : "auto";
    if (strcmp(to, "group") && strcmp(to, "instance") && strcmp(to, "layer"))
        return oc_err(ONNXC_E_ARG, "swap-norm: --to must be group, instance or layer, not '%s'", to);
    if (strcmp(form, "auto") && strcmp(form, "op") && strcmp(form, "decomposed"))
        return oc_err(ONNXC_E_ARG, "swap-norm: --form must be auto, op or decomposed, not '%s'", form);
    int64_t groups = o->groups > 0 ? o->groups : 32;
    regex_t only, excl;
    bool has_only = o->only && *o->only, has_excl = o->exclude && *o->exclude;
    if (has_only && regcomp(&only, o->only, REG_EXTENDED | REG_NOSUB) != 0)
        return oc_err(ONNXC_E_ARG, "swap-norm: --only '%s' is not a valid regular expression", o->only);
    if (has_excl && regcomp(&excl, o->exclude, REG_EXTENDED | REG_NOSUB) != 0) {
        if (has_only)
            regfree(&only);
        return oc_err(ONNXC_E_ARG, "swap-norm: --exclude '%s' is not a valid regular expression", o->exclude);
    }
    onnxc_status st = ONNXC_OK;
    int64_t opset = oc_model_opset(g->model, NULL);
    bool op_form = !strcmp(form, "op") || (!strcmp(form, "auto") && opset >= 21);
    int n_bn = 0, n_selected = 0, n_swapped = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (oc_is_batchnorm(g->nodes[i]))
            n_bn++;
    if (n_bn == 0) {
        oc_report_warning(ctx, NULL, "the model has no BatchNormalization: nothing to swap");
        goto out;
    }
    if (op_form && opset < 21) {
        const oc_node *at = NULL;
        const char *why = opset_raise_blocker(g, opset, &at);
        if (why) {
            char lbl[200];
            st = oc_err(ONNXC_E_UNSUPPORTED, "swap-norm: --form op needs opset 21, and raising this model's opset "
                        "%lld would change node %s: %s %s; use --form decomposed", (long long)opset,
                        oc_node_label(at, lbl, sizeof lbl), at->op_type, why);
            goto out;
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        oc_node *bn = g->nodes[i];
        if (!oc_is_batchnorm(bn))
            continue;
        if ((has_only && !matches(&only, bn)) || (has_excl && matches(&excl, bn)))
            continue;
        n_selected++;
        char why[400] = "";
        if (!oc_bn_params_ok(bn, why, sizeof why)) {
            oc_report_skipped(ctx, bn, "not swapped: %s", why);
            continue;
        }
        int64_t C = oc_value_constant(bn->inputs[1])->t.dims[0];
        int64_t G = !strcmp(to, "instance") ? C : !strcmp(to, "layer") ? 1 : groups;
        if (C % G != 0) {
            int64_t g2 = largest_divisor_at_most(C, G);
            if (o->strict) {
                char lbl[200];
                st = oc_err(ONNXC_E_INVALID, "swap-norm: node %s has %lld channels, not divisible into %lld groups "
                            "(--strict)", oc_node_label(bn, lbl, sizeof lbl), (long long)C, (long long)G);
                goto out;
            }
            oc_report_warning(ctx, bn, "%lld channels %s %lld groups: using %lld groups (largest divisor)",
                              (long long)C, C < G ? "are fewer than" : "do not divide into", (long long)G,
                              (long long)g2);
            G = g2;
        }
        if (!oc_pass_may_rewrite(ctx))
            goto out;
        if (swap_one(g, bn, G, op_form, why, sizeof why)) {
            n_swapped++;
            oc_report_changed(ctx, bn, "swapped to %s with %lld group%s (%s), epsilon kept; running mean and "
                              "variance dropped", op_form ? "GroupNormalization-21" : "InstanceNormalization groups",
                              (long long)G, G == 1 ? "" : "s", !strcmp(to, "group") ? "group norm"
                              : !strcmp(to, "instance") ? "instance norm" : "layer norm");
        } else {
            oc_report_skipped(ctx, bn, "not swapped: %s", why);
        }
    }
    if (n_selected == 0)
        oc_report_warning(ctx, NULL, "no BatchNormalization matched --only/--exclude (%d in the model)", n_bn);
    if (n_swapped && op_form && opset < 21) {
        for (int i = 0; i < g->model->n_opsets; i++) {
            const char *d = g->model->opsets[i].domain;
            if (!d || !*d || !strcmp(d, "ai.onnx"))
                g->model->opsets[i].version = 21;
        }
        /* opset 21 belongs to IR version 10 */
        if (g->model->ir_version < 10) {
            g->model->ir_version = 10;
            g->model->has_ir_version = true;
        }
        oc_report_warning(ctx, NULL, "default opset raised from %lld to 21 for GroupNormalization-21",
                          (long long)opset);
    }
out:
    if (has_only)
        regfree(&only);
    if (has_excl)
        regfree(&excl);
    return st;
}

const oc_pass oc_pass_swap_norm = {
    .name = "swap-norm",
    .summary = "replace BatchNormalization by group/instance/layer norm (changes outputs; for fine-tuning)",
    .exact = false,
    .in_default = false,
    .run = swap_norm_run,
};
