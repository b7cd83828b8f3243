/* IR construction and editing: values with producer and consumers, nodes, attributes, initializers, and the
 * edit helpers (replace all uses, remove node, compact, topological sort) that keep edges consistent. */
#include "ir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- hashing */

static uint64_t oc_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void oc_map_insert(oc_map *m, oc_value *v, uint64_t h)
{
    size_t i = h & (m->cap - 1);
    while (m->slots[i]) {
        if (m->hashes[i] == h && strcmp(m->slots[i]->name, v->name) == 0) {
            m->slots[i] = v;
            return;
        }
        i = (i + 1) & (m->cap - 1);
    }
    m->slots[i] = v;
    m->hashes[i] = h;
    m->count++;
}

/* Rehashing reuses the stored hashes: no name is read again. */
static onnxc_status oc_map_rehash(oc_map *m, size_t ncap)
{
    oc_value **old = m->slots;
    uint64_t *old_h = m->hashes;
    size_t oldcap = m->cap;
    oc_value **slots = oc_calloc(ncap, sizeof *slots);
    uint64_t *hashes = oc_calloc(ncap, sizeof *hashes);
    if (!slots || !hashes) {
        oc_free(slots);
        oc_free(hashes);
        return oc_err(ONNXC_E_NOMEM, "out of memory (name table)");
    }
    m->slots = slots;
    m->hashes = hashes;
    m->cap = ncap;
    m->count = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i])
            oc_map_insert(m, old[i], old_h[i]);
    oc_free(old);
    oc_free(old_h);
    return ONNXC_OK;
}

static onnxc_status oc_map_put(oc_map *m, oc_value *v)
{
    if ((m->count + 1) * 2 > m->cap) {
        onnxc_status st = oc_map_rehash(m, m->cap ? m->cap * 2 : 64);
        if (st != ONNXC_OK)
            return st;
    }
    oc_map_insert(m, v, oc_hash(v->name));
    return ONNXC_OK;
}

static oc_value *oc_map_get(const oc_map *m, const char *name)
{
    if (!m->cap || !name)
        return NULL;
    const uint64_t h = oc_hash(name);
    size_t i = h & (m->cap - 1);
    while (m->slots[i]) {
        if (m->hashes[i] == h && strcmp(m->slots[i]->name, name) == 0)
            return m->slots[i];
        i = (i + 1) & (m->cap - 1);
    }
    return NULL;
}

static void oc_map_rebuild(oc_graph *g)
{
    if (g->map.slots) /* a graph without values has no table yet, and memset(NULL, 0, 0) is undefined */
        memset(g->map.slots, 0, g->map.cap * sizeof *g->map.slots);
    g->map.count = 0;
    for (int i = 0; i < g->n_values; i++)
        oc_map_put(&g->map, g->values[i]);
}

/* ---------------------------------------------------------------- lifetime */

onnxc_model *oc_model_new(void)
{
    onnxc_model *m = oc_calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->graph = oc_graph_new(m, NULL);
    if (!m->graph) {
        oc_free(m);
        return NULL;
    }
    return m;
}

oc_graph *oc_graph_new(onnxc_model *m, oc_graph *parent)
{
    oc_graph *g = oc_calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->model = m;
    g->parent = parent;
    if (m && parent)
        m->has_subgraphs = true;
    return g;
}

static void oc_tensor_data_free(onnxc_tensor *t)
{
    if (t->owns_data && t->data) {
        if (t->dtype == ONNXC_STRING) {
            onnxc_string *s = t->data;
            int64_t n = onnxc_tensor_numel(t);
            for (int64_t i = 0; i < n; i++)
                oc_free(s[i].data);
        }
        oc_free(t->data);
    }
    t->data = NULL;
}

void oc_tensor_free(oc_tensor *t)
{
    if (!t)
        return;
    oc_tensor_data_free(&t->t);
    oc_free(t->name);
    oc_free(t->doc_string);
    for (size_t i = 0; i < t->n_external; i++) {
        oc_free(t->external[i].key);
        oc_free(t->external[i].value);
        oc_free(t->external[i].unknown.data);
    }
    oc_free(t->external);
    oc_free(t->segment_unknown.data);
    oc_free(t->unknown.data);
    oc_free(t);
}

oc_tensor *oc_tensor_clone(const oc_tensor *src)
{
    oc_tensor *t = oc_calloc(1, sizeof *t);
    if (!t)
        return NULL;
    onnxc_tensor *c = NULL;
    if (onnxc_tensor_clone(&src->t, &c) != ONNXC_OK) {
        oc_free(t);
        return NULL;
    }
    t->t = *c;
    oc_free(c); /* the struct only; its data now belongs to t->t */
    t->name = oc_strdup(src->name);
    t->doc_string = oc_strdup(src->doc_string);
    t->storage = src->storage == OC_STORE_EXTERNAL ? OC_STORE_RAW : src->storage;
    t->has_data_type = src->has_data_type;
    return t;
}

