/* onnxc_model_print_info: a human (or JSON) summary of a model: versions, inputs and outputs with their shapes,
 * the op histogram, parameter counts and how many BatchNormalization nodes look foldable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bn_match.h"
#include "ir.h"
#include "json.h"
#include "util.h"
#include "train_mode.h"

typedef struct op_count {
    const char *domain; /* NULL for the default domain */
    const char *op_type;
    long count;
} op_count;

/* One subgraph: where it is ("'loop' (Loop).body", nested ones joined by " / ", as the optimize report names
 * scopes), its graph name and its own nodes (not those of subgraphs within it). */
typedef struct sub_count {
    char *path;
    const char *graph;
    long nodes;
} sub_count;

typedef struct info_stats {
    sub_count *subs;
    int n_subs, cap_subs;
    op_count *ops;
    int n_ops, cap_ops;
    long nodes_main;     /* nodes of the main graph */
    long nodes_total;    /* including every subgraph */
    long subgraphs;
    long initializers;
    int64_t params_float; /* elements of floating-point initializers */
    int64_t params_total; /* elements of all initializers */
    int64_t param_bytes;
    long bn_count;
    long bn_foldable;
} info_stats;


static onnxc_status count_op(info_stats *s, const oc_node *n)
{
    const char *dom = oc_domain_is_default(n->domain) ? NULL : n->domain;
    for (int i = 0; i < s->n_ops; i++) {
        op_count *o = &s->ops[i];
        if (strcmp(o->op_type, n->op_type) == 0 && (dom ? o->domain && strcmp(o->domain, dom) == 0 : !o->domain)) {
            o->count++;
            return ONNXC_OK;
        }
    }
    onnxc_status st = oc_grow((void **)&s->ops, &s->cap_ops, s->n_ops + 1, sizeof *s->ops);
    if (st != ONNXC_OK)
        return st;
    s->ops[s->n_ops].domain = dom;
    s->ops[s->n_ops].op_type = n->op_type;
    s->ops[s->n_ops].count = 1;
    s->n_ops++;
    return ONNXC_OK;
}

static bool is_float_dtype(int32_t dt)
{
    return dt == ONNXC_FLOAT || dt == ONNXC_DOUBLE || dt == ONNXC_FLOAT16 || dt == ONNXC_BFLOAT16;
}

static onnxc_status collect(info_stats *s, const oc_graph *g, int depth, const char *path);

/* Record subgraph sg of node n (attribute at, index k among its graphs or -1) and collect it. */
static onnxc_status collect_sub(info_stats *s, const oc_node *n, const oc_attr *at, long k, const oc_graph *sg,
                                int depth, const char *path)
{
    char lbl[300], sub[1024], idx[32] = "";
    if (k >= 0)
        snprintf(idx, sizeof idx, "[%ld]", k);
    int w = snprintf(sub, sizeof sub, "%s%s%s.%s%s", path ? path : "", path ? " / " : "", oc_node_label(n, lbl, sizeof lbl),
                     at->name ? at->name : "?", idx);
    if (w < 0 || w >= (int)sizeof sub)
        snprintf(sub + sizeof sub - 4, 4, "...");
    onnxc_status st = oc_grow((void **)&s->subs, &s->cap_subs, s->n_subs + 1, sizeof *s->subs);
    if (st != ONNXC_OK)
        return st;
    sub_count *sc = &s->subs[s->n_subs++];
    sc->path = oc_strdup(sub);
    sc->graph = sg->name;
    sc->nodes = 0;
    for (int i = 0; i < sg->n_nodes; i++)
        sc->nodes += !sg->nodes[i]->dead;
    if (!sc->path)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    s->subgraphs++;
    return collect(s, sg, depth + 1, sub);
}

static void stats_free(info_stats *s)
{
    for (int i = 0; i < s->n_subs; i++)
        oc_free(s->subs[i].path);
    oc_free(s->subs);
    oc_free(s->ops);
}

