/* onnxc public API: load, inspect, check, rewrite, save and run ONNX models on the CPU.
 * Every function returns an onnxc_status; on failure onnxc_last_error() names the file, node or tensor at fault. */
#ifndef ONNXC_H
#define ONNXC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks the library's public functions: the shared library is built with hidden visibility and exports
 *  these (all named onnxc_*) and nothing else. */
#if defined(__GNUC__) && defined(ONNXC_BUILDING)
#define ONNXC_API __attribute__((visibility("default")))
#else
#define ONNXC_API
#endif

/** Library version string, "MAJOR.MINOR.PATCH". */
#define ONNXC_VERSION "0.1.0"

/** Highest tensor rank the library handles; a model with a larger rank is refused with a clear error. */
#define ONNXC_MAX_RANK 12

/** Result of every fallible call. */
typedef enum onnxc_status {
    ONNXC_OK = 0,          /**< success */
    ONNXC_E_IO = 1,        /**< a file could not be read or written */
    ONNXC_E_PARSE = 2,     /**< the bytes are not a valid ONNX protobuf */
    ONNXC_E_INVALID = 3,   /**< the model or tensor is malformed (bad dims, dangling names, cycles...) */
    ONNXC_E_UNSUPPORTED = 4, /**< valid ONNX that onnxc does not implement */
    ONNXC_E_NOMEM = 5,     /**< an allocation failed or a size would overflow */
    ONNXC_E_ARG = 6,       /**< the caller passed a bad argument */
    ONNXC_E_RUNTIME = 7    /**< a kernel failed while running (shape mismatch at run time, ...) */
} onnxc_status;

/** Message describing the last failure on this thread (never NULL; "" when none). */
ONNXC_API const char *onnxc_last_error(void);

/** Free memory the library handed over as a malloc'd buffer (the JSON strings, onnxc_model_serialize's bytes);
 *  NULL is fine. For callers that cannot reach the C library's free() (other languages' bindings). */
ONNXC_API void onnxc_free(void *p);

/** Short constant name of a status ("ok", "io", "parse", ...). */
ONNXC_API const char *onnxc_status_name(onnxc_status st);

/** Element types; the numbers are ONNX's TensorProto.DataType values. */
typedef enum onnxc_dtype {
    ONNXC_UNDEFINED = 0,
    ONNXC_FLOAT = 1,
    ONNXC_UINT8 = 2,
    ONNXC_INT8 = 3,
    ONNXC_UINT16 = 4,
    ONNXC_INT16 = 5,
    ONNXC_INT32 = 6,
    ONNXC_INT64 = 7,
    ONNXC_STRING = 8,
    ONNXC_BOOL = 9,
    ONNXC_FLOAT16 = 10,
    ONNXC_DOUBLE = 11,
    ONNXC_UINT32 = 12,
    ONNXC_UINT64 = 13,
    ONNXC_COMPLEX64 = 14,
    ONNXC_COMPLEX128 = 15,
    ONNXC_BFLOAT16 = 16,
    /** Not ONNX element types but value kinds, held in a tensor of this dtype as one self-contained byte block
     *  (rank 1, dims[0] = its bytes, element size 1, so it is copied like any tensor): a sequence of tensors, or
     *  an optional (no value, or one tensor or sequence). Read them with onnxc_value_items / onnxc_value_item,
     *  make them with onnxc_value_pack. */
    ONNXC_SEQUENCE = 1000,
    ONNXC_OPTIONAL = 1001
} onnxc_dtype;

/** Size in bytes of one element of dtype (sizeof(onnxc_string) for STRING), 0 if unknown. */
ONNXC_API size_t onnxc_dtype_size(int32_t dtype);

/** Lower-case ONNX name of dtype ("float", "int64", ...), "undefined" if unknown. */
ONNXC_API const char *onnxc_dtype_name(int32_t dtype);

/** One element of a STRING tensor: bytes, not necessarily NUL-terminated (a NUL is kept after them). */
typedef struct onnxc_string {
    size_t len;   /**< number of bytes */
    char *data;   /**< the bytes, followed by a terminating NUL */
} onnxc_string;

/** A dense tensor: element type, shape and row-major data. */
typedef struct onnxc_tensor {
    int32_t dtype;                  /**< an onnxc_dtype */
    int32_t rank;                   /**< number of dims, 0 for a scalar */
    int64_t dims[ONNXC_MAX_RANK];   /**< the shape */
    void *data;                     /**< numel * dtype_size bytes; onnxc_string[] for STRING */
    size_t nbytes;                  /**< bytes at data */
    int owns_data;                  /**< non-zero when onnxc_tensor_free must free data */
} onnxc_tensor;

/** Number of elements (1 for a scalar). */
ONNXC_API int64_t onnxc_tensor_numel(const onnxc_tensor *t);

/** Allocate a zero-filled tensor of the given type and shape into *out; dims are checked (no negatives, no overflow). */
ONNXC_API onnxc_status onnxc_tensor_create(int32_t dtype, int32_t rank, const int64_t *dims, onnxc_tensor **out);

/** Deep copy of src into *out. */
ONNXC_API onnxc_status onnxc_tensor_clone(const onnxc_tensor *src, onnxc_tensor **out);

/** Free a tensor made by this library (its data too when owned); NULL is fine. */
ONNXC_API void onnxc_tensor_free(onnxc_tensor *t);

/** Read a tensor from a NumPy .npy file (C or Fortran order) or an ONNX TensorProto .pb file (chosen by content). *name gets the
 *  TensorProto's name (malloc'd, may be NULL); pass name == NULL to ignore it. */
ONNXC_API onnxc_status onnxc_tensor_read(const char *path, onnxc_tensor **out, char **name);

/** Read every array of a NumPy .npz archive (numpy.savez: members "<name>.npy", stored; a member compressed by
 *  numpy.savez_compressed is ONNXC_E_UNSUPPORTED): *n arrays, (*names)[i] the member's name without ".npy",
 *  (*tensors)[i] its tensor (C or Fortran order, as onnxc_tensor_read). Free both with onnxc_npz_free. */
ONNXC_API onnxc_status onnxc_npz_read(const char *path, int *n, char ***names, onnxc_tensor ***tensors);

/** Free what onnxc_npz_read returned; NULLs are fine. */
ONNXC_API void onnxc_npz_free(int n, char **names, onnxc_tensor **tensors);

/** A copy of numeric tensor src converted to dtype into *out: each element through double, stored rounded to
 *  nearest (float16/bfloat16 to nearest even; integers truncated toward zero).
 *  String, complex and undefined types are ONNXC_E_UNSUPPORTED. */
ONNXC_API onnxc_status onnxc_tensor_cast(const onnxc_tensor *src, int32_t dtype, onnxc_tensor **out);

/** Number of items of a sequence, 0 (no value) or 1 of an optional; -1 when t is neither or its bytes are not a
 *  valid block. */
ONNXC_API int64_t onnxc_value_items(const onnxc_tensor *t);

/** Item i of a sequence or optional as a view *item whose data points into t (valid while t is; an item may be a
 *  sequence itself, in an optional). */
ONNXC_API onnxc_status onnxc_value_item(const onnxc_tensor *t, int64_t i, onnxc_tensor *item);

