/* The pass registry and the pipeline runner: runs a list of passes over a model with a rewrite budget, checks
 * the graph after every pass, re-runs the list to a fixed point (bounded), and builds the report (events, op counts and parameter bytes before and after). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"
#include "pass.h"

onnxc_status oc_refresh_value_info(onnxc_model *m); /* value_info_refresh.c */

const oc_pass *const oc_passes[] = {
    &oc_pass_cleanup, &oc_pass_const_fold, &oc_pass_fold_bn, &oc_pass_fold_affine, &oc_pass_drop_bias, &oc_pass_eval_mode,
    &oc_pass_swap_norm, &oc_pass_fold_shapes, &oc_pass_remove_noops, &oc_pass_merge_chains, &oc_pass_fold_pad,
    &oc_pass_cse, NULL,
};

/* The default pipeline: every exact pass, in an order where each one sets up the next, run again while a round
 * changed the graph. cleanup first removes Identity/Dropout between a Conv and its BN; const-fold turns Constant
 * chains into initializers; fold-shapes folds shape arithmetic on static dims (const-fold then computes what
 * depends on it in the next round); remove-noops, merge-chains and fold-pad remove the copies, pairs and Pads
 * left; fold-bn folds BNs back into their producer or forward into an unpadded Conv; fold-affine folds frozen
 * BNs and per-channel Mul/Add; drop-bias handles BNs that stay; cse then merges repeated work (after the folds:
 * two Convs sharing input and weight, each with its own BN, fold into two Convs, where merging them first
 * would leave one Conv and two BNs); a final cleanup removes what the folds left unused. */
static const char *const oc_default_pipeline[] = {
    "cleanup", "const-fold", "fold-shapes", "remove-noops", "merge-chains", "fold-pad", "fold-bn", "fold-affine",
    "drop-bias-before-bn", "cse", "cleanup", NULL};

const oc_pass *oc_pass_find(const char *name)
{
    for (int i = 0; oc_passes[i]; i++)
        if (strcmp(oc_passes[i]->name, name) == 0)
            return oc_passes[i];
    return NULL;
}

/* Resolve a comma-separated list of pass names (blanks around a name ignored, empty names skipped) into list
 * (room for OC_MAX_PIPELINE); ONNXC_E_ARG naming the option and the first unknown name. */
#define OC_MAX_PIPELINE 64
/* Deepest nesting of subgraphs the passes descend into (validate_graph stops there too). */
#define OC_MAX_SCOPE_DEPTH 64
/* Bound on the pipeline's rounds (runs of the whole list) when passes keep changing the graph. */
#define OC_MAX_ROUNDS 8
static onnxc_status resolve_passes(const char *option, const char *spec, const oc_pass **list, int *n_out)
{
    *n_out = 0;
    char *buf = oc_strdup(spec);
    if (!buf)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    onnxc_status st = ONNXC_OK;
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && st == ONNXC_OK; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        size_t len = strlen(tok);
        while (len && tok[len - 1] == ' ')
            tok[--len] = 0;
        if (!*tok)
            continue;
        const oc_pass *p = oc_pass_find(tok);
        if (!p) {
            char known[512] = "";
            size_t off = 0;
            for (int i = 0; oc_passes[i] && off < sizeof known; i++)
                off += (size_t)snprintf(known + off, sizeof known - off, "%s%s", i ? ", " : "", oc_passes[i]->name);
            st = oc_err(ONNXC_E_ARG, "%s: unknown pass '%s' (known: %s)", option, tok, known);
        } else if (n >= OC_MAX_PIPELINE) {
            st = oc_err(ONNXC_E_ARG, "%s: more than %d passes", option, OC_MAX_PIPELINE);
        } else if (list) {
            list[n++] = p;
        } else {
            n++;
        }
    }
    oc_free(buf);
    *n_out = n;
    return st;
}

static onnxc_status check_pass_list(const char *name, const char *value)
{
    int n;
    return resolve_passes(name, value, NULL, &n);
}

enum { PL_PASSES, PL_STOP_AFTER, PL_CHECK_EACH, PL_EVAL_MODE, PL_KEEP_VALUE_INFO, PL_N_OPTIONS };

