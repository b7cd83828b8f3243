/* cse: common-subexpression elimination. Initializers of equal type, shape and bytes become one; then a node
 * with the same op, domain, inputs and attributes (tensors compared by value) as an earlier node is removed and
 * its consumers read the earlier node's outputs. Ops that draw random numbers, nodes with subgraphs, graph
 * outputs and values a subgraph reads keep their nodes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pass.h"

static bool same_bytes(const oc_bytes *a, const oc_bytes *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static bool same_tensor(const oc_tensor *a, const oc_tensor *b)
{
    if (!a || !b)
        return a == b;
    const onnxc_tensor *x = &a->t, *y = &b->t;
    if (x->dtype != y->dtype || x->rank != y->rank || x->nbytes != y->nbytes || x->dtype == ONNXC_STRING)
        return false;
    for (int i = 0; i < x->rank; i++)
        if (x->dims[i] != y->dims[i])
            return false;
    return x->nbytes == 0 || memcmp(x->data, y->data, x->nbytes) == 0;
}

static bool same_attr(const oc_attr *a, const oc_attr *b)
{
    if (a->type != b->type || a->has_f != b->has_f || a->has_i != b->has_i || a->has_s != b->has_s)
        return false;
    if ((a->ref_attr_name || b->ref_attr_name) || a->g || b->g || a->n_graphs || b->n_graphs || a->n_tensors ||
        b->n_tensors || a->sparse_tensor.len || b->sparse_tensor.len || a->n_sparse_tensors || b->n_sparse_tensors ||
        a->type_proto.len || b->type_proto.len || a->n_type_protos || b->n_type_protos || a->unknown.len ||
        b->unknown.len)
        return false; /* not compared: treated as different */
    if ((a->has_f && memcmp(&a->f, &b->f, sizeof a->f) != 0) || (a->has_i && a->i != b->i) ||
        (a->has_s && !same_bytes(&a->s, &b->s)) || !same_tensor(a->t, b->t))
        return false;
    if (a->n_floats != b->n_floats || a->n_ints != b->n_ints || a->n_strings != b->n_strings)
        return false;
    if ((a->n_floats && memcmp(a->floats, b->floats, a->n_floats * sizeof *a->floats) != 0) ||
        (a->n_ints && memcmp(a->ints, b->ints, a->n_ints * sizeof *a->ints) != 0))
        return false;
    for (size_t k = 0; k < a->n_strings; k++)
        if (!same_bytes(&a->strings[k], &b->strings[k]))
            return false;
    return true;
}

static bool same_node(const oc_node *a, const oc_node *b)
{
    if (strcmp(a->op_type, b->op_type) != 0 || !oc_domain_same(a->domain, b->domain) || a->n_inputs != b->n_inputs ||
        a->n_outputs != b->n_outputs || a->n_attrs != b->n_attrs)
        return false;
    for (int i = 0; i < a->n_inputs; i++)
        if (a->inputs[i] != b->inputs[i])
            return false;
    for (int o = 0; o < a->n_outputs; o++)
        if (!a->outputs[o] != !b->outputs[o])
            return false;
    for (int i = 0; i < a->n_attrs; i++) {
        const oc_attr *m = oc_node_attr(b, a->attrs[i].name);
        if (!m || !same_attr(&a->attrs[i], m))
            return false;
    }
    return true;
}

static bool deterministic(const oc_node *n)
{
    static const char *const random_ops[] = {"RandomNormal", "RandomNormalLike", "RandomUniform",
                                             "RandomUniformLike", "Multinomial", "Bernoulli", "Dropout", NULL};
    if (!oc_domain_is_default(n->domain))
        return false; /* an op of another domain may have effects we cannot see */
    for (int i = 0; random_ops[i]; i++)
        if (!strcmp(n->op_type, random_ops[i]))
            return false;
    for (int a = 0; a < n->n_attrs; a++)
        if (n->attrs[a].g || n->attrs[a].n_graphs)
            return false;
    return true;
}

/* The node's outputs may be renamed away: none is a graph output or read by a subgraph. */
static bool outputs_movable(const oc_graph *g, const oc_node *n)
{
    for (int o = 0; o < n->n_outputs; o++) {
        const oc_value *v = n->outputs[o];
        if (v && ((v->flags & OC_V_OUTPUT) || oc_name_in_subgraphs(g, v->name)))
            return false;
    }
    return true;
}

typedef struct init_key {
    uint64_t hash;
    oc_value *v;
} init_key;

static int cmp_key(const void *pa, const void *pb)
{
    const init_key *a = pa, *b = pb;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    return a->v->id < b->v->id ? -1 : a->v->id > b->v->id; /* earlier first: it is the one kept */
}