void oc_type_clear(oc_type *ty)
{
    if (ty->dims) {
        for (int i = 0; i < ty->rank; i++) {
            oc_free(ty->dims[i].param);
            oc_free(ty->dims[i].denotation);
            oc_free(ty->dims[i].unknown.data);
        }
    }
    oc_free(ty->dims);
    oc_free(ty->denotation);
    oc_free(ty->opaque.data);
    oc_free(ty->unknown.data);
    oc_free(ty->tensor_unknown.data);
    oc_free(ty->shape_unknown.data);
    memset(ty, 0, sizeof *ty);
    ty->rank = -1;
}

/* Deep copy of kept bytes (nothing when src is empty). */
static bool oc_bytes_copy(oc_bytes *dst, const oc_bytes *src)
{
    dst->data = NULL;
    dst->len = 0;
    if (!src->len)
        return true;
    if (!(dst->data = oc_malloc(src->len)))
        return false;
    memcpy(dst->data, src->data, src->len);
    dst->len = src->len;
    return true;
}

onnxc_status oc_type_copy(oc_type *dst, const oc_type *src)
{
    *dst = *src;
    dst->dims = NULL;
    dst->denotation = oc_strdup(src->denotation);
    dst->opaque.data = NULL;
    /* every copy runs, so no pointer of src stays shared with dst even when one fails */
    bool ok = oc_bytes_copy(&dst->unknown, &src->unknown);
    ok = oc_bytes_copy(&dst->tensor_unknown, &src->tensor_unknown) && ok;
    ok = oc_bytes_copy(&dst->shape_unknown, &src->shape_unknown) && ok;
    if (!ok)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    if (src->opaque.len) {
        dst->opaque.data = oc_malloc(src->opaque.len);
        if (!dst->opaque.data)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        memcpy(dst->opaque.data, src->opaque.data, src->opaque.len);
    }
    if (src->rank > 0) {
        dst->dims = oc_calloc((size_t)src->rank, sizeof *dst->dims);
        if (!dst->dims)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        for (int i = 0; i < src->rank; i++) {
            dst->dims[i] = src->dims[i];
            dst->dims[i].param = oc_strdup(src->dims[i].param);
            dst->dims[i].denotation = oc_strdup(src->dims[i].denotation);
            if (!oc_bytes_copy(&dst->dims[i].unknown, &src->dims[i].unknown))
                return oc_err(ONNXC_E_NOMEM, "out of memory");
        }
    }
    return ONNXC_OK;
}

static void oc_bytes_list_free(oc_bytes *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        oc_free(b[i].data);
    oc_free(b);
}

void oc_attr_clear(oc_attr *a)
{
    oc_free(a->name);
    oc_free(a->ref_attr_name);
    oc_free(a->doc_string);
    oc_free(a->s.data);
    oc_tensor_free(a->t);
    oc_graph_free(a->g);
    oc_free(a->floats);
    oc_free(a->ints);
    oc_bytes_list_free(a->strings, a->n_strings);
    for (size_t i = 0; i < a->n_tensors; i++)
        oc_tensor_free(a->tensors[i]);
    oc_free(a->tensors);
    for (size_t i = 0; i < a->n_graphs; i++)
        oc_graph_free(a->graphs[i]);
    oc_free(a->graphs);
    oc_free(a->sparse_tensor.data);
    oc_bytes_list_free(a->sparse_tensors, a->n_sparse_tensors);
    oc_free(a->type_proto.data);
    oc_bytes_list_free(a->type_protos, a->n_type_protos);
    oc_free(a->unknown.data);
    memset(a, 0, sizeof *a);
}

static void oc_node_free(oc_node *n)
{
    oc_free(n->name);
    oc_free(n->op_type);
    oc_free(n->domain);
    oc_free(n->doc_string);
    oc_free(n->inputs);
    oc_free(n->outputs);
    for (int i = 0; i < n->n_attrs; i++)
        oc_attr_clear(&n->attrs[i]);
    oc_free(n->attrs);
    oc_free(n->unknown.data);
    oc_free(n);
}

static void oc_value_free(oc_value *v)
{
    oc_free(v->name);
    oc_free(v->uses);
    oc_tensor_free(v->init);
    oc_free(v);
}

static void oc_vinfos_free(oc_vinfo *vi, int n)
{
    for (int i = 0; i < n; i++) {
        oc_type_clear(&vi[i].type);
        oc_free(vi[i].doc_string);
        oc_free(vi[i].unknown.data);
    }
    oc_free(vi);
}