const oc_opt_def oc_pipeline_options[] = {
    [PL_PASSES] = {.name = "passes", .type = OC_OPT_STRING, .dflt = "", .check = check_pass_list,
                   .help = "comma-separated passes to run, in this order; empty: the default pipeline"},
    [PL_STOP_AFTER] = {.name = "stop-after", .type = OC_OPT_INT, .dflt = "0", .min = 0, .max = 1000000000,
                       .help = "apply only the first N rewrites (to find a bad rewrite by bisection); 0: no limit"},
    [PL_CHECK_EACH] = {.name = "check-each", .type = OC_OPT_BOOL, .dflt = "false",
                       .help = "check the graph's consistency after every pass (debug builds always do; so does "
                               "env ONNXC_CHECK_PASSES=1)"},
    [PL_EVAL_MODE] = {.name = "eval-mode", .type = OC_OPT_BOOL, .dflt = "false",
                      .help = "run the eval-mode pass first (unless the list has it): a model exported in training "
                              "mode gets inference BatchNormalization (running statistics) and no Dropout"},
    [PL_KEEP_VALUE_INFO] = {.name = "keep-value-info", .type = OC_OPT_BOOL, .dflt = "false",
                            .help = "leave value_info as it was; by default it is rewritten from shape inference "
                                    "(src/infer.c) after the passes"},
};
const int oc_n_pipeline_options = PL_N_OPTIONS;
_Static_assert(sizeof oc_pipeline_options / sizeof oc_pipeline_options[0] == PL_N_OPTIONS,
               "one table entry per pipeline option");

void onnxc_list_passes(FILE *f)
{
    for (int i = 0; oc_passes[i]; i++) {
        fprintf(f, "%-22s %-8s %s\n", oc_passes[i]->name, oc_passes[i]->exact ? "exact" : "changes",
                oc_passes[i]->summary);
        for (int k = 0; k < oc_passes[i]->n_options; k++)
            oc_opt_print(f, &oc_passes[i]->options[k]);
    }
    fprintf(f, "\npipeline (default:");
    for (int i = 0; oc_default_pipeline[i]; i++)
        fprintf(f, "%s%s", i ? ", " : " ", oc_default_pipeline[i]);
    fprintf(f, ")\n");
    for (int k = 0; k < oc_n_pipeline_options; k++)
        oc_opt_print(f, &oc_pipeline_options[k]);
}

/* ---------------------------------------------------------------- report */

bool oc_pass_may_rewrite(oc_pass_ctx *ctx)
{
    if (ctx->budget < 0)
        return true;
    if (ctx->budget == 0) {
        ctx->report->budget_exhausted = true;
        return false;
    }
    ctx->budget--;
    return true;
}

static void oc_report_add(oc_pass_ctx *ctx, oc_event_kind kind, const oc_node *n, const char *fmt, va_list ap)
{
    onnxc_report *r = ctx->report;
    if (!r || oc_grow((void **)&r->events, &r->cap_events, r->n_events + 1, sizeof *r->events) != ONNXC_OK)
        return;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (kind == OC_EV_WARNING) {
        /* a later round of the fixed point meets the same problem again: say it once */
        char lbl[300] = "";
        if (n)
            oc_node_label(n, lbl, sizeof lbl);
        for (int i = 0; i < r->n_events; i++) {
            const oc_event *o = &r->events[i];
            if (o->kind == kind && !strcmp(o->pass, ctx->pass_name) && o->message && !strcmp(o->message, msg) &&
                !strcmp(o->node ? o->node : "", lbl) && !strcmp(o->scope ? o->scope : "", ctx->scope ? ctx->scope : ""))
                return;
        }
    }
    oc_event *e = &r->events[r->n_events++];
    e->pass = ctx->pass_name;
    e->kind = kind;
    e->node = e->node_name = e->op_type = NULL;
    e->n_details = 0;
    if (n) {
        char lbl[300];
        e->node = oc_strdup(oc_node_label(n, lbl, sizeof lbl));
        e->node_name = oc_strdup(n->name ? n->name : "");
        e->op_type = oc_strdup(n->op_type ? n->op_type : "");
    }
    e->message = oc_strdup(msg);
    e->scope = ctx->scope ? oc_strdup(ctx->scope) : NULL;
    if (kind == OC_EV_CHANGED)
        r->n_changes++;
}

void oc_report_detail(oc_pass_ctx *ctx, const char *key, int64_t value)
{
    onnxc_report *r = ctx->report;
    if (!r || r->n_events == 0)
        return;
    oc_event *e = &r->events[r->n_events - 1];
    if (e->n_details < (int)(sizeof e->details / sizeof e->details[0]))
        e->details[e->n_details++] = (oc_event_detail){key, value};
}

void oc_report_changed(oc_pass_ctx *ctx, const oc_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    oc_report_add(ctx, OC_EV_CHANGED, n, fmt, ap);
    va_end(ap);
}

