/* External tensor data (TensorProto.data_location = EXTERNAL): resolving a location safely against the model's
 * folder and reading the bytes; checking names the writer is asked to create. */
#ifndef ONNXC_EXTERNAL_DATA_H
#define ONNXC_EXTERNAL_DATA_H

#include <stddef.h>

#include "ir.h"

/* Check a location string from a model: relative, no ".." component, not empty. what names the tensor. */
onnxc_status oc_external_check_location(const char *location, const char *what);

/* Read the bytes described by the external_data entries (location, offset, length; checksum is kept, not verified)
 * into a new oc_malloc'd buffer *out of exactly need bytes. The file must resolve (symlinks followed) to a regular
 * file inside dir; offset + length must lie inside it; length, when given, must equal need. */
onnxc_status oc_external_read(const char *dir, const oc_kv *entries, size_t n_entries, size_t need, const char *what,
                              void **out);

/* True if name can be created beside an output file: a plain file name, no folder part, not "." or "..". */
bool oc_external_name_ok(const char *name);

#endif