/** The declared element type of a sequence or optional (ONNXC_UNDEFINED when unknown). */
ONNXC_API int32_t onnxc_value_elem_type(const onnxc_tensor *t);

/** Into *out (free with onnxc_tensor_free) a sequence (kind ONNXC_SEQUENCE) or optional (ONNXC_OPTIONAL, n 0 or
 *  1) holding copies of items[0..n); elem_type is what it is declared to hold (ONNXC_UNDEFINED: unknown).
 *  String tensors are ONNXC_E_UNSUPPORTED. */
ONNXC_API onnxc_status onnxc_value_pack(int32_t kind, int32_t elem_type, int64_t n, const onnxc_tensor *const *items,
                                        onnxc_tensor **out);

/** Read a value file as kind says: ONNXC_SEQUENCE an ONNX SequenceProto .pb, ONNXC_OPTIONAL an OptionalProto .pb
 *  (of tensors or sequences of tensors), anything else as onnxc_tensor_read. */
ONNXC_API onnxc_status onnxc_value_read(const char *path, int32_t kind, onnxc_tensor **out);

/** Write a tensor as a NumPy .npy file (atomically: temporary file, then rename). */
ONNXC_API onnxc_status onnxc_tensor_write_npy(const onnxc_tensor *t, const char *path);

/** Write a tensor as an ONNX TensorProto .pb file with the given name (may be NULL), atomically. */
ONNXC_API onnxc_status onnxc_tensor_write_pb(const onnxc_tensor *t, const char *name, const char *path);

/** A loaded model; opaque. */
typedef struct onnxc_model onnxc_model;

/** Load an ONNX model from a file; external data is resolved against the file's folder. */
ONNXC_API onnxc_status onnxc_model_load(const char *path, onnxc_model **out);

/** Like onnxc_model_load, but a node input or graph output that nothing defines is kept as a value without a
 *  producer instead of refusing the model, so onnxc_model_check can list every one; such a model is only fit
 *  for checking (sessions and passes refuse or misjudge it). */
ONNXC_API onnxc_status onnxc_model_load_for_check(const char *path, onnxc_model **out);

/** Load an ONNX model from bytes; base_dir (may be NULL) resolves external data, name is used in messages. */
ONNXC_API onnxc_status onnxc_model_load_buffer(const void *data, size_t len, const char *base_dir, const char *name,
                                     onnxc_model **out);

/** Free a model; NULL is fine. */
ONNXC_API void onnxc_model_free(onnxc_model *m);

/** Options for onnxc_model_save. Zero-initialise, then set what you need. */
typedef struct onnxc_save_options {
    int external_data;          /**< non-zero: tensors of at least external_min_bytes go to an external file */
    size_t external_min_bytes;  /**< threshold for external_data (0 means 1024) */
    const char *external_name;  /**< file name beside the output for external data (NULL: "<output name>.data") */
    int allow_overwrite_input;  /**< non-zero: allow the output to be the file the model was loaded from */
} onnxc_save_options;

/** Write the model as ONNX to path: written to a temporary file in the same folder, then renamed.
 *  Refuses to overwrite the file the model came from unless opts->allow_overwrite_input. opts may be NULL. */
ONNXC_API onnxc_status onnxc_model_save(const onnxc_model *m, const char *path, const onnxc_save_options *opts);

/** Would onnxc_model_save(m, path, opts) be refused before writing? ONNXC_E_IO when path is a folder or its
 *  folder is missing or not writable, ONNXC_E_ARG when path is the model's own file (or one of its external
 *  data files) and opts->allow_overwrite_input is 0; ONNXC_OK otherwise. For callers that do long work
 *  (passes, verification) before saving: ask first. opts may be NULL. */
ONNXC_API onnxc_status onnxc_model_check_output(const onnxc_model *m, const char *path, const onnxc_save_options *opts);

/** Replace each node of the main graph that calls a model-local function (ModelProto.functions, matched by
 *  domain and name) with a copy of the function's nodes, values renamed "<call name>/<name>"; calls inside the
 *  copies are expanded too (16 levels at most). *count (may be NULL) gets the calls expanded; a call left as it
 *  is (its function holds subgraphs or imports another default-domain opset) is described in note (may be NULL,
 *  note_cap bytes). The functions stay in the model. Sessions inline on their own copy when needed. */
ONNXC_API onnxc_status onnxc_model_inline_functions(onnxc_model *m, int *count, char *note, size_t note_cap);

/** Serialize the model to a malloc'd buffer (*data, *len); tensors stay inline. Free *data with free(). */
ONNXC_API onnxc_status onnxc_model_serialize(const onnxc_model *m, void **data, size_t *len);

/** A graph input or output as seen from outside: name, element type and shape (dims < 0 are symbolic or unknown). */
typedef struct onnxc_io_info {
    const char *name;          /**< value name */
    int32_t dtype;             /**< element type, ONNXC_UNDEFINED if not declared; ONNXC_SEQUENCE /
                                    ONNXC_OPTIONAL for a sequence or optional value */
    int32_t rank;              /**< -1 when the shape is not declared */
    int64_t dims[ONNXC_MAX_RANK]; /**< static dims, -1 where symbolic or unknown */
    const char *dim_params[ONNXC_MAX_RANK]; /**< symbolic dim names where dims[i] < 0 (may be NULL) */
} onnxc_io_info;

/** Number of real graph inputs (initializers listed as inputs in IR <= 3 are not counted). */
ONNXC_API int onnxc_model_num_inputs(const onnxc_model *m);
/** Non-zero when name is a graph input a run may be given: a real input, or an input whose initializer is
 *  only its default. */
ONNXC_API int onnxc_model_accepts_input(const onnxc_model *m, const char *name);
/** Number of graph outputs. */
ONNXC_API int onnxc_model_num_outputs(const onnxc_model *m);
/** Fill *info for real input i (0-based); strings point into the model. */
ONNXC_API onnxc_status onnxc_model_input_info(const onnxc_model *m, int i, onnxc_io_info *info);
/** Fill *info for output i (0-based); strings point into the model. */
ONNXC_API onnxc_status onnxc_model_output_info(const onnxc_model *m, int i, onnxc_io_info *info);

/** Text of a declared shape into buf (cap bytes, always terminated): "1x3x32x32", "Nx3x32x32" (symbolic dims by
 *  name, "?" when unnamed), "scalar", or "unknown" when no shape is declared. */
ONNXC_API void onnxc_io_info_shape_text(const onnxc_io_info *info, char *buf, size_t cap);

/** Text of a concrete shape into buf (cap bytes, always terminated): "1x3x224x224", "scalar" for rank 0.
 *  Returns buf. */
ONNXC_API const char *onnxc_dims_text(const int64_t *dims, int rank, char *buf, size_t cap);

/** Element i (row-major) of a numeric or bool tensor as a double (0 for strings, complex and unknown types). */
ONNXC_API double onnxc_tensor_get_f64(const onnxc_tensor *t, int64_t i);