void oc_report_skipped(oc_pass_ctx *ctx, const oc_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    oc_report_add(ctx, OC_EV_SKIPPED, n, fmt, ap);
    va_end(ap);
}

void oc_report_warning(oc_pass_ctx *ctx, const oc_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    oc_report_add(ctx, OC_EV_WARNING, n, fmt, ap);
    va_end(ap);
}

static int oc_cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void oc_stats_free(oc_graph_stats *st)
{
    for (int i = 0; i < st->n_ops; i++)
        oc_free(st->op_names[i]);
    oc_free(st->op_names);
    oc_free(st->op_counts);
    memset(st, 0, sizeof *st);
}

/* Parameters of g's initializers and Constant nodes. */
static void oc_stats_params(const oc_graph *g, oc_graph_stats *st)
{
    for (int i = 0; i < g->n_initializers; i++) {
        if (!g->initializers[i]->init)
            continue;
        const onnxc_tensor *t = &g->initializers[i]->init->t;
        st->param_bytes += (int64_t)t->nbytes;
        st->param_count += onnxc_tensor_numel(t);
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const oc_node *nd = g->nodes[i];
        if (nd->dead || strcmp(nd->op_type, "Constant") != 0)
            continue;
        const oc_attr *a = oc_node_attr(nd, "value");
        if (a && a->t) {
            st->param_bytes += (int64_t)a->t->t.nbytes;
            st->param_count += onnxc_tensor_numel(&a->t->t);
        }
    }
}

/* Nodes and parameters of the subgraphs within g. */
static void oc_stats_nested(const oc_graph *g, oc_graph_stats *st, int depth)
{
    for (int i = 0; i < g->n_nodes && depth < OC_MAX_SCOPE_DEPTH; i++) {
        const oc_node *n = g->nodes[i];
        if (n->dead)
            continue;
        for (int a = 0; a < n->n_attrs; a++) {
            const oc_attr *at = &n->attrs[a];
            for (size_t k = 0; k < 1 + at->n_graphs; k++) {
                const oc_graph *sg = k == 0 ? at->g : at->graphs[k - 1];
                if (!sg)
                    continue;
                for (int j = 0; j < sg->n_nodes; j++)
                    st->n_nested_nodes += !sg->nodes[j]->dead;
                oc_stats_params(sg, st);
                oc_stats_nested(sg, st, depth + 1);
            }
        }
    }
}

static void oc_stats_collect(const oc_graph *g, oc_graph_stats *st)
{
    oc_stats_free(st);
    const char **names = oc_calloc((size_t)g->n_nodes + 1, sizeof *names);
    if (!names)
        return;
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i]->dead)
            names[n++] = g->nodes[i]->op_type;
    st->n_nodes = n;
    qsort(names, (size_t)n, sizeof *names, oc_cmp_str);
    st->op_names = oc_calloc((size_t)n + 1, sizeof *st->op_names);
    st->op_counts = oc_calloc((size_t)n + 1, sizeof *st->op_counts);
    if (st->op_names && st->op_counts) {
        for (int i = 0; i < n; i++) {
            if (st->n_ops && strcmp(st->op_names[st->n_ops - 1], names[i]) == 0) {
                st->op_counts[st->n_ops - 1]++;
                continue;
            }
            char *nm = oc_strdup(names[i]);
            if (!nm)
                break; /* the statistics are best effort; a NULL name would crash the comparison above */
            st->op_names[st->n_ops] = nm;
            st->op_counts[st->n_ops++] = 1;
        }
    }
    oc_free(names);
    oc_stats_params(g, st);
    oc_stats_nested(g, st, 0);
}

int onnxc_report_num_changes(const onnxc_report *r) { return r ? r->n_changes : 0; }

int onnxc_report_num_nodes(const onnxc_report *r, int after)
{
    return r ? (after ? r->after.n_nodes : r->before.n_nodes) : 0;
}

static int oc_stats_count(const oc_graph_stats *st, const char *op);

int onnxc_report_op_count(const onnxc_report *r, const char *op, int after)
{
    return r && op ? oc_stats_count(after ? &r->after : &r->before, op) : 0;
}

void onnxc_report_free(onnxc_report *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n_events; i++) {
        oc_free(r->events[i].node);
        oc_free(r->events[i].node_name);
        oc_free(r->events[i].op_type);
        oc_free(r->events[i].message);
        oc_free(r->events[i].scope);
    }
    oc_free(r->events);
    oc_stats_free(&r->before);
    oc_stats_free(&r->after);
    for (int i = 0; i < r->n_passes_run; i++)
        oc_free(r->passes_run[i]);
    oc_free(r->passes_run);
    oc_free(r);
}