void oc_graph_free(oc_graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n_nodes; i++)
        oc_node_free(g->nodes[i]);
    oc_free(g->nodes);
    for (int i = 0; i < g->n_values; i++)
        oc_value_free(g->values[i]);
    oc_free(g->values);
    oc_free(g->map.slots);
    oc_free(g->map.hashes);
    oc_vinfos_free(g->inputs, g->n_inputs);
    oc_vinfos_free(g->outputs, g->n_outputs);
    oc_vinfos_free(g->value_infos, g->n_value_infos);
    oc_free(g->initializers);
    oc_bytes_list_free(g->sparse_initializers, (size_t)g->n_sparse_initializers);
    oc_bytes_list_free(g->quantization_annotations, (size_t)g->n_quantization_annotations);
    oc_free(g->name);
    oc_free(g->doc_string);
    oc_free(g->unknown.data);
    oc_free(g);
}

void onnxc_model_free(onnxc_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n_opsets; i++) {
        oc_free(m->opsets[i].domain);
        oc_free(m->opsets[i].unknown.data);
    }
    oc_free(m->opsets);
    oc_free(m->producer_name);
    oc_free(m->producer_version);
    oc_free(m->domain);
    oc_free(m->doc_string);
    for (int i = 0; i < m->n_metadata; i++) {
        oc_free(m->metadata[i].key);
        oc_free(m->metadata[i].value);
        oc_free(m->metadata[i].unknown.data);
    }
    oc_free(m->metadata);
    oc_graph_free(m->graph);
    oc_bytes_list_free(m->functions, (size_t)m->n_functions);
    oc_bytes_list_free(m->training_info, (size_t)m->n_training_info);
    oc_free(m->path);
    oc_free(m->dir);
    oc_free(m->unknown.data);
    oc_free(m);
}

int64_t oc_model_opset(const onnxc_model *m, const char *domain)
{
    bool want_default = oc_domain_is_default(domain);
    for (int i = 0; i < m->n_opsets; i++) {
        const char *d = m->opsets[i].domain;
        bool is_default = oc_domain_is_default(d);
        if (want_default ? is_default : (d && strcmp(d, domain) == 0))
            return m->opsets[i].version;
    }
    return 0;
}

/* ---------------------------------------------------------------- values */

oc_value *oc_graph_find(const oc_graph *g, const char *name) { return oc_map_get(&g->map, name); }

oc_value *oc_graph_lookup(const oc_graph *g, const char *name)
{
    for (; g; g = g->parent) {
        oc_value *v = oc_map_get(&g->map, name);
        if (v)
            return v;
    }
    return NULL;
}

oc_value *oc_graph_value(oc_graph *g, const char *name)
{
    oc_value *v = oc_map_get(&g->map, name);
    if (v)
        return v;
    if (oc_grow((void **)&g->values, &g->cap_values, g->n_values + 1, sizeof *g->values) != ONNXC_OK)
        return NULL;
    v = oc_calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->name = oc_strdup(name);
    if (!v->name) {
        oc_free(v);
        return NULL;
    }
    v->graph = g;
    v->id = g->n_values;
    if (oc_map_put(&g->map, v) != ONNXC_OK) {
        oc_value_free(v);
        return NULL;
    }
    g->values[g->n_values++] = v;
    return v;
}

/* name is a value of a subgraph within g (at any depth). */
static bool oc_name_in_nested(const oc_graph *g, const char *name, int depth)
{
    if (depth > 64)
        return false;
    for (int i = 0; i < g->n_nodes; i++) {
        const oc_node *n = g->nodes[i];
        if (n->dead)
            continue;
        for (int a = 0; a < n->n_attrs; a++) {
            const oc_attr *at = &n->attrs[a];
            for (size_t k = 0; k < 1 + at->n_graphs; k++) {
                const oc_graph *sg = k == 0 ? at->g : at->graphs[k - 1];
                if (sg && (oc_map_get(&sg->map, name) || oc_name_in_nested(sg, name, depth + 1)))
                    return true;
            }
        }
    }
    return false;
}

static bool oc_name_taken(const oc_graph *g, const char *name)
{
    /* Names must be unique in the graph, must not shadow an enclosing graph's value, and must not be shadowed by
     * (or captured as an outer reference of) a value of one of its subgraphs. */
    return oc_graph_lookup(g, name) != NULL || (g->model && g->model->has_subgraphs && oc_name_in_nested(g, name, 0));
}

oc_value *oc_graph_new_value(oc_graph *g, const char *base)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", base && *base ? base : "v");
    for (long k = 1; oc_name_taken(g, buf); k++)
        snprintf(buf, sizeof buf, "%s_%ld", base && *base ? base : "v", k);
    return oc_graph_value(g, buf);
}

