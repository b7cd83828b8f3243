/* The model's inputs and outputs as seen by a caller: names, element types and declared shapes.
 * A graph input that has an initializer is not a "real" input: in IR <= 3 every initializer is listed in
 * graph.input, and in IR >= 4 such an input only overrides a default, so callers never have to feed it. */
#include <stdio.h>
#include <string.h>

#include "ir.h"
#include "seqval.h"

static bool is_real_input(const oc_vinfo *vi) { return vi->value && !vi->value->init; }

int onnxc_model_num_inputs(const onnxc_model *m)
{
    if (!m || !m->graph)
        return 0;
    int n = 0;
    for (int i = 0; i < m->graph->n_inputs; i++)
        n += is_real_input(&m->graph->inputs[i]);
    return n;
}

int onnxc_model_accepts_input(const onnxc_model *m, const char *name)
{
    for (int i = 0; m && m->graph && name && i < m->graph->n_inputs; i++)
        if (m->graph->inputs[i].value && strcmp(m->graph->inputs[i].value->name, name) == 0)
            return 1;
    return 0;
}

int onnxc_model_num_outputs(const onnxc_model *m)
{
    return m && m->graph ? m->graph->n_outputs : 0;
}

static onnxc_status fill_info(const oc_vinfo *vi, onnxc_io_info *info)
{
    memset(info, 0, sizeof *info);
    info->name = vi->value->name;
    info->dtype = ONNXC_UNDEFINED;
    info->rank = -1;
    for (int d = 0; d < ONNXC_MAX_RANK; d++)
        info->dims[d] = -1;
    const oc_type *ty = &vi->type;
    if (ty->kind != OC_TYPE_TENSOR) {
        info->dtype = oc_type_value_kind(ty); /* a sequence or optional, or undefined */
        return ONNXC_OK;
    }
    if (ty->has_elem_type)
        info->dtype = ty->elem_type;
    if (ty->rank < 0)
        return ONNXC_OK;
    if (ty->rank > ONNXC_MAX_RANK)
        return oc_err(ONNXC_E_UNSUPPORTED, "'%s' has rank %d, more than the %d onnxc handles", vi->value->name,
                      (int)ty->rank, ONNXC_MAX_RANK);
    info->rank = ty->rank;
    for (int d = 0; d < ty->rank; d++) {
        const oc_dim *dim = &ty->dims[d];
        info->dims[d] = dim->has_value && dim->value >= 0 ? dim->value : -1;
        info->dim_params[d] = dim->has_value ? NULL : dim->param;
    }
    return ONNXC_OK;
}

onnxc_status onnxc_model_input_info(const onnxc_model *m, int i, onnxc_io_info *info)
{
    if (!m || !m->graph || !info)
        return oc_err(ONNXC_E_ARG, "onnxc_model_input_info: NULL argument");
    int k = 0;
    for (int j = 0; j < m->graph->n_inputs; j++) {
        if (!is_real_input(&m->graph->inputs[j]))
            continue;
        if (k++ == i)
            return fill_info(&m->graph->inputs[j], info);
    }
    return oc_err(ONNXC_E_ARG, "input index %d out of range (the model has %d inputs)", i, k);
}

onnxc_status onnxc_model_output_info(const onnxc_model *m, int i, onnxc_io_info *info)
{
    if (!m || !m->graph || !info)
        return oc_err(ONNXC_E_ARG, "onnxc_model_output_info: NULL argument");
    if (i < 0 || i >= m->graph->n_outputs)
        return oc_err(ONNXC_E_ARG, "output index %d out of range (the model has %d outputs)", i, m->graph->n_outputs);
    return fill_info(&m->graph->outputs[i], info);
}

void onnxc_io_info_shape_text(const onnxc_io_info *info, char *buf, size_t cap)
{
    if (cap == 0)
        return;
    if (info->rank < 0) {
        snprintf(buf, cap, "unknown");
        return;
    }
    if (info->rank == 0) {
        snprintf(buf, cap, "scalar");
        return;
    }
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < info->rank && k < cap; i++) {
        if (info->dims[i] >= 0)
            k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? "x" : "", (long long)info->dims[i]);
        else
            k += (size_t)snprintf(buf + k, cap - k, "%s%s", i ? "x" : "",
                                  info->dim_params[i] && *info->dim_params[i] ? info->dim_params[i] : "?");
    }
}