static onnxc_status collect(info_stats *s, const oc_graph *g, int depth, const char *path)
{
    /* A model is untrusted input: cap the nesting so a crafted file cannot exhaust the stack. */
    if (depth > 64)
        return oc_err(ONNXC_E_INVALID, "subgraphs nested more than 64 deep");
    for (int i = 0; i < g->n_initializers; i++) {
        const oc_value *v = g->initializers[i];
        if (!v->init)
            continue;
        const onnxc_tensor *t = &v->init->t;
        int64_t n;
        if (!oc_numel(t->dims, t->rank, &n))
            n = 0;
        s->initializers++;
        s->params_total += n;
        if (is_float_dtype(t->dtype))
            s->params_float += n;
        s->param_bytes += (int64_t)t->nbytes;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const oc_node *n = g->nodes[i];
        if (n->dead)
            continue;
        s->nodes_total++;
        if (depth == 0)
            s->nodes_main++;
        onnxc_status st = count_op(s, n);
        if (st != ONNXC_OK)
            return st;
        if (oc_is_batchnorm(n)) {
            s->bn_count++;
        }
        for (int a = 0; a < n->n_attrs; a++) {
            const oc_attr *at = &n->attrs[a];
            if (at->g && (st = collect_sub(s, n, at, -1, at->g, depth, path)) != ONNXC_OK)
                return st;
            for (size_t k = 0; k < at->n_graphs; k++)
                if (at->graphs[k] && (st = collect_sub(s, n, at, (long)k, at->graphs[k], depth, path)) != ONNXC_OK)
                    return st;
        }
    }
    return ONNXC_OK;
}

static int cmp_ops(const void *pa, const void *pb)
{
    const op_count *a = pa, *b = pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    if (!a->domain != !b->domain)
        return a->domain ? 1 : -1; /* default domain first on ties */
    if (a->domain) {
        int c = strcmp(a->domain, b->domain);
        if (c)
            return c;
    }
    return strcmp(a->op_type, b->op_type);
}

/* ---------------------------------------------------------------- JSON */

static const char *type_name(const oc_type *ty)
{
    if (ty->kind == OC_TYPE_OPAQUE)
        return "non-tensor";
    if (ty->kind != OC_TYPE_TENSOR || !ty->has_elem_type)
        return "undefined";
    return onnxc_dtype_name(ty->elem_type);
}

static void json_vinfo(FILE *f, const oc_vinfo *vi)
{
    fputs("{\"name\": ", f);
    oc_json_str(f, vi->value->name);
    fputs(", \"dtype\": ", f);
    oc_json_str(f, type_name(&vi->type));
    fputs(", \"shape\": ", f);
    if (vi->type.kind != OC_TYPE_TENSOR || vi->type.rank < 0) {
        fputs("null", f);
    } else {
        fputc('[', f);
        for (int d = 0; d < vi->type.rank; d++) {
            const oc_dim *dim = &vi->type.dims[d];
            if (d)
                fputs(", ", f);
            if (dim->has_value)
                fprintf(f, "%lld", (long long)dim->value);
            else if (dim->param)
                oc_json_str(f, dim->param);
            else
                fputs("null", f);
        }
        fputc(']', f);
    }
    fputc('}', f);
}

static bool listed_input(const oc_vinfo *vi) { return vi->value && !vi->value->init; }

