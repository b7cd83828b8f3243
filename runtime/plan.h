/* The session planner's steps, in the order create and oc_plan call them, and the helpers they share; internal
 * to the runtime (session.c drives them, plan_*.c and memplan.c implement them). */
#ifndef ONNXC_PLAN_H
#define ONNXC_PLAN_H

#include <stddef.h>
#include <stdlib.h>

#include "session_internal.h"

/* Alignment of every planned buffer: a cache line, and enough for any vector load a kernel makes. */
#define OC_ALIGN 64

static inline size_t oc_align_up(size_t n) { return (n + OC_ALIGN - 1) & ~(size_t)(OC_ALIGN - 1); }

static inline void *oc_aligned_alloc(size_t n) { return aligned_alloc(OC_ALIGN, oc_align_up(n ? n : 1)); }

/* The plan entry of a value from its tensor (a kernel's in/out pointers point into s->rv). */
static inline oc_rvalue *oc_rv_of(const onnxc_tensor *t)
{
    return (oc_rvalue *)(void *)((char *)t - offsetof(oc_rvalue, t));
}

/* st with the node's label in front, unless the kernel's message (made with oc_kerr) names it already. */
onnxc_status oc_node_error(onnxc_status st, const oc_node *nd);

/* Bytes of a tensor's dtype and dims (0 for bad dims). */
size_t oc_meta_bytes(const onnxc_tensor *t);

/* ---- float16 / bfloat16 nodes on float32 kernels (plan_half.c) ---- */
/* Before the kernel's infer: when the node's op has a float32 kernel that serves half types this way and its
 * inputs are float16 / bfloat16, point ctx.in / ctx.out at float32 tensors (constant inputs converted now) and
 * set sn->half; an error when inputs that must share one type mix half and float. */
onnxc_status oc_half_setup(oc_snode *sn, const oc_node *nd);
/* After infer: the node's outputs get their types and shapes (half where the kernel wrote float). */
onnxc_status oc_half_after_infer(oc_snode *sn, const oc_node *nd);
/* After prepare: room for the run-time conversions appended to ctx.scratch_size; returns the new size. */
size_t oc_half_scratch(oc_snode *sn);
/* Run: inputs converted into scratch, the kernel, outputs rounded into the node's own memory. */
onnxc_status oc_half_run(oc_snode *sn, const oc_kernel *k);
void oc_half_free(oc_half_node *h);

/* Run the kernel of a planned (non-dynamic) node. */
static inline onnxc_status oc_snode_run(oc_snode *sn, const oc_kernel *k)
{
    return sn->half ? oc_half_run(sn, k) : k->run(&sn->ctx);
}

/* ---- run-time shapes (plan_dynamic.c) ---- */
/* kctx.alloc_out of a node evaluated at plan time: the output's own buffer (rvalue.owned). */
onnxc_status oc_alloc_plan_time(oc_kctx *c, int o);
/* kctx.alloc_out of a dynamic node: the value's run-time buffer (rvalue.dyn_buf), grown when too small. */
onnxc_status oc_alloc_dynamic(oc_kctx *c, int o);
/* Run dynamic node s->nodes[pos]: infer (and prepare) for the shapes its inputs have in this run, unless they
 * are those of the last run, give its outputs memory, run it. */
onnxc_status oc_run_dynamic_node(onnxc_session *s, int pos);

/* ---- fixed at create (plan_order.c) ---- */
/* The run order (s->order, s->n_order) and each node's position in it (see oc_plan_pos). */
onnxc_status oc_session_order(onnxc_session *s);
/* Each node's kernel (s->kern); one message lists every unsupported op. */
onnxc_status oc_session_kernels(onnxc_session *s);
/* The graph's references to enclosing graphs (s->outer), and per node with subgraphs the values of g they read
 * (s->implicit), for kernels that run subgraphs. */
onnxc_status oc_session_scopes(onnxc_session *s);
/* Mark the values whose data some kernel needs at plan time (shape inputs), and everything they derive from. */
void oc_session_mark_needed(onnxc_session *s);
/* Position in the run order of a node of the session's graph, or -1 (a node of another graph). */
int oc_plan_pos(const onnxc_session *s, const oc_node *nd);

/* ---- each plan, in this order ---- */
/* The caller's tensor for graph input name, or NULL. */
const onnxc_tensor *oc_find_input(const char *name, int n, const char *const *names,
                                  const onnxc_tensor *const *inputs);
/* plan_infer.c: constants and the caller's inputs into s->rv, the plan's keys (what it was made for). */
onnxc_status oc_plan_bind(onnxc_session *s, int n, const char *const *names, const onnxc_tensor *const *inputs);
/* plan_infer.c: every node's output types and shapes, its kernel's prepare, and evaluation at plan time of what
 * shapes need or constants alone decide; *scratch gets the largest scratch a node that runs later asks for. */
onnxc_status oc_plan_infer(onnxc_session *s, size_t *scratch);
/* plan_fuse.c: Add (a residual), Relu/Clip or an activation (SiLU, HardSwish, ...) into the epilogue of the
 * node before them (a Conv). */
void oc_plan_fuse(onnxc_session *s);
/* plan_fuse.c: which values between kernels that can use it are stored blocked (NCHW8c). */
void oc_plan_blocked(onnxc_session *s);
/* memplan.c: each run-time value's lifetime [first, last] in run positions. */
onnxc_status oc_plan_liveness(onnxc_session *s);
/* plan_fuse.c: Reshape-like outputs share their input's memory (after liveness, which it extends). */
void oc_plan_alias(onnxc_session *s);
/* plan_concat.c: the inputs of batch-1 Concats written in place, as slices of the output (after alias). */
void oc_plan_concat(onnxc_session *s);
/* memplan.c: offsets in one arena for the run-time values, the arena and scratch allocated, data pointers set. */
onnxc_status oc_plan_arena(onnxc_session *s, size_t scratch);

#endif
