/* onnxc_model_check: structural validation of a loaded model. Reports, one line each: nodes out of
 * topological order, cycles, undefined inputs, graph inputs/initializers that a node also produces, graph
 * outputs nobody produces, declared types that disagree (with each other or with src/infer.c), attributes given
 * twice, of the wrong type or missing, opset imports missing for a used domain, and every
 * op (with its opset) that the runtime's kernel registry cannot run, all in one run; subgraphs included. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "infer.h"
#include "ir.h"
#include "kernel.h"
#include "unsupported.h"
#include "train_mode.h"

#define MAX_DEPTH 64          /* subgraph nesting cap: a crafted file must not exhaust the stack */
#define MAX_ORDER_LINES 10    /* out-of-order uses listed per graph before summarising */

/* ---------------------------------------------------------------- pointer -> int map */

typedef struct ptrmap {
    const void **keys;
    int *vals;
    size_t cap;
} ptrmap;

static size_t ptr_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (size_t)x;
}

static onnxc_status ptrmap_init(ptrmap *m, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 2)
        cap *= 2;
    m->cap = cap;
    m->keys = oc_calloc(cap, sizeof *m->keys);
    m->vals = oc_calloc(cap, sizeof *m->vals);
    if (!m->keys || !m->vals) {
        oc_free(m->keys);
        oc_free(m->vals);
        m->keys = NULL;
        m->vals = NULL;
        return oc_err(ONNXC_E_NOMEM, "out of memory checking the model");
    }
    return ONNXC_OK;
}

static void ptrmap_free(ptrmap *m)
{
    oc_free(m->keys);
    oc_free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
}

/* Insert key -> val unless key is present; returns the value stored for key. The map is sized for at most
 * n distinct keys by ptrmap_init. */
