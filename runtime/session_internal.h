/* Session internals shared by the session and the tools built on it (per-node comparison, benchmarks). */
#ifndef ONNXC_SESSION_INTERNAL_H
#define ONNXC_SESSION_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "ir.h"
#include "kernel.h"

/* What the plan knows about one value of the graph. */
typedef struct oc_rvalue {
    onnxc_tensor t;   /* type, shape, and data (constant, plan-time result, arena slot or caller input) */
    bool needed;      /* some kernel needs its data at plan time (shape arithmetic) */
    bool known;       /* data is available at plan time */
    bool is_static;   /* known from constants alone (does not depend on input values) */
    bool is_input;
    bool is_output;   /* a graph output, or a value kept for an observer (oc_session_keep_values) */
    void *owned;      /* plan-time result buffer */
    int first, last;  /* liveness in node positions */
    size_t offset;    /* arena offset */
    int alias;        /* id of the value whose memory this one shares (a Reshape's output), or -1 */
    size_t alias_off; /* byte offset of this value in alias's memory (an input of a Concat planned in place) */
    bool wanted;      /* a kernel with OC_KF_RUNTIME_VALUES reads its data at infer: fold it when the plan can,
                       * but never key the plan on input data for it (kept across plans, like needed) */
    bool dynamic;     /* shape known only at run time: no arena slot; dyn_buf holds it */
    void *dyn_buf;    /* run-time memory of a dynamic value, dyn_cap bytes, grown as needed and reused by the
                       * next runs of the plan */
    size_t dyn_cap;
} oc_rvalue;

/* What the plan was made for, per graph input: shape, and the data when shapes depend on it. */
typedef struct oc_pkey {
    const oc_value *value;
    int32_t dtype;
    int32_t rank;
    int64_t dims[ONNXC_MAX_RANK];
    void *data;
    size_t nbytes;
} oc_pkey;

/* A float16 / bfloat16 node run on a float32 kernel (plan_half.c). */
typedef struct oc_half_node oc_half_node;

typedef struct oc_snode {
    oc_kctx ctx;
    onnxc_tensor **in;
    onnxc_tensor **out;
    bool folded;      /* evaluated at plan time */
    bool fused;       /* applied by an earlier node's epilogue (fuse_head is that node's position): not run */
    bool aliased;     /* output shares the input's memory (Reshape, Flatten, ...): nothing to run */
    int fuse_head;
    bool dynamic;     /* shapes inferred when it runs (oc_run_dynamic_node): an input is dynamic, or its kernel's
                       * flags say so */
    bool dyn_ready;   /* infer and prepare ran for the inputs described by sig */
    uint8_t *sig;     /* the input types, shapes (and value inputs' data) of the last run-time inference */
    size_t sig_len;
    oc_half_node *half; /* non-NULL: a float16/bfloat16 node whose kernel runs on float32 copies (ctx.in/out
                         * point at them; in/out above stay the node's own values) */
} oc_snode;

