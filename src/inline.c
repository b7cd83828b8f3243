/* Inlining of model-local functions (ModelProto.functions): each node of the main graph that calls one, by
 * domain and name, becomes a copy of the function's nodes. Exporters that write a function per module (the
 * PyTorch dynamo exporter) produce such calls; the executor and the passes only know real ops.
 *
 * The rewrite works on the protobuf form: the model is serialized, the main graph's node list rebuilt, the
 * result packed and loaded back, and the new main graph replaces the old one in the model. New nodes borrow
 * strings and attributes from the function and the call (nothing is freed twice: the rebuilt parts are ours and
 * are released before protobuf-c frees what it unpacked).
 *
 * Inside a copy: the function's inputs and outputs become the call's (an input the call omits becomes ""), any
 * other name becomes "<call>/<name>" made unique in the graph, an attribute that refers to a function attribute
 * (ref_attr_name) takes the call's value under the node's own name or is dropped when the call has none (the
 * op's default then applies; FunctionProto has no defaults before IR 9). Calls inside the copies are expanded
 * in turn, 16 levels at most. A function whose nodes hold subgraphs, or that imports a default-domain opset
 * other than the model's, is left as a call, with the reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "proto_tensor.h"
#include "util.h"

#define OC_INLINE_MAX_DEPTH 16

typedef struct names {
    char **v;
    int n, cap;
} names;

static bool names_has(const names *s, const char *x)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->v[i], x) == 0)
            return true;
    return false;
}

/* Records a borrowed pointer (the strings live as long as the unpacked model or our own allocations). */
static onnxc_status names_add(names *s, char *x)
{
    if (!x || !*x)
        return ONNXC_OK;
    onnxc_status st = oc_grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v);
    if (st == ONNXC_OK)
        s->v[s->n++] = x;
    return st;
}

/* What we allocate while rebuilding, freed at the end. */
typedef struct owned {
    void **p;
    int n, cap;
} owned;

static void *own(owned *o, void *p)
{
    if (!p)
        return NULL;
    if (oc_grow((void **)&o->p, &o->cap, o->n + 1, sizeof *o->p) != ONNXC_OK) {
        oc_free(p);
        return NULL;
    }
    o->p[o->n++] = p;
    return p;
}

static void owned_free(owned *o)
{
    for (int i = 0; i < o->n; i++)
        oc_free(o->p[i]);
    oc_free(o->p);
}

static int64_t default_opset(Onnx__OperatorSetIdProto **ops, size_t n, bool *found)
{
    *found = false;
    for (size_t i = 0; i < n; i++)
        if (ops[i] && oc_domain_same(ops[i]->domain, "")) {
            *found = true;
            return ops[i]->version;
        }
    return 0;
}

static Onnx__FunctionProto *find_function(Onnx__ModelProto *mp, const Onnx__NodeProto *n)
{
    for (size_t i = 0; i < mp->n_functions; i++) {
        Onnx__FunctionProto *f = mp->functions[i];
        if (f && f->name && n->op_type && strcmp(f->name, n->op_type) == 0 && oc_domain_same(f->domain, n->domain))
            return f;
    }
    return NULL;
}

/* Why f cannot be inlined here, or NULL. */
static const char *not_inlinable(Onnx__ModelProto *mp, const Onnx__FunctionProto *f, char *buf, size_t cap)
{
    for (size_t i = 0; i < f->n_node; i++)
        for (size_t k = 0; k < f->node[i]->n_attribute; k++) {
            const Onnx__AttributeProto *a = f->node[i]->attribute[k];
            if (a->g || a->n_graphs) {
                snprintf(buf, cap, "its node '%s' (%s) holds a subgraph", f->node[i]->name ? f->node[i]->name : "",
                         f->node[i]->op_type ? f->node[i]->op_type : "?");
                return buf;
            }
        }
    bool fm, ff;
    int64_t vm = default_opset(mp->opset_import, mp->n_opset_import, &fm);
    int64_t vf = default_opset(f->opset_import, f->n_opset_import, &ff);
    if (ff && fm && vf != vm) {
        snprintf(buf, cap, "it imports opset %lld of the default domain, the model %lld", (long long)vf,
                 (long long)vm);
        return buf;
    }
    return NULL;
}

typedef struct inliner {
    Onnx__ModelProto *mp;
    names used;
    owned mem;
    Onnx__NodeProto **nodes; /* the rebuilt main-graph node list (ours) */
    int n, cap;
    char *skipped;           /* why the first call that stays was not inlined */
    size_t skipped_cap;
    int expanded;
    int counter;
} inliner;