static void print_json(const onnxc_model *m, const info_stats *s, const oc_train_mode *tm, FILE *f)
{
    const oc_graph *g = m->graph;
    fputs("{\"file\": ", f);
    oc_json_str(f, m->path);
    fputs(", \"ir_version\": ", f);
    if (m->has_ir_version)
        fprintf(f, "%lld", (long long)m->ir_version);
    else
        fputs("null", f);
    fputs(", \"opset_import\": [", f);
    for (int i = 0; i < m->n_opsets; i++) {
        fputs(i ? ", {\"domain\": " : "{\"domain\": ", f);
        oc_json_str(f, m->opsets[i].domain ? m->opsets[i].domain : "");
        fprintf(f, ", \"version\": %lld}", (long long)m->opsets[i].version);
    }
    fputs("], \"producer_name\": ", f);
    oc_json_str(f, m->producer_name);
    fputs(", \"producer_version\": ", f);
    oc_json_str(f, m->producer_version);
    fputs(", \"domain\": ", f);
    oc_json_str(f, m->domain);
    fputs(", \"model_version\": ", f);
    if (m->has_model_version)
        fprintf(f, "%lld", (long long)m->model_version);
    else
        fputs("null", f);
    fputs(", \"graph_name\": ", f);
    oc_json_str(f, g->name);
    fputs(", \"inputs\": [", f);
    int k = 0;
    for (int i = 0; i < g->n_inputs; i++) {
        if (!listed_input(&g->inputs[i]))
            continue;
        if (k++)
            fputs(", ", f);
        json_vinfo(f, &g->inputs[i]);
    }
    fputs("], \"outputs\": [", f);
    for (int i = 0; i < g->n_outputs; i++) {
        if (i)
            fputs(", ", f);
        json_vinfo(f, &g->outputs[i]);
    }
    fprintf(f, "], \"node_count\": %ld, \"node_count_total\": %ld, \"subgraph_count\": %ld, \"subgraphs\": [",
            s->nodes_main, s->nodes_total, s->subgraphs);
    for (int i = 0; i < s->n_subs; i++) {
        fprintf(f, "%s{\"path\": ", i ? ", " : "");
        oc_json_str(f, s->subs[i].path);
        fprintf(f, ", \"graph\": ");
        oc_json_str(f, s->subs[i].graph ? s->subs[i].graph : "");
        fprintf(f, ", \"nodes\": %ld}", s->subs[i].nodes);
    }
    fprintf(f, "], \"op_histogram\": {");
    for (int i = 0; i < s->n_ops; i++) {
        char key[512];
        if (s->ops[i].domain)
            snprintf(key, sizeof key, "%s.%s", s->ops[i].domain, s->ops[i].op_type);
        else
            snprintf(key, sizeof key, "%s", s->ops[i].op_type);
        if (i)
            fputs(", ", f);
        oc_json_str(f, key);
        fprintf(f, ": %ld", s->ops[i].count);
    }
    fprintf(f,
            "}, \"parameters\": {\"float\": %lld, \"total\": %lld, \"bytes\": %lld, \"initializers\": %ld}, "
            "\"batchnorm\": {\"count\": %ld, \"foldable\": %ld}, \"training_mode\": {\"batchnorm\": %d, "
            "\"dropout\": %d, \"training_graph\": %s}}\n",
            (long long)s->params_float, (long long)s->params_total, (long long)s->param_bytes, s->initializers,
            s->bn_count, s->bn_foldable, tm->n_bn, tm->n_dropout, tm->stats_output ? "true" : "false");
}

/* ---------------------------------------------------------------- text */

static void text_shape(FILE *f, const oc_type *ty)
{
    if (ty->kind != OC_TYPE_TENSOR || ty->rank < 0) {
        fputs("shape unknown", f);
        return;
    }
    if (ty->rank == 0) {
        fputs("scalar", f);
        return;
    }
    for (int d = 0; d < ty->rank; d++) {
        const oc_dim *dim = &ty->dims[d];
        if (d)
            fputs(" x ", f);
        if (dim->has_value)
            fprintf(f, "%lld", (long long)dim->value);
        else if (dim->param && *dim->param)
            fputs(dim->param, f);
        else
            fputc('?', f);
    }
}

static void text_vinfo(FILE *f, const oc_vinfo *vi)
{
    fprintf(f, "  %-24s %-9s ", vi->value->name, type_name(&vi->type));
    text_shape(f, &vi->type);
    fputc('\n', f);
}