oc_value *oc_graph_add_initializer(oc_graph *g, const char *base, oc_tensor *t)
{
    oc_value *v = oc_graph_new_value(g, base);
    if (!v)
        return NULL;
    oc_value **ni = oc_realloc(g->initializers, (size_t)(g->n_initializers + 1) * sizeof *ni);
    if (!ni)
        return NULL;
    g->initializers = ni;
    oc_free(t->name);
    t->name = oc_strdup(v->name);
    v->init = t;
    v->flags |= OC_V_INITIALIZER;
    g->initializers[g->n_initializers++] = v;
    if (oc_graph_sync_initializer_input(g, v) != ONNXC_OK)
        return NULL;
    return v;
}

/* IR <= 3 lists every initializer among the graph inputs, with its type: keep that list in step. */
onnxc_status oc_graph_sync_initializer_input(oc_graph *g, oc_value *v)
{
    const onnxc_model *m = g->model;
    if (!v->init || g->parent || !m || !m->has_ir_version || m->ir_version > 3)
        return ONNXC_OK;
    oc_vinfo *vi = NULL;
    for (int i = 0; i < g->n_inputs; i++)
        if (g->inputs[i].value == v)
            vi = &g->inputs[i];
    if (!vi) {
        oc_vinfo *ni = oc_realloc(g->inputs, (size_t)(g->n_inputs + 1) * sizeof *ni);
        if (!ni)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        g->inputs = ni;
        vi = &g->inputs[g->n_inputs++];
        memset(vi, 0, sizeof *vi);
        vi->value = v;
        v->flags |= OC_V_INPUT;
    } else {
        oc_type_clear(&vi->type);
    }
    const onnxc_tensor *t = &v->init->t;
    vi->type.kind = OC_TYPE_TENSOR;
    vi->type.has_elem_type = true;
    vi->type.elem_type = t->dtype;
    vi->type.rank = t->rank;
    vi->type.dims = oc_calloc((size_t)t->rank + 1, sizeof *vi->type.dims);
    if (!vi->type.dims) {
        vi->type.rank = -1;
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    for (int i = 0; i < t->rank; i++) {
        vi->type.dims[i].has_value = true;
        vi->type.dims[i].value = t->dims[i];
    }
    return ONNXC_OK;
}

onnxc_status oc_value_make_initializer(oc_graph *g, oc_value *v, oc_tensor *t)
{
    if (v->producer || v->init)
        return oc_err(ONNXC_E_INVALID, "value '%s' already has a producer or data", v->name);
    oc_value **ni = oc_realloc(g->initializers, (size_t)(g->n_initializers + 1) * sizeof *ni);
    if (!ni)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    g->initializers = ni;
    oc_free(t->name);
    t->name = oc_strdup(v->name);
    v->init = t;
    v->flags |= OC_V_INITIALIZER;
    g->initializers[g->n_initializers++] = v;
    return oc_graph_sync_initializer_input(g, v);
}

const oc_type *oc_value_type(const oc_value *v)
{
    const oc_graph *g = v->graph;
    for (int i = 0; i < g->n_inputs; i++)
        if (g->inputs[i].value == v)
            return &g->inputs[i].type;
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i].value == v)
            return &g->outputs[i].type;
    for (int i = 0; i < g->n_value_infos; i++)
        if (g->value_infos[i].value == v)
            return &g->value_infos[i].type;
    return NULL;
}

bool oc_value_is_constant(const oc_value *v)
{
    return oc_value_constant(v) != NULL;
}

const oc_tensor *oc_value_constant(const oc_value *v)
{
    if (!v)
        return NULL;
    /* An initializer listed as a graph input can be overridden at run time (IR >= 4), so it is no constant.
     * IR <= 3 listed every initializer as an input and allowed no override: there it is a constant. */
    if (v->init && (!(v->flags & OC_V_INPUT) || (v->graph->model && v->graph->model->has_ir_version &&
                                                 v->graph->model->ir_version <= 3)))
        return v->init;
    if (v->producer && !v->producer->dead && strcmp(v->producer->op_type, "Constant") == 0 &&
        oc_domain_is_default(v->producer->domain)) {
        const oc_attr *a = oc_node_attr(v->producer, "value");
        if (a && a->t)
            return a->t;
    }
    /* a subgraph's reference to a value of an enclosing graph: that value's constant, if it is one (the tensor
     * belongs to the enclosing graph: a pass that changes it makes a copy in the subgraph) */
    if (!v->init && !v->producer && (v->flags & OC_V_OUTER) && v->graph && v->graph->parent) {
        const oc_value *ov = oc_graph_lookup(v->graph->parent, v->name);
        if (ov && ov != v && ov->graph != v->graph)
            return oc_value_constant(ov);
    }
    return NULL;
}

/* ---------------------------------------------------------------- edges */

