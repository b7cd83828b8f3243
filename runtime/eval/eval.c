/* oc_eval_node: one node on constant inputs through the runtime's kernel registry (infer, prepare, run, release),
 * outside any session, on the calling thread. */
#include "eval.h"

#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "util.h"

/* A kernel context with what alloc_out needs for an op whose output shapes depend on data (OC_KF_DATA_SHAPE). */
typedef struct oc_eval_ctx {
    oc_kctx c; /* first: alloc_out gets &c */
    onnxc_tensor **made;
    size_t max_out_bytes, in_bytes, out_bytes;
} oc_eval_ctx;

static onnxc_status oc_eval_alloc(oc_kctx *kc, int o)
{
    oc_eval_ctx *e = (oc_eval_ctx *)(void *)kc;
    if (o < 0 || o >= kc->n_out || !kc->out[o])
        return ONNXC_OK;
    onnxc_tensor *t = kc->out[o];
    onnxc_tensor_free(e->made[o]);
    e->made[o] = NULL;
    onnxc_status st = onnxc_tensor_create(t->dtype, t->rank, t->dims, &e->made[o]);
    if (st != ONNXC_OK)
        return st;
    e->out_bytes += e->made[o]->nbytes;
    if (e->out_bytes > e->max_out_bytes && e->out_bytes > e->in_bytes)
        return oc_err(ONNXC_E_ARG, "its %zu-byte result would grow the model", e->out_bytes);
    t->data = e->made[o]->data;
    t->nbytes = e->made[o]->nbytes;
    return ONNXC_OK;
}

onnxc_status oc_eval_node(const oc_node *n, int64_t opset, size_t max_out_bytes, oc_tensor **outs)
{
    char lbl[200];
    if (n->n_inputs > 32 || n->n_outputs > 32)
        return oc_err(ONNXC_E_UNSUPPORTED, "node %s: too many inputs or outputs to evaluate",
                      oc_node_label(n, lbl, sizeof lbl));
    for (int o = 0; o < n->n_outputs; o++)
        outs[o] = NULL;
    const oc_kernel *k = oc_kernel_find(n->domain, n->op_type, opset);
    if (!k)
        return oc_err(ONNXC_E_UNSUPPORTED, "no kernel for %s-%lld", n->op_type, (long long)opset);
    onnxc_tensor *in[32] = {0}, *out[32] = {0}, meta[32];
    size_t in_bytes = 0;
    memset(meta, 0, sizeof meta);
    for (int j = 0; j < n->n_inputs; j++) {
        if (!n->inputs[j])
            continue;
        const oc_tensor *c = oc_value_constant(n->inputs[j]);
        if (!c)
            return oc_err(ONNXC_E_ARG, "node %s: input '%s' is not a constant", oc_node_label(n, lbl, sizeof lbl),
                          n->inputs[j]->name);
        in[j] = (onnxc_tensor *)&c->t;
        in_bytes += c->t.nbytes;
    }
    for (int o = 0; o < n->n_outputs; o++)
        out[o] = n->outputs[o] ? &meta[o] : NULL;
    onnxc_tensor *made[32] = {0};
    oc_eval_ctx e = {.c = {.node = n, .opset = opset, .n_in = n->n_inputs, .n_out = n->n_outputs, .in = in, .out = out,
                           .alloc_out = oc_eval_alloc},
                     .made = made, .max_out_bytes = max_out_bytes, .in_bytes = in_bytes};
    const bool data_shape = (oc_kernel_flags(k) & OC_KF_DATA_SHAPE) != 0;
    onnxc_status st = k->infer(&e.c);
    if (st != ONNXC_OK)
        return st;
    size_t out_bytes = 0;
    for (int o = 0; o < n->n_outputs && !data_shape; o++)
        if (out[o]) {
            int64_t numel;
            if (!oc_numel(out[o]->dims, out[o]->rank, &numel))
                return oc_err(ONNXC_E_INVALID, "node %s: bad output shape", oc_node_label(n, lbl, sizeof lbl));
            out[o]->nbytes = (size_t)numel * onnxc_dtype_size(out[o]->dtype);
            out_bytes += out[o]->nbytes;
            if (out[o]->dtype == ONNXC_STRING)
                return oc_err(ONNXC_E_UNSUPPORTED, "string results are not evaluated");
        }
    if (out_bytes > max_out_bytes && out_bytes > in_bytes)
        return oc_err(ONNXC_E_ARG, "its %zu-byte result would grow the model", out_bytes);
    for (int o = 0; o < n->n_outputs && st == ONNXC_OK && !data_shape; o++) {
        if (!out[o])
            continue;
        st = onnxc_tensor_create(out[o]->dtype, out[o]->rank, out[o]->dims, &made[o]);
        if (st == ONNXC_OK)
            out[o]->data = made[o]->data;
    }
    void *scratch = NULL;
    if (st == ONNXC_OK && e.c.scratch_size) {
        scratch = aligned_alloc(64, (e.c.scratch_size + 63) & ~(size_t)63);
        if (!scratch)
            st = oc_err(ONNXC_E_NOMEM, "out of memory");
        e.c.scratch = scratch;
    }
    if (st == ONNXC_OK && k->prepare)
        st = k->prepare(&e.c);
    if (st == ONNXC_OK)
        st = k->run(&e.c);
    for (int o = 0; st == ONNXC_OK && o < n->n_outputs; o++)
        if (out[o] && (!made[o] || out[o]->dtype == ONNXC_STRING))
            st = oc_err(ONNXC_E_UNSUPPORTED, "node %s: no result for output %d", oc_node_label(n, lbl, sizeof lbl), o);
    if (e.c.state && k->release)
        k->release(e.c.state);
    free(scratch);
    for (int o = 0; o < n->n_outputs; o++) {
        if (!made[o])
            continue;
        if (st == ONNXC_OK) {
            outs[o] = oc_tensor_adopt(made[o]);
            if (!outs[o])
                st = oc_err(ONNXC_E_NOMEM, "out of memory");
        } else {
            onnxc_tensor_free(made[o]);
        }
    }
    if (st != ONNXC_OK)
        for (int o = 0; o < n->n_outputs; o++) {
            oc_tensor_free(outs[o]);
            outs[o] = NULL;
        }
    return st;
}