/** IEEE 754 half precision to float, exactly. */
ONNXC_API float onnxc_half_to_float(uint16_t h);
/** float to IEEE 754 half precision, rounded to nearest even (overflow gives infinity, NaN stays NaN). */
ONNXC_API uint16_t onnxc_float_to_half(float f);
/** bfloat16 to float, exactly. */
ONNXC_API float onnxc_bfloat16_to_float(uint16_t h);
/** float to bfloat16, rounded to nearest even (NaN stays NaN). */
ONNXC_API uint16_t onnxc_float_to_bfloat16(float f);

/** Write s to f as a JSON string literal (null when s is NULL): quotes, backslashes and control characters
 *  escaped, invalid UTF-8 replaced by U+FFFD, so the output always parses. The one JSON string writer that
 *  every JSON report of the library uses. */
ONNXC_API void onnxc_json_write_string(FILE *f, const char *s);

/** Print a human summary of the model (versions, I/O, op histogram, parameters, BatchNormalization count) to f;
 *  json != 0 prints one JSON object instead. */
ONNXC_API onnxc_status onnxc_model_print_info(const onnxc_model *m, FILE *f, int json);

/** The summary of onnxc_model_print_info(m, f, 1) as one malloc'd NUL-terminated JSON string in *json (NULL
 *  on failure); free it with onnxc_free. */
ONNXC_API onnxc_status onnxc_model_info_json(const onnxc_model *m, char **json);

/** Structural validation. Each problem is printed as one line to f (may be NULL); *n_problems gets the count.
 *  Returns ONNXC_OK when the check itself ran, whatever it found. */
ONNXC_API onnxc_status onnxc_model_check(const onnxc_model *m, FILE *f, int *n_problems);

/** Options for a session. Zero-initialise, then set what you need. */
typedef struct onnxc_session_options {
    /** Threads the session computes on, the calling thread included: every kernel that has work to split
     *  (convolution, GEMM, pooling, normalizations, reductions, elementwise and broadcast ops, softmax, resize,
     *  shape copies) splits it over one pool of threads - 1 workers the session owns; 0 = number of online
     *  cores. GEMMs that go to OpenBLAS are split by that same pool and each part runs single-threaded, so
     *  OpenBLAS never adds threads: creating a session sets OpenBLAS's process-wide thread count to 1 (OpenBLAS
     *  has only that one global setting), which other OpenBLAS users in the process also see. */
    int threads;
} onnxc_session_options;

/** A prepared model ready to run; opaque.
 *
 *  What may be shared between threads:
 *  - a model, between any number of sessions on any threads, as long as nothing edits or frees it meanwhile
 *    (sessions and the tools only read it; passes and onnxc_model_inline_functions edit it);
 *  - a session, between threads, through onnxc_session_run_outputs only, and the read-only queries
 *    (num_outputs, output_name, threads). onnxc_session_run, onnxc_session_plan, onnxc_session_output,
 *    onnxc_session_plan_fits, onnxc_session_arena_bytes, profiling and the per-node comparison describe or use the
 *    session's own context and are for one thread at a time; free only when no call is in flight;
 *  - a tensor, between threads that only read it;
 *  - not a report, a comparison or a profile: each belongs to one thread at a time. */
typedef struct onnxc_session onnxc_session;

/** Plan a model for running: picks kernels (every unsupported op is listed in one error), prepacks weights.
 *  The model must outlive the session. opts may be NULL. */
ONNXC_API onnxc_status onnxc_session_create(const onnxc_model *m, const onnxc_session_options *opts, onnxc_session **out);

/** Run with n inputs matched by name (names[i] for inputs[i]); every graph input must be given.
 *  Shapes are checked against the model; a new shape re-plans. Outputs stay valid until the next run or free.
 *  For one thread at a time: a second thread's call waits until this one returns, but the outputs it leaves
 *  (onnxc_session_output) are owned by the session and are overwritten by the next run, so they cannot be read
 *  safely while another thread runs the session. From several threads use onnxc_session_run_outputs. */
ONNXC_API onnxc_status onnxc_session_run(onnxc_session *s, int n, const char *const *names, const onnxc_tensor *const *inputs);

/** Run as onnxc_session_run does and hand the outputs to the caller: outs (room for n_out =
 *  onnxc_session_num_outputs(s) pointers) gets caller-owned copies in output order, each freed with
 *  onnxc_tensor_free (all NULL on failure). Safe to call on one session from any number of threads at once,
 *  with outputs bit-identical to a single-threaded run: each concurrent run gets a run context of its own (plan,
 *  activation arena, kernel scratch and state). The session keeps every context it has made and hands a free
 *  one to the next call; when all are busy it makes a new one (it never waits for another run), so it holds
 *  as many contexts as the most calls that were ever in flight at once, each as large as the session's own
 *  plan (onnxc_session_arena_bytes, plus its own packed weights). A context plans (or re-plans, for new
 *  shapes) only inside the run that holds it. Contexts share the session's worker pool: one run at a time
 *  splits its work over the workers; a run that finds them busy computes on its calling thread alone.
 *  The inputs are only read, and may be shared between concurrent calls. */
ONNXC_API onnxc_status onnxc_session_run_outputs(onnxc_session *s, int n, const char *const *names,
                                                 const onnxc_tensor *const *inputs, int n_out, onnxc_tensor **outs);

/** Number of outputs of the session's model. */
ONNXC_API int onnxc_session_num_outputs(const onnxc_session *s);
/** Name of output i. */
ONNXC_API const char *onnxc_session_output_name(const onnxc_session *s, int i);
/** Output i of the last run (NULL before any run); owned by the session. */
ONNXC_API const onnxc_tensor *onnxc_session_output(const onnxc_session *s, int i);
/** 1 when output i's shape depends on the data of the run (it comes after NonZero, NonMaxSuppression, Compress,
 *  Unique, or a TopK whose K is computed at run time): its memory is outside the planned arena, sized when the
 *  producing node runs, and may move at any later run even when the plan fits (the old address is then freed).
 *  0 for a planned (static) output, before any plan, or for a bad index. Same thread rules as
 *  onnxc_session_output. */
ONNXC_API int onnxc_session_output_dynamic(const onnxc_session *s, int i);

/** Plan the session for these inputs now (shapes, kernels' prepare, weight packing, the memory plan) without
 *  running: what the first onnxc_session_run would do first. Nothing happens when the current plan fits them.
 *  Same input rules as onnxc_session_run. */
ONNXC_API onnxc_status onnxc_session_plan(onnxc_session *s, int n, const char *const *names,
                                          const onnxc_tensor *const *inputs);

/** Non-zero when a run with these inputs would use the current plan as it is (same input types and shapes, and
 *  the same values for inputs that decide shapes). Only re-planning moves or frees the memory of the planned outputs:
 *  while runs fit the plan, those stay at the same addresses and the next run overwrites them in place (an output
 *  that is a graph input points at the caller's tensor of that run); an output whose shape depends on the data
 *  (onnxc_session_output_dynamic) may move at every run. 0 for bad arguments or an
 *  unplanned session. */
ONNXC_API int onnxc_session_plan_fits(const onnxc_session *s, int n, const char *const *names,
                                      const onnxc_tensor *const *inputs);

/** Bytes of the current plan's activation arena plus kernel scratch (0 before planning or for NULL). */
ONNXC_API size_t onnxc_session_arena_bytes(const onnxc_session *s);

