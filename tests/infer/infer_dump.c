/* Prints what src/infer.c infers for every node output of a model, subgraphs included, one line each:
 * "name<TAB>elem<TAB>d0,d1,..." (elem 0 / dims "?" when unknown; a symbolic dim printed as "?name"). */
#include <stdio.h>

#include "infer.h"

/* One line per node output of g, then the same for every subgraph (inferred on its own, values of enclosing
 * graphs taken as src/infer.c takes them); a subgraph's names are prefixed with its path, "<node index>.<attribute
 * name>[.<graph index>]/", so shadowed names stay apart. */
static void dump_graph(const oc_graph *g, const oc_infer *inf, const char *prefix, int depth)
{
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i]->n_outputs; j++) {
            const oc_value *v = g->nodes[i]->outputs[j];
            if (!v)
                continue;
            const oc_vshape *s = oc_infer_get(inf, v);
            printf("%s%s\t%d\t", prefix, v->name, s->has_elem ? s->elem : 0);
            if (s->rank < 0)
                printf("?");
            for (int k = 0; k < s->rank; k++) {
                if (s->d[k].v >= 0)
                    printf("%s%lld", k ? "," : "", (long long)s->d[k].v);
                else
                    printf("%s?%s", k ? "," : "", s->d[k].sym ? s->d[k].sym : "");
            }
            if (s->rank == 0)
                printf("scalar");
            printf("\n");
        }
    for (int i = 0; i < g->n_nodes && depth < 16; i++) {
        const oc_node *n = g->nodes[i];
        for (int a = 0; a < n->n_attrs; a++) {
            const oc_attr *at = &n->attrs[a];
            for (size_t k = 0; k < 1 + at->n_graphs; k++) {
                const oc_graph *sg = k == 0 ? at->g : at->graphs[k - 1];
                if (!sg)
                    continue;
                char sub[1024];
                int w = k == 0 ? snprintf(sub, sizeof sub, "%s%d.%s/", prefix, i, at->name ? at->name : "")
                               : snprintf(sub, sizeof sub, "%s%d.%s.%zu/", prefix, i, at->name ? at->name : "", k - 1);
                if (w < 0 || w >= (int)sizeof sub)
                    continue; /* nested too deep to name */
                oc_infer *si = NULL;
                if (oc_infer_graph(sg, false, &si) != ONNXC_OK)
                    continue;
                dump_graph(sg, si, sub, depth + 1);
                oc_infer_free(si);
            }
        }
    }
}

int main(int argc, char **argv)
{
    for (int a = 1; a < argc; a++) {
        onnxc_model *m = NULL;
        if (onnxc_model_load(argv[a], &m) != ONNXC_OK) {
            printf("#error\t%s\t%s\n", argv[a], onnxc_last_error());
            continue;
        }
        oc_infer *inf = NULL;
        if (oc_infer_graph(m->graph, false, &inf) != ONNXC_OK) {
            printf("#error\t%s\t%s\n", argv[a], onnxc_last_error());
            onnxc_model_free(m);
            continue;
        }
        printf("#model\t%s\n", argv[a]);
        dump_graph(m->graph, inf, "", 0);
        oc_infer_free(inf);
        onnxc_model_free(m);
    }
    return 0;
}
