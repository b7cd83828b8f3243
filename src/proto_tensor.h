/* TensorProto <-> oc_tensor conversion, protobuf-c plumbing and whole-file read / atomic write helpers shared by
 * the loader (load.c), the writer (save.c) and tensor file I/O (tensor_io.c): the only files that see onnx.pb-c.h. */
#ifndef ONNXC_PROTO_TENSOR_H
#define ONNXC_PROTO_TENSOR_H

#include <stdbool.h>
#include <stddef.h>

#include "external_data.h"
#include "ir.h"
#include "onnx.pb-c.h"

/* raw_data is little-endian by the ONNX spec; the decoder copies it as host memory. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "onnxc reads raw_data as host memory and needs a little-endian host"
#endif

/* protobuf-c allocator routed through oc_malloc/oc_free, so unpacked buffers (raw_data) can be taken over by the
 * IR and freed with oc_free, and tests can inject allocation failures into parsing. */
extern ProtobufCAllocator oc_pb_allocator;

/* Unpack a message with oc_pb_allocator after checking its nesting depth (protobuf-c recurses without a limit,
 * so a crafted file could exhaust the stack). NULL with *too_deep set when the bytes nest too deeply,
 * NULL otherwise when protobuf-c rejects them or they hold an unknown field protobuf does not allow (number 0 or
 * past 2^29 - 1, which protobuf-c lets through). */
ProtobufCMessage *oc_pb_unpack(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t len, bool *too_deep);

/* Read a whole regular file into an oc_malloc'd buffer (messages name path). */
onnxc_status oc_read_file(const char *path, uint8_t **data, size_t *len);

/* oc_write_file_atomic (the atomic write every output file goes through) is declared in util.h. */

/* The readers of onnxc_tensor_read and onnxc_npz_read on bytes in memory (the fuzz targets use them); path only
 * names the source in messages. buf is not freed (read_pb may edit it in place, hence not const). */
onnxc_status oc_tensor_read_buffer(uint8_t *buf, size_t len, const char *path, onnxc_tensor **out, char **name);
onnxc_status oc_npz_read_buffer(const uint8_t *buf, size_t len, const char *path, int *n, char ***names,
                                onnxc_tensor ***tensors);

/* Decode a TensorProto into a new oc_tensor. what names the tensor in messages ("initializer 'w'");
 * root says where external data may be read from (NULL: external data is refused).
 * When steal is true, raw_data buffers are taken from tp (tp must come from oc_pb_unpack). */
onnxc_status oc_tensor_from_proto(Onnx__TensorProto *tp, const char *what, const oc_ext_root *root, bool steal,
                                  oc_tensor **out);

/* Allocations that live as long as one serialisation: every block is freed by oc_arena_free, and every message
 * unpacked into the tree (opaque bytes of the IR) is freed with protobuf_c_message_free_unpacked. */
struct oc_arena_chunk;
typedef struct oc_arena {
    struct oc_arena_chunk *chunks;
    ProtobufCMessage **unpacked;
    size_t n_unpacked, cap_unpacked;
} oc_arena;

void *oc_arena_alloc(oc_arena *a, size_t n);            /* zero-filled; NULL on failure (message set) */
char *oc_arena_strdup(oc_arena *a, const char *s);       /* NULL stays NULL */
void oc_arena_free(oc_arena *a);

/* Unpack opaque bytes kept by the IR into a message owned by the arena. */
ProtobufCMessage *oc_arena_unpack(oc_arena *a, const ProtobufCMessageDescriptor *d, const oc_bytes *b,
                                  const char *what);

/* Fill *tp from t, in the storage form t was loaded with (raw_data or the typed field); the proto points into t
 * or into the arena, so t must outlive tp. External tensors are written inline (raw_data). */
onnxc_status oc_tensor_to_proto(const oc_tensor *t, Onnx__TensorProto *tp, oc_arena *a, const char *what);

#endif