static onnxc_status oc_use_add(oc_value *v, oc_node *n, int slot)
{
    onnxc_status st = oc_grow((void **)&v->uses, &v->cap_uses, v->n_uses + 1, sizeof *v->uses);
    if (st != ONNXC_OK)
        return st;
    v->uses[v->n_uses].node = n;
    v->uses[v->n_uses].slot = slot;
    v->n_uses++;
    return ONNXC_OK;
}

static void oc_use_remove(oc_value *v, oc_node *n, int slot)
{
    for (int i = 0; i < v->n_uses; i++) {
        if (v->uses[i].node == n && v->uses[i].slot == slot) {
            memmove(&v->uses[i], &v->uses[i + 1], (size_t)(v->n_uses - i - 1) * sizeof *v->uses);
            v->n_uses--;
            return;
        }
    }
}

oc_node *oc_graph_add_node(oc_graph *g, const char *op_type, const char *domain, const char *name)
{
    if (oc_grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes) != ONNXC_OK)
        return NULL;
    oc_node *n = oc_calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->op_type = oc_strdup(op_type ? op_type : "");
    n->domain = oc_strdup(domain);
    n->name = oc_strdup(name);
    if (!n->op_type || (domain && !n->domain) || (name && !n->name)) {
        oc_node_free(n);
        return NULL;
    }
    n->graph = g;
    n->id = g->n_nodes;
    g->nodes[g->n_nodes++] = n;
    return n;
}

oc_node *oc_graph_insert_node(oc_graph *g, const oc_node *before, const char *op_type, const char *domain,
                              const char *name)
{
    oc_node *n = oc_graph_add_node(g, op_type, domain, name);
    if (!n || !before)
        return n;
    int pos = -1;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i] == before)
            pos = i;
    if (pos < 0)
        return n;
    memmove(&g->nodes[pos + 1], &g->nodes[pos], (size_t)(g->n_nodes - 1 - pos) * sizeof *g->nodes);
    g->nodes[pos] = n;
    for (int i = pos; i < g->n_nodes; i++)
        g->nodes[i]->id = i;
    return n;
}

static onnxc_status oc_resize_ptrs(oc_value ***arr, int *n, int need)
{
    if (need <= *n)
        return ONNXC_OK;
    oc_value **p = oc_realloc(*arr, (size_t)need * sizeof *p);
    if (!p)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    for (int i = *n; i < need; i++)
        p[i] = NULL;
    *arr = p;
    *n = need;
    return ONNXC_OK;
}

onnxc_status oc_node_set_input(oc_node *n, int slot, oc_value *v)
{
    onnxc_status st = oc_resize_ptrs(&n->inputs, &n->n_inputs, slot + 1);
    if (st != ONNXC_OK)
        return st;
    if (n->inputs[slot])
        oc_use_remove(n->inputs[slot], n, slot);
    n->inputs[slot] = v;
    if (v && (st = oc_use_add(v, n, slot)) != ONNXC_OK)
        n->inputs[slot] = NULL; /* an input without its use would break the edges both ways */
    return st;
}

onnxc_status oc_node_set_output(oc_node *n, int slot, oc_value *v)
{
    if (v && v->producer && !(v->producer == n && v->producer_slot == slot)) {
        char a[160], b[160];
        return oc_err(ONNXC_E_INVALID, "value '%s' is produced by node %s and by node %s", v->name,
                      oc_node_label(v->producer, a, sizeof a), oc_node_label(n, b, sizeof b));
    }
    onnxc_status st = oc_resize_ptrs(&n->outputs, &n->n_outputs, slot + 1);
    if (st != ONNXC_OK)
        return st;
    if (n->outputs[slot] && n->outputs[slot]->producer == n)
        n->outputs[slot]->producer = NULL;
    n->outputs[slot] = v;
    if (v) {
        v->producer = n;
        v->producer_slot = slot;
    }
    return ONNXC_OK;
}

void oc_replace_all_uses(oc_value *from, oc_value *to)
{
    if (from == to)
        return;
    while (from->n_uses > 0) {
        oc_use u = from->uses[from->n_uses - 1];
        oc_node_set_input(u.node, u.slot, to);
    }
    oc_graph *g = from->graph;
    for (int i = 0; i < g->n_outputs; i++) {
        if (g->outputs[i].value == from) {
            g->outputs[i].value = to;
            to->flags |= OC_V_OUTPUT;
        }
    }
    if (from->flags & OC_V_OUTPUT)
        from->flags &= ~(unsigned)OC_V_OUTPUT;
}

void oc_remove_node(oc_node *n)
{
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i]) {
            oc_use_remove(n->inputs[i], n, i);
            n->inputs[i] = NULL;
        }
    for (int i = 0; i < n->n_outputs; i++)
        if (n->outputs[i] && n->outputs[i]->producer == n) {
            n->outputs[i]->producer = NULL;
            n->outputs[i] = NULL;
        }
    n->dead = true;
}