static int oc_stats_count(const oc_graph_stats *st, const char *op)
{
    for (int i = 0; i < st->n_ops; i++)
        if (strcmp(st->op_names[i], op) == 0)
            return st->op_counts[i];
    return 0;
}

onnxc_status onnxc_report_json(const onnxc_report *r, char **json)
{
    if (!json || !r) {
        if (json)
            *json = NULL;
        return oc_err(ONNXC_E_ARG, "onnxc_report_json: NULL argument");
    }
    oc_membuf b;
    onnxc_status st = oc_membuf_open(&b);
    if (st != ONNXC_OK) {
        *json = NULL;
        return st;
    }
    onnxc_report_print(r, b.f, 1);
    return oc_membuf_take(&b, json);
}

static const char *const oc_event_names[] = {"changed", "skipped", "warning", "info"};

/* Rewrites per scope, one line, when some were made inside subgraphs: "rewrites per scope: main graph 3, 'loop'
 * (Loop).body 2". Scopes in the order they first appear. */
static void print_scope_counts(const onnxc_report *r, FILE *f)
{
    bool nested = false;
    for (int i = 0; i < r->n_events && !nested; i++)
        nested = r->events[i].kind == OC_EV_CHANGED && r->events[i].scope;
    if (!nested)
        return;
    int main_count = 0;
    for (int i = 0; i < r->n_events; i++)
        main_count += r->events[i].kind == OC_EV_CHANGED && !r->events[i].scope;
    fprintf(f, "rewrites per scope: main graph %d", main_count);
    for (int i = 0; i < r->n_events; i++) {
        const oc_event *e = &r->events[i];
        if (e->kind != OC_EV_CHANGED || !e->scope)
            continue;
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = r->events[j].kind == OC_EV_CHANGED && r->events[j].scope && !strcmp(r->events[j].scope, e->scope);
        if (seen)
            continue;
        int count = 0;
        for (int j = i; j < r->n_events; j++)
            count += r->events[j].kind == OC_EV_CHANGED && r->events[j].scope && !strcmp(r->events[j].scope, e->scope);
        fprintf(f, ", %s %d", e->scope, count);
    }
    fputc('\n', f);
}

