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
const char *onnxc_last_error(void);

/** Short constant name of a status ("ok", "io", "parse", ...). */
const char *onnxc_status_name(onnxc_status st);

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
    ONNXC_BFLOAT16 = 16
} onnxc_dtype;

/** Size in bytes of one element of dtype (sizeof(onnxc_string) for STRING), 0 if unknown. */
size_t onnxc_dtype_size(int32_t dtype);

/** Lower-case ONNX name of dtype ("float", "int64", ...), "undefined" if unknown. */
const char *onnxc_dtype_name(int32_t dtype);

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
int64_t onnxc_tensor_numel(const onnxc_tensor *t);

/** Allocate a zero-filled tensor of the given type and shape into *out; dims are checked (no negatives, no overflow). */
onnxc_status onnxc_tensor_create(int32_t dtype, int32_t rank, const int64_t *dims, onnxc_tensor **out);

/** Deep copy of src into *out. */
onnxc_status onnxc_tensor_clone(const onnxc_tensor *src, onnxc_tensor **out);

/** Free a tensor made by this library (its data too when owned); NULL is fine. */
void onnxc_tensor_free(onnxc_tensor *t);

/** Read a tensor from a NumPy .npy file or an ONNX TensorProto .pb file (chosen by content). *name gets the
 *  TensorProto's name (malloc'd, may be NULL); pass name == NULL to ignore it. */
onnxc_status onnxc_tensor_read(const char *path, onnxc_tensor **out, char **name);

/** Write a tensor as a NumPy .npy file (atomically: temporary file, then rename). */
onnxc_status onnxc_tensor_write_npy(const onnxc_tensor *t, const char *path);

/** Write a tensor as an ONNX TensorProto .pb file with the given name (may be NULL), atomically. */
onnxc_status onnxc_tensor_write_pb(const onnxc_tensor *t, const char *name, const char *path);

/** A loaded model; opaque. */
typedef struct onnxc_model onnxc_model;

/** Load an ONNX model from a file; external data is resolved against the file's folder. */
onnxc_status onnxc_model_load(const char *path, onnxc_model **out);

/** Load an ONNX model from bytes; base_dir (may be NULL) resolves external data, name is used in messages. */
onnxc_status onnxc_model_load_buffer(const void *data, size_t len, const char *base_dir, const char *name,
                                     onnxc_model **out);

/** Free a model; NULL is fine. */
void onnxc_model_free(onnxc_model *m);

/** Options for onnxc_model_save. Zero-initialise, then set what you need. */
typedef struct onnxc_save_options {
    int external_data;          /**< non-zero: tensors of at least external_min_bytes go to an external file */
    size_t external_min_bytes;  /**< threshold for external_data (0 means 1024) */
    const char *external_name;  /**< file name beside the output for external data (NULL: "<output name>.data") */
    int allow_overwrite_input;  /**< non-zero: allow the output to be the file the model was loaded from */
} onnxc_save_options;

/** Write the model as ONNX to path: written to a temporary file in the same folder, then renamed.
 *  Refuses to overwrite the file the model came from unless opts->allow_overwrite_input. opts may be NULL. */
onnxc_status onnxc_model_save(const onnxc_model *m, const char *path, const onnxc_save_options *opts);

/** Serialize the model to a malloc'd buffer (*data, *len); tensors stay inline. Free *data with free(). */
onnxc_status onnxc_model_serialize(const onnxc_model *m, void **data, size_t *len);

/** A graph input or output as seen from outside: name, element type and shape (dims < 0 are symbolic or unknown). */
typedef struct onnxc_io_info {
    const char *name;          /**< value name */
    int32_t dtype;             /**< element type, ONNXC_UNDEFINED if not declared */
    int32_t rank;              /**< -1 when the shape is not declared */
    int64_t dims[ONNXC_MAX_RANK]; /**< static dims, -1 where symbolic or unknown */
    const char *dim_params[ONNXC_MAX_RANK]; /**< symbolic dim names where dims[i] < 0 (may be NULL) */
} onnxc_io_info;

/** Number of real graph inputs (initializers listed as inputs in IR <= 3 are not counted). */
int onnxc_model_num_inputs(const onnxc_model *m);
/** Number of graph outputs. */
int onnxc_model_num_outputs(const onnxc_model *m);
/** Fill *info for real input i (0-based); strings point into the model. */
onnxc_status onnxc_model_input_info(const onnxc_model *m, int i, onnxc_io_info *info);
/** Fill *info for output i (0-based); strings point into the model. */
onnxc_status onnxc_model_output_info(const onnxc_model *m, int i, onnxc_io_info *info);