void oc_graph_compact(oc_graph *g)
{
    int k = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i]->dead) {
            oc_node_free(g->nodes[i]);
            continue;
        }
        g->nodes[i]->id = k;
        g->nodes[k++] = g->nodes[i];
    }
    g->n_nodes = k;

    /* A value is kept while anything refers to it: a producer, a use, a graph list or initializer data (a sparse
     * initializer's name stays taken, so no new value can clash with it). */
    /* value_info of values a rewrite removed (no producer, no use, not an input, output or initializer) goes */
    int kv = 0;
    for (int i = 0; i < g->n_value_infos; i++) {
        oc_vinfo *vi = &g->value_infos[i];
        const oc_value *v = vi->value;
        if (!v->producer && v->n_uses == 0 && !v->init &&
            !(v->flags & (OC_V_INPUT | OC_V_OUTPUT | OC_V_OUTER | OC_V_SPARSE))) {
            oc_type_clear(&vi->type);
            oc_free(vi->doc_string);
            oc_free(vi->unknown.data);
            continue;
        }
        g->value_infos[kv++] = *vi;
    }
    g->n_value_infos = kv;
    bool *listed = oc_calloc((size_t)g->n_values + 1, sizeof *listed);
    if (!listed)
        return; /* compaction is an optimisation; the graph stays consistent without it */
    for (int i = 0; i < g->n_inputs; i++)
        listed[g->inputs[i].value->id] = true;
    for (int i = 0; i < g->n_outputs; i++)
        listed[g->outputs[i].value->id] = true;
    for (int i = 0; i < g->n_value_infos; i++)
        listed[g->value_infos[i].value->id] = true;
    /* initializers whose value is dropped leave the initializer list */
    int ki = 0;
    for (int i = 0; i < g->n_initializers; i++) {
        oc_value *v = g->initializers[i];
        if (v->init)
            g->initializers[ki++] = v;
    }
    g->n_initializers = ki;
    k = 0;
    for (int i = 0; i < g->n_values; i++) {
        oc_value *v = g->values[i];
        if (!v->producer && v->n_uses == 0 && !listed[i] && !v->init && !(v->flags & OC_V_SPARSE)) {
            oc_value_free(v);
            continue;
        }
        g->values[k++] = v;
    }
    oc_free(listed);
    g->n_values = k;
    for (int i = 0; i < g->n_values; i++)
        g->values[i]->id = i;
    oc_map_rebuild(g);
}

/* ---------------------------------------------------------------- node index and topological order */

typedef struct oc_node_slot {
    const oc_node *node;
    int index;
} oc_node_slot;

static int oc_node_slot_cmp(const void *a, const void *b)
{
    const oc_node *x = ((const oc_node_slot *)a)->node, *y = ((const oc_node_slot *)b)->node;
    return x < y ? -1 : x > y;
}

onnxc_status oc_node_index_init(oc_node_index *ix, const oc_graph *g)
{
    ix->g = g;
    ix->sorted = NULL;
    bool current = true;
    for (int i = 0; i < g->n_nodes && current; i++)
        current = g->nodes[i]->id == i;
    if (current)
        return ONNXC_OK;
    ix->sorted = oc_calloc((size_t)g->n_nodes + 1, sizeof *ix->sorted);
    if (!ix->sorted)
        return oc_err(ONNXC_E_NOMEM, "out of memory indexing the graph's nodes");
    for (int i = 0; i < g->n_nodes; i++)
        ix->sorted[i] = (oc_node_slot){g->nodes[i], i};
    qsort(ix->sorted, (size_t)g->n_nodes, sizeof *ix->sorted, oc_node_slot_cmp);
    return ONNXC_OK;
}

int oc_node_index_of(const oc_node_index *ix, const oc_node *n)
{
    const oc_graph *g = ix->g;
    if (!ix->sorted)
        return n->id >= 0 && n->id < g->n_nodes && g->nodes[n->id] == n ? n->id : -1;
    const oc_node_slot key = {n, 0};
    const oc_node_slot *hit = bsearch(&key, ix->sorted, (size_t)g->n_nodes, sizeof key, oc_node_slot_cmp);
    return hit ? hit->index : -1;
}

void oc_node_index_free(oc_node_index *ix)
{
    oc_free(ix->sorted);
    ix->sorted = NULL;
}

/* The index of v's producer when it is a live node of g (an edge the order must respect), else -1. */
static int oc_order_producer(const oc_node_index *ix, const oc_value *v)
{
    if (!v || !v->producer || v->producer->graph != ix->g || v->producer->dead)
        return -1;
    return oc_node_index_of(ix, v->producer);
}

/* Min-heap of node indices: Kahn's algorithm that always takes the earliest ready node of the file. */
static void oc_heap_push(int *h, int *n, int x)
{
    int i = (*n)++;
    while (i > 0 && h[(i - 1) / 2] > x) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = x;
}