void onnxc_report_print(const onnxc_report *r, FILE *f, int json)
{
    if (!r)
        return;
    if (json) {
        fprintf(f, "{\"passes\": [");
        for (int i = 0; i < r->n_passes_run; i++) {
            fprintf(f, i ? ", " : "");
            oc_json_str(f, r->passes_run[i] ? r->passes_run[i] : "");
        }
        fprintf(f, "], \"rounds\": %d, \"changes\": %d, \"stopped_by_budget\": %s, \"events\": [", r->rounds,
                r->n_changes, r->budget_exhausted ? "true" : "false");
        for (int i = 0; i < r->n_events; i++) {
            const oc_event *e = &r->events[i];
            fprintf(f, "%s{\"pass\": ", i ? ", " : "");
            oc_json_str(f, e->pass);
            fprintf(f, ", \"kind\": \"%s\", \"node\": ", oc_event_names[e->kind]);
            if (e->node)
                oc_json_str(f, e->node);
            else
                fprintf(f, "null");
            fprintf(f, ", \"node_name\": ");
            if (e->node_name)
                oc_json_str(f, e->node_name);
            else
                fprintf(f, "null");
            fprintf(f, ", \"op\": ");
            if (e->op_type)
                oc_json_str(f, e->op_type);
            else
                fprintf(f, "null");
            fprintf(f, ", \"scope\": ");
            if (e->scope)
                oc_json_str(f, e->scope);
            else
                fprintf(f, "null");
            fprintf(f, ", \"message\": ");
            oc_json_str(f, e->message ? e->message : "");
            for (int k = 0; k < e->n_details; k++) {
                fprintf(f, ", ");
                oc_json_str(f, e->details[k].key);
                fprintf(f, ": %lld", (long long)e->details[k].value);
            }
            fprintf(f, "}");
        }
        fprintf(f, "]");
        const oc_graph_stats *sides[2] = {&r->before, &r->after};
        for (int s = 0; s < 2; s++) {
            const oc_graph_stats *st = sides[s];
            fprintf(f, ", \"%s\": {\"nodes\": %d, \"nested_nodes\": %d, \"param_count\": %lld, \"param_bytes\": %lld, "
                    "\"ops\": {", s ? "after" : "before", st->n_nodes, st->n_nested_nodes, (long long)st->param_count,
                    (long long)st->param_bytes);
            for (int i = 0; i < st->n_ops; i++) {
                fprintf(f, i ? ", " : "");
                oc_json_str(f, st->op_names[i]);
                fprintf(f, ": %d", st->op_counts[i]);
            }
            fprintf(f, "}}");
        }
        fprintf(f, "}\n");
        return;
    }
    for (int i = 0; i < r->n_events; i++) {
        const oc_event *e = &r->events[i];
        fprintf(f, "%-20s %-8s %s%s%s%s%s%s\n", e->pass, oc_event_names[e->kind], e->scope ? "in " : "",
                e->scope ? e->scope : "", e->scope ? (e->node ? ", " : ": ") : "", e->node ? e->node : "",
                e->node ? ": " : "", e->message);
    }
    print_scope_counts(r, f);
    if (r->budget_exhausted)
        fprintf(f, "stopped: the --stop-after budget was spent\n");
    char nested[96] = "";
    if (r->before.n_nested_nodes || r->after.n_nested_nodes)
        snprintf(nested, sizeof nested, " (+%d -> +%d in subgraphs)", r->before.n_nested_nodes, r->after.n_nested_nodes);
    fprintf(f, "%d rewrite%s. nodes %d -> %d%s, parameters %lld -> %lld (%lld -> %lld bytes)\n", r->n_changes,
            r->n_changes == 1 ? "" : "s", r->before.n_nodes, r->after.n_nodes, nested, (long long)r->before.param_count,
            (long long)r->after.param_count, (long long)r->before.param_bytes, (long long)r->after.param_bytes);
    /* op count changes, one line */
    int printed = 0;
    const oc_graph_stats *b = &r->before, *a = &r->after;
    for (int pass = 0; pass < 2; pass++) {
        const oc_graph_stats *st = pass ? a : b;
        for (int i = 0; i < st->n_ops; i++) {
            const char *op = st->op_names[i];
            if (pass && oc_stats_count(b, op))
                continue; /* already printed from the before side */
            int nb = oc_stats_count(b, op), na = oc_stats_count(a, op);
            if (nb == na)
                continue;
            fprintf(f, "%s%s %d -> %d", printed++ ? ", " : "ops: ", op, nb, na);
        }
    }
    if (printed)
        fputc('\n', f);
}

/* ---------------------------------------------------------------- consistency */

onnxc_status oc_graph_verify(const oc_graph *g)
{
    char lbl[200];
    for (int i = 0; i < g->n_values; i++) {
        const oc_value *v = g->values[i];
        if (v->id != i)
            return oc_err(ONNXC_E_INVALID, "verify: value '%s' has id %d at index %d", v->name, v->id, i);
        if (oc_graph_find(g, v->name) != v)
            return oc_err(ONNXC_E_INVALID, "verify: value '%s' is not in the name table", v->name);
        if (v->producer) {
            const oc_node *p = v->producer;
            if (p->dead || v->producer_slot >= p->n_outputs || p->outputs[v->producer_slot] != v)
                return oc_err(ONNXC_E_INVALID, "verify: value '%s' names producer %s, which does not output it",
                              v->name, oc_node_label(p, lbl, sizeof lbl));
        }
        for (int u = 0; u < v->n_uses; u++) {
            const oc_use *us = &v->uses[u];
            if (us->node->dead || us->slot >= us->node->n_inputs || us->node->inputs[us->slot] != v)
                return oc_err(ONNXC_E_INVALID, "verify: value '%s' lists a use by %s that does not read it",
                              v->name, oc_node_label(us->node, lbl, sizeof lbl));
        }
        if (v->init && v->producer)
            return oc_err(ONNXC_E_INVALID, "verify: initializer '%s' also has producer %s", v->name,
                          oc_node_label(v->producer, lbl, sizeof lbl));
    }
    /* every input of a live node is defined earlier: topological order */
    bool *defined = oc_calloc((size_t)g->n_values + 1, sizeof *defined);
    if (!defined)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    for (int i = 0; i < g->n_values; i++) {
        const oc_value *v = g->values[i];
        if (!v->producer)
            defined[i] = (v->flags & (OC_V_INPUT | OC_V_OUTER | OC_V_SPARSE)) || v->init;
    }
    onnxc_status st = ONNXC_OK;
    for (int i = 0; i < g->n_nodes && st == ONNXC_OK; i++) {
        const oc_node *n = g->nodes[i];
        if (n->dead)
            continue;
        for (int j = 0; j < n->n_inputs && st == ONNXC_OK; j++) {
            const oc_value *v = n->inputs[j];
            if (!v)
                continue;
            if (v->graph != g) {
                st = oc_err(ONNXC_E_INVALID, "verify: node %s reads '%s' of another graph",
                            oc_node_label(n, lbl, sizeof lbl), v->name);
                break;
            }
            bool used = false;
            for (int u = 0; u < v->n_uses; u++)
                used = used || (v->uses[u].node == n && v->uses[u].slot == j);
            if (!used)
                st = oc_err(ONNXC_E_INVALID, "verify: node %s reads '%s' but is not in its use list",
                            oc_node_label(n, lbl, sizeof lbl), v->name);
            else if (!defined[v->id])
                st = oc_err(ONNXC_E_INVALID, "verify: node %s reads '%s' before it is defined (order or a "
                            "dangling value)", oc_node_label(n, lbl, sizeof lbl), v->name);
        }
        for (int o = 0; o < n->n_outputs; o++)
            if (n->outputs[o]) {
                if (n->outputs[o]->producer != n)
                    st = oc_err(ONNXC_E_INVALID, "verify: node %s outputs '%s' but is not its producer",
                                oc_node_label(n, lbl, sizeof lbl), n->outputs[o]->name);
                defined[n->outputs[o]->id] = true;
            }
    }
    for (int i = 0; i < g->n_outputs && st == ONNXC_OK; i++)
        if (!defined[g->outputs[i].value->id])
            st = oc_err(ONNXC_E_INVALID, "verify: graph output '%s' is not produced", g->outputs[i].value->name);
    oc_free(defined);
    return st;
}

