/* onnxc run MODEL: run a model once on inputs read from .npy/.pb files or generated from a seeded PRNG, print
 * per-output statistics (min/max/mean, NaN/Inf counts) and optionally write each output, or every intermediate
 * value as it is produced (--dump), as a .npy file. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "cli_common.h"

static const char usage[] =
    "usage: onnxc run MODEL [--input NAME=FILE]... [--shape NAME=DIMS]... [--seed S] [--output-dir DIR]\n"
    "                 [--threads N] [--dump DIR [--dump-only NAMES]] [--json] [-q]\n"
    "\n"
    "Run MODEL once and print, for each output, its type, shape, min/max/mean (over finite values) and how\n"
    "many NaN and Inf values it holds (a warning is printed when there are any).\n"
    "\n"
    "  --input NAME=FILE   input NAME from a NumPy .npy or ONNX TensorProto .pb file (FILE alone: the name\n"
    "                      stored in the .pb, or the model's only input)\n"
    "  --shape NAME=DIMS   shape of a generated input, e.g. --shape images=1x3x224x224 ('scalar' for rank 0);\n"
    "                      or, when NAME is a symbolic dim of the inputs, its value: --shape N=4\n"
    "  --seed S            seed of the generator for inputs not given (default 0)\n"
    "  --output-dir DIR    write each output as DIR/<output name>.npy (characters other than letters, digits,\n"
    "                      '.', '-' and '_' become '_'; bfloat16, which NumPy lacks, as a TensorProto .pb);\n"
    "                      without it nothing is written\n"
    "  --threads N         worker threads (default: number of cores)\n"
    "  --dump DIR          write every value a node produces (intermediates and outputs, including values the\n"
    "                      plan computes ahead of time from constants) as DIR/<value name>.npy, file names made\n"
    "                      safe as for --output-dir; each is written the moment its node has run\n"
    "  --dump-only NAMES   with --dump: only these comma-separated value names (each must be a node output)\n"
    "  --json              one JSON object on stdout instead of the lines: {\"model\", \"seed\", \"inputs\": [{name,\n"
    "                      dtype, shape, source: file|random, file}], \"outputs\": [{name, dtype, shape, file\n"
    "                      (with --output-dir), min, max, mean (finite values; null when none), elements, nan,\n"
    "                      inf}], \"dumped\" (with --dump)}\n"
    "  -q, --quiet         print nothing but errors, warnings and a one-line summary with the elapsed time\n"
    "\n"
    "An input file may be .npy (C or Fortran order; float64 is cast to a float/float16/bfloat16 input with a\n"
    "note), .pb, or an .npz archive (numpy.savez: --input FILE.npz feeds each array to the input of its name;\n"
    "NAME=FILE.npz takes that array). An input name the model does not have is refused first, listing its\n"
    "inputs.\n"
    "\n"
    "Inputs not given are generated with the declared type and shape (symbolic dims from --shape, or from an\n"
    "input file that binds the same dim name, else 1, with a note on stderr). The generator is splitmix64 seeded with S; the generated\n"
    "inputs are filled in model order, element by element: floating types uniform in [-1, 1)\n"
    "(float: (x >> 40) * 2^-23 - 1), integer types in [0, 10) (x % 10), bool x >> 63. String inputs must be\n"
    "given.\n"
    "\n"
    "exit status: 0 success, 1 the run failed in a kernel, 2 bad usage or bad input (missing file, wrong\n"
    "type or shape for an input, unsupported op...).\n";

typedef struct run_state {
    onnxc_model *m;
    onnxc_session *s;
    onnxc_io_info *infos;
    int n_in;
    cli_given *given;
    int n_given;
    cli_dims dims;
    onnxc_tensor **generated;
    const char **names;
    const onnxc_tensor **tensors;
    int n_feed;
    char **written;
    int n_written;
    /* --dump */
    const char *dump_dir;
    char **dump_only;
    int n_dump_only;
    char **dumped;
    int n_dumped;
    /* --json: the object is built here and printed only when the run succeeded */
    FILE *jf;
    char *jbuf;
    size_t jlen;
} run_state;

