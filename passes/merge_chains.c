/* merge-chains: consecutive Transposes become one (permutations composed), consecutive Reshapes become one
 * (the second one's target alone decides the result). The first node of a pair must feed only the second. */
#include <stdio.h>
#include <string.h>

#include "infer.h"
#include "pass.h"

/* The first node of a pair can go: its only consumer is the second node, nobody else sees its output. */
static bool only_feeds(const oc_graph *g, const oc_node *first, const oc_node *second)
{
    const oc_value *y = first->n_outputs >= 1 ? first->outputs[0] : NULL;
    return y && first->n_outputs == 1 && y->n_uses == 1 && y->uses[0].node == second && y->uses[0].slot == 0 &&
           !(y->flags & OC_V_OUTPUT) && !oc_name_in_subgraphs(g, y->name);
}

/* perm of Transpose n for rank r (absent: reversed axes); false when it is not a permutation of r axes. */
static bool perm_of(const oc_node *n, int r, int64_t *perm)
{
    size_t np = 0;
    const int64_t *p = oc_attr_ints(n, "perm", &np);
    if (r < 0 || r > ONNXC_MAX_RANK || (p && (int)np != r))
        return false;
    bool seen[ONNXC_MAX_RANK] = {false};
    for (int i = 0; i < r; i++) {
        perm[i] = p ? p[i] : r - 1 - i;
        if (perm[i] < 0 || perm[i] >= r || seen[perm[i]])
            return false;
        seen[perm[i]] = true;
    }
    return true;
}

static onnxc_status merge_chains_run(oc_graph *g, oc_pass_ctx *ctx)
{
    oc_infer *inf = NULL; /* ranks for Transposes without perm; made when first needed */
    for (int i = 0; i < g->n_nodes; i++) {
        oc_node *n = g->nodes[i];
        if (n->dead || n->n_inputs < 1 || !n->inputs[0] || n->n_outputs < 1 || !n->outputs[0])
            continue;
        oc_node *p = n->inputs[0]->producer;
        if (!p || p->dead || p->n_inputs < 1 || !p->inputs[0] || !only_feeds(g, p, n))
            continue;
        char plbl[200];
        oc_node_label(p, plbl, sizeof plbl);
        if (oc_node_is_op(n, "Transpose") && oc_node_is_op(p, "Transpose")) {
            size_t np = 0;
            int r = oc_attr_ints(p, "perm", &np) ? (int)np : -1;
            if (r < 0) {
                if (!inf && oc_infer_graph(g, false, &inf) != ONNXC_OK)
                    inf = NULL;
                r = inf ? oc_infer_get(inf, p->inputs[0])->rank : -1;
            }
            int64_t p1[ONNXC_MAX_RANK], p2[ONNXC_MAX_RANK], q[ONNXC_MAX_RANK];
            if (!perm_of(p, r, p1) || !perm_of(n, r, p2))
                continue;
            for (int k = 0; k < r; k++)
                q[k] = p1[p2[k]]; /* out axis k = mid axis p2[k] = in axis p1[p2[k]] */
            if (!oc_pass_may_rewrite(ctx))
                break;
            oc_value *x = p->inputs[0];
            if (oc_node_set_attr_ints(n, "perm", q, (size_t)r) != ONNXC_OK)
                return oc_err(ONNXC_E_NOMEM, "out of memory");
            oc_remove_node(p);
            oc_node_set_input(n, 0, x);
            oc_report_changed(ctx, n, "merged with %s into one Transpose", plbl);
        } else if (oc_node_is_op(n, "Reshape") && oc_node_is_op(p, "Reshape")) {
            /* Reshape(Reshape(x, s1), s2) = Reshape(x, s2) unless s2 copies a dim (a 0 without allowzero) of
             * the intermediate shape, which s1 decided */
            const oc_tensor *s2 = n->n_inputs > 1 && n->inputs[1] ? oc_value_constant(n->inputs[1]) : NULL;
            if (!s2 || s2->t.dtype != ONNXC_INT64 || s2->t.rank != 1)
                continue;
            bool copies = false;
            if (!oc_attr_int(n, "allowzero", 0))
                for (int64_t k = 0; k < s2->t.dims[0]; k++)
                    copies = copies || ((const int64_t *)s2->t.data)[k] == 0;
            if (copies) {
                oc_report_skipped(ctx, n, "not merged with %s: its target copies a dim (0) of the shape that %s "
                                  "makes", plbl, plbl);
                continue;
            }
            if (!oc_pass_may_rewrite(ctx))
                break;
            oc_value *x = p->inputs[0];
            oc_remove_node(p);
            oc_node_set_input(n, 0, x);
            oc_report_changed(ctx, n, "merged with %s into one Reshape", plbl);
        }
    }
    oc_infer_free(inf);
    return ONNXC_OK;
}

const oc_pass oc_pass_merge_chains = {
    .name = "merge-chains",
    .summary = "merge consecutive Transposes (permutations composed) and consecutive Reshapes into one node",
    .exact = true,
    .in_default = true,
    .run = merge_chains_run,
};