/* ---------------------------------------------------------------- run */

static void event_free(oc_event *e)
{
    oc_free(e->node);
    oc_free(e->node_name);
    oc_free(e->op_type);
    oc_free(e->message);
    oc_free(e->scope);
}

/* Remove the "skipped" events of exact passes: the next round re-runs those passes and reports what they still
 * skip, so a skip that a later rewrite made moot ("'Add' is not a Conv", before fold-affine folded the Add) is
 * not left in the report beside the fold that followed. */
static void drop_exact_skips(onnxc_report *r)
{
    int k = 0;
    for (int i = 0; i < r->n_events; i++) {
        oc_event *e = &r->events[i];
        const oc_pass *p = oc_pass_find(e->pass);
        if (e->kind == OC_EV_SKIPPED && p && p->exact)
            event_free(e);
        else
            r->events[k++] = *e;
    }
    r->n_events = k;
}

/* What `check` calls invalid and a rewrite must not build on, for g and its subgraphs: a cycle (no order to
 * rewrite in), a node with the same attribute twice (which one a pass would read is arbitrary). The message is
 * check's. A graph that is acyclic but out of order is sorted (stable: a sorted graph keeps its order). */
static onnxc_status validate_graph(oc_graph *g, int depth)
{
    char lbl[300];
    for (int i = 0; i < g->n_nodes; i++) {
        oc_node *n = g->nodes[i];
        if (n->dead)
            continue;
        for (int a = 0; a < n->n_attrs; a++) {
            for (int b = 0; b < a; b++)
                if (n->attrs[a].name && n->attrs[b].name && !strcmp(n->attrs[a].name, n->attrs[b].name))
                    return oc_err(ONNXC_E_INVALID, "node %s: attribute '%s' is given more than once",
                                  oc_node_label(n, lbl, sizeof lbl), n->attrs[a].name);
            const oc_attr *at = &n->attrs[a];
            for (size_t k = 0; k < 1 + at->n_graphs && depth < 64; k++) {
                oc_graph *sg = k == 0 ? at->g : at->graphs[k - 1];
                onnxc_status st = sg ? validate_graph(sg, depth + 1) : ONNXC_OK;
                if (st != ONNXC_OK)
                    return st;
            }
        }
    }
    return oc_graph_toposort(g);
}

/* The model-level part: an opset import for the default domain when nodes use it (without one, which version
 * of each operator a node is, and so what a rewrite preserves, is unknown). */
static onnxc_status validate_model(onnxc_model *m)
{
    if (m->n_opsets == 0)
        return oc_err(ONNXC_E_INVALID, "the model has no opset_import (the operator set of its nodes is unknown)");
    if (oc_model_opset(m, NULL) <= 0)
        for (int i = 0; i < m->graph->n_nodes; i++) {
            const oc_node *n = m->graph->nodes[i];
            char lbl[300];
            if (!n->dead && oc_domain_is_default(n->domain))
                return oc_err(ONNXC_E_INVALID, "opset import missing for domain 'ai.onnx', used by node %s",
                              oc_node_label(n, lbl, sizeof lbl));
        }
    return validate_graph(m->graph, 0);
}