/** Threads the session runs on (its option, or the number of cores when that was 0); 0 for NULL. */
ONNXC_API int onnxc_session_threads(const onnxc_session *s);

/** Free a session; NULL is fine. */
ONNXC_API void onnxc_session_free(onnxc_session *s);

/* ---- profiling ---- */

/** Per-node timing of a session's runs; opaque. Not for use from several threads at once. */
typedef struct onnxc_profile onnxc_profile;

/** One node the plan runs, in plan order: its names, the shape of its first output, its FLOP count per run and
 *  the time summed over the profiled runs. Strings point into the session's model or the profile. */
typedef struct onnxc_profile_node {
    const char *name;     /**< node name, "" if unnamed */
    const char *label;    /**< name, or "Op#index" for an unnamed node */
    const char *op_type;  /**< op */
    const char *output;   /**< the value it leaves: its first output, or the last value of a chain fused into it */
    int32_t rank;         /**< rank of its first output (-1 when it has none) */
    int64_t dims[ONNXC_MAX_RANK]; /**< shape of its first output */
    double flops;         /**< per run: 2 x multiply-adds for Conv, ConvTranspose, Gemm and MatMul; 0 for others */
    double ms;            /**< milliseconds summed over the runs since onnxc_profile_start */
} onnxc_profile_node;

/** Time every node of s's runs from now on (the plan keeps its fusions: a fused chain is timed as one node).
 *  Attach before the session's first plan: attaching to a planned session re-plans at the next run. Timing
 *  counts only between onnxc_profile_start and onnxc_profile_stop. */
ONNXC_API onnxc_status onnxc_profile_attach(onnxc_session *s, onnxc_profile **out);

/** Read the session's current plan into the node table (zeroed times) and start counting; the session must be
 *  planned (onnxc_session_plan or a run). */
ONNXC_API onnxc_status onnxc_profile_start(onnxc_profile *p);

/** Stop counting; the table keeps its figures. */
ONNXC_API void onnxc_profile_stop(onnxc_profile *p);

/** Nodes in the table. */
ONNXC_API int onnxc_profile_num_nodes(const onnxc_profile *p);

/** Row i of the table, NULL when out of range. */
ONNXC_API const onnxc_profile_node *onnxc_profile_get(const onnxc_profile *p, int i);

/** Detach from the session and free; the session must still exist. NULL is fine. */
ONNXC_API void onnxc_profile_free(onnxc_profile *p);

/* ---- graph rewrites (passes) ---- */

/** What a pipeline of passes did: per pass, the rewrites made and the ones skipped with their reason, plus op
 *  counts and parameter bytes before and after. Opaque. */
typedef struct onnxc_report onnxc_report;

/** Options of onnxc_optimize, set by name; opaque. The names are the pipeline's ("passes", "stop-after",
 *  "check-each") and each pass's "<pass>.<option>" (e.g. "swap-norm.groups"); onnxc_list_passes prints them
 *  all with their type, default and help. */
typedef struct onnxc_optimize_options onnxc_optimize_options;

/** Make an options object holding every option's default; free it with onnxc_optimize_options_free. */
ONNXC_API onnxc_status onnxc_optimize_options_create(onnxc_optimize_options **out);

/** Free an options object; NULL is fine. */
ONNXC_API void onnxc_optimize_options_free(onnxc_optimize_options *o);

/** Set option name from text, parsed and checked by the option's declaration: bool true/false (also 1/0, yes/no,
 *  on/off), a whole number or a number within the option's range, one of an enum's choices, a POSIX extended
 *  regular expression (compiled now; "" = none), or a string ("passes": known pass names). ONNXC_E_ARG, with a
 *  message naming the option, the value and what is accepted, for a bad value, for an unknown name (the message
 *  gives the closest name or the known ones), or for a value that contradicts an option set before
 *  ("swap-norm.groups" with "swap-norm.to" other than group); o is unchanged then. */
ONNXC_API onnxc_status onnxc_optimize_set(onnxc_optimize_options *o, const char *name, const char *value);

/** Value of option name as text ("true"/"false" for a bool, digits for an int): the default while it is not
 *  set, and always the default when o is NULL. NULL for an unknown name. Valid until the option is set again or
 *  o is freed. */
ONNXC_API const char *onnxc_optimize_get(const onnxc_optimize_options *o, const char *name);

/** Name of option i (0-based; the pipeline's, then each pass's in registry order), NULL past the last: to
 *  enumerate them. */
ONNXC_API const char *onnxc_optimize_option_name(int i);

/** Run passes over the model in place, with the options in opts (NULL: every default, i.e. the default
 *  pipeline), re-running the list while a round changed the graph (at most 8 rounds). *report (may be NULL)
 *  receives what was done; free it with onnxc_report_free. opts is not changed and may be used again.
 *  ONNXC_E_INVALID, the model untouched, for what onnxc_model_check calls invalid and a rewrite cannot build
 *  on: no opset_import, a cycle, a node with the same attribute twice. One model per call at a time. */
ONNXC_API onnxc_status onnxc_optimize(onnxc_model *m, const onnxc_optimize_options *opts, onnxc_report **report);

/** Print a report: human lines, or one JSON object when json != 0. */
ONNXC_API void onnxc_report_print(const onnxc_report *r, FILE *f, int json);

/** The report as onnxc_report_print(r, f, 1) prints it, as one malloc'd NUL-terminated JSON string in *json
 *  (NULL on failure); free it with onnxc_free. */
ONNXC_API onnxc_status onnxc_report_json(const onnxc_report *r, char **json);

/** Number of rewrites the report records (0 when the pipeline changed nothing). */
ONNXC_API int onnxc_report_num_changes(const onnxc_report *r);

/** Number of nodes of the main graph before the passes (after == 0) or after them; 0 for a NULL report. */
ONNXC_API int onnxc_report_num_nodes(const onnxc_report *r, int after);

/** Number of nodes of op type op in the main graph before the passes (after == 0) or after them (after != 0);
 *  0 for a NULL report. Lets a caller tell "nothing to do" from "nothing done" (e.g. swap-norm on a model
 *  without BatchNormalization). */
ONNXC_API int onnxc_report_op_count(const onnxc_report *r, const char *op, int after);

/** Free a report; NULL is fine. */
ONNXC_API void onnxc_report_free(onnxc_report *r);

/** Print the registered passes to f, one per line (name, exact or output-changing, summary), each followed by
 *  its options (name, type and accepted values, default, help), then the default pipeline and the pipeline's
 *  own options. */
ONNXC_API void onnxc_list_passes(FILE *f);


/* ---- comparison ---- */

/** Called for each node output as it is produced, in execution order (outputs the plan computed ahead of time
 *  from constants are passed in their place in that order). node_name is "" for an unnamed node. The tensor is
 *  valid only during the call. Return ONNXC_OK to go on; any other status stops the run and is returned. */
typedef onnxc_status (*onnxc_observer)(void *user, const char *node_name, const char *op_type,
                                       const char *value_name, const onnxc_tensor *value);

/** onnxc_session_run, calling fn for every node output (see onnxc_observer). */
ONNXC_API onnxc_status onnxc_session_run_observed(onnxc_session *s, int n, const char *const *names,
                                        const onnxc_tensor *const *inputs, onnxc_observer fn, void *user);

