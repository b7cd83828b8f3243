/* Plan steps that give every value its type, shape and (when the plan can know it) data: the constants and the
 * caller's inputs bound, then each node's inference and prepare, and evaluation at plan time of shape arithmetic
 * and of what constants alone decide. */
#include <stdio.h>
#include <string.h>

#include "ir.h"
#include "plan.h"

const onnxc_tensor *oc_find_input(const char *name, int n, const char *const *names,
                                  const onnxc_tensor *const *inputs)
{
    for (int i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return inputs[i];
    return NULL;
}

/* Check a provided input against the declared type; shape_too false: the element type only (a Loop or Scan body,
 * whose declared input shapes exporters copy from one traced iteration while carried values may change shape). */
static onnxc_status oc_check_input(const oc_vinfo *vi, const onnxc_tensor *t, bool shape_too)
{
    const oc_type *ty = &vi->type;
    char got[128], want[128];
    if (t->rank < 0 || t->rank > ONNXC_MAX_RANK)
        return oc_err(ONNXC_E_ARG, "input '%s': bad rank %d", vi->value->name, (int)t->rank);
    int64_t n;
    if (!oc_numel(t->dims, t->rank, &n))
        return oc_err(ONNXC_E_ARG, "input '%s': bad dims %s", vi->value->name,
                      oc_dims_str(t->dims, t->rank, got, sizeof got));
    size_t need;
    if (!oc_mul_size((size_t)n, onnxc_dtype_size(t->dtype), &need) || (need && (!t->data || t->nbytes < need)))
        return oc_err(ONNXC_E_ARG, "input '%s': %zu bytes of data for %s %s", vi->value->name, t->nbytes,
                      onnxc_dtype_name(t->dtype), oc_dims_str(t->dims, t->rank, got, sizeof got));
    if (ty->kind != OC_TYPE_TENSOR)
        return ONNXC_OK;
    if (ty->has_elem_type && ty->elem_type != t->dtype)
        return oc_err(ONNXC_E_ARG, "input '%s': expected %s, got %s", vi->value->name,
                      onnxc_dtype_name(ty->elem_type), onnxc_dtype_name(t->dtype));
    if (ty->rank >= 0 && shape_too) {
        bool ok = ty->rank == t->rank;
        for (int i = 0; ok && i < ty->rank; i++)
            if (ty->dims[i].has_value && ty->dims[i].value >= 0 && ty->dims[i].value != t->dims[i])
                ok = false;
        if (!ok) {
            size_t off = 0;
            want[0] = 0;
            for (int i = 0; i < ty->rank && off < sizeof want; i++) {
                if (ty->dims[i].has_value)
                    off += (size_t)snprintf(want + off, sizeof want - off, "%s%lld", i ? "x" : "",
                                            (long long)ty->dims[i].value);
                else
                    off += (size_t)snprintf(want + off, sizeof want - off, "%s%s", i ? "x" : "",
                                            ty->dims[i].param ? ty->dims[i].param : "?");
            }
            if (ty->rank == 0)
                snprintf(want, sizeof want, "scalar");
            return oc_err(ONNXC_E_ARG, "input '%s': expected shape %s, got %s", vi->value->name, want,
                          oc_dims_str(t->dims, t->rank, got, sizeof got));
        }
    }
    return ONNXC_OK;
}

static onnxc_status oc_set_meta(onnxc_tensor *dst, const onnxc_tensor *src)
{
    dst->dtype = src->dtype;
    dst->rank = src->rank;
    memcpy(dst->dims, src->dims, sizeof dst->dims);
    dst->nbytes = src->nbytes;
    dst->data = src->data;
    dst->owns_data = 0;
    return ONNXC_OK;
}

size_t oc_meta_bytes(const onnxc_tensor *t)
{
    int64_t n = 0;
    if (!oc_numel(t->dims, t->rank, &n))
        return 0;
    return (size_t)n * onnxc_dtype_size(t->dtype);
}

onnxc_status oc_plan_bind(onnxc_session *s, int n, const char *const *names, const onnxc_tensor *const *inputs)
{
    const oc_graph *g = s->g;
    onnxc_status st = ONNXC_OK;

    /* constants */
    for (int i = 0; i < g->n_initializers; i++) {
        oc_value *v = g->initializers[i];
        oc_rvalue *r = &s->rv[v->id];
        oc_set_meta(&r->t, &v->init->t);
        r->known = r->is_static = true;
    }
    /* graph inputs (may override an IR<=3 initializer of the same name) */
    s->keys = oc_calloc((size_t)g->n_inputs + (size_t)s->n_outer + 1, sizeof *s->keys);
    if (!s->keys)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    for (int i = 0; i < g->n_inputs; i++) {
        const oc_vinfo *vi = &g->inputs[i];
        oc_value *v = vi->value;
        const onnxc_tensor *t = oc_find_input(v->name, n, names, inputs);
        oc_rvalue *r = &s->rv[v->id];
        if (!t) {
            if (v->init)
                continue; /* IR <= 3 default */
            return oc_err(ONNXC_E_ARG, "input '%s' was not given", v->name);
        }
        st = oc_check_input(vi, t, !s->sub);
        if (st != ONNXC_OK)
            return st;
        oc_set_meta(&r->t, t);
        r->is_input = true;
        r->known = r->needed && t->data != NULL;
        r->is_static = false;
        oc_pkey *k = &s->keys[s->n_keys++];
        k->value = v;
        k->dtype = t->dtype;
        k->rank = t->rank;
        memcpy(k->dims, t->dims, sizeof k->dims);
        if (r->needed) {
            if (!t->data)
                return oc_err(ONNXC_E_ARG, "input '%s': its values decide shapes; give data to plan", v->name);
            k->data = oc_malloc(t->nbytes ? t->nbytes : 1);
            if (!k->data)
                return oc_err(ONNXC_E_NOMEM, "out of memory");
            memcpy(k->data, t->data, t->nbytes);
            k->nbytes = t->nbytes;
        }
    }
    /* a subgraph's session: what its nodes read from enclosing graphs comes like an input, by name */
    for (int i = 0; i < s->n_outer; i++) {
        oc_value *v = s->outer[i];
        const onnxc_tensor *t = oc_find_input(v->name, n, names, inputs);
        if (!t)
            return oc_err(ONNXC_E_ARG, "subgraph '%s': enclosing value '%s' was not given", g->name ? g->name : "",
                          v->name);
        oc_rvalue *r = &s->rv[v->id];
        oc_set_meta(&r->t, t);
        r->is_input = true;
        r->known = r->needed && t->data != NULL;
        oc_pkey *k = &s->keys[s->n_keys++];
        k->value = v;
        k->dtype = t->dtype;
        k->rank = t->rank;
        memcpy(k->dims, t->dims, sizeof k->dims);
        if (r->needed && t->data) {
            k->data = oc_malloc(t->nbytes ? t->nbytes : 1);
            if (!k->data)
                return oc_err(ONNXC_E_NOMEM, "out of memory");
            memcpy(k->data, t->data, t->nbytes);
            k->nbytes = t->nbytes;
        }
    }
    /* values a node's subgraphs read: materialised and kept whole, like graph outputs (liveness extends them to
     * that node) */
    for (int i = 0; i < s->n_order; i++)
        for (int k = 0; k < s->implicit[i].n; k++)
            s->rv[s->implicit[i].v[k]->id].is_output = true;
    /* graph outputs: the caller reads them, so fusion, layout and aliasing leave them alone */
    for (int i = 0; i < g->n_outputs; i++)
        s->rv[g->outputs[i].value->id].is_output = true;
    /* so are the values an observer asked to see (they do not live to the end: memplan extends graph outputs) */
    for (int i = 0; s->keep && i < g->n_values && i < s->n_rv; i++)
        if (s->keep[i])
            s->rv[i].is_output = true;
    return ONNXC_OK;
}

onnxc_status oc_plan_infer(onnxc_session *s, size_t *scratch_out)
{
    const oc_graph *g = s->g;
    onnxc_status st = ONNXC_OK;
    char lbl[200];

    /* shape inference and plan-time evaluation, node by node */
    size_t scratch = 0;
    for (int i = 0; i < s->n_order; i++) {
        const oc_node *nd = s->order[i];
        const oc_kernel *k = s->kern[i];
        oc_snode *sn = &s->nodes[i];
        sn->in = oc_calloc((size_t)nd->n_inputs + 1, sizeof *sn->in);
        sn->out = oc_calloc((size_t)nd->n_outputs + 1, sizeof *sn->out);
        if (!sn->in || !sn->out)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        bool all_known = true, all_static = true, any_needed = false, any_wanted = false;
        bool any_dynamic = false;
        int unknown_value = -1; /* a value input the plan does not know */
        for (int j = 0; j < nd->n_inputs; j++) {
            oc_value *v = nd->inputs[j];
            if (!v)
                continue;
            if (v->graph != g)
                return oc_err(ONNXC_E_UNSUPPORTED, "node %s: uses outer-scope value '%s'",
                              oc_node_label(nd, lbl, sizeof lbl), v->name);
            oc_rvalue *r = &s->rv[v->id];
            if (!r->t.dtype && !r->known && !r->is_input && !r->dynamic && !v->producer) {
                if (v->flags & OC_V_SPARSE)
                    return oc_err(ONNXC_E_UNSUPPORTED, "node %s: input '%s' is a sparse initializer, which onnxc "
                                  "does not run", oc_node_label(nd, lbl, sizeof lbl), v->name);
                return oc_err(ONNXC_E_INVALID, "node %s: input '%s' has no producer and is not a graph input or "
                              "initializer", oc_node_label(nd, lbl, sizeof lbl), v->name);
            }
            sn->in[j] = &r->t;
            bool shape_only = j < 32 && ((k->shape_only_inputs >> j) & 1u);
            if (!r->known && !shape_only)
                all_known = false;
            if (r->dynamic) {
                any_dynamic = true;
                all_known = false;
            }
            if (!r->is_static)
                all_static = false;
            if (j < 32 && ((k->value_inputs >> j) & 1u) && !r->known && unknown_value < 0)
                unknown_value = j;
        }
        for (int o = 0; o < nd->n_outputs; o++) {
            oc_value *v = nd->outputs[o];
            if (!v)
                continue;
            sn->out[o] = &s->rv[v->id].t;
            if (s->rv[v->id].needed)
                any_needed = true;
            if (s->rv[v->id].wanted)
                any_wanted = true;
        }
        const uint32_t kf = s->kflags[i];
        const bool fold = all_known && (any_needed || any_wanted || all_static) && nd->n_inputs > 0;
        /* dynamic: shapes inferred when the node runs (after the nodes it reads from) */
        const bool dynamic = any_dynamic || (kf & OC_KF_SUBGRAPHS) ||
                             ((kf & OC_KF_RUNTIME_VALUES) && unknown_value >= 0) ||
                             ((kf & OC_KF_DATA_SHAPE) && !fold && nd->n_inputs > 0);
        if (!dynamic && unknown_value >= 0)
            return oc_err(ONNXC_E_UNSUPPORTED, "node %s: input '%s' decides the output shape but is computed "
                          "from run-time data", oc_node_label(nd, lbl, sizeof lbl), nd->inputs[unknown_value]->name);
        if ((nd->n_outputs == 0 || !nd->outputs[0]) && !oc_op_first_output_optional(nd))
            return oc_err(ONNXC_E_INVALID, "node %s: %s; the op requires its first output",
                          oc_node_label(nd, lbl, sizeof lbl),
                          nd->n_outputs ? "output 0 is left out (empty name)" : "the node has no outputs");
        oc_kctx *c = &sn->ctx;
        c->node = nd;
        c->opset = oc_model_opset(s->model, nd->domain);
        c->n_in = nd->n_inputs;
        c->n_out = nd->n_outputs;
        c->in = sn->in;
        c->out = sn->out;
        c->pool = s->pool;
        c->model = s->model;
        c->n_implicit = s->implicit[i].n;
        c->implicit = s->implicit[i].t;
        c->implicit_names = s->implicit[i].names;
        c->const_inputs = 0;
        for (int j = 0; j < nd->n_inputs && j < 32; j++) {
            const oc_value *v = nd->inputs[j];
            if (v && s->rv[v->id].known && s->rv[v->id].is_static && !s->rv[v->id].is_input)
                c->const_inputs |= 1u << j;
        }
        if (dynamic) {
            sn->dynamic = true;
            s->has_dynamic = true;
            c->alloc_out = oc_alloc_dynamic;
            for (int o = 0; o < nd->n_outputs; o++)
                if (nd->outputs[o])
                    s->rv[nd->outputs[o]->id].dynamic = true;
            continue;
        }
        c->alloc_out = oc_alloc_plan_time;
        st = oc_half_setup(sn, nd);
        if (st != ONNXC_OK)
            return st;
        st = k->infer(c);
        if (st != ONNXC_OK)
            return oc_node_error(st, nd);
        if (sn->half && (st = oc_half_after_infer(sn, nd)) != ONNXC_OK)
            return st;
        for (int o = 0; o < nd->n_outputs; o++) {
            if (!sn->out[o])
                continue;
            if (!sn->out[o]->dtype)
                return oc_err(ONNXC_E_RUNTIME, "node %s: kernel did not set output %d's type",
                              oc_node_label(nd, lbl, sizeof lbl), o);
            sn->out[o]->nbytes = oc_meta_bytes(sn->out[o]);
        }
        if (k->prepare) {
            st = k->prepare(c);
            if (st != ONNXC_OK)
                return oc_node_error(st, nd);
        }
        if (sn->half)
            oc_half_scratch(sn);
        /* Evaluate now when every input is known and the result is needed for shapes or comes from constants
         * alone (constant folding inside the plan). */
        sn->folded = fold;
        if (!sn->folded && nd->n_inputs == 0)
            sn->folded = true; /* Constant, and other input-less producers */
        if (sn->folded) {
            void *tmp = NULL;
            if (c->scratch_size) {
                tmp = oc_aligned_alloc(c->scratch_size);
                if (!tmp)
                    return oc_err(ONNXC_E_NOMEM, "out of memory");
            }
            c->scratch = tmp;
            for (int o = 0; o < nd->n_outputs && !(kf & OC_KF_DATA_SHAPE); o++) {
                oc_value *v = nd->outputs[o];
                if (!v)
                    continue;
                oc_rvalue *r = &s->rv[v->id];
                r->owned = oc_aligned_alloc(r->t.nbytes);
                if (!r->owned) {
                    free(tmp);
                    return oc_err(ONNXC_E_NOMEM, "out of memory");
                }
                r->t.data = r->owned;
            }
            st = oc_snode_run(sn, k);
            free(tmp);
            c->scratch = NULL;
            if (st != ONNXC_OK)
                return oc_node_error(st, nd);
            for (int o = 0; o < nd->n_outputs; o++) {
                oc_value *v = nd->outputs[o];
                if (!v)
                    continue;
                s->rv[v->id].known = true;
                s->rv[v->id].is_static = all_static;
            }
        } else if (c->scratch_size > scratch) {
            scratch = c->scratch_size;
        }
    }
    *scratch_out = scratch;
    return ONNXC_OK;
}