/* Run pass p over g, then over every subgraph of g's nodes (If branches, Loop / Scan bodies, nested ones), each
 * a scope of its own: values a body reads from an enclosing graph are OC_V_OUTER there, never constants, and the
 * enclosing graph keeps every value a body names (oc_name_in_subgraphs). swap-norm stays in the main graph (its
 * calibration runs the main graph). scope names the graph for the report (NULL: the main graph). */
static onnxc_status run_scoped(const oc_pass *p, oc_graph *g, oc_pass_ctx *ctx, bool check, int depth,
                               const char *scope)
{
    ctx->scope = scope;
    onnxc_status st = p->run(g, ctx);
    if (st != ONNXC_OK) {
        /* name the pass, unless its message already starts with its name */
        size_t nl = strlen(p->name);
        const char *msg = onnxc_last_error();
        if (!(strncmp(msg, p->name, nl) == 0 && msg[nl] == ':'))
            st = scope ? oc_err_prefix(st, "pass %s in %s", p->name, scope) : oc_err_prefix(st, "pass %s", p->name);
        return st;
    }
    oc_graph_compact(g);
    if (check) {
        st = oc_graph_verify(g);
        if (st != ONNXC_OK)
            return scope ? oc_err_prefix(st, "after pass %s in %s (a bug in onnxc: please report it)", p->name, scope)
                         : oc_err_prefix(st, "after pass %s (a bug in onnxc: please report it)", p->name);
    }
    if (p == &oc_pass_swap_norm || depth >= OC_MAX_SCOPE_DEPTH || ctx->report->budget_exhausted)
        return ONNXC_OK;
    for (int i = 0; i < g->n_nodes; i++) {
        oc_node *n = g->nodes[i];
        if (n->dead)
            continue;
        for (int a = 0; a < n->n_attrs; a++) {
            oc_attr *at = &n->attrs[a];
            for (size_t k = 0; k < 1 + at->n_graphs; k++) {
                oc_graph *sg = k == 0 ? at->g : at->graphs[k - 1];
                if (!sg)
                    continue;
                char lbl[300], sub[1024];
                oc_node_label(n, lbl, sizeof lbl);
                char idx[32] = "";
                if (k > 0)
                    snprintf(idx, sizeof idx, "[%zu]", k - 1);
                int w = snprintf(sub, sizeof sub, "%s%s%s.%s%s", scope ? scope : "", scope ? " / " : "", lbl,
                                 at->name ? at->name : "?", idx);
                if (w < 0 || w >= (int)sizeof sub)
                    snprintf(sub + sizeof sub - 4, 4, "...");
                st = run_scoped(p, sg, ctx, check, depth + 1, sub);
                ctx->scope = scope;
                if (st != ONNXC_OK)
                    return st;
            }
        }
    }
    return ONNXC_OK;
}

