/* After the passes: the main graph's value_info rewritten from src/infer.c (what the passes' rewrites now
 * produce), unless the keep-value-info pipeline option asks to leave the declarations as they were. */
#include "infer.h"
#include "pass.h"

onnxc_status oc_refresh_value_info(onnxc_model *m);

onnxc_status oc_refresh_value_info(onnxc_model *m)
{
    oc_infer *inf = NULL;
    onnxc_status st = oc_infer_graph(m->graph, true, &inf);
    if (st != ONNXC_OK)
        return oc_err_prefix(st, "writing value_info");
    int n = 0;
    st = oc_infer_write_value_info(m->graph, inf, &n);
    oc_infer_free(inf);
    if (st != ONNXC_OK)
        return oc_err_prefix(st, "writing value_info");
    return ONNXC_OK;
}
