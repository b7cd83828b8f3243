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

/* Append to *list the values of s->g that subgraph sg (and the graphs nested in it) reads from outside. */
static onnxc_status oc_collect_reads(onnxc_session *s, const oc_graph *sg, const oc_node *nd, oc_value ***list, int *n,
                                     int *cap, int depth)
{
    char lbl[200];
    if (depth > 64)
        return oc_err(ONNXC_E_UNSUPPORTED, "node %s: subgraphs nested deeper than 64",
                      oc_node_label(nd, lbl, sizeof lbl));
    for (int i = 0; i < sg->n_values; i++) {
        const oc_value *r = sg->values[i];
        if (!(r->flags & OC_V_OUTER))
            continue;
        /* defined by a graph between sg and s->g: not ours to give */
        bool between = false;
        for (const oc_graph *p = sg->parent; p && p != s->g && !between; p = p->parent) {
            const oc_value *w = oc_graph_find(p, r->name);
            between = w && !(w->flags & OC_V_OUTER);
        }
        if (between)
            continue;
        oc_value *w = oc_graph_find(s->g, r->name);
        if (!w)
            return oc_err(ONNXC_E_UNSUPPORTED, "node %s: a subgraph reads '%s' from a graph above the one running it",
                          oc_node_label(nd, lbl, sizeof lbl), r->name);
        bool have = false;
        for (int k = 0; k < *n && !have; k++)
            have = (*list)[k] == w;
        if (have)
            continue;
        if (*n == *cap) {
            int nc = *cap ? *cap * 2 : 8;
            oc_value **g = realloc(*list, (size_t)nc * sizeof *g);
            if (!g)
                return oc_err(ONNXC_E_NOMEM, "out of memory");
            *list = g;
            *cap = nc;
        }
        (*list)[(*n)++] = w;
    }
    for (int i = 0; i < sg->n_nodes; i++) {
        const oc_node *sn = sg->nodes[i];
        for (int a = 0; a < sn->n_attrs; a++) {
            const oc_attr *at = &sn->attrs[a];
            onnxc_status st = ONNXC_OK;
            if (at->g)
                st = oc_collect_reads(s, at->g, nd, list, n, cap, depth + 1);
            for (size_t k = 0; st == ONNXC_OK && k < at->n_graphs; k++)
                if (at->graphs[k])
                    st = oc_collect_reads(s, at->graphs[k], nd, list, n, cap, depth + 1);
            if (st != ONNXC_OK)
                return st;
        }
    }
    return ONNXC_OK;
}

onnxc_status oc_session_scopes(onnxc_session *s)
{
    const oc_graph *g = s->g;
    for (int pass = 0; pass < 2; pass++) {
        int n = 0;
        for (int i = 0; i < g->n_values; i++)
            if ((g->values[i]->flags & OC_V_OUTER) && s->sub) {
                if (pass)
                    s->outer[n] = g->values[i];
                n++;
            }
        if (!pass) {
            s->outer = oc_calloc((size_t)n + 1, sizeof *s->outer);
            if (!s->outer)
                return oc_err(ONNXC_E_NOMEM, "out of memory");
        }
        s->n_outer = n;
    }
    s->implicit = oc_calloc((size_t)s->n_order + 1, sizeof *s->implicit);
    if (!s->implicit)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    for (int i = 0; i < s->n_order; i++) {
        const oc_node *nd = s->order[i];
        oc_value **list = NULL;
        int n = 0, cap = 0;
        onnxc_status st = ONNXC_OK;
        for (int a = 0; a < nd->n_attrs && st == ONNXC_OK; a++) {
            const oc_attr *at = &nd->attrs[a];
            if (at->g)
                st = oc_collect_reads(s, at->g, nd, &list, &n, &cap, 1);
            for (size_t k = 0; st == ONNXC_OK && k < at->n_graphs; k++)
                if (at->graphs[k])
                    st = oc_collect_reads(s, at->graphs[k], nd, &list, &n, &cap, 1);
        }
        if (st == ONNXC_OK && n) {
            void **blk = oc_calloc((size_t)n * 3, sizeof(void *));
            if (!blk) {
                st = oc_err(ONNXC_E_NOMEM, "out of memory");
            } else {
                struct oc_implicit *im = &s->implicit[i];
                im->n = n;
                im->t = (onnxc_tensor **)blk;
                im->v = (oc_value **)(blk + n);
                im->names = (const char **)(blk + 2 * n);
                for (int k = 0; k < n; k++) {
                    im->t[k] = &s->rv[list[k]->id].t;
                    im->v[k] = list[k];
                    im->names[k] = list[k]->name;
                }
            }
        }
        free(list);
        if (st != ONNXC_OK)
            return st;
    }
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