static uint64_t tensor_hash(const onnxc_tensor *t)
{
    uint64_t h = 1469598103934665603ull;
    const uint8_t *p = t->data;
    h = (h ^ (uint64_t)t->dtype) * 1099511628211ull;
    for (int i = 0; i < t->rank; i++)
        h = (h ^ (uint64_t)t->dims[i]) * 1099511628211ull;
    h = (h ^ (uint64_t)t->nbytes) * 1099511628211ull;
    /* up to 512 bytes at evenly spaced places, not all of them: equal tensors hash equal, and the full compare
     * (memcmp) settles the rest; hashing every byte of a large model's weights costs more than the whole pass */
    size_t step = t->nbytes > 512 ? t->nbytes / 512 : 1;
    for (size_t i = 0; i < t->nbytes; i += step)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static onnxc_status merge_initializers(oc_graph *g, oc_pass_ctx *ctx)
{
    init_key *keys = oc_calloc((size_t)g->n_initializers + 1, sizeof *keys);
    if (!keys)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    int n = 0;
    for (int i = 0; i < g->n_initializers; i++) {
        oc_value *v = g->initializers[i];
        if (!v->init || v->n_uses == 0 || (v->flags & (OC_V_INPUT | OC_V_OUTPUT)) || v->init->t.dtype == ONNXC_STRING ||
            oc_name_in_subgraphs(g, v->name))
            continue; /* an initializer that is also a graph input can be overridden: not a constant */
        keys[n++] = (init_key){tensor_hash(&v->init->t), v};
    }
    qsort(keys, (size_t)n, sizeof *keys, cmp_key);
    int merged = 0;
    for (int i = 0; i < n; i++) {
        if (!keys[i].v)
            continue;
        for (int j = i + 1; j < n && keys[j].hash == keys[i].hash; j++) {
            if (!keys[j].v || !same_tensor(keys[i].v->init, keys[j].v->init))
                continue;
            if (!oc_pass_may_rewrite(ctx))
                goto out;
            oc_replace_all_uses(keys[j].v, keys[i].v);
            keys[j].v = NULL;
            merged++;
        }
    }
out:
    oc_free(keys);
    if (merged)
        oc_report_changed(ctx, NULL, "merged %d initializer%s equal to an earlier one (unused now)", merged,
                          merged == 1 ? "" : "s");
    return ONNXC_OK;
}

static onnxc_status cse_run(oc_graph *g, oc_pass_ctx *ctx)
{
    onnxc_status st = merge_initializers(g, ctx);
    if (st != ONNXC_OK || (ctx->report && ctx->report->budget_exhausted))
        return st;
    /* positions in the (topological) node list: only an earlier node may stand in for a later one */
    oc_node_index ix;
    if (oc_node_index_init(&ix, g) != ONNXC_OK)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    char lbl[200];
    for (int i = 0; i < g->n_nodes; i++) {
        oc_node *n = g->nodes[i];
        if (n->dead || n->n_outputs < 1 || !deterministic(n) || !outputs_movable(g, n))
            continue;
        const oc_value *key = n->n_inputs > 0 ? n->inputs[0] : NULL;
        oc_node *found = NULL;
        if (key) {
            for (int u = 0; u < key->n_uses && !found; u++) {
                oc_node *m = key->uses[u].node;
                if (m != n && !m->dead && key->uses[u].slot == 0 && oc_node_index_of(&ix, m) < i && same_node(m, n))
                    found = m;
            }
        } else if (n->n_inputs == 0) {
            for (int j = 0; j < i && !found; j++)
                if (!g->nodes[j]->dead && same_node(g->nodes[j], n))
                    found = g->nodes[j];
        }
        oc_value *outs[64];
        int no = n->n_outputs;
        if (!found || no > 64)
            continue;
        if (!oc_pass_may_rewrite(ctx))
            break;
        oc_node_label(found, lbl, sizeof lbl);
        for (int o = 0; o < no; o++)
            outs[o] = n->outputs[o];
        oc_remove_node(n);
        for (int o = 0; o < no; o++)
            if (outs[o])
                oc_replace_all_uses(outs[o], found->outputs[o]);
        oc_report_changed(ctx, n, "removed: it computes what %s computes", lbl);
    }
    oc_node_index_free(&ix);
    return ONNXC_OK;
}

const oc_pass oc_pass_cse = {
    .name = "cse",
    .summary = "common-subexpression elimination: one node per (op, inputs, attributes), equal initializers merged",
    .exact = true,
    .in_default = true,
    .run = cse_run,
};
