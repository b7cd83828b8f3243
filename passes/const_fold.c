/* const-fold: nodes whose inputs are all constant are computed once by the runtime's node evaluator (eval.h)
 * and replaced by initializers; Shape/Size of a value whose declared shape is fully static become constants too. A symbolic
 * dim is never frozen: a Shape over it is left alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affine.h"
#include "eval.h"
#include "pass.h"

/* Folding may not blow a model up: an output larger than this and than all the node's inputs is left alone. */
#define OC_FOLD_MAX_GROWTH_BYTES (1u << 20)

static bool has_subgraph(const oc_node *n)
{
    for (int a = 0; a < n->n_attrs; a++)
        if (n->attrs[a].g || n->attrs[a].n_graphs)
            return true;
    return false;
}

/* Shape (start/end since Shape-15) or Size of a value with a fully static declared shape. */
static oc_tensor *static_shape_of(const oc_node *n, int64_t opset)
{
    const oc_value *x = n->inputs[0];
    const oc_tensor *c = oc_value_constant(x);
    const oc_type *ty = oc_value_type(x);
    int64_t dims[ONNXC_MAX_RANK];
    int rank;
    if (c) {
        rank = c->t.rank;
        memcpy(dims, c->t.dims, sizeof dims);
    } else {
        if (!ty || ty->kind != OC_TYPE_TENSOR || ty->rank < 0 || ty->rank > ONNXC_MAX_RANK)
            return NULL;
        rank = ty->rank;
        for (int i = 0; i < rank; i++) {
            if (!ty->dims[i].has_value || ty->dims[i].value < 0)
                return NULL; /* symbolic or unknown: never frozen */
            dims[i] = ty->dims[i].value;
        }
    }
    onnxc_tensor *t = NULL;
    if (!strcmp(n->op_type, "Size")) {
        int64_t numel;
        if (!oc_numel(dims, rank, &numel) || onnxc_tensor_create(ONNXC_INT64, 0, NULL, &t) != ONNXC_OK)
            return NULL;
        *(int64_t *)t->data = numel;
    } else {
        int64_t start = opset >= 15 ? oc_attr_int(n, "start", 0) : 0;
        int64_t end = opset >= 15 ? oc_attr_int(n, "end", rank) : rank;
        if (start < 0)
            start += rank;
        if (end < 0)
            end += rank;
        start = start < 0 ? 0 : start > rank ? rank : start;
        end = end < 0 ? 0 : end > rank ? rank : end;
        int64_t len = end > start ? end - start : 0;
        if (onnxc_tensor_create(ONNXC_INT64, 1, &len, &t) != ONNXC_OK)
            return NULL;
        for (int64_t i = 0; i < len; i++)
            ((int64_t *)t->data)[i] = dims[start + i];
    }
    return oc_tensor_adopt(t);
}

static onnxc_status const_fold_run(oc_graph *g, oc_pass_ctx *ctx)
{
    for (int i = 0; i < g->n_nodes; i++) {
        oc_node *n = g->nodes[i];
        if (n->dead || !oc_domain_is_default(n->domain) || has_subgraph(n) || n->n_outputs < 1)
            continue;
        bool any_output = false, graph_output = false;
        for (int o = 0; o < n->n_outputs; o++)
            if (n->outputs[o]) {
                any_output = true;
                graph_output = graph_output || (n->outputs[o]->flags & OC_V_OUTPUT);
            }
        if (!any_output || graph_output)
            continue; /* a graph output keeps its producer */
        int64_t opset = oc_model_opset(g->model, NULL);
        oc_tensor *outs[32] = {0};
        bool shape_op = (!strcmp(n->op_type, "Shape") || !strcmp(n->op_type, "Size")) && n->n_inputs == 1 &&
                        n->inputs[0];
        if (shape_op) {
            outs[0] = static_shape_of(n, opset);
            if (!outs[0])
                continue;
        } else {
            bool all_const = true;
            for (int j = 0; j < n->n_inputs; j++)
                if (n->inputs[j] && !oc_value_is_constant(n->inputs[j]))
                    all_const = false;
            if (!all_const)
                continue;
            if (!strcmp(n->op_type, "DequantizeLinear")) {
                /* as ONNX Runtime's constant folding: the DequantizeLinear of a constant is a quantized weight
                 * (the QDQ form); folding it would store the weight as float and lose the quantization */
                oc_report_skipped(ctx, n, "not folded: DequantizeLinear keeps a quantized weight quantized");
                continue;
            }
            if (oc_eval_node(n, opset, OC_FOLD_MAX_GROWTH_BYTES, outs) != ONNXC_OK) {
                oc_report_skipped(ctx, n, "not folded: %s", onnxc_last_error());
                continue;
            }
        }
        if (!oc_pass_may_rewrite(ctx)) {
            for (int o = 0; o < n->n_outputs && o < 32; o++)
                oc_tensor_free(outs[o]);
            return ONNXC_OK;
        }
        oc_value *vals[32] = {0};
        for (int o = 0; o < n->n_outputs && o < 32; o++)
            vals[o] = n->outputs[o];
        oc_remove_node(n);
        for (int o = 0; o < n->n_outputs && o < 32; o++) {
            if (!vals[o] || !outs[o])
                continue;
            onnxc_status st = oc_value_make_initializer(g, vals[o], outs[o]);
            if (st != ONNXC_OK)
                return st;
        }
        if (strcmp(n->op_type, "Constant"))
            oc_report_changed(ctx, n, "computed at optimize time");
        else
            oc_report_changed(ctx, n, "became an initializer");
    }
    return ONNXC_OK;
}

const oc_pass oc_pass_const_fold = {
    .name = "const-fold",
    .summary = "compute nodes whose inputs are all constant (and Shape of static shapes) into initializers",
    .exact = true,
    .in_default = true,
    .run = const_fold_run,
};
