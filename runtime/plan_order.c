/* What a session fixes once at create, whatever the inputs: the run order (the graph's one topological sort),
 * each node's kernel, and which values some kernel needs at plan time. */
#include <stdio.h>
#include <string.h>

#include "ir.h"
#include "plan.h"
#include "unsupported.h"

onnxc_status oc_session_order(onnxc_session *s)
{
    const oc_graph *g = s->g;
    const int n = g->n_nodes;
    onnxc_status st = oc_node_index_init(&s->nix, g);
    if (st != ONNXC_OK)
        return st;
    int *idx = oc_calloc((size_t)n + 1, sizeof *idx);
    s->order = oc_calloc((size_t)n + 1, sizeof *s->order);
    s->pos = oc_calloc((size_t)n + 1, sizeof *s->pos);
    if (!idx || !s->order || !s->pos) {
        oc_free(idx);
        return oc_err(ONNXC_E_NOMEM, "out of memory planning the session");
    }
    /* the session may not reorder the (const) model: take the order as indices */
    st = oc_graph_order(g, idx);
    if (st == ONNXC_OK) {
        for (int k = 0; k < n; k++) {
            s->order[k] = g->nodes[idx[k]];
            s->pos[idx[k]] = k;
        }
        s->n_order = n;
    }
    oc_free(idx);
    return st;
}

int oc_plan_pos(const onnxc_session *s, const oc_node *nd)
{
    if (nd->graph != s->g)
        return -1;
    const int i = oc_node_index_of(&s->nix, nd);
    return i >= 0 ? s->pos[i] : -1;
}

onnxc_status oc_session_kernels(onnxc_session *s)
{
    s->kern = oc_calloc((size_t)s->n_order + 1, sizeof *s->kern);
    s->kflags = oc_calloc((size_t)s->n_order + 1, sizeof *s->kflags);
    if (!s->kern || !s->kflags)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    int missing = 0;
    for (int i = 0; i < s->n_order; i++) {
        const oc_node *nd = s->order[i];
        s->kern[i] = oc_kernel_find(nd->domain, nd->op_type, oc_model_opset(s->model, nd->domain));
        s->kflags[i] = oc_kernel_flags(s->kern[i]);
        missing += !s->kern[i];
    }
    /* the list `onnxc check` prints, subgraphs included: a body's op is refused now, not when it first runs */
    char msg[2048];
    int n_ops = 0;
    onnxc_status st = oc_unsupported_ops(s->model, &n_ops, msg, sizeof msg);
    if (st != ONNXC_OK)
        return st;
    if (n_ops || missing)
        return oc_err(ONNXC_E_UNSUPPORTED, "unsupported: %s", n_ops ? msg : "an op onnxc cannot run");
    return ONNXC_OK;
}

void oc_session_mark_needed(onnxc_session *s)
{
    for (int i = s->n_order - 1; i >= 0; i--) {
        const oc_node *nd = s->order[i];
        const oc_kernel *k = s->kern[i];
        bool out_needed = false, out_wanted = false;
        for (int o = 0; o < nd->n_outputs; o++) {
            if (nd->outputs[o] && s->rv[nd->outputs[o]->id].needed)
                out_needed = true;
            if (nd->outputs[o] && s->rv[nd->outputs[o]->id].wanted)
                out_wanted = true;
        }
        /* the value inputs of a kernel that takes them at run time are only wanted: folded when constants and
         * shapes decide them, never a reason to plan on an input's data */
        const bool runtime_values = (s->kflags[i] & OC_KF_RUNTIME_VALUES) != 0;
        for (int j = 0; j < nd->n_inputs; j++) {
            oc_value *v = nd->inputs[j];
            if (!v || v->graph != s->g)
                continue;
            bool shape_only = j < 32 && ((k->shape_only_inputs >> j) & 1u);
            bool value_in = j < 32 && ((k->value_inputs >> j) & 1u);
            if ((out_needed && !shape_only) || (value_in && !runtime_values))
                s->rv[v->id].needed = true;
            else if ((out_wanted && !shape_only) || value_in)
                s->rv[v->id].wanted = true;
        }
    }
}
