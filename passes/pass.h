/* The pass interface: a const descriptor per pass (name, summary, exact or output-changing, its options table,
 * run), the report passes write into, and the rewrite budget that --stop-after uses to bisect a bad rewrite. */
#ifndef ONNXC_PASS_H
#define ONNXC_PASS_H

#include <stdbool.h>

#include "ir.h"
#include "onnxc/onnxc.h"
#include "options.h"

typedef enum oc_event_kind {
    OC_EV_CHANGED = 0, /* a rewrite was made */
    OC_EV_SKIPPED = 1, /* a candidate was left alone; the message says why */
    OC_EV_WARNING = 2, /* something the user should know (e.g. statistics dropped, fallback group count) */
    OC_EV_INFO = 3
} oc_event_kind;

/* A figure attached to an event for machines (swap-norm: "groups", "channels"). */
typedef struct oc_event_detail {
    const char *key; /* a string literal */
    int64_t value;
} oc_event_detail;

typedef struct oc_event {
    const char *pass;
    oc_event_kind kind;
    char *node;      /* label of the node the event is about ("'bn1' (BatchNormalization)"; may be NULL) */
    char *node_name; /* its name, "" when unnamed (NULL when no node) */
    char *op_type;   /* its op (NULL when no node) */
    char *message;
    char *scope;     /* the subgraph the node is in ("'loop' (Loop).body", nested ones joined by " / "); NULL: the
                      * main graph */
    oc_event_detail details[4];
    int n_details;
} oc_event;

typedef struct oc_graph_stats {
    int n_nodes;        /* of the main graph (op counts too) */
    int n_nested_nodes; /* of every subgraph, at any depth (parameters include theirs) */
    int64_t param_bytes;
    int64_t param_count;
    int n_ops;
    char **op_names; /* distinct op types, sorted */
    int *op_counts;
} oc_graph_stats;

struct onnxc_report {
    oc_event *events;
    int n_events, cap_events;
    int n_changes;
    oc_graph_stats before, after;
    char **passes_run;
    int n_passes_run; /* the list as given (each pass once, however many rounds ran) */
    int rounds;       /* runs of the whole list until nothing changed (or the bound) */
    bool budget_exhausted;
};

/* What a pass gets besides the graph. */
typedef struct oc_pass_ctx {
    const char *pass_name;
    const oc_opt_slot *opts; /* the running pass's options, in the order of its table (see oc_pass_opt) */
    onnxc_report *report;
    int budget;      /* rewrites still allowed; < 0 = unlimited */
    const char *scope; /* the subgraph being rewritten (see oc_event.scope); NULL: the main graph */
} oc_pass_ctx;

typedef struct oc_pass {
    const char *name;
    const char *summary;
    bool exact;         /* preserves outputs up to float rounding; false = changes them on purpose */
    bool in_default;    /* part of the default pipeline */
    const oc_opt_def *options; /* its options (names "<pass>.<option>"); NULL when it has none */
    int n_options;
    /* Options that contradict each other (each valid alone): ONNXC_E_ARG naming them. Called with the values a
     * set would leave, before it is accepted, so an options object never holds a contradiction. May be NULL. */
    onnxc_status (*check_options)(const oc_opt_slot *opts);
    onnxc_status (*run)(oc_graph *g, oc_pass_ctx *ctx);
} oc_pass;

/* Value of option i (its index in the running pass's table). */
static inline const oc_opt_value *oc_pass_opt(const oc_pass_ctx *ctx, int i) { return &ctx->opts[i].v; }

/* The pipeline's own options (passes, stop-after, check-each), before every pass's in an options object. */
extern const oc_opt_def oc_pipeline_options[];
extern const int oc_n_pipeline_options;

/* Ask before each rewrite: false when --stop-after's budget is spent (the pass must then stop rewriting). */
bool oc_pass_may_rewrite(oc_pass_ctx *ctx);

/* Record a rewrite / a skip / a warning about a node (node may be NULL). */
void oc_report_changed(oc_pass_ctx *ctx, const oc_node *n, const char *fmt, ...) OC_PRINTF(3, 4);
void oc_report_skipped(oc_pass_ctx *ctx, const oc_node *n, const char *fmt, ...) OC_PRINTF(3, 4);
void oc_report_warning(oc_pass_ctx *ctx, const oc_node *n, const char *fmt, ...) OC_PRINTF(3, 4);

/* Attach a figure to the last event the running pass recorded (at most 4 per event; more are dropped). */
void oc_report_detail(oc_pass_ctx *ctx, const char *key, int64_t value);

/* Consistency of the IR: edges both ways, topological order, no dangling values, unique producers.
 * ONNXC_E_INVALID with the first problem. */
onnxc_status oc_graph_verify(const oc_graph *g);

/* True when some subgraph (If/Loop/Scan body) within g refers to name from an enclosing scope: such values must
 * keep their name and producer. (In cleanup.c.) */
bool oc_name_in_subgraphs(const oc_graph *g, const char *name);

/* v's value may change or lose its name only when no subgraph reads it: false when v is a graph output or some
 * subgraph within v's graph refers to v's name. (In cleanup.c.) */
bool oc_value_is_private(const oc_value *v);

/* Make node n, a copy of its input 0 to its output 0 (Identity, a no-op Reshape, ...), disappear: its consumers
 * read the input instead; when the output is a graph output, the input's producer takes over its name. False
 * (why set, nothing changed) when a subgraph reads the output or the name cannot move. (In cleanup.c.) */
bool oc_bypass_node(oc_graph *g, oc_node *n, char *why, size_t cap);

/* Registered passes, NULL-terminated. */
extern const oc_pass *const oc_passes[];
const oc_pass *oc_pass_find(const char *name);

/* The passes, one per file. */
extern const oc_pass oc_pass_cleanup;
extern const oc_pass oc_pass_const_fold;
extern const oc_pass oc_pass_drop_bias;
extern const oc_pass oc_pass_eval_mode;
extern const oc_pass oc_pass_fold_bn;
extern const oc_pass oc_pass_fold_affine;
extern const oc_pass oc_pass_swap_norm;
extern const oc_pass oc_pass_fold_shapes;
extern const oc_pass oc_pass_remove_noops;
extern const oc_pass oc_pass_merge_chains;
extern const oc_pass oc_pass_fold_pad;
extern const oc_pass oc_pass_cse;

#endif
