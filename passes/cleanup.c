/* cleanup: remove Identity and inference-mode Dropout, nodes whose results nobody uses, and initializers nobody
 * reads, in the main graph and (run by the pipeline for each) in every subgraph; a value some subgraph names from
 * an enclosing scope counts as read. Graph input and output names never change. */
#include <stdio.h>
#include <string.h>

#include "pass.h"

bool oc_name_in_subgraphs(const oc_graph *g, const char *name)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const oc_node *n = g->nodes[i];
        if (n->dead)
            continue;
        for (int a = 0; a < n->n_attrs; a++) {
            const oc_attr *at = &n->attrs[a];
            for (size_t k = 0; k < 1 + at->n_graphs; k++) {
                const oc_graph *sg = k == 0 ? at->g : at->graphs[k - 1];
                if (!sg)
                    continue;
                const oc_value *v = oc_graph_find(sg, name);
                if ((v && (v->flags & OC_V_OUTER)) || oc_name_in_subgraphs(sg, name))
                    return true;
            }
        }
    }
    return false;
}

bool oc_value_is_private(const oc_value *v)
{
    return v && !(v->flags & OC_V_OUTPUT) && !oc_name_in_subgraphs(v->graph, v->name);
}

/* Dropout is a copy at inference: Dropout-12+ when training_mode is absent or a constant false; before 7 only
 * with is_test=1 (is_test=0 asked for training behaviour); 7..11 always. The mask output must be unused. */
static bool dropout_is_identity(const oc_graph *g, const oc_node *n, char *why, size_t cap)
{
    int64_t opset = oc_model_opset(g->model, NULL);
    if (opset < 7 && oc_attr_int(n, "is_test", 0) == 0) {
        snprintf(why, cap, "is_test is 0 (training)");
        return false;
    }
    if (n->n_inputs > 2 && n->inputs[2]) {
        const oc_tensor *tm = oc_value_constant(n->inputs[2]);
        if (!tm || tm->t.dtype != ONNXC_BOOL || onnxc_tensor_numel(&tm->t) != 1) {
            snprintf(why, cap, "training_mode is not a constant");
            return false;
        }
        if (*(const uint8_t *)tm->t.data) {
            snprintf(why, cap, "training_mode is true");
            return false;
        }
    }
    for (int o = 1; o < n->n_outputs; o++)
        if (n->outputs[o] && (n->outputs[o]->n_uses || (n->outputs[o]->flags & OC_V_OUTPUT))) {
            snprintf(why, cap, "its mask output is used");
            return false;
        }
    return true;
}

bool oc_bypass_node(oc_graph *g, oc_node *n, char *why, size_t cap)
{
    oc_value *x = n->inputs[0], *y = n->outputs[0];
    if (oc_name_in_subgraphs(g, y->name)) {
        snprintf(why, cap, "a subgraph refers to '%s'", y->name);
        return false;
    }
    if (!(y->flags & OC_V_OUTPUT)) {
        oc_remove_node(n);
        oc_replace_all_uses(y, x);
        return true;
    }
    /* y is a graph output: its name must stay, so x's producer takes it over */
    oc_node *p = x->producer;
    if (!p || (x->flags & (OC_V_OUTPUT | OC_V_INPUT)) || x->n_uses != 1 || oc_name_in_subgraphs(g, x->name)) {
        snprintf(why, cap, "its output '%s' is a graph output and its input '%s' cannot take its name", y->name,
                 x->name);
        return false;
    }
    int slot = x->producer_slot;
    oc_remove_node(n);
    oc_node_set_output(p, slot, y);
    return true;
}

static void remove_graph_input(oc_graph *g, oc_value *v)
{
    for (int i = 0; i < g->n_inputs; i++) {
        if (g->inputs[i].value != v)
            continue;
        oc_type_clear(&g->inputs[i].type);
        oc_free(g->inputs[i].doc_string);
        memmove(&g->inputs[i], &g->inputs[i + 1], (size_t)(g->n_inputs - i - 1) * sizeof *g->inputs);
        g->n_inputs--;
        i--;
    }
    v->flags &= ~(unsigned)OC_V_INPUT;
}

static onnxc_status cleanup_run(oc_graph *g, oc_pass_ctx *ctx)
{
    char why[300];
    for (int i = 0; i < g->n_nodes; i++) {
        oc_node *n = g->nodes[i];
        if (n->dead || n->n_inputs < 1 || !n->inputs[0] || n->n_outputs < 1 || !n->outputs[0])
            continue;
        bool identity = oc_node_is_op(n, "Identity");
        if (!identity && oc_node_is_op(n, "Dropout")) {
            if (!dropout_is_identity(g, n, why, sizeof why)) {
                oc_report_skipped(ctx, n, "kept: %s", why);
                continue;
            }
            identity = true;
        }
        if (!identity)
            continue;
        if (!oc_pass_may_rewrite(ctx))
            return ONNXC_OK;
        if (oc_bypass_node(g, n, why, sizeof why))
            oc_report_changed(ctx, n, "removed");
        else
            oc_report_skipped(ctx, n, "kept: %s", why);
    }

    /* dead nodes, from the end so that whole dead chains go in one sweep */
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        oc_node *n = g->nodes[i];
        if (n->dead)
            continue;
        bool used = false;
        for (int o = 0; o < n->n_outputs && !used; o++) {
            const oc_value *v = n->outputs[o];
            used = v && (v->n_uses > 0 || (v->flags & OC_V_OUTPUT) || oc_name_in_subgraphs(g, v->name));
        }
        if (used)
            continue;
        if (!oc_pass_may_rewrite(ctx))
            return ONNXC_OK;
        oc_report_changed(ctx, n, "removed: its results are not used");
        oc_remove_node(n);
    }

    /* initializers nobody reads (IR <= 3 also lists them as graph inputs; those entries go too); one rewrite */
    int dropped = 0;
    bool allowed = false;
    for (int i = 0; i < g->n_initializers; i++) {
        oc_value *v = g->initializers[i];
        if (!v->init || v->n_uses > 0 || (v->flags & OC_V_OUTPUT) || oc_name_in_subgraphs(g, v->name))
            continue;
        if ((v->flags & OC_V_INPUT) && g->parent)
            continue; /* a subgraph's inputs are its signature (the Loop / Scan passes them): never dropped */
        if (!allowed && !(allowed = oc_pass_may_rewrite(ctx)))
            return ONNXC_OK;
        if (v->flags & OC_V_INPUT)
            remove_graph_input(g, v);
        oc_tensor_free(v->init);
        v->init = NULL;
        v->flags &= ~(unsigned)OC_V_INITIALIZER;
        dropped++;
    }
    if (dropped)
        oc_report_changed(ctx, NULL, "removed %d unused initializer%s", dropped, dropped > 1 ? "s" : "");
    return ONNXC_OK;
}

const oc_pass oc_pass_cleanup = {
    .name = "cleanup",
    .summary = "remove Identity, inference Dropout, unused nodes and unused initializers",
    .exact = true,
    .in_default = true,
    .run = cleanup_run,
};
