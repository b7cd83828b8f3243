/* ONNX writer: IR -> protobuf-c messages -> bytes, streamed to a temporary file beside the output and renamed into
 * place, so a failed save never leaves a half-written model; optionally moves large tensors to an external file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "external_data.h"
#include "ir.h"
#include "proto_tensor.h"

/* protobuf refuses messages of 2 GB and more; bigger models must use external data. */
#define OC_PROTO_MAX_BYTES ((size_t)INT32_MAX)

/* ---------------------------------------------------------------- arena */

#define ARENA_CHUNK ((size_t)64 * 1024)

typedef struct oc_arena_chunk {
    struct oc_arena_chunk *next;
    size_t cap, used;
    max_align_t payload[];
} arena_chunk;

void *oc_arena_alloc(oc_arena *a, size_t n)
{
    const size_t align = sizeof(max_align_t);
    if (n > SIZE_MAX - 2 * align - sizeof(arena_chunk)) {
        oc_err(ONNXC_E_NOMEM, "allocation of %zu bytes is too large", n);
        return NULL;
    }
    n = (n + align - 1) / align * align;
    if (!n)
        n = align;
    arena_chunk *c = a->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        arena_chunk *nc = oc_malloc(sizeof *nc + cap);
        if (!nc) {
            oc_err(ONNXC_E_NOMEM, "out of memory serialising the model");
            return NULL;
        }
        nc->cap = cap;
        nc->used = 0;
        if (c && n > ARENA_CHUNK) {
            /* a big one-off block goes behind the current chunk, which keeps serving small requests */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            a->chunks = nc;
        }
        c = nc;
    }
    void *p = (char *)c->payload + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

