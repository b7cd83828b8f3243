/* The one list of ops onnxc cannot run, shared by `onnxc check` and session creation (run, bench, compare,
 * optimize --verify): every op of the model, subgraphs included, that no kernel serves at the opset the model
 * imports for its domain, each with that opset and the first nodes using it. */
#include <stdio.h>
#include <string.h>

#include "kernel.h"
#include "unsupported.h"

#define MAX_NODES_LISTED 5 /* node names listed per op */
#define MAX_DEPTH 64       /* subgraph nesting cap: a crafted file must not exhaust the stack */

typedef struct unsup_op {
    const char *domain; /* NULL: default */
    const char *op_type;
    int64_t opset;      /* 0: the model imports no opset for the domain */
    int n_nodes;
    const oc_node *nodes[MAX_NODES_LISTED];
} unsup_op;

typedef struct unsup_list {
    unsup_op *ops;
    int n, cap;
} unsup_list;

static bool same_domain(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

static onnxc_status note(unsup_list *L, const oc_node *n, int64_t opset)
{
    const char *dom = oc_domain_is_default(n->domain) ? NULL : n->domain;
    unsup_op *u = NULL;
    for (int i = 0; i < L->n && !u; i++)
        if (same_domain(L->ops[i].domain, dom) && strcmp(L->ops[i].op_type, n->op_type) == 0 &&
            L->ops[i].opset == opset)
            u = &L->ops[i];
    if (!u) {
        onnxc_status st = oc_grow((void **)&L->ops, &L->cap, L->n + 1, sizeof *L->ops);
        if (st != ONNXC_OK)
            return st;
        u = &L->ops[L->n++];
        memset(u, 0, sizeof *u);
        u->domain = dom;
        u->op_type = n->op_type;
        u->opset = opset;
    }
    if (u->n_nodes < MAX_NODES_LISTED)
        u->nodes[u->n_nodes] = n;
    u->n_nodes++;
    return ONNXC_OK;
}

static onnxc_status walk(const onnxc_model *m, const oc_graph *g, unsup_list *L, int depth)
{
    if (depth > MAX_DEPTH)
        return oc_err(ONNXC_E_INVALID, "subgraphs nested more than %d deep", MAX_DEPTH);
    for (int i = 0; i < g->n_nodes; i++) {
        const oc_node *n = g->nodes[i];
        if (n->dead || !n->op_type || !*n->op_type)
            continue;
        int64_t opset = oc_model_opset(m, n->domain);
        onnxc_status st;
        if ((opset <= 0 || !oc_kernel_find(n->domain, n->op_type, opset)) &&
            (st = note(L, n, opset > 0 ? opset : 0)) != ONNXC_OK)
            return st;
        for (int a = 0; a < n->n_attrs; a++) {
            const oc_attr *at = &n->attrs[a];
            if (at->g && (st = walk(m, at->g, L, depth + 1)) != ONNXC_OK)
                return st;
            for (size_t k = 0; k < at->n_graphs; k++)
                if (at->graphs[k] && (st = walk(m, at->graphs[k], L, depth + 1)) != ONNXC_OK)
                    return st;
        }
    }
    return ONNXC_OK;
}

onnxc_status oc_unsupported_ops(const onnxc_model *m, int *n_ops, char *text, size_t cap)
{
    *n_ops = 0;
    if (cap)
        text[0] = 0;
    unsup_list L = {0};
    onnxc_status st = walk(m, m->graph, &L, 0);
    if (st != ONNXC_OK || L.n == 0) {
        oc_free(L.ops);
        return st;
    }
    size_t len = (size_t)snprintf(text, cap, "%d op%s: ", L.n, L.n == 1 ? "" : "s");
    for (int i = 0; i < L.n && len < cap; i++) {
        const unsup_op *u = &L.ops[i];
        char opset[64];
        if (u->opset > 0)
            snprintf(opset, sizeof opset, "-%lld (", (long long)u->opset);
        else
            snprintf(opset, sizeof opset, " (no opset imported for its domain; ");
        len += (size_t)snprintf(text + len, cap - len, "%s%s%s%s%s%d node%s: ", i ? ", " : "",
                                u->domain ? u->domain : "", u->domain ? "." : "", u->op_type, opset, u->n_nodes,
                                u->n_nodes == 1 ? "" : "s");
        int shown = u->n_nodes < MAX_NODES_LISTED ? u->n_nodes : MAX_NODES_LISTED;
        for (int k = 0; k < shown && len < cap; k++) {
            const oc_node *nd = u->nodes[k];
            if (nd->name && *nd->name)
                len += (size_t)snprintf(text + len, cap - len, "%s'%s'", k ? "," : "", nd->name);
            else if (nd->graph && nd->graph->parent) /* unnamed in a subgraph: say which one */
                len += (size_t)snprintf(text + len, cap - len, "%s#%d in '%s'", k ? "," : "", nd->id,
                                        nd->graph->name ? nd->graph->name : "");
            else
                len += (size_t)snprintf(text + len, cap - len, "%s#%d", k ? "," : "", nd->id);
        }
        if (len < cap)
            len += (size_t)snprintf(text + len, cap - len, "%s)", u->n_nodes > shown ? ",..." : "");
    }
    *n_ops = L.n;
    oc_free(L.ops);
    return ONNXC_OK;
}
