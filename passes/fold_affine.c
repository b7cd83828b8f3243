/* fold-affine: a Conv / ConvTranspose / Gemm / MatMul followed by a per-channel constant Mul, Add, Sub or Div
 * (torchvision's FrozenBatchNorm2d, Caffe's Scale, a BN already turned into Mul + Add) folded into the weights;
 * such a Mul/Add/Sub/Div in front of a Conv folded forward into that Conv where exact (no padding, or no shift). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "affine.h"
#include "infer.h"
#include "pass.h"

/* The constant k as one value per output channel (kc[C]) when it only varies along the channel axis of an
 * output of rank r (channel axis 1 for convolutions, the last axis for Gemm). */
static bool per_channel(const oc_tensor *k, int r, int axis, int64_t C, double *kc, char *why, size_t cap)
{
    const onnxc_tensor *t = &k->t;
    int64_t n = onnxc_tensor_numel(t);
    if (t->rank > r) {
        snprintf(why, cap, "constant has rank %d, above the output's %d", (int)t->rank, r);
        return false;
    }
    int64_t ch = 1;
    for (int i = 0; i < t->rank; i++) {
        int oi = i + (r - t->rank); /* right-aligned broadcasting */
        if (oi == axis)
            ch = t->dims[i];
        else if (t->dims[i] != 1) {
            snprintf(why, cap, "constant varies along axis %d, not only the channel axis", oi);
            return false;
        }
    }
    if (ch != 1 && ch != C) {
        snprintf(why, cap, "constant has %lld channels, the output %lld", (long long)ch, (long long)C);
        return false;
    }
    double buf[1];
    double *raw = n == 1 ? buf : oc_malloc((size_t)n * sizeof *raw);
    if (!raw || !oc_tensor_to_f64(k, raw)) {
        if (raw != buf)
            oc_free(raw);
        snprintf(why, cap, "constant has type %s", onnxc_dtype_name(t->dtype));
        return false;
    }
    for (int64_t c = 0; c < C; c++)
        kc[c] = raw[ch == 1 ? 0 : c];
    if (raw != buf)
        oc_free(raw);
    return true;
}

/* s, t of y = s*x + t for op (0 Mul, 1 Add, 2 Sub, 3 Div) with the constant on side ks, per channel kc. */
static bool op_affine(int op, int ks, const double *kc, int64_t C, double *s, double *t, char *why, size_t cap)
{
    for (int64_t c = 0; c < C; c++) {
        switch (op) {
        case 0: s[c] = kc[c]; t[c] = 0; break;                  /* x * k */
        case 1: s[c] = 1; t[c] = kc[c]; break;                  /* x + k */
        case 2: s[c] = ks == 1 ? 1 : -1; t[c] = ks == 1 ? -kc[c] : kc[c]; break; /* x - k, k - x */
        default:                                                /* x / k */
            if (kc[c] == 0) {
                snprintf(why, cap, "divisor is 0 for channel %lld", (long long)c);
                return false;
            }
            s[c] = 1.0 / kc[c];
            t[c] = 0;
            break;
        }
    }
    return true;
}

/* n (a Mul/Add/Sub/Div of x and constant k) in front of a Conv: folded forward when x has the Conv's C channels
 * itself (k must not broadcast x up to them: shape inference says) and k is per channel. */
static onnxc_status try_forward(oc_graph *g, oc_pass_ctx *ctx, oc_node *n, int op, int ks, oc_infer **inf)
{
    oc_value *y = n->outputs[0], *x = n->inputs[1 - ks];
    if (y->n_uses != 1 || !oc_value_is_private(y) || !oc_node_is_op(y->uses[0].node, "Conv") || y->uses[0].slot)
        return ONNXC_OK;
    if (op == 3 && ks == 0)
        return ONNXC_OK; /* k / x is not affine */
    oc_node *cv = y->uses[0].node;
    char why[400] = "", lbl[200];
    oc_node_label(cv, lbl, sizeof lbl);
    const oc_tensor *w = cv->n_inputs > 1 ? oc_value_constant(cv->inputs[1]) : NULL;
    const oc_tensor *k = oc_value_constant(n->inputs[ks]);
    int64_t grp = oc_attr_int(cv, "group", 1), C = w && w->t.rank >= 3 ? w->t.dims[1] * grp : -1;
    if (!w || C <= 0 || k->t.dtype != w->t.dtype)
        return ONNXC_OK;
    if (!*inf && oc_infer_graph(g, false, inf) != ONNXC_OK)
        *inf = NULL;
    const oc_vshape *xs = oc_infer_get(*inf, x);
    if (xs->rank != w->t.rank || xs->d[1].v != C) {
        if (xs->rank == w->t.rank && xs->d[1].v >= 0)
            oc_report_skipped(ctx, n, "not folded forward into %s: '%s' has %lld channels, not the %lld the Conv "
                              "reads (the constant broadcasts it)", lbl, x->name, (long long)xs->d[1].v,
                              (long long)C);
        else
            oc_report_skipped(ctx, n, "not folded forward into %s: the channels of '%s' are not known", lbl,
                              x->name);
        return ONNXC_OK;
    }
    double *kc = oc_malloc((size_t)C * sizeof *kc), *s = oc_malloc((size_t)C * sizeof *s),
           *t = oc_malloc((size_t)C * sizeof *t);
    onnxc_status st = ONNXC_OK;
    if (!kc || !s || !t) {
        st = oc_err(ONNXC_E_NOMEM, "out of memory");
    } else if (per_channel(k, w->t.rank, 1, C, kc, why, sizeof why) && op_affine(op, ks, kc, C, s, t, why, sizeof why)) {
        bool no_budget = false;
        if (oc_affine_fold_forward(g, n, s, t, C, ctx, &no_budget, why, sizeof why))
            oc_report_changed(ctx, n, "folded forward into %s", lbl);
        else if (!no_budget)
            oc_report_skipped(ctx, n, "not folded forward into %s: %s", lbl, why);
    } else {
        oc_report_skipped(ctx, n, "not folded forward into %s: %s", lbl, why);
    }
    oc_free(kc);
    oc_free(s);
    oc_free(t);
    return st;
}