static int oc_heap_pop(int *h, int *n)
{
    int top = h[0], x = h[--*n], i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && h[c + 1] < h[c])
            c++;
        if (h[c] >= x)
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n > 0)
        h[i] = x;
    return top;
}

onnxc_status oc_graph_order(const oc_graph *g, int *order)
{
    const int n = g->n_nodes;
    oc_node_index ix;
    onnxc_status st = oc_node_index_init(&ix, g);
    if (st != ONNXC_OK)
        return st;
    int *indeg = oc_calloc((size_t)n + 1, sizeof *indeg);
    int *heap = oc_calloc((size_t)n + 1, sizeof *heap);
    if (!indeg || !heap) {
        oc_free(indeg);
        oc_free(heap);
        oc_node_index_free(&ix);
        return oc_err(ONNXC_E_NOMEM, "out of memory ordering the graph");
    }
    for (int i = 0; i < n; i++) {
        const oc_node *nd = g->nodes[i];
        for (int j = 0; j < nd->n_inputs; j++)
            if (oc_order_producer(&ix, nd->inputs[j]) >= 0)
                indeg[i]++;
    }
    int nh = 0, done = 0;
    for (int i = 0; i < n; i++)
        if (indeg[i] == 0)
            oc_heap_push(heap, &nh, i);
    while (nh > 0) {
        const int i = oc_heap_pop(heap, &nh);
        const oc_node *nd = g->nodes[i];
        order[done++] = i;
        for (int o = 0; o < nd->n_outputs; o++) {
            const oc_value *v = nd->outputs[o];
            if (!v || oc_order_producer(&ix, v) != i)
                continue;
            /* one use per input slot, as counted above */
            for (int u = 0; u < v->n_uses; u++) {
                const oc_node *c = v->uses[u].node;
                const int ci = c->graph == g ? oc_node_index_of(&ix, c) : -1;
                if (ci >= 0 && --indeg[ci] == 0)
                    oc_heap_push(heap, &nh, ci);
            }
        }
    }
    if (done < n) {
        /* Every node left waits on a producer that is also left, so walking from one to such a producer must
         * come back to a node already walked: that one is on a cycle (the first one left may only sit behind
         * it). heap, now empty, records the step each node was walked at. */
        int at = 0;
        while (indeg[at] == 0)
            at++;
        for (int i = 0; i < n; i++)
            heap[i] = -1;
        for (int step = 0; heap[at] < 0; step++) {
            heap[at] = step;
            const oc_node *nd = g->nodes[at];
            for (int j = 0; j < nd->n_inputs; j++) {
                const int p = oc_order_producer(&ix, nd->inputs[j]);
                if (p >= 0 && indeg[p] > 0) {
                    at = p;
                    break;
                }
            }
        }
        char lbl[200];
        st = oc_err(ONNXC_E_INVALID, "graph '%s' has a cycle through node %s (%d of %d nodes cannot be ordered)",
                    g->name ? g->name : "", oc_node_label(g->nodes[at], lbl, sizeof lbl), n - done, n);
    }
    oc_free(indeg);
    oc_free(heap);
    oc_node_index_free(&ix);
    return st;
}

onnxc_status oc_graph_toposort(oc_graph *g)
{
    const int n = g->n_nodes;
    int *order = oc_calloc((size_t)n + 1, sizeof *order);
    oc_node **nodes = oc_calloc((size_t)n + 1, sizeof *nodes);
    onnxc_status st = order && nodes ? oc_graph_order(g, order)
                                     : oc_err(ONNXC_E_NOMEM, "out of memory sorting the graph");
    if (st == ONNXC_OK) {
        for (int i = 0; i < n; i++)
            nodes[i] = g->nodes[order[i]];
        for (int i = 0; i < n; i++) {
            g->nodes[i] = nodes[i];
            g->nodes[i]->id = i;
        }
    }
    oc_free(order);
    oc_free(nodes);
    return st;
}

/* ---------------------------------------------------------------- attributes */

const oc_attr *oc_node_attr(const oc_node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (n->attrs[i].name && strcmp(n->attrs[i].name, name) == 0)
            return &n->attrs[i];
    return NULL;
}

int64_t oc_attr_int(const oc_node *n, const char *name, int64_t dflt)
{
    const oc_attr *a = oc_node_attr(n, name);
    return a && a->type == OC_ATTR_INT ? a->i : dflt;
}

float oc_attr_float(const oc_node *n, const char *name, float dflt)
{
    const oc_attr *a = oc_node_attr(n, name);
    if (!a)
        return dflt;
    if (a->type == OC_ATTR_FLOAT)
        return a->f;
    if (a->type == OC_ATTR_INT)
        return (float)a->i;
    return dflt;
}