static onnxc_status expand(inliner *in, const Onnx__NodeProto *c, const Onnx__FunctionProto *f, int depth);

/* Append n to the rebuilt list, or, when it calls a function that can be inlined, its body in its place (in
 * order, so the list stays topological). depth counts the expansions that produced n. */
static onnxc_status emit(inliner *in, Onnx__NodeProto *n, int depth)
{
    const Onnx__FunctionProto *f = find_function(in->mp, n);
    char why[300];
    const char *no = f ? not_inlinable(in->mp, f, why, sizeof why) : NULL;
    if (f && !no && depth >= OC_INLINE_MAX_DEPTH)
        no = "calls nest deeper than 16 levels";
    if (f && !no)
        return expand(in, n, f, depth);
    if (f && !in->skipped[0])
        snprintf(in->skipped, in->skipped_cap, "call '%s' of function '%s' not inlined: %s", n->name ? n->name : "",
                 f->name, no);
    onnxc_status st = oc_grow((void **)&in->nodes, &in->cap, in->n + 1, sizeof *in->nodes);
    if (st == ONNXC_OK)
        in->nodes[in->n++] = n;
    return st;
}

/* A fresh name "<prefix>/<base>" (then "_2", "_3", ...) not used in the graph. */
static char *fresh_name(inliner *in, const char *prefix, const char *base)
{
    size_t len = strlen(prefix) + strlen(base) + 32;
    char *s = own(&in->mem, oc_malloc(len));
    if (!s)
        return NULL;
    snprintf(s, len, "%s/%s", prefix, base);
    for (int k = 2; names_has(&in->used, s); k++)
        snprintf(s, len, "%s/%s_%d", prefix, base, k);
    if (names_add(&in->used, s) != ONNXC_OK)
        return NULL;
    return s;
}

typedef struct rename {
    const char *from;
    char *to;
} rename_t;

static char *map_name(rename_t *map, size_t n_map, const char *name)
{
    for (size_t i = 0; i < n_map; i++)
        if (strcmp(map[i].from, name) == 0)
            return map[i].to;
    return NULL;
}

/* Expand call c of f: emit the copies of its nodes at depth + 1. */
static onnxc_status expand(inliner *in, const Onnx__NodeProto *c, const Onnx__FunctionProto *f, int depth)
{
    static char empty[] = "";
    char prefix[256];
    if (c->name && *c->name)
        snprintf(prefix, sizeof prefix, "%s", c->name);
    else
        snprintf(prefix, sizeof prefix, "%s_call%d", f->name, ++in->counter);
    size_t cap_map = f->n_input + f->n_output + 1;
    for (size_t i = 0; i < f->n_node; i++)
        cap_map += f->node[i]->n_output;
    rename_t *map = own(&in->mem, oc_calloc(cap_map, sizeof *map));
    if (!map)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    size_t n_map = 0;
    for (size_t i = 0; i < f->n_input; i++) {
        map[n_map].from = f->input[i];
        map[n_map++].to = i < c->n_input && c->input[i] ? c->input[i] : empty;
    }
    for (size_t i = 0; i < f->n_output; i++) {
        map[n_map].from = f->output[i];
        map[n_map++].to = i < c->n_output && c->output[i] ? c->output[i] : empty;
    }
    /* values made inside the function get fresh names */
    for (size_t i = 0; i < f->n_node; i++)
        for (size_t k = 0; k < f->node[i]->n_output; k++) {
            const char *o = f->node[i]->output[k];
            if (!o || !*o || map_name(map, n_map, o))
                continue;
            char *fresh = fresh_name(in, prefix, o);
            if (!fresh)
                return oc_err(ONNXC_E_NOMEM, "out of memory");
            map[n_map].from = o;
            map[n_map++].to = fresh;
        }
    for (size_t i = 0; i < f->n_node; i++) {
        const Onnx__NodeProto *fn = f->node[i];
        Onnx__NodeProto *n = own(&in->mem, oc_malloc(sizeof *n));
        if (!n)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        onnx__node_proto__init(n);
        n->op_type = fn->op_type;
        n->domain = fn->domain;
        n->doc_string = fn->doc_string;
        n->name = fresh_name(in, prefix, fn->name && *fn->name ? fn->name : (fn->op_type ? fn->op_type : "node"));
        if (!n->name)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        n->n_input = fn->n_input;
        n->n_output = fn->n_output;
        n->input = own(&in->mem, oc_calloc(fn->n_input + 1, sizeof *n->input));
        n->output = own(&in->mem, oc_calloc(fn->n_output + 1, sizeof *n->output));
        n->attribute = own(&in->mem, oc_calloc(fn->n_attribute + 1, sizeof *n->attribute));
        if (!n->input || !n->output || !n->attribute)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        for (size_t k = 0; k < fn->n_input; k++) {
            const char *x = fn->input[k];
            char *to = x && *x ? map_name(map, n_map, x) : empty;
            /* a name the function neither takes nor makes: an error in the function, kept as written so the
             * loader names it */
            n->input[k] = to ? to : fn->input[k];
        }
        for (size_t k = 0; k < fn->n_output; k++) {
            const char *x = fn->output[k];
            char *to = x && *x ? map_name(map, n_map, x) : empty;
            n->output[k] = to ? to : fn->output[k];
        }
        size_t na = 0;
        for (size_t k = 0; k < fn->n_attribute; k++) {
            Onnx__AttributeProto *a = fn->attribute[k];
            if (!a->ref_attr_name || !*a->ref_attr_name) {
                n->attribute[na++] = a;
                continue;
            }
            const Onnx__AttributeProto *given = NULL;
            for (size_t q = 0; q < c->n_attribute; q++)
                if (c->attribute[q]->name && strcmp(c->attribute[q]->name, a->ref_attr_name) == 0)
                    given = c->attribute[q];
            if (!given)
                continue; /* the op's default applies */
            Onnx__AttributeProto *copy = own(&in->mem, oc_malloc(sizeof *copy));
            if (!copy)
                return oc_err(ONNXC_E_NOMEM, "out of memory");
            *copy = *given; /* borrows the value */
            copy->name = a->name;
            copy->ref_attr_name = NULL;
            n->attribute[na++] = copy;
        }
        n->n_attribute = na;
        onnxc_status st = emit(in, n, depth + 1);
        if (st != ONNXC_OK)
            return st;
    }
    in->expanded++;
    return ONNXC_OK;
}

