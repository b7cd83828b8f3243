/* Prints what src/infer.c infers for every node output of a model's main graph, one line each:
 * "name<TAB>elem<TAB>d0,d1,..." (elem 0 / dims "?" when unknown; a symbolic dim printed as "?name"). */
#include <stdio.h>

#include "infer.h"

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
        const oc_graph *g = m->graph;
        for (int i = 0; i < g->n_nodes; i++)
            for (int j = 0; j < g->nodes[i]->n_outputs; j++) {
                const oc_value *v = g->nodes[i]->outputs[j];
                if (!v)
                    continue;
                const oc_vshape *s = oc_infer_get(inf, v);
                printf("%s\t%d\t", v->name, s->has_elem ? s->elem : 0);
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
        oc_infer_free(inf);
        onnxc_model_free(m);
    }
    return 0;
}