const char *oc_attr_string(const oc_node *n, const char *name, const char *dflt, char *buf, size_t cap)
{
    const oc_attr *a = oc_node_attr(n, name);
    if (!a || a->type != OC_ATTR_STRING)
        return dflt;
    size_t len = a->s.len < cap - 1 ? a->s.len : cap - 1;
    if (len)
        memcpy(buf, a->s.data, len);
    buf[len] = 0;
    return buf;
}

const int64_t *oc_attr_ints(const oc_node *n, const char *name, size_t *n_out)
{
    const oc_attr *a = oc_node_attr(n, name);
    if (!a || a->type != OC_ATTR_INTS) {
        *n_out = 0;
        return NULL;
    }
    *n_out = a->n_ints;
    return a->ints ? a->ints : (const int64_t *)"";
}

const float *oc_attr_floats(const oc_node *n, const char *name, size_t *n_out)
{
    const oc_attr *a = oc_node_attr(n, name);
    if (!a || a->type != OC_ATTR_FLOATS) {
        *n_out = 0;
        return NULL;
    }
    *n_out = a->n_floats;
    static const float empty[1] = {0};
    return a->floats ? a->floats : empty;
}

static oc_attr *oc_node_attr_slot(oc_node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (n->attrs[i].name && strcmp(n->attrs[i].name, name) == 0) {
            oc_attr_clear(&n->attrs[i]);
            n->attrs[i].name = oc_strdup(name);
            return n->attrs[i].name ? &n->attrs[i] : NULL;
        }
    oc_attr *na = oc_realloc(n->attrs, (size_t)(n->n_attrs + 1) * sizeof *na);
    if (!na)
        return NULL;
    n->attrs = na;
    oc_attr *a = &n->attrs[n->n_attrs];
    memset(a, 0, sizeof *a);
    a->name = oc_strdup(name);
    if (!a->name)
        return NULL;
    n->n_attrs++;
    return a;
}

onnxc_status oc_node_set_attr_int(oc_node *n, const char *name, int64_t v)
{
    oc_attr *a = oc_node_attr_slot(n, name);
    if (!a)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    a->has_type = true;
    a->type = OC_ATTR_INT;
    a->has_i = true;
    a->i = v;
    return ONNXC_OK;
}

onnxc_status oc_node_set_attr_float(oc_node *n, const char *name, float v)
{
    oc_attr *a = oc_node_attr_slot(n, name);
    if (!a)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    a->has_type = true;
    a->type = OC_ATTR_FLOAT;
    a->has_f = true;
    a->f = v;
    return ONNXC_OK;
}

onnxc_status oc_node_set_attr_ints(oc_node *n, const char *name, const int64_t *v, size_t count)
{
    oc_attr *a = oc_node_attr_slot(n, name);
    if (!a)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    a->has_type = true;
    a->type = OC_ATTR_INTS;
    a->ints = oc_malloc((count ? count : 1) * sizeof *a->ints);
    if (!a->ints)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    if (count)
        memcpy(a->ints, v, count * sizeof *v);
    a->n_ints = count;
    return ONNXC_OK;
}

void oc_node_remove_attr(oc_node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (n->attrs[i].name && strcmp(n->attrs[i].name, name) == 0) {
            oc_attr_clear(&n->attrs[i]);
            memmove(&n->attrs[i], &n->attrs[i + 1], (size_t)(n->n_attrs - i - 1) * sizeof *n->attrs);
            n->n_attrs--;
            return;
        }
}

const char *oc_node_label(const oc_node *n, char *buf, size_t cap)
{
    if (!n)
        snprintf(buf, cap, "(none)");
    else if (n->name && *n->name)
        snprintf(buf, cap, "'%s' (%s)", n->name, n->op_type);
    else
        snprintf(buf, cap, "#%d (%s)", n->id, n->op_type);
    return buf;
}

oc_tensor *oc_tensor_adopt(onnxc_tensor *t)
{
    oc_tensor *w = oc_calloc(1, sizeof *w);
    if (!w) {
        onnxc_tensor_free(t);
        return NULL;
    }
    w->t = *t;
    oc_free(t);
    w->storage = OC_STORE_RAW;
    w->has_data_type = true;
    return w;
}

bool oc_domain_is_default(const char *domain) { return !domain || !*domain || strcmp(domain, "ai.onnx") == 0; }

bool oc_domain_same(const char *a, const char *b)
{
    if (oc_domain_is_default(a) || oc_domain_is_default(b))
        return oc_domain_is_default(a) && oc_domain_is_default(b);
    return strcmp(a, b) == 0;
}

bool oc_node_is_op(const oc_node *n, const char *op)
{
    return strcmp(n->op_type, op) == 0 && oc_domain_is_default(n->domain);
}