/** Non-zero when a node of the model's main graph produces a value called name. */
ONNXC_API int onnxc_model_produces(const onnxc_model *m, const char *name);

/** "Equal within float rounding", the one definition that onnxc compare and onnxc optimize --verify use:
 *  an element passes when |b - a| <= atol + rtol * max(|a|, rms(a)), where a is the reference and rms(a) the
 *  root mean square of the output's finite reference values (rounding in a sum of products scales with the
 *  output's magnitude, not with the one element's, so a logit near zero may move by rtol * rms); an output
 *  passes when no element fails and its NMSE <= nmse. Defaults below. */
#define ONNXC_COMPARE_ATOL 1e-5
#define ONNXC_COMPARE_RTOL 1e-4
#define ONNXC_COMPARE_NMSE 1e-7
/** With these defaults, an output whose element type is float16 (or, on one side, bfloat16) is held to the
 *  tolerances of its type instead: about 20 units of its rounding (float16: 2^-11, bfloat16: 2^-8) per element,
 *  NMSE of a few units squared. Tolerances other than the defaults apply as given, whatever the type. */
#define ONNXC_COMPARE_ATOL_F16 1e-4
#define ONNXC_COMPARE_RTOL_F16 1e-2
#define ONNXC_COMPARE_NMSE_F16 1e-5
#define ONNXC_COMPARE_ATOL_BF16 1e-3
#define ONNXC_COMPARE_RTOL_BF16 8e-2
#define ONNXC_COMPARE_NMSE_BF16 6.4e-4

/** How far tensor b (under test) is from tensor a (the reference). Figures over elements finite in both unless
 *  said otherwise. After onnxc_metrics_merge: counts are totals over samples, the other figures the worst
 *  sample's (largest errors, smallest cosine). */
typedef struct onnxc_metrics {
    int comparable;            /**< 0 when a and b differ in element type or shape (then only n is set, to 0) */
    int samples;               /**< number of comparisons merged into these figures */
    int64_t n;                 /**< elements compared */
    int64_t n_finite;          /**< elements finite in both */
    int64_t n_fail;            /**< elements failing |b - a| <= atol + rtol*max(|a|, rms(a)) (see above); a NaN
                                    never passes, equal infinities pass */
    int64_t n_nonfinite_mismatch; /**< elements where a and b are not both finite and not the same NaN/Inf */
    int64_t nan_a, nan_b;      /**< NaN count in a and in b */
    int64_t inf_a, inf_b;      /**< Inf count in a and in b */
    double max_abs;            /**< largest |b - a| */
    double max_rel;            /**< largest |b - a| / |a| where a != 0 */
    double mean_abs;           /**< mean |b - a| */
    double median_abs;         /**< median |b - a| (mean of the two middle values for an even count) */
    double nmse;               /**< sum (b - a)^2 / sum a^2: 0 when equal, INFINITY when a is all zero and b not */
    double cosine;             /**< sum ab / sqrt(sum a^2 * sum b^2): 1 when both are all zero, 0 when one is */
    int64_t top1_rows;         /**< rank-2 [N, classes] tensors (classes >= 2): rows compared for top-1, else 0 */
    int64_t top1_agree;        /**< rows where the index of the largest value agrees (first index on ties) */
    int64_t top5_rows;         /**< rows compared for top-5 (only when classes > 5), else 0 */
    int64_t top5_agree;        /**< rows where the sets of the 5 largest values' indices agree */
} onnxc_metrics;

/** Compare b against the reference a with the given tolerances. Types or shapes that differ are not an error
 *  (out->comparable = 0); strings compare exactly (n_fail counts unequal elements, nmse is 0 or INFINITY);
 *  complex tensors are ONNXC_E_UNSUPPORTED. Uses 8 bytes per element of scratch (for the median). */
ONNXC_API onnxc_status onnxc_metrics_compute(const onnxc_tensor *a, const onnxc_tensor *b, double atol, double rtol,
                                   onnxc_metrics *out);

/** Fold one sample's figures into *acc (a zeroed acc takes s as it is): counts add up, errors keep the worst. */
ONNXC_API void onnxc_metrics_merge(onnxc_metrics *acc, const onnxc_metrics *s);

/** Non-zero when m is within tolerance: comparable, no failing element, nmse <= nmse_limit. */
ONNXC_API int onnxc_metrics_within(const onnxc_metrics *m, double nmse_limit);

/** Options for onnxc_compare_create. Set them with onnxc_compare_options_init, then change what you need. */
typedef struct onnxc_compare_options {
    double atol;        /**< absolute tolerance per element (ONNXC_COMPARE_ATOL) */
    double rtol;        /**< relative tolerance per element, times |a| (ONNXC_COMPARE_RTOL) */
    double nmse;        /**< largest NMSE an output may have (ONNXC_COMPARE_NMSE; INFINITY: not checked) */
    int per_node;       /**< compare every value both graphs produce under the same name, node by node */
    int threads;        /**< worker threads of both sessions; 0 = number of cores */
    const char *label_a; /**< name of the reference model in messages (NULL: "A"); copied */
    const char *label_b; /**< name of the model under test in messages (NULL: "B"); copied */
    /** Called after every node run with the nodes done and the total for the current sample (both models);
     *  may be NULL. */
    void (*progress)(void *user, int64_t done, int64_t total);
    void *progress_user; /**< passed to progress */
    /** Which outputs are detections, compared by matching instead of element by element (see
     *  onnxc_compare_detections): NULL (default) finds them by name, else by shape; "none" compares every
     *  output element by element; otherwise one or more sets separated by ';', each "ROLE=OUTPUT,..." with the
     *  roles boxes ([K,4] float, x1,y1,x2,y2), dets ([K,5] box + score or [K,6] box + score + label), indices
     *  (NonMaxSuppression's [K,3] int64), scores ([K]), labels ([K]) and extra (any [K,...] output that follows
     *  the same K: masks, keypoints; up to ONNXC_DET_MAX_EXTRA; the role names masks and keypoints are accepted
     *  for it). Only the sets given are then compared as detections. Copied at onnxc_compare_create. */
    const char *detections;
    double iou;         /**< IoU a box pair needs to match (ONNXC_COMPARE_IOU; in (0, 1]) */
    /** The score threshold the model applies, when known (NaN, the default: unknown): a detection kept on
     *  one side only whose score passes |score - threshold| <= atol + rtol*max(|threshold|, rms(A's scores))
     *  is counted "at the threshold" and does not fail the set. */
    double score_threshold;
} onnxc_compare_options;

/** Default IoU for matching detections in onnxc compare: 0.5, the usual "same object" overlap (Pascal VOC,
 *  COCO's AP50), so that a drifting model's boxes are still paired with the ones they came from. */
#define ONNXC_COMPARE_IOU 0.5
/** IoU onnxc optimize --verify matches detections with: an exact rewrite moves a box by float rounding only
 *  (IoU > 0.999). 1 - IoU is a metric (the Jaccard distance), so at 0.9 two boxes of one label that both match
 *  one box overlap by IoU >= 0.8, more than any NMS threshold detectors keep (torchvision: 0.5 to 0.7): a
 *  pairing is never ambiguous and a box that moved by more than rounding is reported unmatched. */
