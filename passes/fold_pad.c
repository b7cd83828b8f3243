/* fold-pad: a constant-zero Pad of the spatial dims in front of a Conv (or of an AveragePool that counts padding)
 * folded into that node's own pads, which pad with zeros too. A Pad of the batch or channel dims, of another
 * value or mode, a negative (cropping) pad, or a MaxPool (which pads with -inf) is left alone. */
#include <stdio.h>
#include <string.h>

#include "affine.h"
#include "pass.h"

/* The pads of Pad node n (2*rank values), false with why when they are not constant or the Pad is not of zeros. */
static bool zero_pad(const oc_node *n, int64_t opset, int64_t *pads, int *np, char *why, size_t cap)
{
    char buf[32];
    const char *mode = oc_attr_string(n, "mode", "constant", buf, sizeof buf);
    if (strcmp(mode, "constant") != 0)
        return oc_why(why, cap, "its mode is '%s', not constant", mode);
    if (opset < 11) {
        size_t k = 0;
        const int64_t *p = oc_attr_ints(n, "pads", &k);
        if (!p || k > 2 * ONNXC_MAX_RANK)
            return oc_why(why, cap, "it has no pads attribute");
        memcpy(pads, p, k * sizeof *p);
        *np = (int)k;
        if (oc_attr_float(n, "value", 0.0f) != 0.0f)
            return oc_why(why, cap, "it pads with %g, not 0", oc_attr_float(n, "value", 0.0f));
        return true;
    }
    if (n->n_inputs > 3 && n->inputs[3])
        return oc_why(why, cap, "it has an axes input");
    const oc_tensor *p = n->n_inputs > 1 && n->inputs[1] ? oc_value_constant(n->inputs[1]) : NULL;
    if (!p || p->t.dtype != ONNXC_INT64 || p->t.rank != 1 || p->t.dims[0] > 2 * ONNXC_MAX_RANK)
        return oc_why(why, cap, "its pads are not a constant int64 vector");
    *np = (int)p->t.dims[0];
    memcpy(pads, p->t.data, (size_t)*np * sizeof *pads);
    if (n->n_inputs > 2 && n->inputs[2]) {
        const oc_tensor *v = oc_value_constant(n->inputs[2]);
        if (!v || onnxc_tensor_numel(&v->t) != 1)
            return oc_why(why, cap, "its constant_value is not a constant scalar");
        double d = 1;
        bool zero = oc_tensor_to_f64(v, &d) ? d == 0.0 : true;
        if (!oc_tensor_to_f64(v, &d))
            for (size_t b = 0; b < v->t.nbytes; b++)
                zero = zero && ((const uint8_t *)v->t.data)[b] == 0;
        if (!zero)
            return oc_why(why, cap, "its constant_value is not 0");
    }
    return true;
}

static onnxc_status fold_pad_run(oc_graph *g, oc_pass_ctx *ctx)
{
    int64_t opset = oc_model_opset(g->model, NULL);
    char why[300], lbl[200];
    for (int i = 0; i < g->n_nodes; i++) {
        oc_node *pad = g->nodes[i];
        if (pad->dead || !oc_node_is_op(pad, "Pad") || pad->n_inputs < 1 || !pad->inputs[0] || pad->n_outputs != 1 ||
            !pad->outputs[0])
            continue;
        oc_value *y = pad->outputs[0];
        if (y->n_uses != 1 || (y->flags & OC_V_OUTPUT) || y->uses[0].slot != 0 || oc_name_in_subgraphs(g, y->name))
            continue;
        oc_node *c = y->uses[0].node;
        bool conv = oc_node_is_op(c, "Conv"), avg = oc_node_is_op(c, "AveragePool");
        if (!conv && !avg)
            continue;
        oc_node_label(c, lbl, sizeof lbl);
        int64_t pads[2 * ONNXC_MAX_RANK];
        int np = 0;
        if (!zero_pad(pad, opset, pads, &np, why, sizeof why)) {
            oc_report_skipped(ctx, pad, "not folded into %s: %s", lbl, why);
            continue;
        }
        int r = np / 2, ns = r - 2;
        bool ok = np % 2 == 0 && r >= 3 && pads[0] == 0 && pads[1] == 0 && pads[r] == 0 && pads[r + 1] == 0;
        for (int k = 0; k < np; k++)
            ok = ok && pads[k] >= 0;
        if (!ok) {
            oc_report_skipped(ctx, pad, "not folded into %s: it pads the batch or channel dims, or crops", lbl);
            continue;
        }
        char buf[32];
        const char *ap = oc_attr_string(c, "auto_pad", "NOTSET", buf, sizeof buf);
        if (strcmp(ap, "NOTSET") != 0) {
            oc_report_skipped(ctx, pad, "not folded into %s: its auto_pad is %s", lbl, ap);
            continue;
        }
        size_t nc = 0;
        const int64_t *cp = oc_attr_ints(c, "pads", &nc);
        if (cp && (int)nc != 2 * ns) {
            oc_report_skipped(ctx, pad, "not folded into %s: its pads do not have %d values", lbl, 2 * ns);
            continue;
        }
        bool has_pads = false;
        for (size_t k = 0; cp && k < nc; k++)
            has_pads = has_pads || cp[k] != 0;
        if (avg) {
            if (oc_attr_int(c, "ceil_mode", 0)) {
                oc_report_skipped(ctx, pad, "not folded into %s: ceil_mode is 1", lbl);
                continue;
            }
            /* the Pad's zeros are elements the average counts: the pool must count its padding too */
            if (!oc_attr_int(c, "count_include_pad", 0) && has_pads) {
                oc_report_skipped(ctx, pad, "not folded into %s: it pads without counting the padding", lbl);
                continue;
            }
        }
        if (!oc_pass_may_rewrite(ctx))
            break;
        int64_t merged[2 * ONNXC_MAX_RANK];
        for (int k = 0; k < ns; k++) {
            merged[k] = (cp ? cp[k] : 0) + pads[2 + k];
            merged[ns + k] = (cp ? cp[ns + k] : 0) + pads[r + 2 + k];
        }
        if (oc_node_set_attr_ints(c, "pads", merged, (size_t)(2 * ns)) != ONNXC_OK ||
            (avg && oc_node_set_attr_int(c, "count_include_pad", 1) != ONNXC_OK))
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        oc_value *x = pad->inputs[0];
        oc_remove_node(pad);
        oc_node_set_input(c, 0, x);
        oc_report_changed(ctx, pad, "folded into the pads of %s", lbl);
    }
    return ONNXC_OK;
}

const oc_pass oc_pass_fold_pad = {
    .name = "fold-pad",
    .summary = "fold a constant-zero spatial Pad into the pads of the Conv or AveragePool it feeds",
    .exact = true,
    .in_default = true,
    .run = fold_pad_run,
};