struct onnxc_session {
    const onnxc_model *model;
    onnxc_model *own_model;   /* a copy with model-local function calls inlined, when the model has them */
    const oc_graph *g;
    int threads;
    struct oc_threadpool *pool;
    bool plain_plan;  /* no fusion or aliasing: every node runs and every value has memory (per-node hooks) */
    oc_node **order;
    int n_order;
    oc_node_index nix; /* finds a node's index in g->nodes, */
    int *pos;          /* which indexes its position in order */
    const oc_kernel **kern;
    oc_snode *nodes;
    oc_rvalue *rv;
    int n_rv;
    oc_pkey *keys;
    int n_keys;
    bool planned;
    bool has_run;
    uint8_t *arena;
    size_t arena_size;
    void *scratch;
    size_t scratch_size;
    int n_outputs;
    const onnxc_tensor **outputs;
    /* Run contexts. The session itself is the first; onnxc_session_run_outputs takes a free one and, when all
     * are busy, plans a spare: a session of the same model with its own plan, arena, scratch and kernel state,
     * sharing this session's pool. A context is only touched by the run that marked it busy. */
    pthread_mutex_t ctx_mu;
    pthread_cond_t ctx_cv;
    bool ctx_sync;    /* ctx_mu and ctx_cv initialised */
    bool busy;        /* a run (or plan) holds this context; guarded by the primary's ctx_mu */
    struct onnxc_session **spares;
    int n_spares;
    bool pool_borrowed; /* a spare: pool is the primary's */
    void *hook;
    void (*hook_before)(void *user, const oc_node *n);
    onnxc_status (*hook_after)(void *user, const oc_node *n, const onnxc_tensor *const *outs);
    uint8_t *keep;    /* per value id of g: planned like a graph output (oc_session_keep_values), or NULL */
    int range_first, range_last; /* oc_session_set_range: the run-order positions a run executes (last < 0: all) */
    uint32_t *kflags;  /* per run position: oc_kernel_flags of its kernel */
    bool has_dynamic;  /* the plan has dynamic nodes */
    void *dyn_scratch; /* scratch for dynamic nodes that ask for more than the planned scratch */
    size_t dyn_scratch_cap;
    uint8_t *sig_tmp;  /* the signature being built for a dynamic node */
    size_t sig_tmp_cap;
    /* Subgraphs (If branches). A session of a subgraph (sub) takes the values its nodes read from enclosing
     * graphs (outer: its OC_V_OUTER values) like inputs, by name. In any session, implicit[pos] lists, for a
     * node with subgraphs, the values of g its subgraphs read (fixed at create; kctx.implicit points there). */
    const oc_graph *sub;
    oc_value **outer;
    int n_outer;
    struct oc_implicit {
        int n;
        onnxc_tensor **t;   /* n tensors (&rv[id].t: stable for the session's life); one allocation with: */
        oc_value **v;       /* their values */
        const char **names; /* their names */
    } *implicit;
};

/* A session of subgraph sub of model m (already inlined: sub must be a graph of m), sharing pool (NULL: its own),
 * for a kernel that runs a branch or body: its OC_V_OUTER values are given to onnxc_session_run by name. */
onnxc_status oc_session_create_sub(const onnxc_model *m, const oc_graph *sub, int threads,
                                   struct oc_threadpool *pool, onnxc_session **out);

/* Call before/after around each node run (per-node comparison, profiling, dumps); after may stop the run.
 * Setting an after hook also makes the plan plain (see oc_session_set_plain), so every node runs and hands
 * its own outputs to the hook. */
void oc_session_set_hook(onnxc_session *s, void *user, void (*before)(void *, const oc_node *),
                         onnxc_status (*after)(void *, const oc_node *, const onnxc_tensor *const *));

/* plain = true: plan without fusing nodes into a Conv's epilogue and without aliasing Reshape-like outputs
 * to their inputs, so every node runs and every value is materialised (default false; a change re-plans at
 * the next run). A profiler that only times nodes turns this back off after setting its hook. */
void oc_session_set_plain(onnxc_session *s, bool plain);

/* Plan values v[0..n) of s->g like graph outputs: their producers run as nodes of their own and hand them, in
 * NCHW and their own memory, to an after hook, even in a fused plan (unlike the others, which fusion, blocked
 * layout and aliasing may hide). Replaces the previous set (n = 0 clears it); re-plans at the next run. So an
 * observer that needs a few values can run on the fast plan (oc_run_observed_kept). */
onnxc_status oc_session_keep_values(onnxc_session *s, const oc_value *const *v, int n);

/* Make the following runs of s execute only the nodes at run-order positions [first, last] (last < 0: all, the
 * default); the values they read from earlier positions must already hold what they should (the caller writes
 * them into their planned memory, see oc_session_value_data; only kept values are sure to have memory of their
 * own). For calibration, which re-runs a segment of the model after changing a layer's parameters. */
void oc_session_set_range(onnxc_session *s, int first, int last);

/* The planned memory of value v of s->g after oc_session_plan (NULL when it has none, or is a plan-time constant). */
void *oc_session_value_data(onnxc_session *s, const oc_value *v);

/* Plan for these inputs now (what the first onnxc_session_run would do: shapes, kernels' prepare, the
 * memory plan), without running; nothing happens when the current plan already fits them. */
onnxc_status oc_session_plan(onnxc_session *s, int n, const char *const *names, const onnxc_tensor *const *inputs);

/* Bytes of the planned arena plus scratch. */
size_t oc_session_arena_bytes(const onnxc_session *s);

#endif
