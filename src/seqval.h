/* Sequence and optional values as one self-contained byte block in a tensor of dtype ONNXC_SEQUENCE or
 * ONNXC_OPTIONAL (rank 1, dims[0] = bytes), so the runtime plans, copies and carries them like tensors: a
 * header, a table of items (dtype, shape, offset, bytes) and the items' data, each 64-byte aligned within the
 * block. An item may itself be a block (an optional holding a sequence). */
#ifndef ONNXC_SEQVAL_H
#define ONNXC_SEQVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onnxc/onnxc.h"

/* Bytes of a block of n items (false on overflow, or a string item: *why says which). */
bool oc_seq_bytes(int64_t n, const onnxc_tensor *const *items, size_t *bytes, const char **why);

/* Write a block of kind (ONNXC_SEQUENCE / ONNXC_OPTIONAL) into dst, oc_seq_bytes(n, items) bytes. */
void oc_seq_write(void *dst, int32_t kind, int32_t elem_type, int64_t n, const onnxc_tensor *const *items);

/* True when t is a well-formed block of its dtype (header, table and data within nbytes). */
bool oc_seq_valid(const onnxc_tensor *t);

/* Items of a valid block, its declared element type, item i as a view into t. */
int64_t oc_seq_len(const onnxc_tensor *t);
int32_t oc_seq_elem(const onnxc_tensor *t);
void oc_seq_at(const onnxc_tensor *t, int64_t i, onnxc_tensor *view);

/* ONNXC_SEQUENCE or ONNXC_OPTIONAL for a declared type (ir.h's oc_type, packed when not a tensor type) that is
 * a sequence or optional, else ONNXC_UNDEFINED. */
struct oc_type;
int32_t oc_type_value_kind(const struct oc_type *ty);

static inline bool oc_is_seqval(int32_t dtype) { return dtype == ONNXC_SEQUENCE || dtype == ONNXC_OPTIONAL; }

#endif
