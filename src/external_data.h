/* External tensor data (TensorProto.data_location = EXTERNAL): resolving a location safely against the model's
 * folder and reading the bytes; checking names the writer is asked to create. */
#ifndef ONNXC_EXTERNAL_DATA_H
#define ONNXC_EXTERNAL_DATA_H

#include <stddef.h>

#include "ir.h"

/* Check a location string from a model: relative, no ".." component, not empty. what names the tensor. */
onnxc_status oc_external_check_location(const char *location, const char *what);

/* Where external data may come from. Locations are resolved against dir, the folder the model file was named in.
 * The resolved file (symlinks followed) must lie inside dir or, when the model file itself is a symlink, inside
 * real_model_dir, the folder the model really lives in: the Hugging Face cache links snapshots/<rev>/model.onnx
 * and model.onnx.data to ../../blobs/<hash>, and both land in blobs/. */
typedef struct oc_ext_root {
    const char *dir;            /* NULL: external data cannot be resolved */
    const char *real_model_dir; /* canonical folder of the model file's target, or NULL */
} oc_ext_root;

/* Fill *root for a model read from path; the strings are oc_malloc'd into *dir and *real_dir (free both). */
onnxc_status oc_ext_root_for_file(const char *path, oc_ext_root *root, char **dir, char **real_dir);

/* Read the bytes described by the external_data entries (location, offset, length; checksum is kept, not verified)
 * into a new oc_malloc'd buffer *out of exactly need bytes. The file must be a regular file inside the root's
 * folders; offset + length must lie inside it; length, when given, must equal need. */
onnxc_status oc_external_read(const oc_ext_root *root, const oc_kv *entries, size_t n_entries, size_t need,
                              const char *what, void **out);

/* True if name can be created beside an output file: a plain file name, no folder part, not "." or "..". */
bool oc_external_name_ok(const char *name);

#endif
