/* The "is this BatchNormalization foldable into its producer?" predicate, shared by `onnxc info` (which counts
 * foldable BNs) and the BN-folding pass (which folds them). */
#ifndef ONNXC_BN_MATCH_H
#define ONNXC_BN_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "ir.h"

/* True when n is a BatchNormalization of the default domain. */
bool oc_is_batchnorm(const oc_node *n);

/* The BN's own conditions: inference mode (training_mode 0, spatial 1, running-statistics outputs unused) and
 * scale, B, mean, var constant float vectors of one length. why gets the reason when false. */
bool oc_bn_params_ok(const oc_node *bn, char *why, size_t cap);

/* True when BatchNormalization node bn looks foldable into the node producing its input X:
 *  - the producer is a Conv, ConvTranspose, Gemm or MatMul of the default domain whose weight (input 1) and
 *    bias (Conv/ConvTranspose/Gemm input 2, when present) are constants;
 *  - the producer's output feeds exactly one consumer (this BN) and is not a graph output;
 *  - scale, B, mean and var are constants (initializer or Constant node, never an overridable graph input) of
 *    a floating type, all rank 1 of the same length, and that length matches the producer's output channels;
 *  - the BN runs in inference mode: training_mode 0 (BatchNormalization-14/15), spatial 1 (before -9), and its
 *    optional running-statistics outputs are unused.
 * On a match *producer (may be NULL) gets the producer node. Otherwise why (may be NULL) gets a one-line
 * reason such as "Conv 'c1' output also feeds 'Add_7'". */
bool oc_bn_foldable(const oc_node *bn, oc_node **producer, char *why, size_t cap);

/* How many BatchNormalization nodes of m's main graph `onnxc optimize` folds into their producer (or forward
 * into the unpadded Conv they feed): the passes
 * that run before fold-bn in the default pipeline (cleanup, const-fold: a PyTorch Linear exports its weight as
 * Transpose(W), a constant only after folding) and fold-bn itself run on a copy of m, and the folds fold-bn
 * reports are counted, so `info` and `optimize` apply oc_bn_foldable to the same graph. */
onnxc_status oc_bn_count_foldable(const onnxc_model *m, long *count);

/* True when BatchNormalization bn normalizes with its batch's own statistics: training_mode=1
 * (BatchNormalization-14/15), or, before -14, an output past Y declared. why gets which of the two. */
bool oc_bn_is_training(const oc_node *bn, char *why, size_t cap);

/* True when Dropout n drops at random: a constant true training_mode input (Dropout-12+) or is_test=0 (before
 * Dropout-7). A training_mode that is not a constant is not counted (it is the caller's choice at run time). */
bool oc_dropout_is_training(const oc_node *n, char *why, size_t cap);

#endif