/* One input or output as JSON into r->jf. */
static void json_tensor(run_state *r, const char *name, const onnxc_tensor *t, const char *source, const char *file)
{
    FILE *f = r->jf;
    fprintf(f, "{\"name\": ");
    onnxc_json_write_string(f, name);
    fprintf(f, ", \"dtype\": \"%s\", \"shape\": [", onnxc_dtype_name(t->dtype));
    for (int d = 0; d < t->rank; d++)
        fprintf(f, "%s%lld", d ? ", " : "", (long long)t->dims[d]);
    fprintf(f, "]");
    if (source)
        fprintf(f, ", \"source\": \"%s\"", source);
    if (file) {
        fprintf(f, ", \"file\": ");
        onnxc_json_write_string(f, file);
    }
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.17g", v);
    else
        fprintf(f, "null");
}

/* ---------------------------------------------------------------- inputs */

/* A file's tensor against the declared input: element type, rank and static dims; binds symbolic dims. */
static int check_given(run_state *r, const onnxc_io_info *info, cli_given *g)
{
    if (cli_given_fits("run", info, g, 0) != 0)
        return -1;
    const onnxc_tensor *t = g->t; /* after cli_given_fits, which may replace g->t (a float64 file cast) */
    if (info->rank < 0)
        return 0;
    for (int d = 0; d < info->rank; d++)
        if (info->dims[d] < 0 && info->dim_params[d] && *info->dim_params[d] &&
            cli_dims_bind(&r->dims, info->dim_params[d], t->dims[d]) != 0) {
            cli_error("run: out of memory");
            return -1;
        }
    return 0;
}

/* Read every --input file and name it; 0 or an exit code. */
static int read_given(run_state *r, const char *path)
{
    int k = cli_given_expand("run", &r->given, &r->n_given);
    if (k != 0)
        return k;
    for (int i = 0; i < r->n_given; i++) {
        k = cli_given_read("run", r->given, i, r->infos, r->n_in, 0);
        if (k != 0)
            return k;
        /* a name may also be an input whose initializer is its default (the session lets a caller override
         * it); any other name is refused now, before anything is planned or generated */
        if (!onnxc_model_accepts_input(r->m, r->given[i].name)) {
            char names[1024];
            size_t n = 0;
            names[0] = 0;
            for (int j = 0; j < r->n_in && n < sizeof names; j++)
                n += (size_t)snprintf(names + n, sizeof names - n, "%s'%s'", j ? ", " : "", r->infos[j].name);
            cli_error("run: --input %s: %s has no input '%s' (its inputs: %s)", r->given[i].file, path,
                      r->given[i].name, r->n_in ? names : "none");
            return CLI_EXIT_USAGE;
        }
    }
    for (int i = 0; i < r->n_given; i++)
        for (int j = 0; j < r->n_in; j++)
            if (strcmp(r->infos[j].name, r->given[i].name) == 0 && check_given(r, &r->infos[j], &r->given[i]) != 0)
                return CLI_EXIT_USAGE;
    return 0;
}

/* ---------------------------------------------------------------- outputs */

typedef struct out_stats {
    int numeric;
    double min, max, sum;
    int64_t finite, nan, inf, n;
} out_stats;

static void compute_stats(const onnxc_tensor *t, out_stats *s)
{
    memset(s, 0, sizeof *s);
    s->n = onnxc_tensor_numel(t);
    s->numeric = t->dtype != ONNXC_STRING && t->dtype != ONNXC_COMPLEX64 && t->dtype != ONNXC_COMPLEX128 &&
                 t->dtype != ONNXC_SEQUENCE && t->dtype != ONNXC_OPTIONAL && onnxc_dtype_size(t->dtype) != 0;
    if (!s->numeric || s->n <= 0)
        return;
    if (!t->data || t->nbytes < (size_t)s->n * onnxc_dtype_size(t->dtype)) {
        s->numeric = 0;
        return;
    }
    s->min = INFINITY;
    s->max = -INFINITY;
    for (int64_t i = 0; i < s->n; i++) {
        double v = onnxc_tensor_get_f64(t, i);
        if (isnan(v)) {
            s->nan++;
        } else if (isinf(v)) {
            s->inf++;
        } else {
            s->finite++;
            s->sum += v;
            if (v < s->min)
                s->min = v;
            if (v > s->max)
                s->max = v;
        }
    }
}

