/* Small shared helpers: error reporting into the thread-local message, allocation (with a hook tests use to
 * inject failures), checked size arithmetic, string duplication. */
#ifndef ONNXC_UTIL_H
#define ONNXC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "onnxc/onnxc.h"

#if defined(__GNUC__)
#define OC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define OC_PRINTF(a, b)
#endif

/* Set the thread-local error message and return st. */
onnxc_status oc_err(onnxc_status st, const char *fmt, ...) OC_PRINTF(2, 3);
/* Prefix the current error message with "prefix: " (keeps st). */
onnxc_status oc_err_prefix(onnxc_status st, const char *fmt, ...) OC_PRINTF(2, 3);
void oc_err_clear(void);

/* Allocation: every library allocation goes through these so tests can make the N-th one fail. */
void *oc_malloc(size_t n);
void *oc_calloc(size_t count, size_t size);
void *oc_realloc(void *p, size_t n);
void oc_free(void *p);
/* Test hook: make the n-th allocation from now fail (0 disables). Returns how many allocations happened since
 * the last call. */
size_t oc_alloc_fail_after(size_t n);

/* Open path for reading when it is a regular file, without ever blocking: a named pipe or a device is opened with
 * O_NONBLOCK, refused after fstat with what it is ("label: is a named pipe (FIFO), not a regular file"), and a
 * regular file gets its blocking mode back. *size gets the file's size. label starts every message. */
onnxc_status oc_open_regular(const char *path, const char *label, int *fd, int64_t *size);

char *oc_strdup(const char *s);          /* NULL stays NULL */
char *oc_strndup(const char *s, size_t n);

/* Checked arithmetic: false on overflow (or negative operands for the size versions). */
bool oc_mul_i64(int64_t a, int64_t b, int64_t *out);
bool oc_add_i64(int64_t a, int64_t b, int64_t *out);
bool oc_mul_size(size_t a, size_t b, size_t *out);

/* Element count of dims with overflow and negative checks. */
bool oc_numel(const int64_t *dims, int rank, int64_t *out);

/* Grow a dynamic array *p of *cap elements of size elem so it holds at least need. */
onnxc_status oc_grow(void **p, int *cap, int need, size_t elem);

/* Write the concatenation of n pieces to path atomically: a temporary file beside it ("path.tmpXXXXXX"), fsync,
 * rename. On failure nothing is left behind and an existing file at path is untouched. (Defined in save.c; declared here because
 * writers outside the core, such as the HTML report, use it too.) */
typedef struct oc_piece {
    const void *data;
    size_t len;
} oc_piece;
onnxc_status oc_write_file_atomic(const char *path, const oc_piece *pieces, size_t n);

/* Text printed into memory: oc_membuf_open gives a FILE * to print to, oc_membuf_take closes it and hands over
 * the text as one NUL-terminated malloc'd string (free with free() / onnxc_free). Lets a print function with a
 * FILE * parameter also fill a buffer, so a text or JSON form is written by one function only. */
typedef struct oc_membuf {
    FILE *f;
    char *data;
    size_t len;
} oc_membuf;
onnxc_status oc_membuf_open(oc_membuf *b);
/* Close b; *out gets the text (NULL and ONNXC_E_NOMEM when the stream could not be written). */
onnxc_status oc_membuf_take(oc_membuf *b, char **out);

/* Format dims as "1x3x224x224" ("scalar" for rank 0) into buf. */
const char *oc_dims_str(const int64_t *dims, int rank, char *buf, size_t cap);

#endif
