/* Error messages, allocation with a failure-injection hook, checked arithmetic and string helpers. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static _Thread_local char oc_errbuf[1024];

const char *onnxc_last_error(void) { return oc_errbuf; }

const char *onnxc_status_name(onnxc_status st)
{
    switch (st) {
    case ONNXC_OK: return "ok";
    case ONNXC_E_IO: return "io";
    case ONNXC_E_PARSE: return "parse";
    case ONNXC_E_INVALID: return "invalid";
    case ONNXC_E_UNSUPPORTED: return "unsupported";
    case ONNXC_E_NOMEM: return "nomem";
    case ONNXC_E_ARG: return "arg";
    case ONNXC_E_RUNTIME: return "runtime";
    }
    return "unknown";
}

/* Keep messages to one line: a newline in a name from the file must not split the message. */
static void oc_one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}

onnxc_status oc_err(onnxc_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(oc_errbuf, sizeof oc_errbuf, fmt, ap);
    va_end(ap);
    oc_one_line(oc_errbuf);
    return st;
}

onnxc_status oc_err_prefix(onnxc_status st, const char *fmt, ...)
{
    char prefix[512];
    char old[sizeof oc_errbuf];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, oc_errbuf, sizeof old);
    if (snprintf(oc_errbuf, sizeof oc_errbuf, "%s: %s", prefix, old) >= (int)sizeof oc_errbuf)
        memcpy(oc_errbuf + sizeof oc_errbuf - 4, "...", 4); /* a cut message says so */
    oc_one_line(oc_errbuf);
    return st;
}

void oc_err_clear(void) { oc_errbuf[0] = 0; }

static const char *file_kind(mode_t m)
{
    if (S_ISDIR(m))
        return "a folder";
    if (S_ISFIFO(m))
        return "a named pipe (FIFO)";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

onnxc_status oc_open_regular(const char *path, const char *label, int *fd_out, int64_t *size)
{
    *fd_out = -1;
    *size = 0;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return oc_err(ONNXC_E_IO, "%s: %s", label, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return oc_err(ONNXC_E_IO, "%s: %s", label, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        const char *k = file_kind(sb.st_mode);
        return k[0] == 'n' ? oc_err(ONNXC_E_IO, "%s: is not a regular file", label)
                           : oc_err(ONNXC_E_IO, "%s: is %s, not a regular file", label, k);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        int e = errno;
        close(fd);
        return oc_err(ONNXC_E_IO, "%s: %s", label, strerror(e));
    }
    *fd_out = fd;
    *size = (int64_t)sb.st_size;
    return ONNXC_OK;
}

/* Failure injection for tests: when fail_at is non-zero, the allocation that makes count reach it fails. */
static _Thread_local size_t alloc_count;
static _Thread_local size_t fail_at;

size_t oc_alloc_fail_after(size_t n)
{
    size_t c = alloc_count;
    alloc_count = 0;
    fail_at = n;
    return c;
}

static int oc_alloc_should_fail(void)
{
    alloc_count++;
    return fail_at != 0 && alloc_count == fail_at;
}

void *oc_malloc(size_t n)
{
    if (oc_alloc_should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *oc_calloc(size_t count, size_t size)
{
    if (oc_alloc_should_fail())
        return NULL;
    if (count == 0 || size == 0)
        return calloc(1, 1);
    return calloc(count, size);
}

void *oc_realloc(void *p, size_t n)
{
    if (oc_alloc_should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void oc_free(void *p) { free(p); }

void onnxc_free(void *p) { free(p); }

onnxc_status oc_membuf_open(oc_membuf *b)
{
    b->data = NULL;
    b->len = 0;
    b->f = oc_alloc_should_fail() ? NULL : open_memstream(&b->data, &b->len);
    return b->f ? ONNXC_OK : oc_err(ONNXC_E_NOMEM, "out of memory opening a text buffer");
}

onnxc_status oc_membuf_take(oc_membuf *b, char **out)
{
    *out = NULL;
    int bad = ferror(b->f);
    if (fclose(b->f) != 0)
        bad = 1;
    b->f = NULL;
    if (bad || !b->data) {
        free(b->data);
        b->data = NULL;
        return oc_err(ONNXC_E_NOMEM, "out of memory writing a text buffer");
    }
    *out = b->data;
    b->data = NULL;
    return ONNXC_OK;
}

char *oc_strdup(const char *s)
{
    if (!s)
        return NULL;
    return oc_strndup(s, strlen(s));
}

char *oc_strndup(const char *s, size_t n)
{
    char *d = oc_malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

bool oc_mul_i64(int64_t a, int64_t b, int64_t *out) { return !__builtin_mul_overflow(a, b, out); }
bool oc_add_i64(int64_t a, int64_t b, int64_t *out) { return !__builtin_add_overflow(a, b, out); }
bool oc_mul_size(size_t a, size_t b, size_t *out) { return !__builtin_mul_overflow(a, b, out); }

bool oc_numel(const int64_t *dims, int rank, int64_t *out)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0 || !oc_mul_i64(n, dims[i], &n))
            return false;
    }
    *out = n;
    return true;
}

onnxc_status oc_grow(void **p, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return ONNXC_OK;
    int ncap = *cap ? *cap : 4;
    while (ncap < need) {
        if (ncap > (1 << 29))
            return oc_err(ONNXC_E_NOMEM, "array too large (%d elements)", need);
        ncap *= 2;
    }
    size_t bytes;
    if (!oc_mul_size((size_t)ncap, elem, &bytes))
        return oc_err(ONNXC_E_NOMEM, "array too large (%d elements)", need);
    void *np = oc_realloc(*p, bytes);
    if (!np)
        return oc_err(ONNXC_E_NOMEM, "out of memory growing an array to %d elements", need);
    memset((char *)np + (size_t)*cap * elem, 0, (size_t)(ncap - *cap) * elem);
    *p = np;
    *cap = ncap;
    return ONNXC_OK;
}

const char *oc_dims_str(const int64_t *dims, int rank, char *buf, size_t cap)
{
    if (cap == 0)
        return buf;
    if (rank == 0) {
        snprintf(buf, cap, "scalar");
        return buf;
    }
    size_t off = 0;
    buf[0] = 0;
    for (int i = 0; i < rank && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, i ? "x%lld" : "%lld", (long long)dims[i]);
    return buf;
}

const char *onnxc_dims_text(const int64_t *dims, int rank, char *buf, size_t cap)
{
    return oc_dims_str(dims, rank, buf, cap);
}
