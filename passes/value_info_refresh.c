/* After the passes: the value_info of the main graph and of every subgraph (If / Loop / Scan bodies, nested ones)
 * rewritten from src/infer.c (what the passes' rewrites now produce), unless the keep-value-info pipeline option
 * asks to leave the declarations as they were. */
#include "infer.h"
#include "pass.h"

onnxc_status oc_refresh_value_info(onnxc_model *m);

static onnxc_status refresh_graph(oc_graph *g, int depth)
{
    oc_infer *inf = NULL;
    onnxc_status st = oc_infer_graph(g, true, &inf);
    if (st != ONNXC_OK)
        return oc_err_prefix(st, "writing value_info");
    int n = 0;
    st = oc_infer_write_value_info(g, inf, &n);
    oc_infer_free(inf);
    if (st != ONNXC_OK)
        return oc_err_prefix(st, "writing value_info");
    for (int i = 0; i < g->n_nodes && depth < 64; i++) {
        oc_node *nd = g->nodes[i];
        if (nd->dead)
            continue;
        for (int a = 0; a < nd->n_attrs; a++) {
            oc_attr *at = &nd->attrs[a];
            for (size_t k = 0; k < 1 + at->n_graphs; k++) {
                oc_graph *sg = k == 0 ? at->g : at->graphs[k - 1];
                if (sg && (st = refresh_graph(sg, depth + 1)) != ONNXC_OK)
                    return st;
            }
        }
    }
    return ONNXC_OK;
}

onnxc_status oc_refresh_value_info(onnxc_model *m) { return refresh_graph(m->graph, 0); }