#define ONNXC_COMPARE_IOU_SAME_MODEL 0.9

/** Defaults: tolerances above, per_node off, threads 0, labels NULL, no progress callback, detections found
 *  automatically (NULL), iou ONNXC_COMPARE_IOU, score_threshold NaN. */
ONNXC_API void onnxc_compare_options_init(onnxc_compare_options *o);

/** A comparison of model b against the reference a, accumulated over samples; opaque. */
typedef struct onnxc_comparison onnxc_comparison;

/** Prepare a comparison: the models must have the same real inputs (names, element types, declared shapes
 *  that agree where both are static) and outputs in common (matched by name, else by position when no name is
 *  shared and the counts and declared types agree); otherwise ONNXC_E_INVALID naming the difference. Creates a
 *  session for each model. Both models must outlive the comparison. opts may be NULL (defaults).
 *  With per_node, each sample runs a first and writes each shared value to an unlinked temporary file (in
 *  $TMPDIR, else /tmp), then runs b and compares each shared value against a's copy as b produces it: memory
 *  holds the two sessions plus one copy of the largest shared value and the median scratch; the disk holds
 *  a's shared values of one sample. */
ONNXC_API onnxc_status onnxc_compare_create(const onnxc_model *a, const onnxc_model *b, const onnxc_compare_options *opts,
                                  onnxc_comparison **out);

/** Prepare a comparison of model b against saved outputs instead of a model a (Polygraphy's --load-outputs):
 *  dir holds one file per output, NumPy .npy named "<output>.npy" or TensorProto .pb (matched by the tensor's
 *  stored name, else by "<output>.pb"), e.g. written by PyTorch from the same inputs. Every file is read now;
 *  an output of b with no file is ONNXC_E_INVALID listing the folder's files, a missing folder ONNXC_E_IO, two
 *  files for one name ONNXC_E_INVALID; files for names b lacks are kept as unmatched outputs of side 0 (not
 *  compared). A file whose type or shape differs from b's output is reported as not comparable. The
 *  comparison takes one sample, onnxc_compare_run with the inputs the outputs were made from; per_node is
 *  ONNXC_E_ARG. opts->label_a defaults to dir. b must outlive the comparison. */
ONNXC_API onnxc_status onnxc_compare_create_reference(const onnxc_model *b, const char *dir,
                                            const onnxc_compare_options *opts, onnxc_comparison **out);

/** As onnxc_compare_create_reference, with the saved outputs in memory instead of a folder: tensors[i] is the
 *  output named names[i] (copied now: the caller keeps its tensors). label names them in messages and as the
 *  comparison's reference (NULL: "<arrays>"). A name given twice, or an output of b with none, is
 *  ONNXC_E_INVALID; names b lacks are unmatched outputs of side 0. b must outlive the comparison. */
ONNXC_API onnxc_status onnxc_compare_create_reference_tensors(const onnxc_model *b, int n, const char *const *names,
                                                    const onnxc_tensor *const *tensors, const char *label,
                                                    const onnxc_compare_options *opts, onnxc_comparison **out);

/** The reference folder (or label) of a comparison made by onnxc_compare_create_reference(_tensors), NULL for
 *  two models. */
ONNXC_API const char *onnxc_compare_reference_dir(const onnxc_comparison *c);

/** Run both models on one sample (inputs by name, as onnxc_session_run) and fold the figures in. */
ONNXC_API onnxc_status onnxc_compare_run(onnxc_comparison *c, int n, const char *const *names,
                               const onnxc_tensor *const *inputs);

/** One compared tensor: a graph output, or with per_node a value both graphs produce. */
typedef struct onnxc_compare_entry {
    const char *name;          /**< value name in b */
    const char *name_a;        /**< value name in a (differs from name only for outputs matched by position) */
    const char *node;          /**< per-node entries: name of b's node producing it ("" if unnamed); else NULL */
    const char *op_type;       /**< per-node entries: op of b's producer; else NULL */
    const char *op_type_a;     /**< per-node entries: op of a's producer; else NULL */
    int32_t dtype_a, dtype_b;  /**< element types in the last sample */
    int32_t rank_a, rank_b;    /**< ranks in the last sample */
    int64_t dims_a[ONNXC_MAX_RANK], dims_b[ONNXC_MAX_RANK]; /**< shapes in the last sample */
    onnxc_metrics metrics;     /**< merged over samples */
    int worst_sample;          /**< 0-based sample with the largest NMSE (or the first one not comparable) */
    int within;                /**< non-zero when within tolerance (onnxc_metrics_within); for an output of a
                                    detection set, the set's verdict */
    int detection_set;         /**< outputs: the detection set it belongs to (onnxc_compare_detection_set),
                                    -1 when compared element by element (metrics are then the verdict; for a
                                    set's outputs they are informative only); per-node entries: -1 */
} onnxc_compare_entry;

/** Most outputs besides boxes, scores and labels one detection set compares on matched pairs. */
#define ONNXC_DET_MAX_EXTRA 4

/** A detection set: outputs whose rows are detections (boxes [K,4] + scores [K] + labels [K] as torchvision's
 *  detectors and the usual NMS tails emit them, [K,5|6] "dets", or NonMaxSuppression's selected_indices
 *  [K,3]; masks [K,1,H,W] or keypoints [K,17,3] that follow the same K), whose count K depends on the data.
 *  They are compared by matching, not element by element, so a float tie that reorders two boxes agrees and
 *  one box more passing a threshold is one unmatched detection. Each sample: A's detections in order of
 *  decreasing score (ties: lower index first) each take the unmatched B detection of the same label with the
 *  largest IoU (corner boxes x1,y1,x2,y2; two boxes without area, segments clipped to a border, take the
 *  product of their axes' overlaps) >= iou_threshold (ties: the closer score, then the lower index);
 *  indices rows match when equal. For matched pairs, each box coordinate, score and extra element is held to
 *  the element test of onnxc_compare (|B - A| <= atol + rtol*max(|A|, rms(A)), rms over A's values of that
 *  output in the sample). The set is within tolerance when its outputs have detection shapes in every
 *  sample, every detection on both sides is matched (or at the threshold, see score_threshold) and no
 *  matched figure fails. Counts are totals over the samples, differences the largest. Strings are owned by
 *  the comparison. */
