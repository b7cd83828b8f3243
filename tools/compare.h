/* Comparison internals: the pieces of tools/compare.c that the unit tests reach directly and that other library
 * code may reuse (node-by-node observation of a session run, the median). The public API is in onnxc.h. */
#ifndef ONNXC_COMPARE_H
#define ONNXC_COMPARE_H

#include <stdint.h>

#include "ir.h"
#include "onnxc/onnxc.h"

/* Called for each node output during oc_run_observed, with the IR node and value. */
typedef onnxc_status (*oc_value_observer)(void *user, const oc_node *n, const oc_value *v, const onnxc_tensor *t);

/* onnxc_session_run with fn called for every node output in execution order; nodes the plan evaluated ahead of
 * time (constant folding inside the plan) are reported in their place in that order. Any hook the session had
 * is restored afterwards. */
onnxc_status oc_run_observed(onnxc_session *s, int n, const char *const *names, const onnxc_tensor *const *inputs,
                             oc_value_observer fn, void *user);

/* oc_run_observed on the session's fused plan: fn sees only the outputs of nodes that run on their own, so
 * the values it needs must have been kept (oc_session_keep_values). */
onnxc_status oc_run_observed_kept(onnxc_session *s, int n, const char *const *names,
                                  const onnxc_tensor *const *inputs, oc_value_observer fn, void *user);

/* Number of nodes in a session's execution order (what oc_run_observed walks). */
int oc_session_num_nodes(const onnxc_session *s);

/* Median of v[0..n) (mean of the two middle values when n is even), 0 for n == 0; reorders v. */
double oc_median(double *v, int64_t n);

/* The options a comparison runs with (tolerances; label_a / label_b point to the comparison's own copies). */
const onnxc_compare_options *oc_compare_options(const onnxc_comparison *c);

#endif