static void print_text(const onnxc_model *m, const info_stats *s, FILE *f)
{
    const oc_graph *g = m->graph;
    if (m->path)
        fprintf(f, "model:       %s\n", m->path);
    if (m->has_ir_version)
        fprintf(f, "ir_version:  %lld\n", (long long)m->ir_version);
    else
        fputs("ir_version:  (none)\n", f);
    fputs("opset:       ", f);
    if (!m->n_opsets)
        fputs("(none)", f);
    for (int i = 0; i < m->n_opsets; i++)
        fprintf(f, "%s%s %lld", i ? ", " : "", m->opsets[i].domain && *m->opsets[i].domain ? m->opsets[i].domain : "ai.onnx",
                (long long)m->opsets[i].version);
    fputc('\n', f);
    fprintf(f, "producer:    %s%s%s\n", m->producer_name && *m->producer_name ? m->producer_name : "(none)",
            m->producer_version && *m->producer_version ? " " : "", m->producer_version ? m->producer_version : "");
    fprintf(f, "graph:       %s\n", g->name ? g->name : "");
    int n_in = 0;
    for (int i = 0; i < g->n_inputs; i++)
        n_in += listed_input(&g->inputs[i]);
    fprintf(f, "inputs:      %d\n", n_in);
    for (int i = 0; i < g->n_inputs; i++)
        if (listed_input(&g->inputs[i]))
            text_vinfo(f, &g->inputs[i]);
    fprintf(f, "outputs:     %d\n", g->n_outputs);
    for (int i = 0; i < g->n_outputs; i++)
        text_vinfo(f, &g->outputs[i]);
    fprintf(f, "nodes:       %ld", s->nodes_main);
    if (s->subgraphs)
        fprintf(f, " (+%ld in %ld subgraph%s)", s->nodes_total - s->nodes_main, s->subgraphs,
                s->subgraphs == 1 ? "" : "s");
    fputc('\n', f);
    for (int i = 0; i < s->n_subs; i++)
        fprintf(f, "  %ld node%s in %s (graph '%s')\n", s->subs[i].nodes, s->subs[i].nodes == 1 ? "" : "s",
                s->subs[i].path, s->subs[i].graph ? s->subs[i].graph : "");
    fprintf(f, "ops:         %d kinds\n", s->n_ops);
    for (int i = 0; i < s->n_ops; i++) {
        char key[512];
        if (s->ops[i].domain)
            snprintf(key, sizeof key, "%s.%s", s->ops[i].domain, s->ops[i].op_type);
        else
            snprintf(key, sizeof key, "%s", s->ops[i].op_type);
        fprintf(f, "  %-32s %ld\n", key, s->ops[i].count);
    }
    fprintf(f, "parameters:  %lld float elements, %lld elements in all, %lld bytes (%ld initializers)\n",
            (long long)s->params_float, (long long)s->params_total, (long long)s->param_bytes, s->initializers);
    if (s->bn_foldable >= 0)
        fprintf(f, "batchnorm:   %ld BatchNormalization nodes, %ld foldable (as onnxc optimize folds them)\n",
                s->bn_count, s->bn_foldable);
    else
        fprintf(f, "batchnorm:   %ld BatchNormalization nodes, foldable unknown (the passes fail on this model: %s)\n",
                s->bn_count, onnxc_last_error());
}

onnxc_status onnxc_model_print_info(const onnxc_model *m, FILE *f, int json)
{
    if (!m || !m->graph || !f)
        return oc_err(ONNXC_E_ARG, "onnxc_model_print_info: NULL argument");
    info_stats s;
    memset(&s, 0, sizeof s);
    onnxc_status st = collect(&s, m->graph, 0, NULL);
    if (st != ONNXC_OK) {
        stats_free(&s);
        return st;
    }
    /* the count optimize would fold (one predicate, on the graph fold-bn sees); -1 when that run fails */
    if (s.bn_count > 0 && oc_bn_count_foldable(m, &s.bn_foldable) != ONNXC_OK)
        s.bn_foldable = -1;
    if (s.n_ops > 1)
        qsort(s.ops, (size_t)s.n_ops, sizeof *s.ops, cmp_ops);
    oc_train_mode tm;
    oc_train_mode_scan(m->graph, &tm);
    if (json) {
        print_json(m, &s, &tm, f);
    } else {
        print_text(m, &s, f);
        oc_train_mode_print(&tm, f);
    }
    stats_free(&s);
    if (fflush(f) != 0 || ferror(f))
        return oc_err(ONNXC_E_IO, "could not write the model summary");
    return ONNXC_OK;
}

onnxc_status onnxc_model_info_json(const onnxc_model *m, char **json)
{
    if (!json)
        return oc_err(ONNXC_E_ARG, "onnxc_model_info_json: NULL argument");
    *json = NULL;
    if (!m)
        return oc_err(ONNXC_E_ARG, "onnxc_model_info_json: NULL argument");
    oc_membuf b;
    onnxc_status st = oc_membuf_open(&b);
    if (st != ONNXC_OK)
        return st;
    st = onnxc_model_print_info(m, b.f, 1);
    char *text = NULL;
    onnxc_status st2 = oc_membuf_take(&b, &text);
    if (st == ONNXC_OK)
        st = st2;
    if (st != ONNXC_OK) {
        free(text);
        return st;
    }
    *json = text;
    return ONNXC_OK;
}
