/* The one list of ops onnxc cannot run (see unsupported.c), for check and for session creation. */
#ifndef ONNXC_UNSUPPORTED_H
#define ONNXC_UNSUPPORTED_H

#include <stddef.h>

#include "ir.h"

/* Every distinct (domain, op, opset) of m's graphs, subgraphs included, that no kernel runs at the opset m
 * imports for the domain: *n_ops gets their count, text (cap bytes) "N ops: Loop-16 (1 node: 'loop'),
 * com.x.Foo-1 (2 nodes: 'a','b'), ..." ("" when none). */
onnxc_status oc_unsupported_ops(const onnxc_model *m, int *n_ops, char *text, size_t cap);

#endif