/* File name for an output: unsafe characters become '_' (and a leading '.' gets a '_' before it, so no
 * name is hidden, "." or ".."); a name already used gets "_<output index>" and, if needed, a further "_<k>". */
static int output_path_in(char ***written, int *n_written, const char *dir, const char *name, int index,
                          char **out)
{
    *out = NULL;
    size_t len = strlen(name);
    char *base = malloc(len + 2);
    if (!base)
        return -1;
    size_t k = 0;
    if (len == 0 || name[0] == '.')
        base[k++] = '_';
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                 c == '-' || c == '_';
        base[k++] = ok ? c : '_';
    }
    base[k] = 0;
    size_t cap = k + 48;
    char *safe = malloc(cap);
    char **nw = realloc(*written, (size_t)(*n_written + 1) * sizeof *nw);
    if (nw)
        *written = nw;
    if (!safe || !nw) {
        free(base);
        free(safe);
        return -1;
    }
    snprintf(safe, cap, "%s", base);
    for (int attempt = 0;; attempt++) {
        int taken = 0;
        for (int j = 0; j < *n_written && !taken; j++)
            taken = strcmp((*written)[j], safe) == 0;
        if (!taken)
            break;
        if (attempt == 0)
            snprintf(safe, cap, "%s_%d", base, index);
        else
            snprintf(safe, cap, "%s_%d_%d", base, index, attempt);
    }
    free(base);
    (*written)[(*n_written)++] = safe;
    size_t plen = strlen(dir) + strlen(safe) + 8;
    if (!(*out = malloc(plen)))
        return -1;
    snprintf(*out, plen, "%s/%s.npy", dir, safe);
    return 0;
}

/* Write t to file (a path ending in .npy); bfloat16, which NumPy has no type for, goes to the same path with .pb
 * in place of .npy, as an ONNX TensorProto named name. */
static onnxc_status write_value(const onnxc_tensor *t, const char *name, char *file)
{
    if (t->dtype != ONNXC_BFLOAT16)
        return onnxc_tensor_write_npy(t, file);
    size_t n = strlen(file);
    if (n >= 4 && strcmp(file + n - 4, ".npy") == 0)
        strcpy(file + n - 4, ".pb");
    return onnxc_tensor_write_pb(t, name, file);
}

static int output_path(run_state *r, const char *dir, const char *name, int index, char **out)
{
    return output_path_in(&r->written, &r->n_written, dir, name, index, out);
}

/* --dump: write each chosen node output while it is valid (during the observer call). */
static onnxc_status dump_value(void *user, const char *node_name, const char *op_type, const char *value_name,
                               const onnxc_tensor *t)
{
    (void)node_name;
    (void)op_type;
    run_state *r = user;
    if (r->n_dump_only) {
        int want = 0;
        for (int i = 0; i < r->n_dump_only && !want; i++)
            want = strcmp(r->dump_only[i], value_name) == 0;
        if (!want)
            return ONNXC_OK;
    }
    char *file = NULL;
    if (output_path_in(&r->dumped, &r->n_dumped, r->dump_dir, value_name, r->n_dumped, &file) != 0) {
        free(file);
        return cli_set_error(ONNXC_E_NOMEM, "run: out of memory");
    }
    onnxc_status st = write_value(t, value_name, file);
    free(file);
    return st;
}

/* --dump-only a,b: split, and refuse names no node produces before anything runs. */
static int parse_dump_only(run_state *r, const char *list)
{
    const char *p = list;
    while (1) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len) {
            char **nl = realloc(r->dump_only, (size_t)(r->n_dump_only + 1) * sizeof *nl);
            if (!nl) {
                cli_error("run: out of memory");
                return CLI_EXIT_PROBLEMS;
            }
            r->dump_only = nl;
            if (!(r->dump_only[r->n_dump_only] = strndup(p, len))) {
                cli_error("run: out of memory");
                return CLI_EXIT_PROBLEMS;
            }
            r->n_dump_only++;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    if (!r->n_dump_only)
        return cli_usage_error("run", "--dump-only needs at least one value name");
    return 0;
}

