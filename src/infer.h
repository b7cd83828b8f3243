/* Type and shape inference over the IR (no input shapes given): symbolic dims kept as names, small integer
 * values that decide shapes (Shape -> Gather -> Concat chains, constants) followed, results per value. */
#ifndef ONNXC_INFER_H
#define ONNXC_INFER_H

#include "ir.h"

/* One dim: v >= 0 a static size; v < 0 symbolic when sym is set (a dim_param, or an expression like "N*2"),
 * else unknown. sym points into the inference's string store. */
typedef struct oc_sdim {
    int64_t v;
    const char *sym;
} oc_sdim;

/* What inference knows of one value. */
typedef struct oc_vshape {
    bool has_elem;
    int32_t elem;      /* onnxc_dtype when has_elem */
    int rank;          /* -1: unknown */
    oc_sdim *d;        /* rank dims */
    int nval;          /* -1: no value known; else the element count of a scalar/1-D integer value ... */
    oc_sdim *val;      /* ... whose elements are known (static or symbolic), e.g. the output of Shape */
    bool declared;     /* taken from a declaration (graph input, or value_info where no rule applied) */
    bool inferred;     /* computed by an op's rule */
} oc_vshape;

typedef struct oc_infer oc_infer;

/* Infer every value of g (subgraph bodies are not entered; their nodes' outputs fall back to declarations).
 * Graph inputs and initializers seed it; where no rule applies, a value keeps what value_info declares when
 * use_declared is true. *out is freed with oc_infer_free. */
onnxc_status oc_infer_graph(const oc_graph *g, bool use_declared, oc_infer **out);
/* The result for v (a value of the inferred graph), never NULL. */
const oc_vshape *oc_infer_get(const oc_infer *inf, const oc_value *v);
/* The message of the first rule that found its inputs inconsistent (a value named), or NULL. The node's
 * output is left unknown then. */
const char *oc_infer_conflict(const oc_infer *inf, const oc_value *v);
void oc_infer_free(oc_infer *inf);

/* Write the inferred type of every node output that is not a graph output into g's value_info (replacing what
 * was declared for those values; unknown dims get fresh dim_param names "unk__N"); *n_written set. */
onnxc_status oc_infer_write_value_info(oc_graph *g, const oc_infer *inf, int *n_written);

/* Human-readable "float[N,3,224,224]" (or "?" parts) into buf. */
const char *oc_vshape_str(const oc_vshape *s, char *buf, size_t cap);

#endif
