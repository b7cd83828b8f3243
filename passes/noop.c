/* remove-noops: nodes that copy their input unchanged, found with shape inference (src/infer.c): a Reshape or
 * Expand to the shape it already has, a Cast to its own type, a Transpose with the identity permutation, a
 * Slice that keeps everything, a Pad of zeros, a Concat of one input, a Split into one piece. */
#include <stdio.h>
#include <string.h>

#include "infer.h"
#include "pass.h"

static bool same_shape(const oc_vshape *a, const oc_vshape *b)
{
    if (a->rank < 0 || a->rank != b->rank || !a->has_elem || !b->has_elem || a->elem != b->elem)
        return false;
    for (int i = 0; i < a->rank; i++) {
        oc_sdim x = a->d[i], y = b->d[i];
        if (x.v >= 0 || y.v >= 0) {
            if (x.v != y.v)
                return false;
        } else if (!x.sym || !y.sym || strcmp(x.sym, y.sym) != 0) {
            return false; /* unknown dims are never "the same" */
        }
    }
    return true;
}

/* Integer elements of constant input k (absent: *count = -1). False when present but not a constant int vector. */
static bool const_ints(const oc_node *n, int k, int64_t *out, int cap, int *count)
{
    *count = -1;
    if (k >= n->n_inputs || !n->inputs[k])
        return true;
    const oc_tensor *c = oc_value_constant(n->inputs[k]);
    if (!c || c->t.rank > 1 || (c->t.dtype != ONNXC_INT64 && c->t.dtype != ONNXC_INT32))
        return false;
    int64_t ne = onnxc_tensor_numel(&c->t);
    if (ne > cap)
        return false;
    for (int64_t i = 0; i < ne; i++)
        out[i] = c->t.dtype == ONNXC_INT64 ? ((const int64_t *)c->t.data)[i] : ((const int32_t *)c->t.data)[i];
    *count = (int)ne;
    return true;
}

/* Why n is a copy of its input 0 ("" when it is not one, or not provably). */
static const char *noop_reason(const oc_graph *g, const oc_node *n, const oc_infer *inf)
{
    if (n->n_inputs < 1 || !n->inputs[0] || n->n_outputs < 1 || !n->outputs[0] || !oc_domain_is_default(n->domain))
        return "";
    for (int o = 1; o < n->n_outputs; o++)
        if (n->outputs[o])
            return "";
    const oc_vshape *x = oc_infer_get(inf, n->inputs[0]), *y = oc_infer_get(inf, n->outputs[0]);
    bool same = same_shape(x, y);
    const char *op = n->op_type;
    int64_t opset = oc_model_opset(g->model, NULL);
    int64_t v[2 * ONNXC_MAX_RANK + 2];
    int cnt;
    if (!strcmp(op, "Reshape"))
        return same ? "reshapes to the shape it has" : "";
    if (!strcmp(op, "Expand"))
        return same ? "expands to the shape it has" : "";
    if (!strcmp(op, "Cast"))
        return same && x->elem == oc_attr_int(n, "to", -1) ? "casts to the type it has" : "";
    if (!strcmp(op, "Transpose")) {
        size_t np = 0;
        const int64_t *perm = oc_attr_ints(n, "perm", &np);
        if (!perm)
            return x->rank >= 0 && x->rank <= 1 ? "transposes a tensor of rank below 2" : "";
        for (size_t i = 0; i < np; i++)
            if (perm[i] != (int64_t)i)
                return "";
        return same ? "has the identity permutation" : "";
    }
    if (!strcmp(op, "Slice")) {
        if (!same)
            return "";
        if (opset < 10)
            return "keeps every element";
        /* same shape with positive steps: every element, in order; a negative step would reverse */
        if (!const_ints(n, 4, v, ONNXC_MAX_RANK, &cnt))
            return "";
        for (int i = 0; i < cnt; i++)
            if (v[i] <= 0)
                return "";
        return "keeps every element";
    }
    if (!strcmp(op, "Pad")) {
        const int64_t *pads = NULL;
        size_t np = 0;
        if (opset < 11) {
            pads = oc_attr_ints(n, "pads", &np);
        } else {
            if (!const_ints(n, 1, v, 2 * ONNXC_MAX_RANK, &cnt) || cnt < 0)
                return "";
            pads = v;
            np = (size_t)cnt;
        }
        if (!pads)
            return "";
        for (size_t i = 0; i < np; i++)
            if (pads[i] != 0)
                return "";
        return same ? "pads nothing" : "";
    }
    if (!strcmp(op, "Concat"))
        return n->n_inputs == 1 && same ? "concatenates one input" : "";
    if (!strcmp(op, "Split"))
        return n->n_outputs == 1 && same ? "splits into one piece" : "";
    return "";
}

static onnxc_status remove_noops_run(oc_graph *g, oc_pass_ctx *ctx)
{
    oc_infer *inf = NULL;
    onnxc_status st = oc_infer_graph(g, false, &inf);
    if (st != ONNXC_OK)
        return st;
    char why[300];
    for (int i = 0; i < g->n_nodes; i++) {
        oc_node *n = g->nodes[i];
        if (n->dead)
            continue;
        const char *r = noop_reason(g, n, inf);
        if (!*r)
            continue;
        if (!oc_pass_may_rewrite(ctx))
            break;
        if (oc_bypass_node(g, n, why, sizeof why))
            oc_report_changed(ctx, n, "removed: it %s", r);
        else
            oc_report_skipped(ctx, n, "kept (it %s): %s", r, why);
    }
    oc_infer_free(inf);
    return ONNXC_OK;
}

const oc_pass oc_pass_remove_noops = {
    .name = "remove-noops",
    .summary = "remove Reshape/Expand/Cast/Transpose/Slice/Pad/Concat/Split nodes that change nothing",
    .exact = true,
    .in_default = true,
    .run = remove_noops_run,
};