static int ensure_dir(const char *dir)
{
    struct stat sb;
    if (stat(dir, &sb) == 0) {
        if (S_ISDIR(sb.st_mode))
            return 0;
        cli_error("run: '%s' is not a directory", dir);
        return -1;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        cli_error("run: cannot create output directory '%s': %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* A sequence or optional output: its items' types and shapes, and with out_dir each item written as
 * DIR/<output name>_<item>.npy; 0 or an exit code. */
static int report_items(run_state *r, int i, const char *name, const onnxc_tensor *t, const char *out_dir)
{
    const int64_t n = onnxc_value_items(t);
    if (n < 0) {
        cli_error("run: output '%s' is not a valid %s value", name, onnxc_dtype_name(t->dtype));
        return CLI_EXIT_PROBLEMS;
    }
    FILE *tf = stdout;
    if (r->jf) { /* the human line goes nowhere; the JSON entry below carries the same figures */
        tf = fopen("/dev/null", "w");
        if (!tf)
            tf = stderr;
    }
    if (t->dtype == ONNXC_OPTIONAL && n == 0)
        fprintf(tf, "output %s: optional, no value\n", name);
    else
        fprintf(tf, "output %s: %s of %lld item%s", name, onnxc_dtype_name(t->dtype), (long long)n, n == 1 ? "" : "s");
    char *base = NULL;
    if (out_dir && n > 0 && output_path(r, out_dir, name, i, &base) != 0) {
        free(base);
        if (tf != stdout && tf != stderr)
            fclose(tf);
        cli_error("run: out of memory");
        return CLI_EXIT_PROBLEMS;
    }
    if (base && strlen(base) > 4 && strcmp(base + strlen(base) - 4, ".npy") == 0)
        base[strlen(base) - 4] = 0;
    int rc = 0;
    for (int64_t k = 0; k < n; k++) {
        onnxc_tensor it;
        char d[256];
        if (onnxc_value_item(t, k, &it) != ONNXC_OK)
            break;
        cli_dims_text(it.dims, it.rank, d, sizeof d);
        if (k < 8)
            fprintf(tf, "%s %s [%s]", k ? "," : ":", onnxc_dtype_name(it.dtype), d);
        else if (k == 8)
            fprintf(tf, ", ...");
        if (base && !rc) {
            char file[4200];
            snprintf(file, sizeof file, "%s_%lld.npy", base, (long long)k);
            onnxc_status st = it.dtype == ONNXC_SEQUENCE || it.dtype == ONNXC_OPTIONAL
                                  ? ONNXC_E_UNSUPPORTED
                                  : onnxc_tensor_write_npy(&it, file);
            if (st != ONNXC_OK) {
                fprintf(tf, "\n");
                cli_error("run: output '%s' item %lld: %s", name, (long long)k,
                          st == ONNXC_E_UNSUPPORTED ? "a nested sequence has no .npy form" : onnxc_last_error());
                rc = CLI_EXIT_PROBLEMS;
            }
        }
    }
    if (!rc && (t->dtype != ONNXC_OPTIONAL || n > 0))
        fprintf(tf, base ? " -> %s_<item>.npy\n" : "\n", base);
    if (r->jf) {
        fprintf(r->jf, "%s{\"name\": ", i ? ", " : "");
        onnxc_json_write_string(r->jf, name);
        fprintf(r->jf, ", \"dtype\": \"%s\", \"items\": %lld}", onnxc_dtype_name(t->dtype), (long long)n);
    }
    free(base);
    if (tf != stdout && tf != stderr)
        fclose(tf);
    fflush(stdout);
    return rc;
}

/* Print one output's line (and warnings), and write it when out_dir is set; 0 or an exit code. */
static int report_output(run_state *r, int i, const char *out_dir)
{
    const char *name = onnxc_session_output_name(r->s, i);
    const onnxc_tensor *t = onnxc_session_output(r->s, i);
    if (!name || !t) {
        cli_error("run: output %d is missing after the run", i);
        return CLI_EXIT_PROBLEMS;
    }
    if (t->dtype == ONNXC_SEQUENCE || t->dtype == ONNXC_OPTIONAL)
        return report_items(r, i, name, t, out_dir);
    char d[256];
    cli_dims_text(t->dims, t->rank, d, sizeof d);
    out_stats s;
    compute_stats(t, &s);
    FILE *tf = stdout;
    if (r->jf) { /* the human line goes nowhere; the JSON entry below carries the same figures */
        tf = fopen("/dev/null", "w");
        if (!tf)
            tf = stderr;
    }
    fprintf(tf, "output %s: %s [%s]", name, onnxc_dtype_name(t->dtype), d);
    if (!s.numeric)
        fprintf(tf, " (no statistics for %s)", onnxc_dtype_name(t->dtype));
    else if (s.n == 0)
        fprintf(tf, " empty");
    else if (s.finite == 0)
        fprintf(tf, " no finite values");
    else
        fprintf(tf, " min %.6g max %.6g mean %.6g", s.min, s.max, s.sum / (double)s.finite);
    if (s.nan || s.inf)
        fprintf(tf, " (%lld NaN, %lld Inf)", (long long)s.nan, (long long)s.inf);
    int rc = 0;
    char *written = NULL;
    if (out_dir) {
        char *file = NULL;
        if (output_path(r, out_dir, name, i, &file) != 0) {
            fprintf(tf, "\n");
            cli_error("run: out of memory");
            free(file);
            if (tf != stdout && tf != stderr)
                fclose(tf);
            return CLI_EXIT_PROBLEMS;
        }
        onnxc_status st = write_value(t, name, file);
        if (st == ONNXC_OK)
            fprintf(tf, " -> %s", file);
        written = file;
        if (st != ONNXC_OK) {
            fprintf(tf, "\n");
            fflush(stdout);
            free(written);
            if (tf != stdout && tf != stderr)
                fclose(tf);
            return cli_fail(st);
        }
    }
    fprintf(tf, "\n");
    if (tf != stdout && tf != stderr)
        fclose(tf);
    if (r->jf) {
        fprintf(r->jf, "%s", i ? ", " : "");
        json_tensor(r, name, t, NULL, written);
        if (s.numeric && s.finite) {
            fprintf(r->jf, ", \"min\": ");
            json_num(r->jf, s.min);
            fprintf(r->jf, ", \"max\": ");
            json_num(r->jf, s.max);
            fprintf(r->jf, ", \"mean\": ");
            json_num(r->jf, s.sum / (double)s.finite);
        } else {
            fprintf(r->jf, ", \"min\": null, \"max\": null, \"mean\": null");
        }
        fprintf(r->jf, ", \"elements\": %lld, \"nan\": %lld, \"inf\": %lld}", (long long)s.n, (long long)s.nan,
                (long long)s.inf);
    }
    free(written);
    fflush(stdout);
    if (s.nan)
        cli_warn("output '%s' has %lld NaN value%s", name, (long long)s.nan, s.nan == 1 ? "" : "s");
    if (s.inf)
        cli_warn("output '%s' has %lld Inf value%s", name, (long long)s.inf, s.inf == 1 ? "" : "s");
    return rc;
}

/* ---------------------------------------------------------------- the command */

static void run_state_free(run_state *r)
{
    if (r->jf)
        fclose(r->jf);
    free(r->jbuf);
    for (int i = 0; i < r->n_given; i++) {
        onnxc_tensor_free(r->given[i].t);
        free(r->given[i].name_buf);
    }
    if (r->generated)
        for (int i = 0; i < r->n_feed; i++)
            onnxc_tensor_free(r->generated[i]);
    for (int i = 0; i < r->n_written; i++)
        free(r->written[i]);
    free(r->written);
    for (int i = 0; i < r->n_dumped; i++)
        free(r->dumped[i]);
    free(r->dumped);
    for (int i = 0; i < r->n_dump_only; i++)
        free(r->dump_only[i]);
    free(r->dump_only);
    free(r->generated);
    free(r->names);
    free(r->tensors);
    free(r->given);
    free(r->infos);
    cli_dims_free(&r->dims);
    onnxc_session_free(r->s);
    onnxc_model_free(r->m);
}

static int run_main(run_state *r, int argc, char **argv)
{
    const char *path = NULL, *out_dir = NULL, *dump_only = NULL;
    uint64_t seed = 0;
    int64_t threads = 0;
    int opts_done = 0, k, json = 0;
    r->dims.note_default = 1; /* a symbolic dim not given becomes 1, as in compare and bench, and run says so */
    if (!(r->given = calloc((size_t)argc + 1, sizeof *r->given))) {
        cli_error("run: out of memory");
        return CLI_EXIT_PROBLEMS;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val;
        if (opts_done || a[0] != '-' || !a[1]) {
            if (path)
                return cli_usage_error("run", "unexpected argument '%s'", a);
            path = a;
        } else if (cli_is_help(a)) {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(a, "--") == 0) {
            opts_done = 1;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if ((k = cli_opt_value("run", argc, argv, &i, "--input", &val)) != 0) {
            if (k < 0)
                return CLI_EXIT_USAGE;
            if ((k = cli_given_parse("run", val, &r->given[r->n_given++])) != 0)
                return k < 0 ? CLI_EXIT_PROBLEMS : k;
        } else if ((k = cli_opt_value("run", argc, argv, &i, "--shape", &val)) != 0) {
            if (k < 0)
                return CLI_EXIT_USAGE;
            if ((k = cli_dims_add("run", &r->dims, val)) != 0)
                return k;
        } else if ((k = cli_opt_value("run", argc, argv, &i, "--seed", &val)) != 0) {
            if (k < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_u64(val, &seed) != 0)
                return cli_usage_error("run", "--seed takes a non-negative integer, not '%s'", val);
        } else if ((k = cli_opt_value("run", argc, argv, &i, "--output-dir", &val)) != 0) {
            if (k < 0)
                return CLI_EXIT_USAGE;
            if (!*val)
                return cli_usage_error("run", "--output-dir needs a directory");
            out_dir = val;
        } else if ((k = cli_opt_value("run", argc, argv, &i, "--dump-only", &val)) != 0) {
            if (k < 0)
                return CLI_EXIT_USAGE;
            dump_only = val;
        } else if ((k = cli_opt_value("run", argc, argv, &i, "--dump", &val)) != 0) {
            if (k < 0)
                return CLI_EXIT_USAGE;
            if (!*val)
                return cli_usage_error("run", "--dump needs a directory");
            r->dump_dir = val;
        } else if ((k = cli_opt_value("run", argc, argv, &i, "--threads", &val)) != 0) {
            if (k < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_i64(val, 1, 4096, &threads) != 0)
                return cli_usage_error("run", "--threads takes a count from 1 to 4096, not '%s'", val);
        } else {
            return cli_usage_error("run", "unknown option '%s'", a);
        }
    }
    if (!path)
        return cli_usage_error("run", "no model given");
    if (dump_only && !r->dump_dir)
        return cli_usage_error("run", "--dump-only needs --dump DIR");
    if (dump_only && (k = parse_dump_only(r, dump_only)) != 0)
        return k;

    onnxc_status st = onnxc_model_load(path, &r->m);
    if (st != ONNXC_OK)
        return cli_fail(st);
    r->n_in = onnxc_model_num_inputs(r->m);
    if (!(r->infos = calloc((size_t)r->n_in + 1, sizeof *r->infos))) {
        cli_error("run: out of memory");
        return CLI_EXIT_PROBLEMS;
    }
    for (int i = 0; i < r->n_in; i++)
        if ((st = onnxc_model_input_info(r->m, i, &r->infos[i])) != ONNXC_OK)
            return cli_fail(st);
    if ((st = cli_dims_check(r->m, &r->dims)) != ONNXC_OK)
        return cli_fail(st);
    for (int i = 0; i < r->n_dump_only; i++)
        if (!onnxc_model_produces(r->m, r->dump_only[i]))
            return cli_usage_error("run", "--dump-only: no node of %s produces a value named '%s'", path,
                                   r->dump_only[i]);
    if ((k = read_given(r, path)) != 0)
        return k;
    /* plan before generating anything, so an unsupported op is reported first */
    onnxc_session_options sopts;
    memset(&sopts, 0, sizeof sopts);
    sopts.threads = (int)threads;
    if ((st = onnxc_session_create(r->m, &sopts, &r->s)) != ONNXC_OK)
        return cli_fail(st);

    /* the feed: given tensors, then generated ones for the remaining inputs in model order */
    size_t cap = (size_t)(r->n_in + r->n_given) + 1;
    r->names = calloc(cap, sizeof *r->names);
    r->tensors = calloc(cap, sizeof *r->tensors);
    r->generated = calloc(cap, sizeof *r->generated);
    if (!r->names || !r->tensors || !r->generated) {
        cli_error("run: out of memory");
        return CLI_EXIT_PROBLEMS;
    }
    char d[256];
    if (json) {
        if (!(r->jf = open_memstream(&r->jbuf, &r->jlen))) {
            cli_error("run: out of memory");
            return CLI_EXIT_PROBLEMS;
        }
        fprintf(r->jf, "{\"model\": ");
        onnxc_json_write_string(r->jf, path);
        fprintf(r->jf, ", \"seed\": %llu, \"inputs\": [", (unsigned long long)seed);
    }
    for (int i = 0; i < r->n_given; i++) {
        cli_dims_text(r->given[i].t->dims, r->given[i].t->rank, d, sizeof d);
        if (json) {
            fprintf(r->jf, "%s", i ? ", " : "");
            json_tensor(r, r->given[i].name, r->given[i].t, "file", r->given[i].file);
            fprintf(r->jf, "}");
        } else
            printf("input  %s: %s [%s] from %s\n", r->given[i].name, onnxc_dtype_name(r->given[i].t->dtype), d,
                   r->given[i].file);
        r->names[r->n_feed] = r->given[i].name;
        r->tensors[r->n_feed++] = r->given[i].t;
    }
    uint64_t rng = seed;
    for (int i = 0; i < r->n_in; i++) {
        const onnxc_io_info *info = &r->infos[i];
        int have = 0;
        for (int j = 0; j < r->n_given && !have; j++)
            have = strcmp(r->given[j].name, info->name) == 0;
        if (have)
            continue;
        onnxc_tensor *t = NULL;
        if ((st = cli_input_generate(info, &r->dims, &rng, &t)) != ONNXC_OK)
            return cli_fail(st);
        r->generated[r->n_feed] = t;
        cli_dims_text(t->dims, t->rank, d, sizeof d);
        if (json) {
            fprintf(r->jf, "%s", r->n_feed ? ", " : "");
            json_tensor(r, info->name, t, "random", NULL);
            fprintf(r->jf, "}");
        } else
            printf("input  %s: %s [%s] random (seed %llu)\n", info->name, onnxc_dtype_name(t->dtype), d,
                   (unsigned long long)seed);
        r->names[r->n_feed] = info->name;
        r->tensors[r->n_feed++] = t;
    }

    if (r->dump_dir) {
        if (ensure_dir(r->dump_dir) != 0)
            return CLI_EXIT_USAGE;
        st = onnxc_session_run_observed(r->s, r->n_feed, r->names, (const onnxc_tensor *const *)r->tensors,
                                        dump_value, r);
    } else {
        st = onnxc_session_run(r->s, r->n_feed, r->names, (const onnxc_tensor *const *)r->tensors);
    }
    if (st != ONNXC_OK)
        return cli_fail(st);
    if (r->dump_dir && !json) {
        printf("dumped %d value%s to %s\n", r->n_dumped, r->n_dumped == 1 ? "" : "s", r->dump_dir);
        fflush(stdout);
    }
    if (out_dir && ensure_dir(out_dir) != 0)
        return CLI_EXIT_USAGE;
    if (json)
        fprintf(r->jf, "], \"outputs\": [");
    int n_out = onnxc_session_num_outputs(r->s);
    for (int i = 0; i < n_out; i++)
        if ((k = report_output(r, i, out_dir)) != 0)
            return k;
    if (json) {
        fprintf(r->jf, "]");
        if (r->dump_dir)
            fprintf(r->jf, ", \"dumped\": %d", r->n_dumped);
        fprintf(r->jf, "}\n");
        fclose(r->jf);
        r->jf = NULL;
        fwrite(r->jbuf, 1, r->jlen, stdout);
    }
    cli_summary("%d output%s", n_out, n_out == 1 ? "" : "s");
    return CLI_EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
    run_state r;
    memset(&r, 0, sizeof r);
    int rc = run_main(&r, argc, argv);
    fflush(stdout);
    run_state_free(&r);
    return rc;
}