static onnxc_status optimize(onnxc_model *m, const onnxc_optimize_options *opts, onnxc_report **report_out)
{
    const oc_opt_slot *pl = oc_opts_of(opts, NULL);
    /* resolve the list first: an unknown name must leave the model untouched (set refused it already; this is
     * for an object filled some other way) */
    const oc_pass *list[OC_MAX_PIPELINE];
    int n = 0;
    onnxc_status st0;
    if (!*pl[PL_PASSES].v.text) {
        for (int i = 0; oc_default_pipeline[i]; i++)
            list[n++] = oc_pass_find(oc_default_pipeline[i]);
    } else if ((st0 = resolve_passes(pl[PL_PASSES].def->name, pl[PL_PASSES].v.text, list, &n)) != ONNXC_OK) {
        return st0;
    }
    if (pl[PL_EVAL_MODE].v.b) {
        bool listed = false;
        for (int i = 0; i < n; i++)
            listed = listed || list[i] == &oc_pass_eval_mode;
        if (!listed) {
            if (n >= OC_MAX_PIPELINE)
                return oc_err(ONNXC_E_ARG, "eval-mode: the pass list is full (%d passes)", OC_MAX_PIPELINE);
            memmove(list + 1, list, (size_t)n * sizeof *list);
            list[0] = &oc_pass_eval_mode;
            n++;
        }
    }

    /* refuse what check calls invalid before anything is rewritten (the model is left as it was) */
    onnxc_status vst = validate_model(m);
    if (vst != ONNXC_OK)
        return vst;
    onnxc_report *r = oc_calloc(1, sizeof *r);
    if (!r)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    oc_stats_collect(m->graph, &r->before);
    int64_t stop_after = pl[PL_STOP_AFTER].v.i;
    oc_pass_ctx ctx = {.report = r, .budget = stop_after > 0 ? (int)stop_after : -1};
    onnxc_status st = ONNXC_OK;
    /* Calls of model-local functions are inlined first, so the passes (and the executor for --verify) see real
     * ops; an exact rewrite, reported like a pass. */
    if (oc_model_calls_functions(m)) {
        int calls = 0;
        char note[400] = "";
        ctx.pass_name = "inline-functions";
        st = onnxc_model_inline_functions(m, &calls, note, sizeof note);
        if (st == ONNXC_OK && calls > 0)
            oc_report_changed(&ctx, NULL, "inlined %d call%s of model-local functions", calls, calls == 1 ? "" : "s");
        if (st == ONNXC_OK && note[0])
            oc_report_skipped(&ctx, NULL, "%s", note);
        if (st != ONNXC_OK) {
            onnxc_report_free(r);
            return st;
        }
    }
    oc_graph *g = m->graph;
    /* Debug builds check the IR after every pass; release builds when asked (tests set ONNXC_CHECK_PASSES=1). */
#ifdef NDEBUG
    const char *env = getenv("ONNXC_CHECK_PASSES");
    bool check = pl[PL_CHECK_EACH].v.b || (env && *env && strcmp(env, "0") != 0);
#else
    bool check = true;
#endif
    if (check) {
        st = oc_graph_verify(g);
        if (st != ONNXC_OK)
            st = oc_err_prefix(st, "before the passes");
    }
    /* Fixed point: a rewrite of one pass can open another's (fold-affine moves an Add into a ConvTranspose, after
     * which fold-bn can fold the BN behind it), so the list is run again while a round changed the graph, at
     * most OC_MAX_ROUNDS times. Later rounds run the exact passes only: a pass that changes outputs on purpose
     * (swap-norm, eval-mode) does its work once. */
    int round = 0;
    bool changed = true;
    for (; changed && round < OC_MAX_ROUNDS && st == ONNXC_OK && !r->budget_exhausted; round++) {
        int changes_before = r->n_changes;
        if (round > 0)
            drop_exact_skips(r); /* this round says again, for the graph as it now is, what stays and why */
        for (int i = 0; i < n && st == ONNXC_OK; i++) {
            if (round > 0 && !list[i]->exact)
                continue;
            ctx.pass_name = list[i]->name;
            ctx.opts = oc_opts_of(opts, list[i]);
            if (round == 0) {
                char **np = oc_realloc(r->passes_run, (size_t)(r->n_passes_run + 1) * sizeof *np);
                if (!np) {
                    st = oc_err(ONNXC_E_NOMEM, "out of memory");
                    break;
                }
                r->passes_run = np;
                r->passes_run[r->n_passes_run++] = oc_strdup(list[i]->name);
            }
            st = run_scoped(list[i], g, &ctx, check, 0, NULL);
            ctx.scope = NULL;
            if (st != ONNXC_OK)
                break;
        }
        changed = r->n_changes > changes_before;
    }
    r->rounds = round;
    if (st == ONNXC_OK && changed && round == OC_MAX_ROUNDS && !r->budget_exhausted) {
        ctx.pass_name = "pipeline";
        oc_report_warning(&ctx, NULL, "stopped after %d rounds while the passes still changed the graph (the "
                          "bound on re-running them); the result is correct but may not be fully simplified",
                          OC_MAX_ROUNDS);
    }
    /* value_info refresh (infer): kept separate from the pass loop */
    if (st == ONNXC_OK && !pl[PL_KEEP_VALUE_INFO].v.b)
        st = oc_refresh_value_info(m);
    oc_stats_collect(g, &r->after);
    if (report_out)
        *report_out = r;
    else
        onnxc_report_free(r);
    return st;
}

onnxc_status onnxc_optimize(onnxc_model *m, const onnxc_optimize_options *opts, onnxc_report **report_out)
{
    if (report_out)
        *report_out = NULL;
    if (!m || !m->graph)
        return oc_err(ONNXC_E_ARG, "optimize: no model");
    if (opts)
        return optimize(m, opts, report_out);
    onnxc_optimize_options *dflt = NULL;
    onnxc_status st = onnxc_optimize_options_create(&dflt);
    if (st == ONNXC_OK)
        st = optimize(m, dflt, report_out);
    onnxc_optimize_options_free(dflt);
    return st;
}
