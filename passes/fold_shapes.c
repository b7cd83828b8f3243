/* fold-shapes: shape arithmetic on static dims folded to constants. Shape inference (src/infer.c) follows the
 * small integer values that decide shapes (Shape -> Gather -> Unsqueeze -> Concat -> ...); a node whose output
 * value it knows in full, with no symbolic element, becomes an initializer. A symbolic dim (the batch) is never
 * frozen: a value with one symbolic element stays computed, and so does the Shape it comes from. */
#include <stdio.h>
#include <string.h>

#include "infer.h"
#include "pass.h"

/* The value inference knows for v as a tensor, or NULL: an integer scalar or vector, every element static. */
static oc_tensor *static_value(const oc_infer *inf, const oc_value *v)
{
    const oc_vshape *s = oc_infer_get(inf, v);
    if (!s->inferred || !s->has_elem || (s->elem != ONNXC_INT64 && s->elem != ONNXC_INT32) || s->nval < 0 ||
        s->rank < 0 || s->rank > 1)
        return NULL;
    if ((s->rank == 0 && s->nval != 1) || (s->rank == 1 && (s->d[0].v < 0 || s->d[0].v != s->nval)))
        return NULL;
    /* v < 0 is a symbol or unknown, and inference also keeps a static -1 that way: never folded here (a
     * Concat of a constant -1 and folded dims has constant inputs then, and const-fold computes it) */
    for (int i = 0; i < s->nval; i++)
        if (s->val[i].v < 0)
            return NULL;
    int64_t len = s->nval;
    onnxc_tensor *t = NULL;
    if (onnxc_tensor_create(s->elem, s->rank, &len, &t) != ONNXC_OK)
        return NULL;
    for (int i = 0; i < s->nval; i++) {
        if (s->elem == ONNXC_INT64)
            ((int64_t *)t->data)[i] = s->val[i].v;
        else
            ((int32_t *)t->data)[i] = (int32_t)s->val[i].v;
    }
    return oc_tensor_adopt(t);
}

static onnxc_status fold_shapes_run(oc_graph *g, oc_pass_ctx *ctx)
{
    oc_infer *inf = NULL;
    onnxc_status st = oc_infer_graph(g, false, &inf);
    if (st != ONNXC_OK)
        return st;
    for (int i = 0; i < g->n_nodes && st == ONNXC_OK; i++) {
        oc_node *n = g->nodes[i];
        if (n->dead || n->n_outputs != 1 || !n->outputs[0] || oc_node_is_op(n, "Constant"))
            continue;
        oc_value *y = n->outputs[0];
        if ((y->flags & OC_V_OUTPUT) || y->n_uses == 0 || oc_value_is_constant(y))
            continue; /* a graph output keeps its producer */
        bool all_const = true; /* const-fold computes those, with the node's own kernel */
        for (int k = 0; k < n->n_inputs; k++)
            all_const = all_const && (!n->inputs[k] || oc_value_is_constant(n->inputs[k]));
        if (all_const)
            continue;
        oc_tensor *t = static_value(inf, y);
        if (!t)
            continue;
        if (!oc_pass_may_rewrite(ctx)) {
            oc_tensor_free(t);
            break;
        }
        char vals[96] = "";
        size_t off = 0;
        int64_t ne = onnxc_tensor_numel(&t->t);
        for (int64_t k = 0; k < ne && off < sizeof vals - 24; k++)
            off += (size_t)snprintf(vals + off, sizeof vals - off, "%s%lld", k ? "," : "",
                                    (long long)(t->t.dtype == ONNXC_INT64 ? ((const int64_t *)t->t.data)[k]
                                                                          : ((const int32_t *)t->t.data)[k]));
        oc_remove_node(n);
        st = oc_value_make_initializer(g, y, t);
        if (st == ONNXC_OK)
            oc_report_changed(ctx, n, "its output '%s' is the static %s[%s] (from shape inference)", y->name,
                              t->t.rank ? "vector " : "scalar ", vals);
    }
    oc_infer_free(inf);
    return st;
}

const oc_pass oc_pass_fold_shapes = {
    .name = "fold-shapes",
    .summary = "fold shape arithmetic on static dims (Shape -> Gather -> Concat ...) to constants; symbolic dims stay",
    .exact = true,
    .in_default = true,
    .run = fold_shapes_run,
};