static int ptrmap_put(ptrmap *m, const void *key, int val)
{
    size_t i = ptr_hash(key) & (m->cap - 1);
    while (m->keys[i]) {
        if (m->keys[i] == key)
            return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = key;
    m->vals[i] = val;
    return val;
}

static int ptrmap_get(const ptrmap *m, const void *key)
{
    size_t i = ptr_hash(key) & (m->cap - 1);
    while (m->keys[i]) {
        if (m->keys[i] == key)
            return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

/* ---------------------------------------------------------------- the checker */

typedef struct missing_domain {
    const char *domain;  /* NULL: default */
    int n_nodes;
    const oc_node *first;
} missing_domain;

typedef struct checker {
    const onnxc_model *m;
    FILE *f;
    int n_problems;
    missing_domain *missing;
    int n_missing, cap_missing;
} checker;

typedef struct edge {
    int from, to;
    const oc_value *value;
    bool implicit; /* through a subgraph of the consumer */
} edge;

static void problem(checker *c, const char *ctx, const char *fmt, ...) OC_PRINTF(3, 4);
static void problem(checker *c, const char *ctx, const char *fmt, ...)
{
    c->n_problems++;
    if (!c->f)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* one problem, one line: names from the file may hold newlines */
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(c->f, "%s%s\n", ctx, line);
}


static bool same_domain(const char *a, const char *b)
{
    if (oc_domain_is_default(a) || oc_domain_is_default(b))
        return oc_domain_is_default(a) && oc_domain_is_default(b);
    return strcmp(a, b) == 0;
}

static const char *label(const oc_node *n, char *buf, size_t cap) { return oc_node_label(n, buf, cap); }

/* Defined in its own graph: produced by a live node, a graph input, or an initializer (a sparse initializer
 * is kept packed, so its value has the OC_V_SPARSE flag and no data). */
static bool defined_here(const oc_value *v)
{
    return (v->producer && !v->producer->dead) || (v->flags & (OC_V_INPUT | OC_V_INITIALIZER | OC_V_SPARSE)) ||
           v->init;
}

/* The value a name refers to as seen from graph g: a value of g that is not defined in g stands for the
 * value of that name in an enclosing graph (the loader may keep such outer references as placeholders). */
static const oc_value *resolve(const oc_value *v)
{
    for (int guard = 0; v && !defined_here(v) && guard <= MAX_DEPTH; guard++) {
        const oc_graph *pg = v->graph ? v->graph->parent : NULL;
        v = pg ? oc_graph_lookup(pg, v->name) : NULL;
    }
    return v && defined_here(v) ? v : NULL;
}

static bool is_ancestor(const oc_graph *a, const oc_graph *g)
{
    for (; g; g = g->parent)
        if (g == a)
            return true;
    return false;
}

static onnxc_status note_missing_domain(checker *c, const oc_node *n)
{
    const char *dom = oc_domain_is_default(n->domain) ? NULL : n->domain;
    for (int i = 0; i < c->n_missing; i++)
        if (same_domain(c->missing[i].domain, dom)) {
            c->missing[i].n_nodes++;
            return ONNXC_OK;
        }
    onnxc_status st = oc_grow((void **)&c->missing, &c->cap_missing, c->n_missing + 1, sizeof *c->missing);
    if (st != ONNXC_OK)
        return st;
    c->missing[c->n_missing++] = (missing_domain){dom, 1, n};
    return ONNXC_OK;
}

static onnxc_status check_graph(checker *c, const oc_graph *g, const char *ctx, int depth);

/* ---------------------------------------------------------------- declared types */

static const char *type_str(const oc_type *ty, char *buf, size_t cap)
{
    if (ty->kind == OC_TYPE_OPAQUE) {
        snprintf(buf, cap, "a non-tensor type");
        return buf;
    }
    size_t k = (size_t)snprintf(buf, cap, "%s", ty->has_elem_type ? onnxc_dtype_name(ty->elem_type) : "?");
    if (ty->rank >= 0 && k < cap) {
        k += (size_t)snprintf(buf + k, cap - k, " [");
        for (int d = 0; d < ty->rank && k < cap; d++) {
            const oc_dim *dim = &ty->dims[d];
            if (dim->has_value)
                k += (size_t)snprintf(buf + k, cap - k, "%s%lld", d ? "x" : "", (long long)dim->value);
            else
                k += (size_t)snprintf(buf + k, cap - k, "%s%s", d ? "x" : "", dim->param && *dim->param ? dim->param : "?");
        }
        if (k < cap)
            snprintf(buf + k, cap - k, "]");
    }
    return buf;
}

/* True when two declarations of one value contradict each other (element type, rank or a static dim). */
static bool types_disagree(const oc_type *a, const oc_type *b)
{
    if (a->kind != OC_TYPE_TENSOR || b->kind != OC_TYPE_TENSOR)
        return a->kind != OC_TYPE_NONE && b->kind != OC_TYPE_NONE && a->kind != b->kind;
    if (a->has_elem_type && b->has_elem_type && a->elem_type != b->elem_type && a->elem_type != 0 && b->elem_type != 0)
        return true;
    if (a->rank >= 0 && b->rank >= 0) {
        if (a->rank != b->rank)
            return true;
        for (int d = 0; d < a->rank; d++)
            if (a->dims[d].has_value && b->dims[d].has_value && a->dims[d].value != b->dims[d].value)
                return true;
    }
    return false;
}

/* A declared type against a constant tensor (initializer or Constant node). */
static bool type_disagrees_tensor(const oc_type *ty, const onnxc_tensor *t)
{
    if (ty->kind == OC_TYPE_OPAQUE)
        return true;
    if (ty->kind != OC_TYPE_TENSOR)
        return false;
    if (ty->has_elem_type && ty->elem_type != 0 && ty->elem_type != t->dtype)
        return true;
    if (ty->rank >= 0) {
        if (ty->rank != t->rank)
            return true;
        for (int d = 0; d < ty->rank; d++)
            if (ty->dims[d].has_value && ty->dims[d].value != t->dims[d])
                return true;
    }
    return false;
}

static const char *tensor_str(const onnxc_tensor *t, char *buf, size_t cap)
{
    char dims[256];
    oc_dims_str(t->dims, t->rank, dims, sizeof dims);
    if (snprintf(buf, cap, "%s [%s]", onnxc_dtype_name(t->dtype), dims) >= (int)cap && cap > 4)
        memcpy(buf + cap - 4, "...", 4);
    return buf;
}

static onnxc_status check_declarations(checker *c, const oc_graph *g, const char *ctx)
{
    struct { const oc_vinfo *list; int n; const char *what; } lists[3] = {
        {g->inputs, g->n_inputs, "graph input"},
        {g->outputs, g->n_outputs, "graph output"},
        {g->value_infos, g->n_value_infos, "value_info"},
    };
    int total = g->n_inputs + g->n_outputs + g->n_value_infos;
    ptrmap first;
    onnxc_status st = ptrmap_init(&first, (size_t)total);
    if (st != ONNXC_OK)
        return st;
    const oc_vinfo **all = oc_calloc((size_t)total + 1, sizeof *all);
    const char **where = oc_calloc((size_t)total + 1, sizeof *where);
    if (!all || !where) {
        ptrmap_free(&first);
        oc_free(all);
        oc_free(where);
        return oc_err(ONNXC_E_NOMEM, "out of memory checking the model");
    }
    int k = 0;
    for (int l = 0; l < 3; l++) {
        for (int i = 0; i < lists[l].n; i++, k++) {
            const oc_vinfo *vi = &lists[l].list[i];
            const oc_value *v = vi->value;
            all[k] = vi;
            where[k] = lists[l].what;
            if (!v)
                continue;
            char a[256], b[256];
            const oc_type *ty = &vi->type;
            if (ty->kind == OC_TYPE_TENSOR)
                for (int d = 0; d < ty->rank; d++)
                    if (ty->dims[d].has_value && ty->dims[d].value < 0)
                        problem(c, ctx, "%s '%s' declares a negative dim %lld (dim %d)", lists[l].what, v->name,
                                (long long)ty->dims[d].value, d);
            int j = ptrmap_put(&first, v, k);
            if (j != k) {
                if (where[j] == lists[l].what && l < 2)
                    problem(c, ctx, "%s '%s' is listed twice", lists[l].what, v->name);
                else if (types_disagree(&all[j]->type, ty))
                    problem(c, ctx, "value '%s': %s says %s, %s says %s", v->name, where[j],
                            type_str(&all[j]->type, a, sizeof a), lists[l].what, type_str(ty, b, sizeof b));
            }
            const oc_tensor *init = v->init;
            if (init && type_disagrees_tensor(ty, &init->t))
                problem(c, ctx, "value '%s': %s says %s, initializer is %s", v->name, lists[l].what,
                        type_str(ty, a, sizeof a), tensor_str(&init->t, b, sizeof b));
            const oc_tensor *cst = !init && !(v->flags & OC_V_OUTER) ? oc_value_constant(v) : NULL;
            if (cst && type_disagrees_tensor(ty, &cst->t))
                problem(c, ctx, "value '%s': %s says %s, Constant node gives %s", v->name, lists[l].what,
                        type_str(ty, a, sizeof a), tensor_str(&cst->t, b, sizeof b));
        }
    }
    ptrmap_free(&first);
    oc_free(all);
    oc_free(where);
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- order and cycles */

/* The edge to node `to` from the node of g producing v, when a subgraph refers to v (NULL: nothing). */
static onnxc_status outer_edge(const oc_value *v, const oc_graph *g, const ptrmap *pos, int to, edge **edges,
                               int *n_edges, int *cap_edges)
{
    const oc_value *r = v ? resolve(v) : NULL;
    if (!r || r->graph != g || !r->producer || r->producer->dead)
        return ONNXC_OK;
    int from = ptrmap_get(pos, r->producer);
    if (from < 0)
        return ONNXC_OK;
    onnxc_status st = oc_grow((void **)edges, cap_edges, *n_edges + 1, sizeof **edges);
    if (st != ONNXC_OK)
        return st;
    (*edges)[(*n_edges)++] = (edge){from, to, r, true};
    return ONNXC_OK;
}

/* Values of graph g (produced by a node of g) that the subgraph sub, or subgraphs within it, refers to. */
static onnxc_status outer_edges(const oc_graph *sub, const oc_graph *g, const ptrmap *pos, int to, edge **edges,
                                int *n_edges, int *cap_edges, int depth)
{
    if (depth > MAX_DEPTH)
        return ONNXC_OK; /* reported by check_graph */
    for (int i = 0; i < sub->n_nodes; i++) {
        const oc_node *n = sub->nodes[i];
        if (n->dead)
            continue;
        for (int s = 0; s < n->n_inputs; s++) {
            onnxc_status st = outer_edge(n->inputs[s], g, pos, to, edges, n_edges, cap_edges);
            if (st != ONNXC_OK)
                return st;
        }
        for (int a = 0; a < n->n_attrs; a++) {
            const oc_attr *at = &n->attrs[a];
            onnxc_status st;
            if (at->g && (st = outer_edges(at->g, g, pos, to, edges, n_edges, cap_edges, depth + 1)) != ONNXC_OK)
                return st;
            for (size_t k = 0; k < at->n_graphs; k++)
                if (at->graphs[k] &&
                    (st = outer_edges(at->graphs[k], g, pos, to, edges, n_edges, cap_edges, depth + 1)) != ONNXC_OK)
                    return st;
        }
    }
    for (int i = 0; i < sub->n_outputs; i++) {
        onnxc_status st = outer_edge(sub->outputs[i].value, g, pos, to, edges, n_edges, cap_edges);
        if (st != ONNXC_OK)
            return st;
    }
    return ONNXC_OK;
}

/* Report uses before definition, then find cycles: Kahn's algorithm from the sources, then peel nodes with no
 * successor left; what remains lies on (or between) cycles. */
static onnxc_status check_order(checker *c, const char *ctx, const oc_node **live, int n, const edge *edges,
                                int n_edges)
{
    char a[200], b[200];
    int late = 0, backward = 0;
    for (int e = 0; e < n_edges; e++)
        backward += edges[e].from >= edges[e].to;
    if (backward == 0)
        return ONNXC_OK; /* every edge goes forward: the order is topological and there is no cycle */
    for (int e = 0; e < n_edges; e++) {
        const edge *ed = &edges[e];
        if (ed->from < ed->to)
            continue;
        if (ed->from == ed->to && !ed->implicit) {
            problem(c, ctx, "node %s consumes its own output '%s' (a cycle)", label(live[ed->to], a, sizeof a),
                    ed->value->name);
            continue;
        }
        if (late++ >= MAX_ORDER_LINES)
            continue;
        if (ed->implicit)
            problem(c, ctx, "node %s: a subgraph uses '%s', which node %s produces %s (not in topological order)",
                    label(live[ed->to], a, sizeof a), ed->value->name, label(live[ed->from], b, sizeof b),
                    ed->from == ed->to ? "itself" : "later");
        else
            problem(c, ctx, "node %s uses '%s' before node %s produces it (not in topological order)",
                    label(live[ed->to], a, sizeof a), ed->value->name, label(live[ed->from], b, sizeof b));
    }
    if (late > MAX_ORDER_LINES)
        problem(c, ctx, "... and %d more uses before definition", late - MAX_ORDER_LINES);

    int *indeg = oc_calloc((size_t)n + 1, sizeof *indeg);
    int *outdeg = oc_calloc((size_t)n + 1, sizeof *outdeg);
    int *start = oc_calloc((size_t)n + 2, sizeof *start);
    int *rstart = oc_calloc((size_t)n + 2, sizeof *rstart);
    int *succ = oc_calloc((size_t)n_edges + 1, sizeof *succ);
    int *pred = oc_calloc((size_t)n_edges + 1, sizeof *pred);
    int *queue = oc_calloc((size_t)n + 1, sizeof *queue);
    bool *gone = oc_calloc((size_t)n + 1, sizeof *gone);
    onnxc_status st = ONNXC_OK;
    if (!indeg || !outdeg || !start || !rstart || !succ || !pred || !queue || !gone) {
        st = oc_err(ONNXC_E_NOMEM, "out of memory checking the model");
        goto done;
    }
    for (int e = 0; e < n_edges; e++) {
        start[edges[e].from + 1]++;
        rstart[edges[e].to + 1]++;
    }
    for (int i = 0; i < n; i++) {
        start[i + 1] += start[i];
        rstart[i + 1] += rstart[i];
    }
    {
        int *fill = indeg, *rfill = outdeg; /* reuse as cursors, reset below */
        for (int e = 0; e < n_edges; e++) {
            succ[start[edges[e].from] + fill[edges[e].from]++] = edges[e].to;
            pred[rstart[edges[e].to] + rfill[edges[e].to]++] = edges[e].from;
        }
    }
    for (int i = 0; i < n; i++) {
        indeg[i] = rstart[i + 1] - rstart[i];
        outdeg[i] = start[i + 1] - start[i];
    }
    int head = 0, tail = 0;
    for (int i = 0; i < n; i++)
        if (indeg[i] == 0)
            queue[tail++] = i;
    while (head < tail) {
        int x = queue[head++];
        gone[x] = true;
        for (int k = start[x]; k < start[x + 1]; k++)
            if (--indeg[succ[k]] == 0)
                queue[tail++] = succ[k];
    }
    if (tail == n)
        goto done;
    /* Peel the nodes downstream of a cycle: a remaining node none of whose successors remain. */
    for (int i = 0; i < n; i++) {
        if (gone[i])
            continue;
        outdeg[i] = 0;
        for (int k = start[i]; k < start[i + 1]; k++)
            outdeg[i] += !gone[succ[k]];
    }
    head = tail = 0;
    for (int i = 0; i < n; i++)
        if (!gone[i] && outdeg[i] == 0)
            queue[tail++] = i;
    while (head < tail) {
        int x = queue[head++];
        gone[x] = true;
        for (int k = rstart[x]; k < rstart[x + 1]; k++)
            if (!gone[pred[k]] && --outdeg[pred[k]] == 0)
                queue[tail++] = pred[k];
    }
    {
        char list[700];
        size_t len = 0;
        int count = 0, shown = 0;
        list[0] = 0;
        for (int i = 0; i < n; i++) {
            if (gone[i])
                continue;
            count++;
            if (shown < 6 && len < sizeof list) {
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", shown ? ", " : "",
                                        label(live[i], a, sizeof a));
                shown++;
            }
        }
        if (count)
            problem(c, ctx, "cycle among %d node%s: %s%s", count, count == 1 ? "" : "s", list,
                    count > shown ? ", ..." : "");
    }
done:
    oc_free(indeg);
    oc_free(outdeg);
    oc_free(start);
    oc_free(rstart);
    oc_free(succ);
    oc_free(pred);
    oc_free(queue);
    oc_free(gone);
    return st;
}


/* ---------------------------------------------------------------- attributes */

/* Attribute types (and which are required) of default-domain ops, from the ONNX operator schemas. */
typedef struct attr_spec {
    const char *op, *name;
    int type;
    bool required;
} attr_spec;

static const attr_spec attr_specs[] = {
    {"Cast", "to", OC_ATTR_INT, true},
    {"Concat", "axis", OC_ATTR_INT, true},
    {"MaxPool", "kernel_shape", OC_ATTR_INTS, true},
    {"AveragePool", "kernel_shape", OC_ATTR_INTS, true},
    {"LpPool", "kernel_shape", OC_ATTR_INTS, true},
    {"DepthToSpace", "blocksize", OC_ATTR_INT, true},
    {"SpaceToDepth", "blocksize", OC_ATTR_INT, true},
    {"Conv", "group", OC_ATTR_INT, false}, {"Conv", "strides", OC_ATTR_INTS, false},
    {"Conv", "pads", OC_ATTR_INTS, false}, {"Conv", "dilations", OC_ATTR_INTS, false},
    {"Conv", "kernel_shape", OC_ATTR_INTS, false}, {"Conv", "auto_pad", OC_ATTR_STRING, false},
    {"ConvTranspose", "group", OC_ATTR_INT, false}, {"ConvTranspose", "strides", OC_ATTR_INTS, false},
    {"ConvTranspose", "pads", OC_ATTR_INTS, false}, {"ConvTranspose", "output_padding", OC_ATTR_INTS, false},
    {"MaxPool", "strides", OC_ATTR_INTS, false}, {"MaxPool", "pads", OC_ATTR_INTS, false},
    {"AveragePool", "strides", OC_ATTR_INTS, false}, {"AveragePool", "pads", OC_ATTR_INTS, false},
    {"Gemm", "alpha", OC_ATTR_FLOAT, false}, {"Gemm", "beta", OC_ATTR_FLOAT, false},
    {"Gemm", "transA", OC_ATTR_INT, false}, {"Gemm", "transB", OC_ATTR_INT, false},
    {"BatchNormalization", "epsilon", OC_ATTR_FLOAT, false}, {"BatchNormalization", "momentum", OC_ATTR_FLOAT, false},
    {"LeakyRelu", "alpha", OC_ATTR_FLOAT, false}, {"Elu", "alpha", OC_ATTR_FLOAT, false},
    {"Transpose", "perm", OC_ATTR_INTS, false}, {"Gather", "axis", OC_ATTR_INT, false},
    {"Flatten", "axis", OC_ATTR_INT, false}, {"Softmax", "axis", OC_ATTR_INT, false},
    {"Split", "axis", OC_ATTR_INT, false}, {"Reshape", "allowzero", OC_ATTR_INT, false},
    {"ConstantOfShape", "value", OC_ATTR_TENSOR, false}, {"Clip", "min", OC_ATTR_FLOAT, false},
    {"Clip", "max", OC_ATTR_FLOAT, false},
};

static const char *attr_type_name(int t)
{
    static const char *const names[] = {"UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR", "GRAPH", "FLOATS", "INTS",
                                        "STRINGS", "TENSORS", "GRAPHS", "SPARSE_TENSOR", "SPARSE_TENSORS",
                                        "TYPE_PROTO", "TYPE_PROTOS"};
    return t >= 0 && t < (int)(sizeof names / sizeof names[0]) ? names[t] : "?";
}

/* Duplicate attribute names (both kept by the loader), attributes of the wrong type, missing required ones. */
static void check_attrs(checker *c, const oc_node *n, const char *ctx)
{
    char a[200];
    for (int i = 0; i < n->n_attrs; i++) {
        const char *nm = n->attrs[i].name ? n->attrs[i].name : "";
        for (int j = 0; j < i; j++)
            if (n->attrs[j].name && strcmp(n->attrs[j].name, nm) == 0) {
                problem(c, ctx, "node %s: attribute '%s' is given more than once", label(n, a, sizeof a), nm);
                break;
            }
    }
    if (!oc_domain_is_default(n->domain) || !n->op_type)
        return;
    for (size_t k = 0; k < sizeof attr_specs / sizeof attr_specs[0]; k++) {
        const attr_spec *sp = &attr_specs[k];
        if (strcmp(sp->op, n->op_type) != 0)
            continue;
        const oc_attr *at = oc_node_attr(n, sp->name);
        if (!at) {
            if (sp->required)
                problem(c, ctx, "node %s: required attribute '%s' is missing", label(n, a, sizeof a), sp->name);
            continue;
        }
        if (at->has_type && at->type != sp->type && !at->ref_attr_name)
            problem(c, ctx, "node %s: attribute '%s' is %s, %s %s expects %s", label(n, a, sizeof a), sp->name,
                    attr_type_name(at->type), sp->op, sp->name, attr_type_name(sp->type));
    }
}

/* ---------------------------------------------------------------- declarations against inference */

static void check_inferred(checker *c, const oc_graph *g, const char *ctx)
{
    oc_infer *inf = NULL;
    if (oc_infer_graph(g, true, &inf) != ONNXC_OK) {
        oc_err_clear();
        return;
    }
    char a[200], b[200], nl[200];
    for (int pass = 0; pass < 2; pass++) {
        int cnt = pass ? g->n_value_infos : g->n_outputs;
        for (int i = 0; i < cnt; i++) {
            const oc_vinfo *vi = pass ? &g->value_infos[i] : &g->outputs[i];
            const oc_value *v = vi->value;
            if (!v || !v->producer || v->producer->dead || vi->type.kind != OC_TYPE_TENSOR)
                continue;
            const char *why = oc_infer_conflict(inf, v);
            const oc_vshape *s = oc_infer_get(inf, v);
            if (why)
                continue; /* reported once per node below */
            if (!s->inferred)
                continue;
            const oc_type *ty = &vi->type;
            bool bad = ty->has_elem_type && ty->elem_type && s->has_elem && ty->elem_type != s->elem;
            if (!bad && ty->rank >= 0 && s->rank >= 0) {
                bad = ty->rank != s->rank;
                for (int d = 0; !bad && d < ty->rank; d++)
                    bad = ty->dims[d].has_value && s->d[d].v >= 0 && ty->dims[d].value != s->d[d].v;
            }
            if (bad)
                problem(c, ctx, "%s '%s' is declared %s but node %s produces %s", pass ? "value_info" : "graph output",
                        v->name, type_str(ty, a, sizeof a), label(v->producer, nl, sizeof nl),
                        oc_vshape_str(s, b, sizeof b));
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const oc_node *n = g->nodes[i];
        if (!n->dead && n->n_outputs && n->outputs[0] && oc_infer_conflict(inf, n->outputs[0]))
            problem(c, ctx, "%s", oc_infer_conflict(inf, n->outputs[0]));
    }
    oc_infer_free(inf);
}

/* ---------------------------------------------------------------- one graph */

static onnxc_status check_node_ops(checker *c, const oc_node *n, const char *ctx)
{
    char a[200];
    if (!n->op_type || !*n->op_type) {
        problem(c, ctx, "node %s has an empty op_type", label(n, a, sizeof a));
        return ONNXC_OK;
    }
    if ((n->n_outputs == 0 || !n->outputs[0]) && !oc_op_first_output_optional(n))
        problem(c, ctx, "node %s: %s; the op requires its first output", label(n, a, sizeof a),
                n->n_outputs ? "output 0 is left out (empty name)" : "the node has no outputs");
    /* ops without a kernel are listed by oc_unsupported_ops, the list session creation gives too */
    if (oc_model_opset(c->m, n->domain) <= 0)
        return note_missing_domain(c, n);
    return ONNXC_OK;
}

static onnxc_status check_subgraphs(checker *c, const oc_node *n, const char *ctx, int depth)
{
    char a[200], sub_ctx[768];
    for (int k = 0; k < n->n_attrs; k++) {
        const oc_attr *at = &n->attrs[k];
        size_t count = at->g ? 1 : at->n_graphs;
        for (size_t j = 0; j < count; j++) {
            const oc_graph *sg = at->g ? at->g : at->graphs[j];
            if (!sg)
                continue;
            snprintf(sub_ctx, sizeof sub_ctx, "%sgraph '%s' (attribute '%s' of node %s): ", ctx,
                     sg->name ? sg->name : "", at->name ? at->name : "", label(n, a, sizeof a));
            onnxc_status st = check_graph(c, sg, sub_ctx, depth + 1);
            if (st != ONNXC_OK)
                return st;
        }
    }
    return ONNXC_OK;
}

static onnxc_status check_graph(checker *c, const oc_graph *g, const char *ctx, int depth)
{
    if (depth > MAX_DEPTH) {
        problem(c, ctx, "subgraphs nested more than %d deep; not checked further", MAX_DEPTH);
        return ONNXC_OK;
    }
    char a[200], b[200];
    onnxc_status st = ONNXC_OK;
    const oc_node **live = oc_calloc((size_t)g->n_nodes + 1, sizeof *live);
    ptrmap pos = {0}, seen = {0};
    edge *edges = NULL;
    int n_edges = 0, cap_edges = 0, n = 0;
    if (!live) {
        st = oc_err(ONNXC_E_NOMEM, "out of memory checking the model");
        goto done;
    }
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i]->dead)
            live[n++] = g->nodes[i];
    if ((st = ptrmap_init(&pos, (size_t)n)) != ONNXC_OK)
        goto done;
    for (int i = 0; i < n; i++)
        ptrmap_put(&pos, live[i], i);

    /* graph inputs and initializers: listed once, never also the output of a node */
    if ((st = ptrmap_init(&seen, (size_t)(g->n_inputs + g->n_initializers))) != ONNXC_OK)
        goto done;
    for (int i = 0; i < g->n_inputs; i++) {
        const oc_value *v = g->inputs[i].value;
        if (v && v->producer && !v->producer->dead)
            problem(c, ctx, "graph input '%s' is also produced by node %s", v->name, label(v->producer, a, sizeof a));
    }
    for (int i = 0; i < g->n_initializers; i++) {
        const oc_value *v = g->initializers[i];
        if (ptrmap_put(&seen, v, i) != i)
            problem(c, ctx, "initializer '%s' is listed twice", v->name);
        else if (v->producer && !v->producer->dead)
            problem(c, ctx, "initializer '%s' is also produced by node %s", v->name, label(v->producer, a, sizeof a));
    }
    if ((st = check_declarations(c, g, ctx)) != ONNXC_OK)
        goto done;

    for (int i = 0; i < n; i++) {
        const oc_node *nd = live[i];
        for (int s = 0; s < nd->n_inputs; s++) {
            const oc_value *v = nd->inputs[s];
            if (!v)
                continue;
            if (v->graph == g && v->producer && !v->producer->dead) {
                int from = ptrmap_get(&pos, v->producer);
                if (from < 0) {
                    problem(c, ctx, "node %s: input '%s' comes from node %s, which is not in this graph",
                            label(nd, a, sizeof a), v->name, label(v->producer, b, sizeof b));
                    continue;
                }
                if ((st = oc_grow((void **)&edges, &cap_edges, n_edges + 1, sizeof *edges)) != ONNXC_OK)
                    goto done;
                edges[n_edges++] = (edge){from, i, v, false};
                continue;
            }
            if (v->graph != g && !is_ancestor(v->graph, g)) {
                problem(c, ctx, "node %s: input '%s' belongs to a graph that does not enclose this one",
                        label(nd, a, sizeof a), v->name);
                continue;
            }
            if (!resolve(v))
                problem(c, ctx, "node %s: input '%s' is not defined (no node produces it; not a graph input or initializer%s)",
                        label(nd, a, sizeof a), v->name, g->parent ? " here or in an enclosing graph" : "");
        }
        for (int s = 0; s < nd->n_outputs; s++) {
            const oc_value *v = nd->outputs[s];
            if (v && v->producer != nd)
                problem(c, ctx, "node %s: output '%s' is also produced by node %s", label(nd, a, sizeof a), v->name,
                        label(v->producer, b, sizeof b));
            else if (v && g->parent && oc_graph_lookup(g->parent, v->name))
                problem(c, ctx, "node %s: output '%s' shadows a value of an enclosing graph (names must be unique "
                        "across scopes; onnx.checker and ONNX Runtime refuse it)", label(nd, a, sizeof a), v->name);
        }
        if ((st = check_node_ops(c, nd, ctx)) != ONNXC_OK)
            goto done;
        check_attrs(c, nd, ctx);
        for (int k = 0; k < nd->n_attrs; k++) {
            const oc_attr *at = &nd->attrs[k];
            if (at->g && (st = outer_edges(at->g, g, &pos, i, &edges, &n_edges, &cap_edges, depth + 1)) != ONNXC_OK)
                goto done;
            for (size_t j = 0; j < at->n_graphs; j++)
                if (at->graphs[j] &&
                    (st = outer_edges(at->graphs[j], g, &pos, i, &edges, &n_edges, &cap_edges, depth + 1)) != ONNXC_OK)
                    goto done;
        }
        if ((st = check_subgraphs(c, nd, ctx, depth)) != ONNXC_OK)
            goto done;
    }

    /* graph outputs: each listed once and defined (a node output, an input, an initializer, or for a
     * subgraph a value of an enclosing graph) */
    ptrmap_free(&seen);
    if ((st = ptrmap_init(&seen, (size_t)g->n_outputs)) != ONNXC_OK)
        goto done;
    for (int i = 0; i < g->n_outputs; i++) {
        const oc_value *v = g->outputs[i].value;
        if (!v)
            continue;
        if (ptrmap_put(&seen, v, i) != i)
            continue; /* "listed twice" is reported with the declarations */
        if (!resolve(v))
            problem(c, ctx, "graph output '%s' is not produced by any node (nor a graph input or initializer)", v->name);
    }
    st = check_order(c, ctx, live, n, edges, n_edges);
    if (st == ONNXC_OK)
        check_inferred(c, g, ctx);
done:
    ptrmap_free(&pos);
    ptrmap_free(&seen);
    oc_free(live);
    oc_free(edges);
    return st;
}

/* ---------------------------------------------------------------- the model */

static void report_model_level(checker *c)
{
    const onnxc_model *m = c->m;
    if (!m->has_ir_version)
        problem(c, "", "model has no ir_version");
    for (int i = 0; i < m->n_opsets; i++) {
        const char *d = m->opsets[i].domain;
        if (!m->opsets[i].has_version || m->opsets[i].version <= 0)
            problem(c, "", "opset_import for domain '%s' has no valid version", d && *d ? d : "ai.onnx");
        else if (oc_domain_is_default(d) && m->opsets[i].version > 23) /* ONNX 1.18 defines opset 23 */
            problem(c, "", "opset_import ai.onnx version %lld is not an ONNX opset (the newest is 23)",
                    (long long)m->opsets[i].version);
        for (int j = 0; j < i; j++)
            if (same_domain(m->opsets[j].domain, d)) {
                problem(c, "", "opset_import lists domain '%s' twice", d && *d ? d : "ai.onnx");
                break;
            }
    }
}

static void report_missing(checker *c)
{
    char a[200];
    for (int i = 0; i < c->n_missing; i++) {
        const missing_domain *md = &c->missing[i];
        problem(c, "", "opset import missing for domain '%s', used by %d node%s (first: %s)",
                md->domain ? md->domain : "ai.onnx", md->n_nodes, md->n_nodes == 1 ? "" : "s",
                label(md->first, a, sizeof a));
    }
}

static onnxc_status report_unsupported(checker *c)
{
    char line[4096];
    int n = 0;
    onnxc_status st = oc_unsupported_ops(c->m, &n, line, sizeof line);
    if (st == ONNXC_OK && n)
        problem(c, "", "unsupported: %s", line);
    return st;
}

onnxc_status onnxc_model_check(const onnxc_model *m, FILE *f, int *n_problems)
{
    if (n_problems)
        *n_problems = 0;
    if (!m || !m->graph)
        return oc_err(ONNXC_E_ARG, "onnxc_model_check: NULL model");
    /* calls of model-local functions are checked as the executor runs them: inlined (on a copy) */
    onnxc_model *inlined = NULL;
    if (oc_model_calls_functions(m)) {
        onnxc_status ist = oc_model_inlined_copy(m, &inlined);
        if (ist != ONNXC_OK)
            return oc_err_prefix(ist, "inlining the model's functions");
        if (inlined) {
            m = inlined;
            if (f)
                fprintf(f, "note: calls of model-local functions checked inlined\n");
        }
    }
    checker c;
    memset(&c, 0, sizeof c);
    c.m = m;
    c.f = f;
    report_model_level(&c);
    onnxc_status st = check_graph(&c, m->graph, "", 0);
    if (st == ONNXC_OK) {
        report_missing(&c);
        st = report_unsupported(&c);
        /* a warning, not a problem: the model is valid, its outputs are probably not what the user wants */
        oc_train_mode tm;
        oc_train_mode_scan(m->graph, &tm);
        oc_train_mode_print(&tm, f);
    }
    oc_free(c.missing);
    onnxc_model_free(inlined);
    if (st != ONNXC_OK)
        return st;
    if (f && (fflush(f) != 0 || ferror(f)))
        return oc_err(ONNXC_E_IO, "could not write the check report");
    if (n_problems)
        *n_problems = c.n_problems;
    return ONNXC_OK;
}
