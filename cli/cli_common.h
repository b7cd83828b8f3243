/* Shared pieces of the onnxc command-line tool: exit codes, one-line error messages, option matching and
 * the subcommand entry points. Every subcommand is a thin layer over include/onnxc/onnxc.h. */
#ifndef ONNXC_CLI_COMMON_H
#define ONNXC_CLI_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "onnxc/onnxc.h"

enum {
    CLI_EXIT_OK = 0,       /* success */
    CLI_EXIT_PROBLEMS = 1, /* a check found problems, outputs are bad, or the run itself failed */
    CLI_EXIT_USAGE = 2     /* bad usage or bad input (missing file, malformed model, unsupported op...) */
};

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

/* Set by --quiet (any command): notes, progress and reports are not printed; errors and warnings are, and
 * main prints one summary line with the elapsed time. */
extern int cli_quiet;
/* Where cli_error and cli_warn write (NULL: stderr); main points it at the real stderr under --quiet. */
extern FILE *cli_msg_stream;

/* The summary --quiet prints for this command (after "onnxc CMD: "), e.g. "4 rewrites, wrote out.onnx". */
void cli_summary(const char *fmt, ...) CLI_PRINTF(1, 2);
const char *cli_summary_text(void);

/* "onnxc: <message>" on one line on stderr. */
void cli_error(const char *fmt, ...) CLI_PRINTF(1, 2);
/* "onnxc: warning: <message>" on stderr. */
void cli_warn(const char *fmt, ...) CLI_PRINTF(1, 2);
/* Usage error for a command: "onnxc <cmd>: <message> (see 'onnxc <cmd> --help')"; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);
/* Report a failed library call with onnxc_last_error(); returns the exit code for st. */
int cli_fail(onnxc_status st);
/* Exit code for a failed library status. */
int cli_exit_code(onnxc_status st);

/* True when argv[i] is --help or -h. */
int cli_is_help(const char *arg);

/* Match option `name` at argv[*i] as "--name VALUE" (consuming the next argument) or "--name=VALUE".
 * Returns 1 with *val set, 0 when argv[*i] is not this option, -1 (after printing a usage error) when the
 * value is missing. */
int cli_opt_value(const char *cmd, int argc, char **argv, int *i, const char *name, const char **val);

/* "--external-data", "--external-data N" or "--external-data=N" at argv[*i]: 1 when it is one (*i moved past a
 * count that follows; *min_bytes = the count, or -1 when none is given), 0 when argv[*i] is something else, -1
 * after a usage error for cmd has been printed. */
int cli_opt_external(const char *cmd, int argc, char **argv, int *i, int64_t *min_bytes);

/* Save options for a command's --external-data: inline when !external; an explicit 0 means every tensor. */
void cli_save_options(onnxc_save_options *o, int external, int64_t min_bytes, const char *name);

/* The arguments of a command that takes one MODEL and at most one boolean option, flag (NULL: none), which
 * sets *flag_set to 1. Returns 1 with *path set, or 0 with *rc the exit code after printing the usage
 * (--help) or a usage error. */
int cli_model_args(const char *cmd, const char *usage, int argc, char **argv, const char *flag, int *flag_set,
                   const char **path, int *rc);

/* Parse a whole decimal integer in [lo, hi]; 0 on success. */
int cli_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out);
/* Parse an unsigned 64-bit decimal or 0x-prefixed hex number; 0 on success. */
int cli_parse_u64(const char *s, uint64_t *out);

/* True when both paths name the same existing file (same device and inode). */
int cli_same_file(const char *a, const char *b);

/* Record a message for the next cli_fail (for failures of the CLI's own code, which has no access to the
 * library's error slot); returns st. */
onnxc_status cli_set_error(onnxc_status st, const char *fmt, ...) CLI_PRINTF(2, 3);

/* ---- shapes of generated inputs: --shape NAME=DIMS, where NAME is an input (its whole shape, "1x3x224x224",
 * "scalar") or a symbolic dim (one number, "N=4") ---- */
typedef struct cli_dim_opt {
    char *name;
    int rank;
    int64_t dims[ONNXC_MAX_RANK];
} cli_dim_opt;

typedef struct cli_dims {
    cli_dim_opt *opts;     /* from --shape, in command-line order */
    int n_opts;
    char **sym_names;      /* symbols bound by other means (input files), first binding wins */
    int64_t *sym_values;
    int n_syms;
    int strict;            /* non-zero: a symbolic dim without a value is an error; zero: it becomes 1 */
    int note_default;      /* non-zero: say on stderr when a symbolic or unknown dim becomes 1 */
} cli_dims;

/* Add "NAME=DIMS"; 0 on success, else a usage error for cmd has been printed. */
int cli_dims_add(const char *cmd, cli_dims *d, const char *spec);
/* Bind a symbolic dim unless it already has a value (from --shape or an earlier binding); 0 on success. */
int cli_dims_bind(cli_dims *d, const char *symbol, int64_t value);
/* Every --shape NAME must be an input or a symbolic dim of an input of m (ONNXC_E_ARG naming it if not). */
onnxc_status cli_dims_check(const onnxc_model *m, const cli_dims *d);
void cli_dims_free(cli_dims *d);

/* ---- seeded inputs. The generator is splitmix64 seeded with the seed; inputs are filled in model order,
 * element by element: floating types uniform in [-1, 1) ((x >> 40) * 2^-23 - 1, complex: real then
 * imaginary), integer types x % 10, bool x >> 63. ---- */
uint64_t cli_splitmix64(uint64_t *state);

/* A tensor for input info: shape from dims (whole shape, or declared dims with symbols resolved), filled from
 * the generator state *rng. ONNXC_E_ARG naming the input and dim when a shape cannot be decided. */
