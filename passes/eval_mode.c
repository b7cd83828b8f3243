/* eval-mode: turn a model exported in training mode into its inference form. A training-mode
 * BatchNormalization (training_mode=1, or before BatchNormalization-14 its statistics outputs declared) becomes
 * the inference BatchNormalization with the running mean and variance it already carries, and an active Dropout
 * (training_mode true, or is_test=0 before Dropout-7) becomes Identity; fold-bn and cleanup then do the rest.
 * It changes the outputs on purpose (each sample's answer no longer depends on its batch-mates), so it is not in
 * the default pipeline: the pipeline option eval-mode (`optimize --eval-mode`) puts it first.
 * It refuses, changing nothing, when a statistics output is read (a training graph that updates its running
 * statistics) or when the running statistics are not constants. */
#include <stdio.h>
#include <string.h>

#include "bn_match.h"
#include "pass.h"

/* Why output o cannot be dropped (NULL when it can). */
static const char *output_in_use(const oc_value *o, char *buf, size_t cap)
{
    if (!o)
        return NULL;
    if (o->flags & OC_V_OUTPUT) {
        snprintf(buf, cap, "'%s' is a graph output (a training graph: it updates the statistics)", o->name);
        return buf;
    }
    if (o->n_uses) {
        char lbl[200];
        snprintf(buf, cap, "'%s' is read by %s", o->name, oc_node_label(o->uses[0].node, lbl, sizeof lbl));
        return buf;
    }
    return NULL;
}

/* Checks every candidate before the first rewrite, so a refusal leaves the graph as it was. */
static onnxc_status eval_mode_check(const oc_graph *g)
{
    char lbl[200], buf[400];
    for (int i = 0; i < g->n_nodes; i++) {
        const oc_node *n = g->nodes[i];
        if (oc_bn_is_training(n, NULL, 0)) {
            for (int o = 1; o < n->n_outputs; o++)
                if (output_in_use(n->outputs[o], buf, sizeof buf))
                    return oc_err(ONNXC_E_UNSUPPORTED, "eval-mode: %s: its statistics output %s; eval mode would "
                                  "remove it", oc_node_label(n, lbl, sizeof lbl), buf);
            for (int k = 3; k <= 4; k++) {
                const oc_value *v = n->n_inputs > k ? n->inputs[k] : NULL;
                if (!v || !oc_value_constant(v))
                    return oc_err(ONNXC_E_UNSUPPORTED, "eval-mode: %s: its running %s%s%s%s is not a constant, so "
                                  "there are no fixed statistics to normalize with", oc_node_label(n, lbl, sizeof lbl),
                                  k == 3 ? "mean" : "variance", v ? " '" : "", v ? v->name : "", v ? "'" : "");
            }
        } else if (oc_dropout_is_training(n, NULL, 0)) {
            for (int o = 1; o < n->n_outputs; o++)
                if (output_in_use(n->outputs[o], buf, sizeof buf))
                    return oc_err(ONNXC_E_UNSUPPORTED, "eval-mode: %s: its mask output %s; eval mode would remove "
                                  "it", oc_node_label(n, lbl, sizeof lbl), buf);
        }
    }
    return ONNXC_OK;
}

static void drop_outputs_after_first(oc_node *n)
{
    for (int o = 1; o < n->n_outputs; o++)
        if (n->outputs[o])
            oc_node_set_output(n, o, NULL); /* clearing a slot never allocates */
    n->n_outputs = 1;
}

static onnxc_status eval_mode_run(oc_graph *g, oc_pass_ctx *ctx)
{
    onnxc_status st = eval_mode_check(g);
    if (st != ONNXC_OK)
        return st;
    const int64_t opset = oc_model_opset(g->model, NULL);
    int n_bn = 0, n_drop = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        oc_node *n = g->nodes[i];
        char why[300] = "";
        if (oc_bn_is_training(n, why, sizeof why)) {
            if (!oc_pass_may_rewrite(ctx))
                break;
            oc_node_remove_attr(n, "training_mode");
            if (opset < 7 && (st = oc_node_set_attr_int(n, "is_test", 1)) != ONNXC_OK)
                return st;
            drop_outputs_after_first(n);
            n_bn++;
            oc_report_changed(ctx, n, "%s: now normalizes with its running mean '%s' and variance '%s' (inference), "
                              "no longer with each batch's statistics", why, n->inputs[3]->name, n->inputs[4]->name);
        } else if (oc_dropout_is_training(n, why, sizeof why)) {
            if (!oc_pass_may_rewrite(ctx))
                break;
            char *id = oc_strdup("Identity");
            if (!id)
                return oc_err(ONNXC_E_NOMEM, "out of memory");
            for (int k = 1; k < n->n_inputs; k++)
                if ((st = oc_node_set_input(n, k, NULL)) != ONNXC_OK) {
                    oc_free(id);
                    return st;
                }
            n->n_inputs = n->n_inputs > 1 ? 1 : n->n_inputs;
            drop_outputs_after_first(n);
            while (n->n_attrs > 0)
                oc_node_remove_attr(n, n->attrs[n->n_attrs - 1].name);
            oc_free(n->op_type);
            n->op_type = id;
            n_drop++;
            oc_report_changed(ctx, n, "Dropout with %s became Identity (no random drops at inference)", why);
        }
    }
    if (n_bn + n_drop == 0)
        oc_report_skipped(ctx, NULL, "no training-mode BatchNormalization or Dropout: nothing to do");
    return ONNXC_OK;
}

const oc_pass oc_pass_eval_mode = {
    .name = "eval-mode",
    .summary = "training-mode BatchNormalization -> inference (its running statistics), active Dropout -> Identity",
    .exact = false,
    .in_default = false,
    .run = eval_mode_run,
};
