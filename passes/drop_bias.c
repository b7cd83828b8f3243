/* drop-bias-before-bn: a Conv/ConvTranspose bias b feeding a BatchNormalization is moved into the BN's running
 * mean (mean' = mean - b) and removed from the conv. */
#include <stdio.h>
#include <string.h>

#include "affine.h"
#include "bn_match.h"
#include "pass.h"

/* Why this is exact:
 *  - inference: BN(x + b) = (x + b - mean) * s + beta = (x - (mean - b)) * s + beta, so the conv without bias
 *    followed by a BN with mean' = mean - b gives the same values.
 *  - training (training_mode 1): the BN normalizes with the batch mean, and the batch mean of x + b is
 *    mean(x) + b, so b cancels in x + b - mean(x + b): the output does not depend on b at all. The running mean
 *    the BN keeps becomes an average of mean(x) instead of mean(x) + b, which is what mean' = mean - b starts
 *    from, so the statistics stay consistent with the conv that no longer adds b. */
static onnxc_status drop_bias_run(oc_graph *g, oc_pass_ctx *ctx)
{
    for (int i = 0; i < g->n_nodes; i++) {
        oc_node *bn = g->nodes[i];
        if (!oc_is_batchnorm(bn) || bn->n_inputs < 5 || !bn->inputs[0])
            continue;
        oc_value *x = bn->inputs[0];
        oc_node *p = x->producer;
        if (!p || p->dead || !oc_domain_is_default(p->domain) ||
            (strcmp(p->op_type, "Conv") && strcmp(p->op_type, "ConvTranspose")))
            continue;
        if (p->n_inputs < 3 || !p->inputs[2])
            continue; /* no bias: nothing to drop */
        char plbl[200];
        oc_node_label(p, plbl, sizeof plbl);
        if (x->n_uses != 1 || !oc_value_is_private(x)) {
            oc_report_skipped(ctx, bn, "bias of %s kept: its output is also used elsewhere", plbl);
            continue;
        }
        /* spatial=0 (before BatchNormalization-9) has per-activation means; the bias is per channel */
        if (oc_attr_int(bn, "spatial", 1) == 0) {
            oc_report_skipped(ctx, bn, "bias of %s kept: spatial is 0", plbl);
            continue;
        }
        const oc_tensor *b = oc_value_constant(p->inputs[2]);
        const oc_tensor *mean = oc_value_constant(bn->inputs[3]);
        if (!b || !mean) {
            oc_report_skipped(ctx, bn, "bias of %s kept: %s is not a constant", plbl, !b ? "the bias" : "the mean");
            continue;
        }
        int64_t C = mean->t.rank == 1 ? mean->t.dims[0] : -1;
        if (b->t.rank != 1 || b->t.dims[0] != C) {
            oc_report_skipped(ctx, bn, "bias of %s kept: bias and mean shapes differ", plbl);
            continue;
        }
        double *bv = oc_malloc((size_t)C * sizeof *bv), *mv = oc_malloc((size_t)C * sizeof *mv);
        char why[300] = "";
        bool ok = bv && mv && oc_tensor_to_f64(b, bv) && oc_tensor_to_f64(mean, mv);
        if (!ok)
            snprintf(why, sizeof why, "bias or mean is not a float vector");
        for (int64_t c = 0; ok && c < C; c++)
            mv[c] -= bv[c];
        oc_tensor *nm = ok ? oc_tensor_from_f64(mean->t.dtype, 1, &C, mv, why, sizeof why) : NULL;
        oc_free(bv);
        oc_free(mv);
        if (!nm) {
            oc_report_skipped(ctx, bn, "bias of %s kept: %s", plbl, why);
            continue;
        }
        if (!oc_pass_may_rewrite(ctx)) {
            oc_tensor_free(nm);
            return ONNXC_OK;
        }
        char base[300];
        snprintf(base, sizeof base, "%s_minus_bias", bn->inputs[3]->name);
        onnxc_status st = oc_set_constant_input(g, bn, 3, nm, base);
        if (st != ONNXC_OK)
            return st;
        oc_node_set_input(p, 2, NULL);
        p->n_inputs = 2;
        oc_report_changed(ctx, bn, "bias of %s moved into the running mean", plbl);
    }
    return ONNXC_OK;
}

const oc_pass oc_pass_drop_bias = {
    .name = "drop-bias-before-bn",
    .summary = "remove a Conv bias in front of a BatchNormalization (mean' = mean - b); exact",
    .exact = true,
    .in_default = true,
    .run = drop_bias_run,
};
