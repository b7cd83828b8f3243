/* Session internals shared by the session and the tools built on it (per-node comparison, benchmarks). */
#ifndef ONNXC_SESSION_INTERNAL_H
#define ONNXC_SESSION_INTERNAL_H

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
    void *owned;      /* plan-time result buffer */
    int first, last;  /* liveness in node positions */
    size_t offset;    /* arena offset */
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

typedef struct oc_snode {
    oc_kctx ctx;
    onnxc_tensor **in;
    onnxc_tensor **out;
    bool folded;      /* evaluated at plan time */
} oc_snode;

struct onnxc_session {
    const onnxc_model *model;
    const oc_graph *g;
    int threads;
    oc_node **order;
    int n_order;
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
    void *hook;
    void (*hook_before)(void *user, const oc_node *n);
    onnxc_status (*hook_after)(void *user, const oc_node *n, const onnxc_tensor *const *outs);
};

/* Call before/after around each node run (per-node comparison, profiling, dumps); after may stop the run. */
void oc_session_set_hook(onnxc_session *s, void *user, void (*before)(void *, const oc_node *),
                         onnxc_status (*after)(void *, const oc_node *, const onnxc_tensor *const *));

/* Bytes of the planned arena plus scratch. */
size_t oc_session_arena_bytes(const onnxc_session *s);

#endif