char *oc_arena_strdup(oc_arena *a, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *d = oc_arena_alloc(a, n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

void oc_arena_free(oc_arena *a)
{
    arena_chunk *c = a->chunks;
    while (c) {
        arena_chunk *next = c->next;
        oc_free(c);
        c = next;
    }
    for (size_t i = 0; i < a->n_unpacked; i++)
        protobuf_c_message_free_unpacked(a->unpacked[i], &oc_pb_allocator);
    oc_free(a->unpacked);
    memset(a, 0, sizeof *a);
}

ProtobufCMessage *oc_arena_unpack(oc_arena *a, const ProtobufCMessageDescriptor *d, const oc_bytes *b,
                                  const char *what)
{
    if (a->n_unpacked == a->cap_unpacked) {
        size_t ncap = a->cap_unpacked ? a->cap_unpacked * 2 : 16;
        ProtobufCMessage **nu = oc_realloc(a->unpacked, ncap * sizeof *nu);
        if (!nu) {
            oc_err(ONNXC_E_NOMEM, "out of memory serialising the model");
            return NULL;
        }
        a->unpacked = nu;
        a->cap_unpacked = ncap;
    }
    bool too_deep;
    ProtobufCMessage *msg = oc_pb_unpack(d, b->data ? b->data : (const uint8_t *)"", b->len, &too_deep);
    if (!msg) {
        oc_err(ONNXC_E_INVALID, "%s: kept %s bytes no longer parse", what, d->short_name);
        return NULL;
    }
    a->unpacked[a->n_unpacked++] = msg;
    return msg;
}

/* ---------------------------------------------------------------- unknown fields */

/* Length of the varint at p (at most 10 bytes), 0 when it runs past end or is too long. */
static size_t varint_len(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (size_t i = 0; i < 10 && p + i < end; i++) {
        r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = r;
            return i + 1;
        }
    }
    return 0;
}

/* Give msg the unknown fields the loader kept in b (tag, then value, back to back; see keep_unknown in load.c).
 * The field array lives in the arena and points into b, which outlives the serialisation. */
static onnxc_status put_unknown(oc_arena *a, ProtobufCMessage *msg, const oc_bytes *b, const char *what)
{
    if (!b->len)
        return ONNXC_OK;
    const uint8_t *end = b->data + b->len;
    ProtobufCMessageUnknownField *fields = NULL;
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++) {
        const uint8_t *p = b->data;
        size_t k = 0;
        while (p < end) {
            uint64_t tag, len = 0;
            size_t tl = varint_len(p, end, &tag);
            const uint8_t *val = p + tl;
            bool ok = tl > 0 && (tag >> 3) > 0 && (tag >> 3) <= 0x1fffffff;
            if (ok) {
                switch (tag & 7) {
                case 0: {
                    uint64_t ignored;
                    len = varint_len(val, end, &ignored);
                    ok = len > 0;
                    break;
                }
                case 1: len = 8; break;
                case 5: len = 4; break;
                case 2: {
                    uint64_t body;
                    size_t pl = varint_len(val, end, &body);
                    ok = pl > 0 && body <= (uint64_t)(end - val) - pl;
                    len = pl + body;
                    break;
                }
                default: ok = false; break;
                }
            }
            if (!ok || len > (uint64_t)(end - val))
                return oc_err(ONNXC_E_INVALID, "%s: kept unknown fields are malformed at byte %zu", what,
                              (size_t)(p - b->data));
            if (pass == 1) {
                fields[k].tag = (uint32_t)(tag >> 3);
                fields[k].wire_type = (ProtobufCWireType)(tag & 7);
                fields[k].len = (size_t)len;
                fields[k].data = (uint8_t *)val;
            }
            k++;
            p = val + len;
        }
        if (pass == 0) {
            n = k;
            if (n > UINT_MAX)
                return oc_err(ONNXC_E_UNSUPPORTED, "%s: too many unknown fields (%zu)", what, n);
            fields = oc_arena_alloc(a, n * sizeof *fields);
            if (!fields)
                return ONNXC_E_NOMEM;
        }
    }
    msg->n_unknown_fields = (unsigned)n;
    msg->unknown_fields = fields;
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- tensors */

onnxc_status oc_tensor_to_proto(const oc_tensor *t, Onnx__TensorProto *tp, oc_arena *a, const char *what)
{
    onnx__tensor_proto__init(tp);
    const onnxc_tensor *x = &t->t;
    if (x->rank < 0 || x->rank > ONNXC_MAX_RANK)
        return oc_err(ONNXC_E_INVALID, "%s: rank %d outside 0..%d", what, (int)x->rank, ONNXC_MAX_RANK);
    int64_t numel;
    if (!oc_numel(x->dims, x->rank, &numel))
        return oc_err(ONNXC_E_INVALID, "%s: bad dims", what);
    size_t es = onnxc_dtype_size(x->dtype);
    if (es == 0)
        return oc_err(ONNXC_E_UNSUPPORTED, "%s: data type %d cannot be written", what, (int)x->dtype);
    size_t need;
    if (!oc_mul_size((size_t)numel, es, &need) || (x->dtype != ONNXC_STRING && x->nbytes < need) ||
        (need && !x->data))
        return oc_err(ONNXC_E_INVALID, "%s: holds %zu bytes, dims need %zu", what, x->nbytes, need);
    tp->n_dims = (size_t)x->rank;
    tp->dims = (int64_t *)x->dims;
    /* A loaded tensor always had data_type; tensors made by passes get it too. */
    tp->has_data_type = 1;
    tp->data_type = x->dtype;
    tp->name = t->name;
    tp->doc_string = t->doc_string;
    onnxc_status st = put_unknown(a, &tp->base, &t->unknown, what);
    if (st != ONNXC_OK)
        return st;
    if (t->has_segment) {
        Onnx__TensorProto__Segment *seg = oc_arena_alloc(a, sizeof *seg);
        if (!seg)
            return ONNXC_E_NOMEM;
        onnx__tensor_proto__segment__init(seg);
        seg->has_begin = t->has_segment_begin;
        seg->begin = t->segment_begin;
        seg->has_end = t->has_segment_end;
        seg->end = t->segment_end;
        if ((st = put_unknown(a, &seg->base, &t->segment_unknown, what)) != ONNXC_OK)
            return st;
        tp->segment = seg;
    }
    if (t->storage != OC_STORE_EXTERNAL) {
        /* data_location = DEFAULT kept when the file had it; external entries kept when they were inert */
        tp->has_data_location = t->has_data_location;
        tp->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT;
        if (t->n_external) {
            tp->external_data = oc_arena_alloc(a, t->n_external * sizeof *tp->external_data);
            if (!tp->external_data)
                return ONNXC_E_NOMEM;
            for (size_t i = 0; i < t->n_external; i++) {
                Onnx__StringStringEntryProto *e = oc_arena_alloc(a, sizeof *e);
                if (!e)
                    return ONNXC_E_NOMEM;
                onnx__string_string_entry_proto__init(e);
                e->key = t->external[i].key;
                e->value = t->external[i].value;
                if ((st = put_unknown(a, &e->base, &t->external[i].unknown, what)) != ONNXC_OK)
                    return st;
                tp->external_data[i] = e;
            }
            tp->n_external_data = t->n_external;
        }
    }

    if (x->dtype == ONNXC_STRING) {
        if (numel == 0)
            return ONNXC_OK;
        const onnxc_string *s = x->data;
        tp->string_data = oc_arena_alloc(a, (size_t)numel * sizeof *tp->string_data);
        if (!tp->string_data)
            return ONNXC_E_NOMEM;
        for (int64_t i = 0; i < numel; i++) {
            tp->string_data[i].len = s[i].len;
            tp->string_data[i].data = (uint8_t *)s[i].data;
        }
        tp->n_string_data = (size_t)numel;
        return ONNXC_OK;
    }
    if (t->storage == OC_STORE_NONE && numel == 0)
        return ONNXC_OK;
    if (t->storage != OC_STORE_TYPED) {
        tp->has_raw_data = 1;
        tp->raw_data.len = need;
        tp->raw_data.data = need ? x->data : NULL;
        return ONNXC_OK;
    }
    /* The typed field the tensor came from (onnx.proto TensorProto comments); complex counts two per element. */
    size_t n = (size_t)numel;
    switch (x->dtype) {
    case ONNXC_FLOAT: case ONNXC_COMPLEX64:
        tp->n_float_data = need / sizeof(float);
        tp->float_data = x->data;
        break;
    case ONNXC_INT32:
        tp->n_int32_data = n;
        tp->int32_data = x->data;
        break;
    case ONNXC_INT8: case ONNXC_UINT8: case ONNXC_BOOL: case ONNXC_INT16: case ONNXC_UINT16: case ONNXC_FLOAT16:
    case ONNXC_BFLOAT16: {
        int32_t *v = oc_arena_alloc(a, n * sizeof *v);
        if (!v)
            return ONNXC_E_NOMEM;
        const uint8_t *d = x->data;
        for (size_t i = 0; i < n; i++) {
            switch (x->dtype) {
            case ONNXC_INT8: v[i] = (int8_t)d[i]; break;
            case ONNXC_UINT8: case ONNXC_BOOL: v[i] = d[i]; break;
            case ONNXC_INT16: { int16_t h; memcpy(&h, d + 2 * i, 2); v[i] = h; break; }
            default: { uint16_t h; memcpy(&h, d + 2 * i, 2); v[i] = h; break; } /* fp16/bf16 bit patterns */
            }
        }
        tp->n_int32_data = n;
        tp->int32_data = v;
        break;
    }
    case ONNXC_INT64:
        tp->n_int64_data = n;
        tp->int64_data = x->data;
        break;
    case ONNXC_DOUBLE: case ONNXC_COMPLEX128:
        tp->n_double_data = need / sizeof(double);
        tp->double_data = x->data;
        break;
    case ONNXC_UINT64:
        tp->n_uint64_data = n;
        tp->uint64_data = x->data;
        break;
    case ONNXC_UINT32: {
        uint64_t *v = oc_arena_alloc(a, n * sizeof *v);
        if (!v)
            return ONNXC_E_NOMEM;
        const uint32_t *d = x->data;
        for (size_t i = 0; i < n; i++)
            v[i] = d[i];
        tp->n_uint64_data = n;
        tp->uint64_data = v;
        break;
    }
    default:
        return oc_err(ONNXC_E_UNSUPPORTED, "%s: data type %d cannot be written", what, (int)x->dtype);
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- output files */

typedef struct fd_sink {
    ProtobufCBuffer base;
    int fd;
    int err; /* errno of the first failed write */
    size_t used;
    uint8_t buf[1 << 16];
} fd_sink;

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void sink_flush(fd_sink *s)
{
    if (!s->err && s->used)
        s->err = write_all(s->fd, s->buf, s->used);
    s->used = 0;
}

static void sink_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
    fd_sink *s = (fd_sink *)b;
    if (s->err || len == 0) /* protobuf-c appends empty bytes fields with a NULL pointer */
        return;
    if (len > sizeof s->buf - s->used) {
        sink_flush(s);
        if (len >= sizeof s->buf) {
            if (!s->err)
                s->err = write_all(s->fd, data, len);
            return;
        }
    }
    memcpy(s->buf + s->used, data, len);
    s->used += len;
}

/* A temporary file beside path: "path.tmpXXXXXX". */
typedef struct tmp_file {
    char *path;  /* temporary name, NULL when none */
    int fd;
} tmp_file;

/* Like mkstemp, but created with mode 0666 so the process umask applies as for any new file (mkstemp's 0600 would
 * need umask() to undo, which is not thread-safe). O_EXCL makes the name ours. */
static onnxc_status tmp_open(const char *final, tmp_file *tf)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    static _Atomic unsigned long counter;
    tf->fd = -1;
    size_t n = strlen(final);
    tf->path = oc_malloc(n + sizeof ".tmpXXXXXX");
    if (!tf->path)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    memcpy(tf->path, final, n);
    memcpy(tf->path + n, ".tmpXXXXXX", sizeof ".tmpXXXXXX");
    char *x = tf->path + n + 4;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int e = EEXIST;
    for (int attempt = 0; attempt < 100 && e == EEXIST; attempt++) {
        uint64_t r = (uint64_t)ts.tv_nsec * 2654435761u ^ (uint64_t)getpid() << 20 ^ (uint64_t)counter++ * 40503u ^
                     (uint64_t)attempt * 0x9E3779B97F4A7C15ull;
        for (int i = 0; i < 6; i++) {
            x[i] = digits[r % 62];
            r /= 62;
        }
        tf->fd = open(tf->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        e = tf->fd < 0 ? errno : 0;
    }
    if (tf->fd < 0) {
        oc_free(tf->path);
        tf->path = NULL;
        return oc_err(ONNXC_E_IO, "%s: cannot create a temporary file beside it: %s", final, strerror(e));
    }
    /* replacing a file keeps its permissions */
    struct stat sb;
    if (stat(final, &sb) == 0 && fchmod(tf->fd, sb.st_mode & 0777) != 0) {
        /* not fatal: the data is still written correctly */
    }
    return ONNXC_OK;
}

/* Remove a temporary file that will not be used. */
static void tmp_discard(tmp_file *tf)
{
    if (tf->fd >= 0)
        close(tf->fd);
    if (tf->path) {
        unlink(tf->path);
        oc_free(tf->path);
    }
    tf->fd = -1;
    tf->path = NULL;
}

/* fsync and close; the file stays under its temporary name until tmp_commit. */
static onnxc_status tmp_finish(tmp_file *tf, const char *final)
{
    int e = 0;
    if (fsync(tf->fd) != 0)
        e = errno;
    if (close(tf->fd) != 0 && !e)
        e = errno;
    tf->fd = -1;
    if (e)
        return oc_err(ONNXC_E_IO, "%s: writing failed: %s", final, strerror(e));
    return ONNXC_OK;
}

static onnxc_status tmp_commit(tmp_file *tf, const char *final)
{
    if (rename(tf->path, final) != 0)
        return oc_err(ONNXC_E_IO, "%s: cannot rename the temporary file into place: %s", final, strerror(errno));
    oc_free(tf->path);
    tf->path = NULL;
    return ONNXC_OK;
}

/* Make the renames durable: fsync the folder (best effort; some filesystems refuse). */
static void sync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? oc_strndup(path, slash == path ? 1 : (size_t)(slash - path)) : oc_strdup(".");
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        if (fsync(fd) != 0) {
            /* ignored: durability of the folder entry is best effort */
        }
        close(fd);
    }
    oc_free(dir);
}