/* Collect the names in the main graph, so fresh ones avoid them. */
static onnxc_status collect_names(inliner *in, Onnx__GraphProto *g)
{
    onnxc_status st = ONNXC_OK;
    for (size_t i = 0; i < g->n_node && st == ONNXC_OK; i++) {
        Onnx__NodeProto *n = g->node[i];
        st = names_add(&in->used, n->name);
        for (size_t k = 0; k < n->n_output && st == ONNXC_OK; k++)
            st = names_add(&in->used, n->output[k]);
        for (size_t k = 0; k < n->n_input && st == ONNXC_OK; k++)
            st = names_add(&in->used, n->input[k]);
    }
    for (size_t i = 0; i < g->n_input && st == ONNXC_OK; i++)
        st = names_add(&in->used, g->input[i]->name);
    for (size_t i = 0; i < g->n_output && st == ONNXC_OK; i++)
        st = names_add(&in->used, g->output[i]->name);
    for (size_t i = 0; i < g->n_initializer && st == ONNXC_OK; i++)
        st = names_add(&in->used, g->initializer[i]->name);
    for (size_t i = 0; i < g->n_value_info && st == ONNXC_OK; i++)
        st = names_add(&in->used, g->value_info[i]->name);
    return st;
}

/* The rewrite on serialized bytes. *out is NULL when no call was expanded; skipped says why a call stayed
 * (the first one), or is "" . */
static onnxc_status inline_bytes(const uint8_t *data, size_t len, uint8_t **out, size_t *out_len, int *count,
                                 char *skipped, size_t cap)
{
    *out = NULL;
    *out_len = 0;
    *count = 0;
    skipped[0] = 0;
    bool too_deep = false;
    Onnx__ModelProto *mp = (Onnx__ModelProto *)oc_pb_unpack(&onnx__model_proto__descriptor, data, len, &too_deep);
    if (!mp)
        return oc_err(ONNXC_E_PARSE, "inline functions: the model does not parse back");
    inliner in;
    memset(&in, 0, sizeof in);
    in.mp = mp;
    onnxc_status st = ONNXC_OK;
    Onnx__GraphProto *g = mp->graph;
    Onnx__NodeProto **orig = g ? g->node : NULL;
    size_t n_orig = g ? g->n_node : 0;
    if (!g || mp->n_functions == 0)
        goto done;
    if ((st = collect_names(&in, g)) != ONNXC_OK)
        goto done;
    in.skipped = skipped;
    in.skipped_cap = cap;
    for (size_t i = 0; i < n_orig && st == ONNXC_OK; i++)
        st = emit(&in, orig[i], 0);
    if (st == ONNXC_OK && in.expanded > 0) {
        g->node = in.nodes;
        g->n_node = (size_t)in.n;
        size_t size = protobuf_c_message_get_packed_size(&mp->base);
        uint8_t *buf = oc_malloc(size ? size : 1);
        if (!buf) {
            st = oc_err(ONNXC_E_NOMEM, "out of memory for %zu bytes", size);
        } else {
            *out_len = protobuf_c_message_pack(&mp->base, buf);
            *out = buf;
            *count = in.expanded;
        }
        g->node = orig;
        g->n_node = n_orig;
    }
done:
    owned_free(&in.mem);
    oc_free(in.used.v);
    oc_free(in.nodes);
    protobuf_c_message_free_unpacked(&mp->base, &oc_pb_allocator);
    return st;
}