onnxc_status cli_input_generate(const onnxc_io_info *info, const cli_dims *dims, uint64_t *rng, onnxc_tensor **out);

typedef struct cli_inputs {
    int n;
    char **names;
    onnxc_tensor **tensors;
} cli_inputs;

/* Generate every real input of m (see cli_input_generate) from one generator seeded with seed. */
onnxc_status cli_inputs_generate(const onnxc_model *m, const cli_dims *dims, uint64_t seed, cli_inputs *in);
void cli_inputs_free(cli_inputs *in);

/* Text of a shape: "1x3x224x224", "scalar" (oc_dims_str; oc_declared_text in compare.h gives that of a declared
 * shape with symbols: "Nx3x224x224", "unknown"). */
void cli_dims_text(const int64_t *dims, int rank, char *buf, size_t cap);

/* ---- input files given to run and compare as --input [NAME=]FILE ---- */
typedef struct cli_given {
    const char *name; /* points into name_buf, into the model, or NULL until resolved */
    const char *file;
    onnxc_tensor *t;
    char *name_buf;
} cli_given;

/* Parse the value of --input into g: 0, CLI_EXIT_USAGE after a usage error for cmd, or -1 after "out of
 * memory". */
int cli_given_parse(const char *cmd, const char *val, cli_given *g);
/* Read the file of given[i] and settle its name: NAME= as given, else the name the file stores, else the only
 * input of infos[0..n_in). 0, or after a message the exit code: cli_fail's when the file cannot be read,
 * CLI_EXIT_USAGE when the input cannot be named or given[0..i) already names it. plural as below. */
int cli_given_read(const char *cmd, cli_given *given, int i, const onnxc_io_info *infos, int n_in, int plural);
/* Does g's tensor fit the declared input: its element type, rank and static dims? 0 if so, else -1 after an
 * error naming the input and file; plural: the message speaks of "the models" (compare) not "the model". */
int cli_given_fits(const char *cmd, const onnxc_io_info *info, cli_given *g, int plural);
/* Replace each given .npz archive (told by content) by one given per array, named by the member's name; with
 * NAME=FILE.npz, the member NAME (or the only one). *given is realloc'd. 0, or the exit code after a message. */
int cli_given_expand(const char *cmd, cli_given **given, int *n_given);
/* A float64 tensor for a float/float16/bfloat16 input is cast to that type, with a note on stderr (NumPy saves
 * float64 by default). 0, or the exit code after a message. Called by cli_given_fits. */
int cli_given_cast(const char *cmd, const onnxc_io_info *info, cli_given *g);

/* ---- options of onnxc_optimize (cli_pass_options.c) ---- */

/* A flag of a command that stands for an option: "--groups G" sets option to G; a flag with a value
 * ("--keep-bn") takes no argument and sets option to value. */
typedef struct cli_opt_flag {
    const char *flag;
    const char *option;
    const char *value;
} cli_opt_flag;

typedef struct cli_pass_options {
    onnxc_optimize_options *opts;
    const cli_opt_flag *flags; /* the command's flags, ended by an entry with flag NULL */
    const char *locked;        /* an option --set may not change (the command fixes it), or NULL */
    int used[16];              /* flags (indices) given so far, for messages */
    int n_used;
} cli_pass_options;

/* argv[*i] as one of po's flags or as --set NAME=VALUE: sets the option and returns 1; 0 when argv[*i] is
 * something else; -1 after a usage error (the library's message with the names of options given by flags
 * shown as those flags, e.g. "--groups takes a whole number from 1 to ..."). */
int cli_pass_options_arg(const char *cmd, cli_pass_options *po, int argc, char **argv, int *i);
/* msg with every option name that a flag of this run set replaced by that flag. */
void cli_pass_options_message(const cli_pass_options *po, const char *msg, char *out, size_t cap);

/* ---- calibration samples of swap-norm --calibrate (cli_calib_data.c) ---- */
typedef struct cli_calib {
    int n_samples, n_inputs;
    char **names;            /* n_inputs input names, in the model's order */
    char **labels;           /* n_samples file paths (of the first input), NULL for generated samples */
    onnxc_tensor **tensors;  /* n_samples x n_inputs, sample-major */
} cli_calib;

/* Samples from --calibrate values: one folder (one file per sample for a single-input model; one sub-folder
 * per input name with matching file names for several), or NAME=DIR for each input. Files sorted by name. */
onnxc_status cli_calib_read(const onnxc_model *m, int n_specs, const char *const *specs, cli_calib *c);
/* n seeded samples: sample k is what 'onnxc run MODEL --seed k' generates. */
onnxc_status cli_calib_random(const onnxc_model *m, int n, cli_calib *c);
void cli_calib_free(cli_calib *c);

/* The detection flags of compare and optimize --verify: --detections SPEC (repeatable: the sets are joined with
 * ';'; "none" alone turns detection matching off), --iou X, --score-threshold T. */
typedef struct cli_det_opts {
    char *spec; /* malloc'd, NULL: found automatically */
    double iou; /* 0: the command's default */
    double score_threshold; /* NaN: none */
} cli_det_opts;

/* 1 when argv[*i] was one of the flags (consumed, with its value), 0 when not, -1 after a usage error. */
int cli_det_flag(const char *cmd, int argc, char **argv, int *i, cli_det_opts *d);
/* Put the flags into a comparison's options (iou only when given). */
void cli_det_apply(const cli_det_opts *d, onnxc_compare_options *co);

/* Subcommands: argv[0] is the command name. Each returns the process exit code. */
int cmd_info(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_optimize(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_swap_norm(int argc, char **argv);

#endif