typedef struct onnxc_compare_detections {
    const char *name;          /**< the set's name: its boxes, dets or indices output */
    const char *grouped_by;    /**< how it was found: "option" (given), "name" (boxes/scores/labels names
                                    sharing the rest of the name), "shape" (data-dependent outputs sharing K) */
    const char *form;          /**< "boxes", "dets" or "indices" */
    const char *boxes;         /**< the boxes, dets or indices output */
    const char *scores;        /**< the scores output, NULL when none (or the dets' column 4) */
    const char *labels;        /**< the labels output, NULL when none (or the dets' column 5): matching
                                    ignores labels then */
    int n_extra;               /**< extra per-detection outputs */
    const char *extra[ONNXC_DET_MAX_EXTRA]; /**< their names (masks, keypoints, ...) */
    double iou_threshold;      /**< the IoU used */
    double score_threshold;    /**< NaN when not given */
    int samples;               /**< samples compared */
    int64_t n_a, n_b;          /**< detections in A and in B */
    int64_t matched;           /**< pairs matched */
    int64_t unmatched_a, unmatched_b; /**< detections of one side with no partner */
    int64_t at_threshold_a, at_threshold_b; /**< of those, the ones whose score is at the threshold */
    int64_t label_changed;     /**< unmatched A detections that overlap (IoU >= threshold) an unmatched B
                                    detection of another label: the same box, relabelled */
    int64_t reordered;         /**< matched pairs at different positions in A and B (ties, extra boxes) */
    double min_iou;            /**< smallest IoU of a matched pair (1 when none) */
    double max_box_diff;       /**< largest |B - A| of a matched box coordinate */
    int64_t box_fail;          /**< matched pairs with a coordinate failing the element test */
    double max_score_diff;     /**< largest |B - A| of a matched score */
    int64_t score_fail;        /**< matched pairs whose score fails the element test */
    double extra_max_abs[ONNXC_DET_MAX_EXTRA]; /**< per extra output: largest |B - A| over matched pairs */
    int64_t extra_fail[ONNXC_DET_MAX_EXTRA];   /**< per extra output: matched pairs with a failing element */
    int64_t shape_problems;    /**< samples where an output of the set did not have a detection shape (not
                                    [K,...] with the set's K, or a wrong width or type) */
    int within;                /**< non-zero when the set is within tolerance (see above) */
} onnxc_compare_detections;

/** Number of detection sets the comparison found or was given (0 before the first sample: sets found by
 *  shape are decided on it). */
ONNXC_API int onnxc_compare_num_detection_sets(const onnxc_comparison *c);
/** Detection set i, NULL when out of range. */
ONNXC_API const onnxc_compare_detections *onnxc_compare_detection_set(const onnxc_comparison *c, int i);

/** Samples run so far. */
ONNXC_API int onnxc_compare_num_samples(const onnxc_comparison *c);
/** Number of matched outputs. */
ONNXC_API int onnxc_compare_num_outputs(const onnxc_comparison *c);
/** Matched output i (in b's output order), NULL when out of range. */
ONNXC_API const onnxc_compare_entry *onnxc_compare_output(const onnxc_comparison *c, int i);
/** Non-zero when outputs were matched by position because the models share no output name. */
ONNXC_API int onnxc_compare_by_position(const onnxc_comparison *c);
/** Number of outputs of model a (side 0) or b (side 1) with no counterpart (not compared). */
ONNXC_API int onnxc_compare_num_unmatched(const onnxc_comparison *c, int side);
/** Name of unmatched output i of side 0 (a) or 1 (b), NULL when out of range. */
ONNXC_API const char *onnxc_compare_unmatched(const onnxc_comparison *c, int side, int i);
/** per_node: number of shared values compared, in b's execution order. */
ONNXC_API int onnxc_compare_num_nodes(const onnxc_comparison *c);
/** per_node: shared value i, NULL when out of range. */
ONNXC_API const onnxc_compare_entry *onnxc_compare_node(const onnxc_comparison *c, int i);
/** per_node: index of the first shared value (in b's execution order) beyond tolerance, -1 if none. */
ONNXC_API int onnxc_compare_first_divergence(const onnxc_comparison *c);
/** Non-zero when model a, the reference, produced NaN or Inf in a compared output. */
ONNXC_API int onnxc_compare_reference_nonfinite(const onnxc_comparison *c);
/** Elements compared over every matched output and sample (0: nothing was compared, e.g. empty outputs); for
 *  the outputs of a detection set, the elements of A's and B's detections (0 when neither side detected
 *  anything). */
ONNXC_API int64_t onnxc_compare_num_elements(const onnxc_comparison *c);
/** Non-zero when at least one sample ran, at least one element was compared (an empty comparison is not a
 *  pass) and every matched output is within tolerance. */
ONNXC_API int onnxc_compare_within(const onnxc_comparison *c);

/** Print the result: a table of the outputs (and of the shared values with per_node), the detection sets (how
 *  each was grouped, its counts and differences), the first divergence and a verdict line; or one JSON object
 *  when json != 0 (non-finite figures are null; "detections" lists the sets). */
ONNXC_API void onnxc_compare_print(const onnxc_comparison *c, FILE *f, int json);

/** The result as onnxc_compare_print(c, f, 1) prints it, as one malloc'd NUL-terminated JSON string in *json
 *  (NULL on failure); free it with onnxc_free. */
ONNXC_API onnxc_status onnxc_compare_json(const onnxc_comparison *c, char **json);

/** The result as one self-contained HTML page (inline CSS and SVG; no script, nothing fetched): the table of
 *  outputs (name, shape, dtype, max abs/rel, NMSE, cosine, verdict), the detection sets' table and, with
 *  per_node, the NMSE of every shared value along b's execution order on a log scale with the first divergence
 *  marked, and their table. Names are HTML-escaped. Written to path through a temporary file beside it and a
 *  rename, so a failed write leaves no partial page and an existing file untouched. */
ONNXC_API onnxc_status onnxc_compare_write_html(const onnxc_comparison *c, const char *path);

/** The page onnxc_compare_write_html writes, as one malloc'd NUL-terminated string in *html (NULL on failure);
 *  free it with onnxc_free. */
ONNXC_API onnxc_status onnxc_compare_html(const onnxc_comparison *c, char **html);

/** Free a comparison and its sessions; NULL is fine. */
ONNXC_API void onnxc_compare_free(onnxc_comparison *c);

/* ---- calibrated swap-norm ---- */

/** Where a calibration is: phase 2 (first) runs the original once per sample to record every layer's target,
 *  phase 0 fits layers first..last (0-based, execution order; layers with no swapped layer between them are
 *  fitted in one pass over the samples) of n_layers, phase 3 runs both models once more for the final linear
 *  layers' refit (unless keep_head), phase 1 measures the final drift, phase 4 (objective ONNXC_CALIB_FIT_ACT)
 *  has finished the fit of layer layer_first through its activation; sample is the number of samples done in
 *  this pass, of n_samples. */
typedef struct onnxc_calib_progress {
    int phase;
    int layer_first, layer_last, n_layers;
    int sample, n_samples;
} onnxc_calib_progress;

/** Options of onnxc_swap_norm_calibrate. Zero-initialise, then set what you need. */
typedef struct onnxc_calibrate_options {
    int threads;                  /**< worker threads of both sessions; 0 = number of cores */
    const char *const *sample_labels; /**< n_samples names used in messages (file names), or NULL: "sample i" */
    void (*progress)(void *user, const onnxc_calib_progress *p); /**< after every sample of a pass; may be NULL */
    void *progress_user;          /**< passed to progress */
    int keep_head;                /**< nonzero: leave the final linear layers as they are; 0 (default): after the
                                       layer fits, refit each one (see onnxc_calib_head) */
    int objective;                /**< what each layer's fit matches: ONNXC_CALIB_FIT_DEFAULT (0),
                                       ONNXC_CALIB_FIT_BN or ONNXC_CALIB_FIT_ACT (see onnxc_calib_layer) */
} onnxc_calibrate_options;

