/* Raw DEFLATE decoding (RFC 1951) and the ZIP CRC-32, for reading numpy.savez_compressed archives without zlib. */
#ifndef ONNXC_INFLATE_H
#define ONNXC_INFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "onnxc/onnxc.h"

/* Most bytes DEFLATE can make of n compressed bytes: a length/distance pair of two 1-bit codes gives 258 bytes
 * per 2 bits, 1032 per byte. A declared size beyond this is a lie (a zip bomb or a corrupted directory). */
#define OC_INFLATE_MAX_RATIO 1032u

/* Decode the raw DEFLATE stream in[0..in_len) (stored, fixed and dynamic Huffman blocks) into exactly out_len
 * bytes at out. Every read is bounded by in_len and every write by out_len: a stream that ends early, holds a
 * bad block, code or distance, makes more than out_len bytes, or ends before out_len bytes is ONNXC_E_PARSE
 * with a message starting "what: ". Thread-safe (no shared state). Bytes after the final block are ignored. */
onnxc_status oc_inflate(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len, const char *what);

/* The CRC-32 of ZIP and gzip (reflected polynomial 0xEDB88320) of p[0..n), continuing from crc (0 to start). */
uint32_t oc_crc32(uint32_t crc, const uint8_t *p, size_t n);

#endif
