/* The BatchNormalization foldability predicate (see bn_match.h): the one place that decides which BNs `info`
 * counts as foldable and which ones the folding pass folds. */
#include "bn_match.h"

#include "affine.h"
#include "pass.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


bool oc_is_batchnorm(const oc_node *n)
{
    return n && !n->dead && oc_domain_is_default(n->domain) && strcmp(n->op_type, "BatchNormalization") == 0;
}

static bool is_float_type(int32_t dt)
{
    return dt == ONNXC_FLOAT || dt == ONNXC_DOUBLE || dt == ONNXC_FLOAT16 || dt == ONNXC_BFLOAT16;
}

bool oc_bn_is_training(const oc_node *bn, char *why, size_t cap)
{
    if (!oc_is_batchnorm(bn))
        return false;
    if (oc_attr_int(bn, "training_mode", 0) != 0)
        return oc_why(why, cap, "training_mode is 1"), true;
    const int64_t opset = bn->graph && bn->graph->model ? oc_model_opset(bn->graph->model, bn->domain) : 0;
    if (opset < 14)
        for (int i = 1; i < bn->n_outputs; i++)
            if (bn->outputs[i])
                return oc_why(why, cap, "it declares the statistics output '%s' (before BatchNormalization-14 that "
                              "selects training mode)", bn->outputs[i]->name), true;
    return false;
}

bool oc_dropout_is_training(const oc_node *n, char *why, size_t cap)
{
    if (!n || n->dead || !oc_domain_is_default(n->domain) || strcmp(n->op_type, "Dropout") != 0)
        return false;
    const int64_t opset = n->graph && n->graph->model ? oc_model_opset(n->graph->model, n->domain) : 0;
    if (opset < 7 && oc_attr_int(n, "is_test", 0) == 0)
        return oc_why(why, cap, "is_test is 0"), true;
    if (n->n_inputs > 2 && n->inputs[2]) {
        const oc_tensor *tm = oc_value_constant(n->inputs[2]);
        if (tm && tm->t.dtype == ONNXC_BOOL && onnxc_tensor_numel(&tm->t) == 1 && *(const uint8_t *)tm->t.data)
            return oc_why(why, cap, "training_mode is true"), true;
    }
    return false;
}

bool oc_bn_params_ok(const oc_node *bn, char *why, size_t cap)
{
    if (!oc_is_batchnorm(bn))
        return oc_why(why, cap, "not a BatchNormalization node");
    if (bn->n_inputs < 5 || !bn->inputs[0])
        return oc_why(why, cap, "fewer than 5 inputs");
    /* BatchNormalization-14 added training_mode; in training mode it uses batch statistics. */
    if (oc_attr_int(bn, "training_mode", 0) != 0)
        return oc_why(why, cap, "training_mode is 1");
    /* BatchNormalization-9 dropped spatial; spatial=0 before it means per-activation statistics. */
    if (oc_attr_int(bn, "spatial", 1) == 0)
        return oc_why(why, cap, "spatial is 0 (per-activation statistics)");
    /* Before BatchNormalization-14, declaring the outputs past Y (running mean and variance, saved mean and
     * variance) is what selects training mode, used or not: the node then normalizes with the batch's own
     * statistics, as the executor (and ONNX Runtime) run it, so folding the running ones would change it. */
    const int64_t opset = bn->graph && bn->graph->model ? oc_model_opset(bn->graph->model, bn->domain) : 0;
    for (int i = 1; i < bn->n_outputs; i++) {
        const oc_value *o = bn->outputs[i];
        if (o && (o->n_uses > 0 || !oc_value_is_private(o)))
            return oc_why(why, cap, "its running-statistics output '%s' is used", o->name);
        if (o && opset < 14)
            return oc_why(why, cap, "it declares output '%s', which before BatchNormalization-14 selects training "
                          "mode (batch statistics), used or not", o->name);
    }

    static const char *const param_names[4] = {"scale", "B", "mean", "var"};
    int64_t channels = -1;
    for (int i = 1; i <= 4; i++) {
        const oc_value *v = bn->inputs[i];
        if (!v)
            return oc_why(why, cap, "input %s is missing", param_names[i - 1]);
        const oc_tensor *c = oc_value_constant(v);
        if (!c)
            return oc_why(why, cap, "%s '%s' is not a constant", param_names[i - 1], v->name);
        if (!is_float_type(c->t.dtype))
            return oc_why(why, cap, "%s '%s' has type %s", param_names[i - 1], v->name, onnxc_dtype_name(c->t.dtype));
        if (c->t.rank != 1)
            return oc_why(why, cap, "%s '%s' has rank %d, expected 1", param_names[i - 1], v->name, (int)c->t.rank);
        if (channels < 0)
            channels = c->t.dims[0];
        else if (c->t.dims[0] != channels)
            return oc_why(why, cap, "%s '%s' has %lld elements, scale has %lld", param_names[i - 1], v->name,
                          (long long)c->t.dims[0], (long long)channels);
    }

    (void)channels;
    return true;
}

bool oc_bn_foldable(const oc_node *bn, oc_node **producer, char *why, size_t cap)
{
    if (producer)
        *producer = NULL;
    if (!oc_bn_params_ok(bn, why, cap))
        return false;
    int64_t channels = oc_value_constant(bn->inputs[1])->t.dims[0];
    const oc_value *x = bn->inputs[0];
    oc_node *p = x->producer;
    if (!p || p->dead)
        return oc_why(why, cap, "input '%s' is not produced by a node", x->name);
    char lbl[200];
    oc_node_label(p, lbl, sizeof lbl);
    if (x->producer_slot != 0)
        return oc_why(why, cap, "input '%s' is not the first output of %s", x->name, lbl);
    /* the same producer conditions as every other affine fold (passes/affine.c) */
    if (!oc_affine_target_ok(p, why, cap))
        return false;
    int64_t pc = oc_affine_channels(p, why, cap);
    if (pc < 0)
        return false;
    if (pc != channels)
        return oc_why(why, cap, "%s has %lld output channels, BatchNormalization has %lld", lbl, (long long)pc,
                      (long long)channels);
    if (producer)
        *producer = p;
    return true;
}

onnxc_status oc_bn_count_foldable(const onnxc_model *m, long *count)
{
    *count = 0;
    void *bytes = NULL;
    size_t len = 0;
    onnxc_model *copy = NULL;
    onnxc_optimize_options *o = NULL;
    onnxc_report *r = NULL;
    onnxc_status st = onnxc_model_serialize(m, &bytes, &len);
    if (st == ONNXC_OK)
        st = onnxc_model_load_buffer(bytes, len, m->dir, m->path ? m->path : "model", &copy);
    free(bytes);
    if (st == ONNXC_OK)
        st = onnxc_optimize_options_create(&o);
    /* fold-bn.mul-add off (the default): a BN with nothing to fold into stays a BN, so every "changed" event of
     * fold-bn is a fold (backward into its producer or forward into the Conv it feeds) */
    if (st == ONNXC_OK && (st = onnxc_optimize_set(o, "passes", "cleanup,const-fold,fold-bn")) == ONNXC_OK &&
        (st = onnxc_optimize_set(o, "fold-bn.mul-add", "false")) == ONNXC_OK)
        st = onnxc_optimize(copy, o, &r);
    for (int i = 0; st == ONNXC_OK && r && i < r->n_events; i++)
        if (r->events[i].kind == OC_EV_CHANGED && strcmp(r->events[i].pass, oc_pass_fold_bn.name) == 0)
            (*count)++;
    onnxc_report_free(r);
    onnxc_optimize_options_free(o);
    onnxc_model_free(copy);
    return st;
}
