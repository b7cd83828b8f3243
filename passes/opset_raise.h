/* Raising a model's default-domain opset without changing what it computes: the table of ops whose meaning
 * changes across a step (ONNX operator changelog, and the adapters of onnx's version converter), and the
 * mechanical rewrites (an attribute that became an input) that keep the meaning of the others. */
#ifndef ONNXC_OPSET_RAISE_H
#define ONNXC_OPSET_RAISE_H

#include <stdbool.h>
#include <stddef.h>

#include "ir.h"

/* Nodes the caller is about to remove (so they cannot block); may be NULL. */
typedef bool (*oc_opset_ignore_fn)(const oc_node *n, void *arg);

/* True when the default opset of m can rise to `to` keeping its meaning, after oc_opset_raise_apply's rewrites.
 * Looks at every node of the main graph and its subgraphs. Otherwise false, with why naming the node and the
 * reason ("node 'x' (Upsample): was deprecated in opset 10 ..."). Changes nothing. */
bool oc_opset_raise_check(const onnxc_model *m, int64_t to, oc_opset_ignore_fn ignore, void *arg, char *why,
                          size_t cap);

/* Raise the default opset of m to `to` (and the IR version to the one `to` needs): rewrites the nodes that need
 * it (attributes that became inputs, renamed ops) in the main graph and its subgraphs. Call only after
 * oc_opset_raise_check returned true. *n_rewritten (may be NULL) gets the number of nodes rewritten; summary
 * (may be NULL) gets their op types, e.g. "ReduceMean x1, Unsqueeze x2". */
onnxc_status oc_opset_raise_apply(onnxc_model *m, int64_t to, int *n_rewritten, char *summary, size_t cap);

/* The element type of a value: declared, from its constant, or from the first input of the type-preserving
 * ops that produce it (Conv, Relu, Add, ...); 0 (ONNXC_UNDEFINED) when unknown. */
int32_t oc_value_elem_type(const oc_value *v);

#endif