/** Objectives of the layer fit (onnxc_calibrate_options.objective). BN: least squares to the original
 *  BatchNormalization's output (one pass). ACT: where the swapped layer's only reader is Relu, LeakyRelu or Clip
 *  (constant bounds), least squares to the original's output AFTER that activation (the BN fit, then damped
 *  Gauss-Newton steps on the normalized values kept in a temporary file); other layers as BN. DEFAULT: BN. */
enum { ONNXC_CALIB_FIT_DEFAULT = 0, ONNXC_CALIB_FIT_BN = 1, ONNXC_CALIB_FIT_ACT = 2 };

/** One calibrated layer. Residuals are ||fit - target|| / ||target|| over every sample, position and channel,
 *  where target is the original BatchNormalization's output on the sample and fit the swapped layer's output
 *  with the layers before it already calibrated (both after the activation when objective names one):
 *  before = with the carried gamma/beta, after = with the fit. */
typedef struct onnxc_calib_layer {
    const char *node;          /**< the original BatchNormalization's node label */
    const char *output;        /**< its output value (the swapped layer's too) */
    int64_t channels, groups;  /**< C and G of the swapped layer */
    double residual_before, residual_after;
    int64_t kept_channels;     /**< channels whose normalized value had no variance: gamma/beta kept */
    int training_mode;         /**< the original BN ran in training mode (targets are its batch statistics) */
    const char *objective;     /**< what the residuals compare: "bn" (the BN output itself), or the activation
                                    the fit went through ("Relu", "LeakyRelu", "Clip"): target and fit after it */
    double residual_bn_fit;    /**< objective not "bn": the residual after the activation of the least-squares
                                    (bn) fit the Gauss-Newton steps started from; NaN for "bn" */
} onnxc_calib_layer;

/** One refitted final linear layer: a Gemm (transA 0), MatMul, or MatMul + Add whose weight (and bias) are
 *  initializers, whose output is a model output and whose input a swapped layer feeds. Its weight W (and bias)
 *  are refitted by ridge regression toward the carried ones, min ||X W - Y||^2 + lambda ||W - W0||^2, where X is
 *  its input in the calibrated model and Y the ORIGINAL model's output on the samples (never labels); lambda is
 *  lambda_rel * trace(X^T X) / d, lambda_rel picked on a grid (1e-4 .. 10, half decades) by the exact
 *  leave-one-row-out residual; when none beats the carried weights' residual, they stay (refitted 0). Residuals
 *  are ||X W - Y|| / ||Y|| over the calibration rows (samples x batch): before (W0), after, and leave-one-out. */
typedef struct onnxc_calib_head {
    const char *node;          /**< the Gemm or MatMul node label */
    const char *output;        /**< the model output it computes */
    int64_t inputs, outputs;   /**< d and m of the weight */
    int64_t rows;              /**< calibration rows the fit saw */
    int bias;                  /**< the bias was refitted too */
    int refitted;              /**< 0: the carried weights stayed (see above) */
    double lambda_rel;         /**< NaN when not refitted */
    double residual_before, residual_after, residual_loo;
} onnxc_calib_head;

/** One model output of the calibrated model against the original on the calibration samples. */
typedef struct onnxc_calib_output {
    const char *name;
    onnxc_metrics metrics;     /**< merged over the samples (reference: the original) */
} onnxc_calib_output;

/** The result of a calibration; opaque. */
typedef struct onnxc_calibration onnxc_calibration;

/** Fit the scale and bias of every layer that swap-norm made in swapped (which must come from original by the
 *  swap-norm pass, in either form, with any --only/--exclude: BatchNormalization outputs keep their names) so
 *  that each reproduces the original BatchNormalization's output on the samples, by least squares per channel
 *  on the layer's normalized value. Layers are fitted in execution order, each on the swapped model's own
 *  upstream activations (earlier layers already fitted); sums are in double and the samples are streamed, so
 *  memory is the two sessions plus one sample's activations of the layers being fitted and per-channel sums.
 *  samples holds n_samples x n_inputs tensors, sample-major (samples[s * n_inputs + i] is input names[i] of
 *  sample s); every real input of the model must be given with its declared type and static dims, else
 *  ONNXC_E_ARG naming the sample and input, and swapped is unchanged. Unless opts->keep_head, the final linear
 *  layers are then refitted to the original's outputs (onnxc_calib_head). The new values are written into
 *  swapped's initializers. *out (may be NULL) gets the per-layer residuals and the drift of every output;
 *  free it with onnxc_calibration_free. opts may be NULL. Not for use on the same models from several threads. */
ONNXC_API onnxc_status onnxc_swap_norm_calibrate(const onnxc_model *original, onnxc_model *swapped, int n_samples,
                                                 int n_inputs, const char *const *names,
                                                 const onnxc_tensor *const *samples,
                                                 const onnxc_calibrate_options *opts, onnxc_calibration **out);

/** Number of calibrated layers (in execution order). */
ONNXC_API int onnxc_calibration_num_layers(const onnxc_calibration *c);
/** Layer i, NULL when out of range; strings owned by c. */
ONNXC_API const onnxc_calib_layer *onnxc_calibration_layer(const onnxc_calibration *c, int i);
/** Number of refitted final linear layers (0 with keep_head or when there is none). */
ONNXC_API int onnxc_calibration_num_heads(const onnxc_calibration *c);
/** Head i, NULL when out of range; strings owned by c. */
ONNXC_API const onnxc_calib_head *onnxc_calibration_head(const onnxc_calibration *c, int i);
/** Number of model outputs compared for the drift. */
ONNXC_API int onnxc_calibration_num_outputs(const onnxc_calibration *c);
/** Output i, NULL when out of range; strings owned by c. */
ONNXC_API const onnxc_calib_output *onnxc_calibration_output(const onnxc_calibration *c, int i);
/** Number of calibration samples the fit ran on. */
ONNXC_API int onnxc_calibration_num_samples(const onnxc_calibration *c);
/** Print the per-layer table and the drift (human lines), or one JSON object when json != 0. */
ONNXC_API void onnxc_calibration_print(const onnxc_calibration *c, FILE *f, int json);
/** The JSON object onnxc_calibration_print(c, f, 1) prints, as one malloc'd NUL-terminated string in *json
 *  (NULL on failure); free it with onnxc_free. */
ONNXC_API onnxc_status onnxc_calibration_json(const onnxc_calibration *c, char **json);
/** The calibration as one self-contained HTML page (inline CSS and SVG; no script, nothing fetched): the relative
 *  residual of every layer before and after the fit along the execution order on a log scale, the table of
 *  layers and the drift of every output. original and swapped label the models (file names; NULL: generic).
 *  One malloc'd NUL-terminated string in *html (NULL on failure); free it with onnxc_free. */
ONNXC_API onnxc_status onnxc_calibration_html(const onnxc_calibration *c, const char *original, const char *swapped,
                                              char **html);
/** Write the page of onnxc_calibration_html to path (a temporary file beside it, then renamed: never a
 *  half-written page). */
ONNXC_API onnxc_status onnxc_calibration_write_html(const onnxc_calibration *c, const char *original,
                                                    const char *swapped, const char *path);
/** Free a calibration result; NULL is fine. */
ONNXC_API void onnxc_calibration_free(onnxc_calibration *c);

#ifdef __cplusplus
}
#endif
#endif