/** Print a human summary of the model (versions, I/O, op histogram, parameters, BatchNormalization count) to f;
 *  json != 0 prints one JSON object instead. */
onnxc_status onnxc_model_print_info(const onnxc_model *m, FILE *f, int json);

/** Structural validation. Each problem is printed as one line to f (may be NULL); *n_problems gets the count.
 *  Returns ONNXC_OK when the check itself ran, whatever it found. */
onnxc_status onnxc_model_check(const onnxc_model *m, FILE *f, int *n_problems);

/** Options for a session. Zero-initialise, then set what you need. */
typedef struct onnxc_session_options {
    int threads;   /**< worker threads for our kernels and OpenBLAS; 0 = number of cores */
} onnxc_session_options;

/** A prepared model ready to run; opaque. */
typedef struct onnxc_session onnxc_session;

/** Plan a model for running: picks kernels (every unsupported op is listed in one error), prepacks weights.
 *  The model must outlive the session. opts may be NULL. */
onnxc_status onnxc_session_create(const onnxc_model *m, const onnxc_session_options *opts, onnxc_session **out);

/** Run with n inputs matched by name (names[i] for inputs[i]); every graph input must be given.
 *  Shapes are checked against the model; a new shape re-plans. Outputs stay valid until the next run or free. */
onnxc_status onnxc_session_run(onnxc_session *s, int n, const char *const *names, const onnxc_tensor *const *inputs);

/** Number of outputs of the session's model. */
int onnxc_session_num_outputs(const onnxc_session *s);
/** Name of output i. */
const char *onnxc_session_output_name(const onnxc_session *s, int i);
/** Output i of the last run (NULL before any run); owned by the session. */
const onnxc_tensor *onnxc_session_output(const onnxc_session *s, int i);

/** Free a session; NULL is fine. */
void onnxc_session_free(onnxc_session *s);

/* ---- graph rewrites (passes) ---- */

/** What a pipeline of passes did: per pass, the rewrites made and the ones skipped with their reason, plus op
 *  counts and parameter bytes before and after. Opaque. */
typedef struct onnxc_report onnxc_report;

/** Options for onnxc_optimize. Zero-initialise, then set what you need. */
typedef struct onnxc_optimize_options {
    const char *passes;   /**< comma-separated pass names; NULL or "" = the default pipeline (every exact pass) */
    int stop_after;       /**< apply only the first N rewrites (for bisecting a bad rewrite); 0 = no limit */
    int keep_bn;          /**< fold-bn: keep a BatchNormalization with nothing to fold into (else Mul + Add) */
    int check_each;       /**< check graph consistency after every pass (tests and debug builds do it always) */
    int groups;           /**< swap-norm: number of groups (0 = 32) */
    int strict;           /**< swap-norm: channel count not divisible by groups is an error, not a fallback */
    const char *swap_to;  /**< swap-norm: "group" (default), "instance" or "layer" */
    const char *swap_form; /**< swap-norm: "auto" (default), "op" (GroupNormalization-21) or "decomposed" */
    const char *only;     /**< swap-norm: POSIX extended regex; only BNs whose node or output name matches */
    const char *exclude;  /**< swap-norm: POSIX extended regex; BNs whose node or output name matches are left */
} onnxc_optimize_options;

/** Run passes over the model in place. *report (may be NULL) receives what was done; free it with
 *  onnxc_report_free. An unknown pass name is ONNXC_E_ARG and leaves the model untouched. */
onnxc_status onnxc_optimize(onnxc_model *m, const onnxc_optimize_options *opts, onnxc_report **report);

/** Print a report: human lines, or one JSON object when json != 0. */
void onnxc_report_print(const onnxc_report *r, FILE *f, int json);

/** Number of rewrites the report records (0 when the pipeline changed nothing). */
int onnxc_report_num_changes(const onnxc_report *r);

/** Free a report; NULL is fine. */
void onnxc_report_free(onnxc_report *r);

/** Print the registered passes (name, exact or output-changing, summary) to f, one per line. */
void onnxc_list_passes(FILE *f);

#ifdef __cplusplus
}
#endif
#endif