onnxc_status oc_write_file_atomic(const char *path, const oc_piece *pieces, size_t n)
{
    tmp_file tf = {NULL, -1};
    onnxc_status st = tmp_open(path, &tf);
    if (st != ONNXC_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        int e = write_all(tf.fd, pieces[i].data, pieces[i].len);
        if (e) {
            tmp_discard(&tf);
            return oc_err(ONNXC_E_IO, "%s: writing failed: %s", path, strerror(e));
        }
    }
    if ((st = tmp_finish(&tf, path)) != ONNXC_OK || (st = tmp_commit(&tf, path)) != ONNXC_OK) {
        tmp_discard(&tf);
        return st;
    }
    sync_dir_of(path);
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- IR -> messages */

typedef struct oc_saver {
    oc_arena arena;
    const char *label;      /* output path for messages */
    /* external data: tensors of at least min_bytes go to data_fd at aligned offsets */
    bool external;
    size_t min_bytes;
    const char *data_name;  /* location written in the model */
    int data_fd;
    uint64_t data_off;
    size_t n_external;      /* tensors written to the data file */
} oc_saver;

static onnxc_status save_graph(oc_saver *S, const oc_graph *g, Onnx__GraphProto *gp);

/* Write one tensor's bytes to the external file and point tp at them. */
static onnxc_status put_external(oc_saver *S, const oc_tensor *t, Onnx__TensorProto *tp, const char *what)
{
    size_t n = t->t.nbytes;
    /* page alignment lets a reader map big tensors; small ones only need the cache line */
    uint64_t align = n >= 65536 ? 4096 : 64;
    uint64_t off = (S->data_off + align - 1) / align * align;
    static const uint8_t zeros[4096];
    int e = off > S->data_off ? write_all(S->data_fd, zeros, (size_t)(off - S->data_off)) : 0;
    if (!e)
        e = write_all(S->data_fd, t->t.data, n);
    if (e)
        return oc_err(ONNXC_E_IO, "%s: writing external data for %s: %s", S->label, what, strerror(e));
    S->data_off = off + n;
    S->n_external++;

    tp->has_raw_data = 0;
    tp->raw_data.len = 0;
    tp->raw_data.data = NULL;
    tp->n_float_data = tp->n_int32_data = tp->n_int64_data = tp->n_double_data = tp->n_uint64_data = 0;
    tp->has_data_location = 1;
    tp->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    Onnx__StringStringEntryProto **ents = oc_arena_alloc(&S->arena, 3 * sizeof *ents);
    if (!ents)
        return ONNXC_E_NOMEM;
    char num[32];
    const char *keys[3] = {"location", "offset", "length"};
    for (int i = 0; i < 3; i++) {
        Onnx__StringStringEntryProto *e2 = oc_arena_alloc(&S->arena, sizeof *e2);
        if (!e2)
            return ONNXC_E_NOMEM;
        onnx__string_string_entry_proto__init(e2);
        e2->key = (char *)keys[i];
        if (i == 0) {
            e2->value = (char *)S->data_name;
        } else {
            snprintf(num, sizeof num, "%llu", (unsigned long long)(i == 1 ? off : (uint64_t)n));
            e2->value = oc_arena_strdup(&S->arena, num);
            if (!e2->value)
                return ONNXC_E_NOMEM;
        }
        ents[i] = e2;
    }
    tp->external_data = ents;
    tp->n_external_data = 3;
    return ONNXC_OK;
}

static Onnx__TensorProto *save_tensor(oc_saver *S, const oc_tensor *t, const char *name, const char *what,
                                      onnxc_status *st)
{
    Onnx__TensorProto *tp = oc_arena_alloc(&S->arena, sizeof *tp);
    if (!tp) {
        *st = ONNXC_E_NOMEM;
        return NULL;
    }
    if ((*st = oc_tensor_to_proto(t, tp, &S->arena, what)) != ONNXC_OK)
        return NULL;
    if (name)
        tp->name = (char *)name;
    if (S->external && t->t.dtype != ONNXC_STRING && t->t.nbytes >= S->min_bytes && t->t.nbytes > 0 &&
        (*st = put_external(S, t, tp, what)) != ONNXC_OK)
        return NULL;
    return tp;
}

static Onnx__TypeProto *save_type(oc_saver *S, const oc_type *ty, const char *what, onnxc_status *st)
{
    *st = ONNXC_OK;
    if (ty->kind == OC_TYPE_NONE)
        return NULL;
    if (ty->kind == OC_TYPE_OPAQUE) {
        Onnx__TypeProto *tp =
            (Onnx__TypeProto *)oc_arena_unpack(&S->arena, &onnx__type_proto__descriptor, &ty->opaque, what);
        if (!tp)
            *st = ONNXC_E_INVALID;
        return tp;
    }
    Onnx__TypeProto *tp = oc_arena_alloc(&S->arena, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = oc_arena_alloc(&S->arena, sizeof *tt);
    if (!tp || !tt) {
        *st = ONNXC_E_NOMEM;
        return NULL;
    }
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    tp->denotation = ty->denotation;
    tt->has_elem_type = ty->has_elem_type;
    tt->elem_type = ty->elem_type;
    if ((*st = put_unknown(&S->arena, &tp->base, &ty->unknown, what)) != ONNXC_OK ||
        (*st = put_unknown(&S->arena, &tt->base, &ty->tensor_unknown, what)) != ONNXC_OK)
        return NULL;
    if (ty->rank >= 0) {
        Onnx__TensorShapeProto *sh = oc_arena_alloc(&S->arena, sizeof *sh);
        if (!sh) {
            *st = ONNXC_E_NOMEM;
            return NULL;
        }
        onnx__tensor_shape_proto__init(sh);
        if ((*st = put_unknown(&S->arena, &sh->base, &ty->shape_unknown, what)) != ONNXC_OK)
            return NULL;
        if (ty->rank > 0) {
            sh->dim = oc_arena_alloc(&S->arena, (size_t)ty->rank * sizeof *sh->dim);
            if (!sh->dim) {
                *st = ONNXC_E_NOMEM;
                return NULL;
            }
            for (int i = 0; i < ty->rank; i++) {
                Onnx__TensorShapeProto__Dimension *d = oc_arena_alloc(&S->arena, sizeof *d);
                if (!d) {
                    *st = ONNXC_E_NOMEM;
                    return NULL;
                }
                onnx__tensor_shape_proto__dimension__init(d);
                d->denotation = ty->dims[i].denotation;
                if ((*st = put_unknown(&S->arena, &d->base, &ty->dims[i].unknown, what)) != ONNXC_OK)
                    return NULL;
                if (ty->dims[i].has_value) {
                    d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                    d->dim_value = ty->dims[i].value;
                } else if (ty->dims[i].param) {
                    d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                    d->dim_param = ty->dims[i].param;
                }
                sh->dim[i] = d;
            }
            sh->n_dim = (size_t)ty->rank;
        }
        tt->shape = sh;
    }
    return tp;
}

static onnxc_status save_vinfos(oc_saver *S, const oc_vinfo *vi, int n, Onnx__ValueInfoProto ***out, size_t *n_out,
                                const char *kind)
{
    *n_out = 0;
    if (n <= 0)
        return ONNXC_OK;
    Onnx__ValueInfoProto **arr = oc_arena_alloc(&S->arena, (size_t)n * sizeof *arr);
    if (!arr)
        return ONNXC_E_NOMEM;
    for (int i = 0; i < n; i++) {
        Onnx__ValueInfoProto *vp = oc_arena_alloc(&S->arena, sizeof *vp);
        if (!vp)
            return ONNXC_E_NOMEM;
        onnx__value_info_proto__init(vp);
        vp->name = vi[i].value ? vi[i].value->name : NULL;
        vp->doc_string = vi[i].doc_string;
        char what[300];
        snprintf(what, sizeof what, "%s '%s'", kind, vp->name ? vp->name : "");
        onnxc_status st;
        vp->type = save_type(S, &vi[i].type, what, &st);
        if (st != ONNXC_OK || (st = put_unknown(&S->arena, &vp->base, &vi[i].unknown, what)) != ONNXC_OK)
            return st;
        arr[i] = vp;
    }
    *out = arr;
    *n_out = (size_t)n;
    return ONNXC_OK;
}

/* A list of opaque sub-messages kept by the IR. */
static onnxc_status save_opaque_list(oc_saver *S, const ProtobufCMessageDescriptor *d, const oc_bytes *b, size_t n,
                                     void ***out, size_t *n_out, const char *what)
{
    *n_out = 0;
    if (!n)
        return ONNXC_OK;
    void **arr = oc_arena_alloc(&S->arena, n * sizeof *arr);
    if (!arr)
        return ONNXC_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        arr[i] = oc_arena_unpack(&S->arena, d, &b[i], what);
        if (!arr[i])
            return ONNXC_E_INVALID;
    }
    *out = arr;
    *n_out = n;
    return ONNXC_OK;
}

static onnxc_status save_attr(oc_saver *S, const oc_attr *a, Onnx__AttributeProto *ap, const char *where)
{
    onnx__attribute_proto__init(ap);
    char what[600];
    snprintf(what, sizeof what, "%s attribute '%s'", where, a->name ? a->name : "");
    onnxc_status st = ONNXC_OK;
    ap->name = a->name;
    ap->ref_attr_name = a->ref_attr_name;
    ap->doc_string = a->doc_string;
    ap->has_type = a->has_type;
    ap->type = (Onnx__AttributeProto__AttributeType)a->type;
    ap->has_f = a->has_f;
    ap->f = a->f;
    ap->has_i = a->has_i;
    ap->i = a->i;
    ap->has_s = a->has_s;
    ap->s.len = a->s.len;
    ap->s.data = a->s.data;
    if ((st = put_unknown(&S->arena, &ap->base, &a->unknown, what)) != ONNXC_OK)
        return st;
    if (a->t && !(ap->t = save_tensor(S, a->t, NULL, what, &st)))
        return st;
    if (a->g) {
        ap->g = oc_arena_alloc(&S->arena, sizeof *ap->g);
        if (!ap->g)
            return ONNXC_E_NOMEM;
        if ((st = save_graph(S, a->g, ap->g)) != ONNXC_OK)
            return st;
    }
    ap->n_floats = a->n_floats;
    ap->floats = a->floats;
    ap->n_ints = a->n_ints;
    ap->ints = a->ints;
    if (a->n_strings) {
        ap->strings = oc_arena_alloc(&S->arena, a->n_strings * sizeof *ap->strings);
        if (!ap->strings)
            return ONNXC_E_NOMEM;
        for (size_t k = 0; k < a->n_strings; k++) {
            ap->strings[k].len = a->strings[k].len;
            ap->strings[k].data = a->strings[k].data;
        }
        ap->n_strings = a->n_strings;
    }
    if (a->n_tensors) {
        ap->tensors = oc_arena_alloc(&S->arena, a->n_tensors * sizeof *ap->tensors);
        if (!ap->tensors)
            return ONNXC_E_NOMEM;
        for (size_t k = 0; k < a->n_tensors; k++)
            if (!(ap->tensors[k] = save_tensor(S, a->tensors[k], NULL, what, &st)))
                return st;
        ap->n_tensors = a->n_tensors;
    }
    if (a->n_graphs) {
        ap->graphs = oc_arena_alloc(&S->arena, a->n_graphs * sizeof *ap->graphs);
        if (!ap->graphs)
            return ONNXC_E_NOMEM;
        for (size_t k = 0; k < a->n_graphs; k++) {
            ap->graphs[k] = oc_arena_alloc(&S->arena, sizeof *ap->graphs[k]);
            if (!ap->graphs[k])
                return ONNXC_E_NOMEM;
            if ((st = save_graph(S, a->graphs[k], ap->graphs[k])) != ONNXC_OK)
                return st;
        }
        ap->n_graphs = a->n_graphs;
    }
    if (a->sparse_tensor.data &&
        !(ap->sparse_tensor = (Onnx__SparseTensorProto *)oc_arena_unpack(
              &S->arena, &onnx__sparse_tensor_proto__descriptor, &a->sparse_tensor, what)))
        return ONNXC_E_INVALID;
    if ((st = save_opaque_list(S, &onnx__sparse_tensor_proto__descriptor, a->sparse_tensors, a->n_sparse_tensors,
                               (void ***)&ap->sparse_tensors, &ap->n_sparse_tensors, what)) != ONNXC_OK)
        return st;
    if (a->type_proto.data &&
        !(ap->tp = (Onnx__TypeProto *)oc_arena_unpack(&S->arena, &onnx__type_proto__descriptor, &a->type_proto,
                                                      what)))
        return ONNXC_E_INVALID;
    return save_opaque_list(S, &onnx__type_proto__descriptor, a->type_protos, a->n_type_protos,
                            (void ***)&ap->type_protos, &ap->n_type_protos, what);
}

static onnxc_status save_node(oc_saver *S, const oc_node *n, Onnx__NodeProto *np)
{
    onnx__node_proto__init(np);
    np->name = n->name;
    np->op_type = n->op_type;
    np->domain = n->domain;
    np->doc_string = n->doc_string;
    if (n->unknown.len) {
        char where[300], label[200];
        snprintf(where, sizeof where, "node %s", oc_node_label(n, label, sizeof label));
        onnxc_status st = put_unknown(&S->arena, &np->base, &n->unknown, where);
        if (st != ONNXC_OK)
            return st;
    }
    if (n->n_inputs > 0) {
        np->input = oc_arena_alloc(&S->arena, (size_t)n->n_inputs * sizeof *np->input);
        if (!np->input)
            return ONNXC_E_NOMEM;
        for (int i = 0; i < n->n_inputs; i++)
            np->input[i] = n->inputs[i] ? n->inputs[i]->name : (char *)"";
        np->n_input = (size_t)n->n_inputs;
    }
    if (n->n_outputs > 0) {
        np->output = oc_arena_alloc(&S->arena, (size_t)n->n_outputs * sizeof *np->output);
        if (!np->output)
            return ONNXC_E_NOMEM;
        for (int i = 0; i < n->n_outputs; i++)
            np->output[i] = n->outputs[i] ? n->outputs[i]->name : (char *)"";
        np->n_output = (size_t)n->n_outputs;
    }
    if (n->n_attrs > 0) {
        char where[300], label[200];
        snprintf(where, sizeof where, "node %s", oc_node_label(n, label, sizeof label));
        np->attribute = oc_arena_alloc(&S->arena, (size_t)n->n_attrs * sizeof *np->attribute);
        if (!np->attribute)
            return ONNXC_E_NOMEM;
        for (int i = 0; i < n->n_attrs; i++) {
            np->attribute[i] = oc_arena_alloc(&S->arena, sizeof *np->attribute[i]);
            if (!np->attribute[i])
                return ONNXC_E_NOMEM;
            onnxc_status st = save_attr(S, &n->attrs[i], np->attribute[i], where);
            if (st != ONNXC_OK)
                return st;
        }
        np->n_attribute = (size_t)n->n_attrs;
    }
    return ONNXC_OK;
}

static onnxc_status save_graph(oc_saver *S, const oc_graph *g, Onnx__GraphProto *gp)
{
    onnx__graph_proto__init(gp);
    onnxc_status st;
    gp->name = g->name;
    gp->doc_string = g->doc_string;
    if ((st = put_unknown(&S->arena, &gp->base, &g->unknown, "graph")) != ONNXC_OK)
        return st;
    int alive = 0;
    for (int i = 0; i < g->n_nodes; i++)
        alive += !g->nodes[i]->dead;
    if (alive) {
        gp->node = oc_arena_alloc(&S->arena, (size_t)alive * sizeof *gp->node);
        if (!gp->node)
            return ONNXC_E_NOMEM;
        for (int i = 0; i < g->n_nodes; i++) {
            if (g->nodes[i]->dead)
                continue;
            Onnx__NodeProto *np = oc_arena_alloc(&S->arena, sizeof *np);
            if (!np)
                return ONNXC_E_NOMEM;
            if ((st = save_node(S, g->nodes[i], np)) != ONNXC_OK)
                return st;
            gp->node[gp->n_node++] = np;
        }
    }
    if (g->n_initializers > 0) {
        gp->initializer = oc_arena_alloc(&S->arena, (size_t)g->n_initializers * sizeof *gp->initializer);
        if (!gp->initializer)
            return ONNXC_E_NOMEM;
        for (int i = 0; i < g->n_initializers; i++) {
            const oc_value *v = g->initializers[i];
            if (!v || !v->init)
                continue;
            char what[300];
            snprintf(what, sizeof what, "initializer '%s'", v->name);
            Onnx__TensorProto *tp = save_tensor(S, v->init, v->name, what, &st);
            if (!tp)
                return st;
            gp->initializer[gp->n_initializer++] = tp;
        }
    }
    if ((st = save_opaque_list(S, &onnx__sparse_tensor_proto__descriptor, g->sparse_initializers,
                               (size_t)g->n_sparse_initializers, (void ***)&gp->sparse_initializer,
                               &gp->n_sparse_initializer, "sparse initializer")) != ONNXC_OK)
        return st;
    if ((st = save_vinfos(S, g->inputs, g->n_inputs, &gp->input, &gp->n_input, "input")) != ONNXC_OK ||
        (st = save_vinfos(S, g->outputs, g->n_outputs, &gp->output, &gp->n_output, "output")) != ONNXC_OK ||
        (st = save_vinfos(S, g->value_infos, g->n_value_infos, &gp->value_info, &gp->n_value_info, "value_info")) !=
            ONNXC_OK)
        return st;
    return save_opaque_list(S, &onnx__tensor_annotation__descriptor, g->quantization_annotations,
                            (size_t)g->n_quantization_annotations, (void ***)&gp->quantization_annotation,
                            &gp->n_quantization_annotation, "quantization annotation");
}

static onnxc_status save_model(oc_saver *S, const onnxc_model *m, Onnx__ModelProto *mp)
{
    onnx__model_proto__init(mp);
    mp->has_ir_version = m->has_ir_version;
    mp->ir_version = m->ir_version;
    onnxc_status st = put_unknown(&S->arena, &mp->base, &m->unknown, "model");
    if (st != ONNXC_OK)
        return st;
    if (m->n_opsets > 0) {
        mp->opset_import = oc_arena_alloc(&S->arena, (size_t)m->n_opsets * sizeof *mp->opset_import);
        if (!mp->opset_import)
            return ONNXC_E_NOMEM;
        for (int i = 0; i < m->n_opsets; i++) {
            Onnx__OperatorSetIdProto *op = oc_arena_alloc(&S->arena, sizeof *op);
            if (!op)
                return ONNXC_E_NOMEM;
            onnx__operator_set_id_proto__init(op);
            op->domain = m->opsets[i].domain;
            op->has_version = m->opsets[i].has_version;
            op->version = m->opsets[i].version;
            onnxc_status st = put_unknown(&S->arena, &op->base, &m->opsets[i].unknown, "opset_import");
            if (st != ONNXC_OK)
                return st;
            mp->opset_import[i] = op;
        }
        mp->n_opset_import = (size_t)m->n_opsets;
    }
    mp->producer_name = m->producer_name;
    mp->producer_version = m->producer_version;
    mp->domain = m->domain;
    mp->has_model_version = m->has_model_version;
    mp->model_version = m->model_version;
    mp->doc_string = m->doc_string;
    if (m->n_metadata > 0) {
        mp->metadata_props = oc_arena_alloc(&S->arena, (size_t)m->n_metadata * sizeof *mp->metadata_props);
        if (!mp->metadata_props)
            return ONNXC_E_NOMEM;
        for (int i = 0; i < m->n_metadata; i++) {
            Onnx__StringStringEntryProto *e = oc_arena_alloc(&S->arena, sizeof *e);
            if (!e)
                return ONNXC_E_NOMEM;
            onnx__string_string_entry_proto__init(e);
            e->key = m->metadata[i].key;
            e->value = m->metadata[i].value;
            if ((st = put_unknown(&S->arena, &e->base, &m->metadata[i].unknown, "metadata_props")) != ONNXC_OK)
                return st;
            mp->metadata_props[i] = e;
        }
        mp->n_metadata_props = (size_t)m->n_metadata;
    }
    if ((st = save_opaque_list(S, &onnx__training_info_proto__descriptor, m->training_info,
                               (size_t)m->n_training_info, (void ***)&mp->training_info, &mp->n_training_info,
                               "training_info")) != ONNXC_OK ||
        (st = save_opaque_list(S, &onnx__function_proto__descriptor, m->functions, (size_t)m->n_functions,
                               (void ***)&mp->functions, &mp->n_functions, "function")) != ONNXC_OK)
        return st;
    if (!m->graph)
        return oc_err(ONNXC_E_INVALID, "the model has no graph");
    mp->graph = oc_arena_alloc(&S->arena, sizeof *mp->graph);
    if (!mp->graph)
        return ONNXC_E_NOMEM;
    return save_graph(S, m->graph, mp->graph);
}

/* ---------------------------------------------------------------- public entry points */

onnxc_status onnxc_model_serialize(const onnxc_model *m, void **data, size_t *len)
{
    if (!m || !data || !len)
        return oc_err(ONNXC_E_ARG, "onnxc_model_serialize: NULL argument");
    *data = NULL;
    *len = 0;
    oc_saver S;
    memset(&S, 0, sizeof S);
    S.label = "<serialize>";
    S.data_fd = -1;
    Onnx__ModelProto mp;
    onnxc_status st = save_model(&S, m, &mp);
    if (st == ONNXC_OK) {
        size_t n = protobuf_c_message_get_packed_size(&mp.base);
        if (n > OC_PROTO_MAX_BYTES) {
            st = oc_err(ONNXC_E_UNSUPPORTED, "the model is %zu bytes, above protobuf's 2 GB limit; save it with "
                        "external data", n);
        } else if (!(*data = oc_malloc(n ? n : 1))) {
            st = oc_err(ONNXC_E_NOMEM, "out of memory for %zu bytes", n);
        } else {
            *len = protobuf_c_message_pack(&mp.base, *data);
        }
    }
    oc_arena_free(&S.arena);
    return st;
}

/* True when a and b name the same existing file. */
static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Does path name a file the model was loaded from: the model itself or one of its external data files? */
static bool is_input_file(const onnxc_model *m, const oc_graph *g, const char *path, int depth)
{
    if (depth == 0 && same_file(path, m->path))
        return true;
    if (!g || !m->dir || depth > 64)
        return false;
    char buf[4096];
    for (int i = 0; i < g->n_initializers; i++) {
        const oc_tensor *t = g->initializers[i] ? g->initializers[i]->init : NULL;
        if (!t || t->storage != OC_STORE_EXTERNAL)
            continue;
        for (size_t k = 0; k < t->n_external; k++)
            if (t->external[k].key && strcmp(t->external[k].key, "location") == 0 && t->external[k].value) {
                snprintf(buf, sizeof buf, "%s/%s", m->dir, t->external[k].value);
                if (same_file(path, buf))
                    return true;
            }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const oc_node *n = g->nodes[i];
        for (int a = 0; a < n->n_attrs; a++) {
            const oc_attr *at = &n->attrs[a];
            const oc_tensor *ts[1] = {at->t};
            for (size_t k = 0; k < 1 + at->n_tensors; k++) {
                const oc_tensor *t = k == 0 ? ts[0] : at->tensors[k - 1];
                if (!t || t->storage != OC_STORE_EXTERNAL)
                    continue;
                for (size_t e = 0; e < t->n_external; e++)
                    if (t->external[e].key && strcmp(t->external[e].key, "location") == 0 && t->external[e].value) {
                        snprintf(buf, sizeof buf, "%s/%s", m->dir, t->external[e].value);
                        if (same_file(path, buf))
                            return true;
                    }
            }
            if (at->g && is_input_file(m, at->g, path, depth + 1))
                return true;
            for (size_t k = 0; k < at->n_graphs; k++)
                if (is_input_file(m, at->graphs[k], path, depth + 1))
                    return true;
        }
    }
    return false;
}

onnxc_status onnxc_model_check_output(const onnxc_model *m, const char *path, const onnxc_save_options *opts)
{
    if (!m || !m->graph || !path || !*path)
        return oc_err(ONNXC_E_ARG, "onnxc_model_check_output: no model or no path");
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return oc_err(ONNXC_E_IO, "%s: is a folder; give a file name for the output", path);
    const char *slash = strrchr(path, '/');
    char *dir = slash ? oc_strndup(path, slash == path ? 1 : (size_t)(slash - path)) : oc_strdup(".");
    if (!dir)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    onnxc_status st = ONNXC_OK;
    if (stat(dir, &sb) != 0)
        st = oc_err(ONNXC_E_IO, "%s: folder '%s' does not exist", path, dir);
    else if (!S_ISDIR(sb.st_mode))
        st = oc_err(ONNXC_E_IO, "%s: '%s' is not a folder", path, dir);
    else if (access(dir, W_OK | X_OK) != 0)
        st = oc_err(ONNXC_E_IO, "%s: folder '%s' is not writable", path, dir);
    oc_free(dir);
    if (st == ONNXC_OK && !(opts && opts->allow_overwrite_input) && is_input_file(m, m->graph, path, 0))
        st = oc_err(ONNXC_E_ARG, "%s: refusing to overwrite the model's own input file (allow_overwrite_input; "
                    "--force on the command line)", path);
    return st;
}

onnxc_status onnxc_model_save(const onnxc_model *m, const char *path, const onnxc_save_options *opts)
{
    if (!m || !path || !*path)
        return oc_err(ONNXC_E_ARG, "onnxc_model_save: NULL model or empty path");
    onnxc_save_options o;
    memset(&o, 0, sizeof o);
    if (opts)
        o = *opts;
    if (!o.allow_overwrite_input && is_input_file(m, m->graph, path, 0))
        return oc_err(ONNXC_E_ARG, "%s: refusing to overwrite the model's own input file (allow_overwrite_input)",
                      path);

    oc_saver S;
    memset(&S, 0, sizeof S);
    S.label = path;
    S.data_fd = -1;
    tmp_file data_tmp = {NULL, -1}, model_tmp = {NULL, -1};
    char *data_path = NULL, *data_name = NULL;
    fd_sink *sink = NULL;
    onnxc_status st = ONNXC_OK;

    if (o.external_data) {
        const char *slash = strrchr(path, '/');
        const char *base = slash ? slash + 1 : path;
        size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
        if (o.external_name) {
            /* a bare file name only: a writer must not be steered into other folders (CVE-2025-51480) */
            if (!oc_external_name_ok(o.external_name)) {
                st = oc_err(ONNXC_E_ARG, "%s: external data name '%s' must be a plain file name", path,
                            o.external_name);
                goto done;
            }
            data_name = oc_strdup(o.external_name);
        } else {
            size_t bl = strlen(base);
            data_name = oc_malloc(bl + 6);
            if (data_name)
                snprintf(data_name, bl + 6, "%s.data", base);
        }
        if (!data_name) {
            st = oc_err(ONNXC_E_NOMEM, "out of memory");
            goto done;
        }
        if (strcmp(data_name, base) == 0) {
            st = oc_err(ONNXC_E_ARG, "%s: the external data file cannot be the model file itself", path);
            goto done;
        }
        size_t dl = dirlen + strlen(data_name) + 1;
        data_path = oc_malloc(dl);
        if (!data_path) {
            st = oc_err(ONNXC_E_NOMEM, "out of memory");
            goto done;
        }
        memcpy(data_path, path, dirlen);
        strcpy(data_path + dirlen, data_name);
        if (!o.allow_overwrite_input && is_input_file(m, m->graph, data_path, 0)) {
            st = oc_err(ONNXC_E_ARG, "%s: refusing to overwrite '%s', a file the model was loaded from "
                        "(allow_overwrite_input)", path, data_path);
            goto done;
        }
        if ((st = tmp_open(data_path, &data_tmp)) != ONNXC_OK)
            goto done;
        S.external = true;
        S.min_bytes = o.external_min_bytes ? o.external_min_bytes : 1024;
        S.data_name = data_name;
        S.data_fd = data_tmp.fd;
    }

    Onnx__ModelProto mp;
    if ((st = save_model(&S, m, &mp)) != ONNXC_OK) {
        st = oc_err_prefix(st, "%s", path);
        goto done;
    }
    size_t n = protobuf_c_message_get_packed_size(&mp.base);
    if (n > OC_PROTO_MAX_BYTES) {
        st = oc_err(ONNXC_E_UNSUPPORTED, "%s: the model is %zu bytes, above protobuf's 2 GB limit; save it with "
                    "external data", path, n);
        goto done;
    }
    if ((st = tmp_open(path, &model_tmp)) != ONNXC_OK)
        goto done;
    sink = oc_malloc(sizeof *sink);
    if (!sink) {
        st = oc_err(ONNXC_E_NOMEM, "out of memory");
        goto done;
    }
    sink->base.append = sink_append;
    sink->fd = model_tmp.fd;
    sink->err = 0;
    sink->used = 0;
    protobuf_c_message_pack_to_buffer(&mp.base, &sink->base);
    sink_flush(sink);
    if (sink->err) {
        st = oc_err(ONNXC_E_IO, "%s: writing failed: %s", path, strerror(sink->err));
        goto done;
    }
    if (S.external) {
        S.data_fd = -1;
        if (S.n_external == 0)
            tmp_discard(&data_tmp); /* nothing reached the threshold: no data file at all */
        else if ((st = tmp_finish(&data_tmp, data_path)) != ONNXC_OK)
            goto done;
    }
    if ((st = tmp_finish(&model_tmp, path)) != ONNXC_OK)
        goto done;
    /* data first: the new model must never point at an old data file */
    if (S.n_external && (st = tmp_commit(&data_tmp, data_path)) != ONNXC_OK)
        goto done;
    if ((st = tmp_commit(&model_tmp, path)) != ONNXC_OK)
        goto done;
    sync_dir_of(path);

done:
    tmp_discard(&data_tmp);
    tmp_discard(&model_tmp);
    oc_free(sink);
    oc_free(data_path);
    oc_free(data_name);
    oc_arena_free(&S.arena);
    return st;
}