static onnxc_status fold_affine_run(oc_graph *g, oc_pass_ctx *ctx)
{
    oc_infer *inf = NULL; /* for the forward folds: made when first needed */
    for (int i = 0; i < g->n_nodes; i++) {
        oc_node *n = g->nodes[i];
        if (n->dead || !oc_domain_is_default(n->domain))
            continue;
        int op = !strcmp(n->op_type, "Mul") ? 0 : !strcmp(n->op_type, "Add") ? 1
                 : !strcmp(n->op_type, "Sub") ? 2 : !strcmp(n->op_type, "Div") ? 3 : -1;
        if (op < 0 || n->n_inputs != 2 || !n->inputs[0] || !n->inputs[1] || n->n_outputs < 1 || !n->outputs[0])
            continue;
        /* which side is the constant */
        int ks = oc_value_is_constant(n->inputs[1]) ? 1 : oc_value_is_constant(n->inputs[0]) ? 0 : -1;
        if (ks < 0)
            continue;
        oc_value *x = n->inputs[1 - ks];
        oc_node *p = x->producer;
        if (!p || p->dead || x->producer_slot != 0 ||
            (strcmp(p->op_type, "Conv") && strcmp(p->op_type, "ConvTranspose") && strcmp(p->op_type, "Gemm") &&
             strcmp(p->op_type, "MatMul"))) {
            onnxc_status st = try_forward(g, ctx, n, op, ks, &inf);
            if (st != ONNXC_OK) {
                oc_infer_free(inf);
                return st;
            }
            continue;
        }
        char why[400], plbl[200];
        oc_node_label(p, plbl, sizeof plbl);
        if (op == 3 && ks == 0) {
            oc_report_skipped(ctx, n, "not folded: constant / output is not affine");
            continue;
        }
        if (!oc_affine_target_ok(p, why, sizeof why)) {
            oc_report_skipped(ctx, n, "not folded: %s", why);
            continue;
        }
        const oc_tensor *k = oc_value_constant(n->inputs[ks]);
        const oc_tensor *w = oc_value_constant(p->inputs[1]);
        if (k->t.dtype != w->t.dtype) {
            oc_report_skipped(ctx, n, "not folded: constant is %s, weight %s", onnxc_dtype_name(k->t.dtype),
                              onnxc_dtype_name(w->t.dtype));
            continue;
        }
        bool conv = !strcmp(p->op_type, "Conv") || !strcmp(p->op_type, "ConvTranspose");
        int r = conv ? w->t.rank : 2;
        int axis = conv ? 1 : 1; /* NCHW channels, or Gemm's N columns: axis 1 either way */
        int64_t C = oc_affine_channels(p, why, sizeof why);
        if (C <= 0) {
            oc_report_skipped(ctx, n, "not folded: %s", why);
            continue;
        }
        double *kc = oc_malloc((size_t)C * sizeof *kc), *s = oc_malloc((size_t)C * sizeof *s),
               *t = oc_malloc((size_t)C * sizeof *t);
        if (!kc || !s || !t) {
            oc_free(kc);
            oc_free(s);
            oc_free(t);
            oc_infer_free(inf);
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        }
        bool ok = per_channel(k, r, axis, C, kc, why, sizeof why) && op_affine(op, ks, kc, C, s, t, why, sizeof why);
        if (ok && !oc_pass_may_rewrite(ctx)) {
            oc_free(kc);
            oc_free(s);
            oc_free(t);
            oc_infer_free(inf);
            return ONNXC_OK;
        }
        if (ok)
            ok = oc_affine_fold(g, p, s, t, C, why, sizeof why);
        if (ok) {
            oc_value *y = n->outputs[0];
            oc_remove_node(n);
            oc_node_set_output(p, 0, y);
            oc_report_changed(ctx, n, "folded into %s", plbl);
        } else {
            oc_report_skipped(ctx, n, "not folded into %s: %s", plbl, why);
        }
        oc_free(kc);
        oc_free(s);
        oc_free(t);
    }
    oc_infer_free(inf);
    return ONNXC_OK;
}

const oc_pass oc_pass_fold_affine = {
    .name = "fold-affine",
    .summary = "fold per-channel constant Mul/Add/Sub/Div after a Conv/ConvTranspose/Gemm/MatMul into it, or forward into a Conv",
    .exact = true,
    .in_default = true,
    .run = fold_affine_run,
};