static void set_model(oc_graph *g, onnxc_model *m)
{
    g->model = m;
    for (int i = 0; i < g->n_nodes; i++) {
        oc_node *n = g->nodes[i];
        for (int k = 0; k < n->n_attrs; k++) {
            oc_attr *a = &n->attrs[k];
            if (a->g)
                set_model(a->g, m);
            for (size_t q = 0; q < a->n_graphs; q++)
                set_model(a->graphs[q], m);
        }
    }
}

/* m with its calls inlined, as a new model (*out NULL when no call was expanded). */
static onnxc_status inlined_model(const onnxc_model *m, onnxc_model **out, int *count, char *note, size_t note_cap)
{
    *out = NULL;
    *count = 0;
    void *data = NULL;
    size_t len = 0;
    onnxc_status st = onnxc_model_serialize(m, &data, &len);
    if (st != ONNXC_OK)
        return st;
    uint8_t *bytes = NULL;
    size_t n_bytes = 0;
    st = inline_bytes(data, len, &bytes, &n_bytes, count, note, note_cap);
    oc_free(data);
    if (st != ONNXC_OK || !bytes)
        return st;
    st = onnxc_model_load_buffer(bytes, n_bytes, m->dir, m->path ? m->path : "<inlined model>", out);
    oc_free(bytes);
    if (st != ONNXC_OK)
        return oc_err_prefix(st, "after inlining %d function call%s", *count, *count == 1 ? "" : "s");
    return ONNXC_OK;
}

onnxc_status onnxc_model_inline_functions(onnxc_model *m, int *count, char *note, size_t note_cap)
{
    char dummy[1];
    if (!note || !note_cap) {
        note = dummy;
        note_cap = sizeof dummy;
    }
    note[0] = 0;
    if (count)
        *count = 0;
    if (!m || !m->graph)
        return oc_err(ONNXC_E_ARG, "inline functions: no model");
    if (m->n_functions == 0)
        return ONNXC_OK;
    onnxc_model *fresh = NULL;
    int n = 0;
    onnxc_status st = inlined_model(m, &fresh, &n, note, note_cap);
    if (st != ONNXC_OK || !fresh)
        return st;
    /* the new main graph moves into m; fresh takes the old one away */
    oc_graph *old = m->graph;
    m->graph = fresh->graph;
    fresh->graph = old;
    set_model(m->graph, m);
    set_model(old, fresh);
    onnxc_model_free(fresh);
    if (count)
        *count = n;
    return ONNXC_OK;
}

bool oc_model_calls_functions(const onnxc_model *m)
{
    if (!m || !m->graph || m->n_functions == 0)
        return false;
    bool calls = false;
    for (int f = 0; f < m->n_functions && !calls; f++) {
        bool too_deep = false;
        Onnx__FunctionProto *fp = (Onnx__FunctionProto *)oc_pb_unpack(&onnx__function_proto__descriptor,
                                                                      m->functions[f].data, m->functions[f].len,
                                                                      &too_deep);
        if (!fp)
            continue;
        for (int i = 0; i < m->graph->n_nodes && !calls; i++) {
            const oc_node *n = m->graph->nodes[i];
            calls = !n->dead && fp->name && strcmp(n->op_type, fp->name) == 0 && oc_domain_same(n->domain, fp->domain);
        }
        protobuf_c_message_free_unpacked(&fp->base, &oc_pb_allocator);
    }
    return calls;
}

onnxc_status oc_model_inlined_copy(const onnxc_model *m, onnxc_model **out)
{
    char note[400];
    int n = 0;
    return inlined_model(m, out, &n, note, sizeof note);
}
