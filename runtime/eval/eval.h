/* The runtime's one entry point for the layers above the session: evaluate a single node on constant inputs
 * with the runtime's own kernel (constant folding, calibration). Passes include this header and nothing else of
 * the runtime, so they never see kernels, contexts or plans. */
#ifndef ONNXC_EVAL_H
#define ONNXC_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "ir.h"

/* Compute node n (of a graph whose opset for n's domain is opset) from the constants its inputs hold
 * (oc_value_constant; an omitted optional input is fine, any other input must be constant). On ONNXC_OK,
 * outs[o] holds a new tensor for each output n declares (NULL for an omitted one), owned by the caller
 * (oc_tensor_free). Refused, with the reason in onnxc_last_error(): no kernel serves the op at that opset
 * (ONNXC_E_UNSUPPORTED), the outputs would total more than max_out_bytes bytes and more than the inputs
 * (ONNXC_E_ARG: the caller's size policy), a string result, or what the kernel reports. At most 32 inputs and
 * outputs; runs on the calling thread. */
onnxc_status oc_eval_node(const oc_node *n, int64_t opset, size_t max_out_bytes, oc_tensor **outs);

#endif
