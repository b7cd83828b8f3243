/* Folding a per-channel affine map y' = s*y + t into the op that produced y (Conv, ConvTranspose, Gemm, MatMul):
 * the one mechanism behind fold-bn, fold-affine (frozen BN, Caffe Scale) and drop-bias-before-bn. */
#ifndef ONNXC_AFFINE_H
#define ONNXC_AFFINE_H

#include <stdbool.h>
#include <stddef.h>

#include "ir.h"

/* Write a printf-style reason into why (when why is non-NULL and cap > 0) and return false: the failure path
 * of the fold predicates here and in bn_match.c. */
bool oc_why(char *why, size_t cap, const char *fmt, ...) OC_PRINTF(3, 4);

/* Output channel count of producer p from its constant weight, or -1 (why says what is wrong). Conv: W[0];
 * ConvTranspose: W[1]*group; Gemm: N; MatMul: W[1] of a rank-2 constant weight. */
int64_t oc_affine_channels(const oc_node *p, char *why, size_t cap);

/* True when p is a Conv/ConvTranspose/Gemm/MatMul of the default domain whose output 0 can take a fold: constant
 * weight and bias, a single consumer, not a graph output. */
bool oc_affine_target_ok(const oc_node *p, char *why, size_t cap);

/* Rewrite p so that its output becomes s*y + t per output channel (s, t of length C, in double). A MatMul becomes
 * a Gemm. Weights used by anyone else are cloned under a fresh name; an unshared initializer is rewritten in
 * place. Values are computed in double and stored in the weight's dtype; for float16/bfloat16 an overflow or a
 * non-finite result leaves p untouched and returns false with why set. */
bool oc_affine_fold(oc_graph *g, oc_node *p, const double *s, const double *t, int64_t C, char *why, size_t cap);

struct oc_pass_ctx;

/* Fold the per-channel map y = s*x + t computed by node n (x its input 0, y its output 0, C channels: a
 * BatchNormalization, a constant Mul or Add) forward into the Conv that reads y as its X, and remove n: the
 * Conv's weight scaled per input channel (cloned when shared), its bias b' = b + sum W * t. Exact when the
 * Conv does not pad, or t is zero in every channel (a padded border is 0 in y). False with why set (nothing
 * changed) when it does not apply; *no_budget set when --stop-after's budget stopped it. */
bool oc_affine_fold_forward(oc_graph *g, oc_node *n, const double *s, const double *t, int64_t C,
                            struct oc_pass_ctx *ctx, bool *no_budget, char *why, size_t cap);

/* Read a constant tensor's elements as doubles into out (numel elements). False for non-float dtypes. */
bool oc_tensor_to_f64(const oc_tensor *c, double *out);

/* Store doubles into a new tensor of dtype with the given shape; NULL on overflow for 16-bit floats (why set). */
oc_tensor *oc_tensor_from_f64(int32_t dtype, int rank, const int64_t *dims, const double *v, char *why, size_t cap);


/* A new initializer of g, named from base, holding a copy of data (dtype, rank, dims). NULL when out of memory
 * or the shape is invalid. */
oc_value *oc_add_const(oc_graph *g, const char *base, int32_t dtype, int rank, const int64_t *dims,
                       const void *data);

/* Replace the value of constant input slot of node n with tensor t: in place when n is the only user of an
 * initializer, else as a fresh initializer named from the old one. Takes ownership of t. */
onnxc_status oc_set_constant_input(oc_graph *g, oc_node *n, int slot, oc_tensor *t, const char *base);

/* Rank of a value from its declared type, its constant data, or the weight of the Conv/ConvTranspose/Gemm that
 * produces it; -1 when unknown. */
int oc_value_rank(const oc_value *v);

#endif
