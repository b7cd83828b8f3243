/* Helpers shared by the onnxc subcommands: messages on stderr, exit codes, option parsing, number parsing,
 * shapes and seeded data of generated inputs. */
#include "cli_common.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


int cli_quiet;
FILE *cli_msg_stream; /* where errors and warnings go: stderr, or under --quiet the real stderr kept aside */

static char summary[1024];

void cli_summary(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(summary, sizeof summary, fmt, ap);
    va_end(ap);
}

const char *cli_summary_text(void) { return summary; }

/* Messages are one line: a newline in a name from a file must not split them. */
static void print_line(const char *prefix, const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(cli_msg_stream ? cli_msg_stream : stderr, "%s%s\n", prefix, msg);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_line("onnxc: ", fmt, ap);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_line("onnxc: warning: ", fmt, ap);
    va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cli_error("%s: %s (see 'onnxc %s --help')", cmd, msg, cmd);
    return CLI_EXIT_USAGE;
}

int cli_exit_code(onnxc_status st)
{
    switch (st) {
    case ONNXC_OK:
        return CLI_EXIT_OK;
    case ONNXC_E_RUNTIME:
    case ONNXC_E_NOMEM:
        return CLI_EXIT_PROBLEMS;
    default:
        return CLI_EXIT_USAGE;
    }
}

static char cli_msg[1024]; /* set by cli_set_error, printed and cleared by cli_fail */

int cli_fail(onnxc_status st)
{
    const char *msg = cli_msg[0] ? cli_msg : onnxc_last_error();
    cli_error("%s", msg && *msg ? msg : onnxc_status_name(st));
    cli_msg[0] = 0;
    return cli_exit_code(st);
}

int cli_is_help(const char *arg) { return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0; }

int cli_opt_value(const char *cmd, int argc, char **argv, int *i, const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t len = strlen(name);
    if (strncmp(a, name, len) != 0)
        return 0;
    if (a[len] == '=') {
        *val = a + len + 1;
        return 1;
    }
    if (a[len] != 0)
        return 0;
    if (*i + 1 >= argc) {
        cli_usage_error(cmd, "option %s needs a value", name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

int cli_model_args(const char *cmd, const char *usage, int argc, char **argv, const char *flag, int *flag_set,
                   const char **path, int *rc)
{
    int opts_done = 0;
    *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!opts_done && a[0] == '-' && a[1]) {
            if (cli_is_help(a)) {
                fputs(usage, stdout);
                *rc = CLI_EXIT_OK;
                return 0;
            } else if (flag && strcmp(a, flag) == 0) {
                *flag_set = 1;
            } else if (strcmp(a, "--") == 0) {
                opts_done = 1;
            } else {
                *rc = cli_usage_error(cmd, "unknown option '%s'", a);
                return 0;
            }
        } else if (!*path) {
            *path = a;
        } else {
            *rc = cli_usage_error(cmd, "unexpected argument '%s'", a);
            return 0;
        }
    }
    if (!*path) {
        *rc = cli_usage_error(cmd, "no model given");
        return 0;
    }
    return 1;
}

int cli_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* ---------------------------------------------------------------- files and messages */

int cli_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (strcmp(a, b) == 0)
        return 1;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
        return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

onnxc_status cli_set_error(onnxc_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cli_msg, sizeof cli_msg, fmt, ap);
    va_end(ap);
    return st;
}

/* ---------------------------------------------------------------- --shape */

static int parse_shape(const char *s, int *rank, int64_t *dims)
{
    *rank = 0;
    if (!*s || strcmp(s, "scalar") == 0)
        return 0;
    const char *p = s;
    for (;;) {
        if (*rank >= ONNXC_MAX_RANK || *p < '0' || *p > '9')
            return -1;
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (errno || v < 0)
            return -1;
        dims[(*rank)++] = v;
        if (*end == 0)
            return 0;
        if (*end != 'x' && *end != 'X' && *end != ',')
            return -1;
        p = end + 1;
    }
}

int cli_dims_add(const char *cmd, cli_dims *d, const char *spec)
{
    const char *eq = strrchr(spec, '=');
    cli_dim_opt o;
    memset(&o, 0, sizeof o);
    if (!eq || eq == spec || parse_shape(eq + 1, &o.rank, o.dims) != 0)
        return cli_usage_error(cmd, "--shape takes NAME=DIMS such as images=1x3x224x224 or N=4, not '%s'", spec);
    o.name = strndup(spec, (size_t)(eq - spec));
    cli_dim_opt *no = realloc(d->opts, (size_t)(d->n_opts + 1) * sizeof *no);
    if (!o.name || !no) {
        free(o.name);
        if (no)
            d->opts = no;
        cli_error("%s: out of memory", cmd);
        return CLI_EXIT_PROBLEMS;
    }
    d->opts = no;
    d->opts[d->n_opts++] = o;
    return 0;
}

static const cli_dim_opt *find_opt(const cli_dims *d, const char *name)
{
    for (int i = d->n_opts - 1; i >= 0; i--) /* the last --shape of a name wins */
        if (strcmp(d->opts[i].name, name) == 0)
            return &d->opts[i];
    return NULL;
}

/* Value of a symbolic dim: --shape SYMBOL=N first, then other bindings. */
static int find_symbol(const cli_dims *d, const char *symbol, int64_t *value)
{
    const cli_dim_opt *o = find_opt(d, symbol);
    if (o && o->rank == 1) {
        *value = o->dims[0];
        return 1;
    }
    for (int i = 0; i < d->n_syms; i++)
        if (strcmp(d->sym_names[i], symbol) == 0) {
            *value = d->sym_values[i];
            return 1;
        }
    return 0;
}

int cli_dims_bind(cli_dims *d, const char *symbol, int64_t value)
{
    int64_t old;
    if (find_symbol(d, symbol, &old))
        return 0;
    char **nn = realloc(d->sym_names, (size_t)(d->n_syms + 1) * sizeof *nn);
    if (!nn)
        return -1;
    d->sym_names = nn;
    int64_t *nv = realloc(d->sym_values, (size_t)(d->n_syms + 1) * sizeof *nv);
    if (!nv)
        return -1;
    d->sym_values = nv;
    if (!(d->sym_names[d->n_syms] = strdup(symbol)))
        return -1;
    d->sym_values[d->n_syms++] = value;
    return 0;
}

onnxc_status cli_dims_check(const onnxc_model *m, const cli_dims *d)
{
    cli_msg[0] = 0;
    int n_in = onnxc_model_num_inputs(m);
    for (int k = 0; k < d->n_opts; k++) {
        const cli_dim_opt *o = &d->opts[k];
        int is_input = 0, is_symbol = 0;
        for (int i = 0; i < n_in; i++) {
            onnxc_io_info info;
            if (onnxc_model_input_info(m, i, &info) != ONNXC_OK)
                continue;
            if (strcmp(info.name, o->name) == 0)
                is_input = 1;
            for (int j = 0; j < info.rank; j++)
                if (info.dims[j] < 0 && info.dim_params[j] && strcmp(info.dim_params[j], o->name) == 0)
                    is_symbol = 1;
        }
        if (!is_input && !is_symbol)
            return cli_set_error(ONNXC_E_ARG, "--shape %s: the model has no input or symbolic dim of that name", o->name);
        if (!is_input && o->rank != 1)
            return cli_set_error(ONNXC_E_ARG, "--shape %s: a symbolic dim takes one number", o->name);
    }
    return ONNXC_OK;
}

void cli_dims_free(cli_dims *d)
{
    for (int i = 0; i < d->n_opts; i++)
        free(d->opts[i].name);
    for (int i = 0; i < d->n_syms; i++)
        free(d->sym_names[i]);
    free(d->opts);
    free(d->sym_names);
    free(d->sym_values);
    memset(d, 0, sizeof *d);
}

void cli_dims_text(const int64_t *dims, int rank, char *buf, size_t cap) { onnxc_dims_text(dims, rank, buf, cap); }

/* ---------------------------------------------------------------- --input files */

int cli_given_parse(const char *cmd, const char *val, cli_given *g)
{
    const char *eq = strchr(val, '=');
    g->file = eq ? eq + 1 : val;
    if (eq == val)
        return cli_usage_error(cmd, "--input %s: empty input name", val);
    if (eq && !(g->name_buf = strndup(val, (size_t)(eq - val)))) {
        cli_error("%s: out of memory", cmd);
        return -1;
    }
    g->name = g->name_buf;
    if (!*g->file)
        return cli_usage_error(cmd, "--input %s: no file", val);
    return 0;
}

/* A .npz file is a zip archive: "PK\3\4" first. Anything but a regular file is left to the reader, which refuses
 * it with the reason; opened without blocking, so a named pipe cannot hang the command here. */
static int is_npz(const char *file)
{
    int fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f)
        close(fd);
    unsigned char m[4] = {0};
    int ok = f && fread(m, 1, 4, f) == 4 && m[0] == 'P' && m[1] == 'K' && m[2] == 3 && m[3] == 4;
    if (f)
        fclose(f);
    return ok;
}

int cli_given_expand(const char *cmd, cli_given **given, int *n_given)
{
    for (int i = 0; i < *n_given; i++) {
        cli_given *g = &(*given)[i];
        if (g->t || !is_npz(g->file))
            continue;
        int n = 0;
        char **names = NULL;
        onnxc_tensor **ts = NULL;
        onnxc_status st = onnxc_npz_read(g->file, &n, &names, &ts);
        if (st != ONNXC_OK)
            return cli_fail(st);
        if (g->name) { /* NAME=FILE.npz: the member NAME, or the only one */
            int k = -1;
            for (int j = 0; j < n; j++)
                if (strcmp(names[j], g->name) == 0)
                    k = j;
            if (k < 0 && n == 1)
                k = 0;
            if (k < 0) {
                cli_error("%s: --input %s=%s: the archive has no array '%s' (it has %d)", cmd, g->name, g->file,
                          g->name, n);
                onnxc_npz_free(n, names, ts);
                return CLI_EXIT_USAGE;
            }
            g->t = ts[k];
            ts[k] = NULL;
            onnxc_npz_free(n, names, ts);
            continue;
        }
        cli_given *grown = realloc(*given, ((size_t)*n_given + (size_t)n + 1) * sizeof *grown);
        if (!grown) {
            onnxc_npz_free(n, names, ts);
            cli_error("%s: out of memory", cmd);
            return CLI_EXIT_USAGE;
        }
        *given = grown;
        g = &grown[i];
        const char *file = g->file;
        memmove(&grown[i + n], &grown[i + 1], (size_t)(*n_given - i - 1) * sizeof *grown);
        for (int j = 0; j < n; j++) {
            memset(&grown[i + j], 0, sizeof *grown);
            grown[i + j].file = file;
            grown[i + j].name_buf = names[j];
            grown[i + j].name = names[j];
            grown[i + j].t = ts[j];
            names[j] = NULL;
            ts[j] = NULL;
        }
        *n_given += n - 1;
        i += n - 1;
        onnxc_npz_free(n, names, ts);
    }
    return 0;
}

int cli_given_cast(const char *cmd, const onnxc_io_info *info, cli_given *g)
{
    int32_t want = info->dtype;
    if (g->t->dtype != ONNXC_DOUBLE ||
        (want != ONNXC_FLOAT && want != ONNXC_FLOAT16 && want != ONNXC_BFLOAT16))
        return 0;
    onnxc_tensor *c = NULL;
    onnxc_status st = onnxc_tensor_cast(g->t, want, &c);
    if (st != ONNXC_OK)
        return cli_fail(st);
    if (!cli_quiet)
        fprintf(stderr, "onnxc: note: %s: input '%s': %s holds float64 (NumPy's default); cast to %s\n", cmd, info->name,
                g->file, onnxc_dtype_name(want));
    onnxc_tensor_free(g->t);
    g->t = c;
    return 0;
}

int cli_given_read(const char *cmd, cli_given *given, int i, const onnxc_io_info *infos, int n_in, int plural)
{
    cli_given *g = &given[i];
    char *pb_name = NULL;
    onnxc_status st = g->t ? ONNXC_OK : onnxc_tensor_read(g->file, &g->t, g->name ? NULL : &pb_name);
    if (st != ONNXC_OK) {
        free(pb_name);
        return cli_fail(st);
    }
    if (!g->name) {
        if (pb_name && *pb_name) {
            g->name_buf = pb_name;
            g->name = pb_name;
        } else {
            free(pb_name);
            if (n_in != 1)
                return cli_usage_error(cmd, "--input %s: say which input it is (NAME=FILE); %s %d inputs", g->file,
                                       plural ? "the models have" : "the model has", n_in);
            g->name = infos[0].name;
        }
    }
    for (int j = 0; j < i; j++)
        if (strcmp(given[j].name, g->name) == 0)
            return cli_usage_error(cmd, "input '%s' given twice", g->name);
    return 0;
}

int cli_given_fits(const char *cmd, const onnxc_io_info *info, cli_given *g, int plural)
{
    if (cli_given_cast(cmd, info, g) != 0)
        return -1;
    const onnxc_tensor *t = g->t;
    char have[256], want[256];
    if (info->dtype != ONNXC_UNDEFINED && t->dtype != info->dtype) {
        cli_error("%s: input '%s': %s holds %s data, %s %s", cmd, info->name, g->file, onnxc_dtype_name(t->dtype),
                  plural ? "the models take" : "the model expects", onnxc_dtype_name(info->dtype));
        return -1;
    }
    if (info->rank < 0)
        return 0;
    int ok = t->rank == info->rank;
    for (int d = 0; ok && d < info->rank; d++)
        ok = info->dims[d] < 0 || info->dims[d] == t->dims[d];
    if (!ok) {
        cli_dims_text(t->dims, t->rank, have, sizeof have);
        onnxc_io_info_shape_text(info, want, sizeof want);
        cli_error("%s: input '%s': %s has shape %s, %s %s", cmd, info->name, g->file, have,
                  plural ? "the models expect" : "the model expects", want);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- seeded inputs */

/* splitmix64 (Steele, Lea, Flood 2014): one 64-bit state, a fixed increment and a mixing function. */
uint64_t cli_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* uniform in [-1, 1): 24 random bits give a float exactly, 53 a double */
static float rand_float(uint64_t *st) { return (float)(cli_splitmix64(st) >> 40) * 0x1p-23f - 1.0f; }
static double rand_double(uint64_t *st) { return (double)(cli_splitmix64(st) >> 11) * 0x1p-52 - 1.0; }

static int fill_random(onnxc_tensor *t, uint64_t *st)
{
    int64_t n = onnxc_tensor_numel(t);
    if (n < 0)
        return -1;
    for (int64_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case ONNXC_FLOAT: ((float *)t->data)[i] = rand_float(st); break;
        case ONNXC_DOUBLE: ((double *)t->data)[i] = rand_double(st); break;
        case ONNXC_FLOAT16: ((uint16_t *)t->data)[i] = onnxc_float_to_half(rand_float(st)); break;
        case ONNXC_BFLOAT16: ((uint16_t *)t->data)[i] = onnxc_float_to_bfloat16(rand_float(st)); break;
        case ONNXC_COMPLEX64:
            ((float *)t->data)[2 * i] = rand_float(st);
            ((float *)t->data)[2 * i + 1] = rand_float(st);
            break;
        case ONNXC_COMPLEX128:
            ((double *)t->data)[2 * i] = rand_double(st);
            ((double *)t->data)[2 * i + 1] = rand_double(st);
            break;
        case ONNXC_BOOL: ((uint8_t *)t->data)[i] = (uint8_t)(cli_splitmix64(st) >> 63); break;
        case ONNXC_UINT8: ((uint8_t *)t->data)[i] = (uint8_t)(cli_splitmix64(st) % 10); break;
        case ONNXC_INT8: ((int8_t *)t->data)[i] = (int8_t)(cli_splitmix64(st) % 10); break;
        case ONNXC_UINT16: ((uint16_t *)t->data)[i] = (uint16_t)(cli_splitmix64(st) % 10); break;
        case ONNXC_INT16: ((int16_t *)t->data)[i] = (int16_t)(cli_splitmix64(st) % 10); break;
        case ONNXC_INT32: ((int32_t *)t->data)[i] = (int32_t)(cli_splitmix64(st) % 10); break;
        case ONNXC_UINT32: ((uint32_t *)t->data)[i] = (uint32_t)(cli_splitmix64(st) % 10); break;
        case ONNXC_INT64: ((int64_t *)t->data)[i] = (int64_t)(cli_splitmix64(st) % 10); break;
        case ONNXC_UINT64: ((uint64_t *)t->data)[i] = cli_splitmix64(st) % 10; break;
        default: return -1;
        }
    }
    return 0;
}

onnxc_status cli_input_generate(const onnxc_io_info *info, const cli_dims *dims, uint64_t *rng, onnxc_tensor **out)
{
    *out = NULL;
    cli_msg[0] = 0;
    char want[256], have[256];
    onnxc_io_info_shape_text(info, want, sizeof want);
    if (info->dtype == ONNXC_UNDEFINED || info->dtype == ONNXC_STRING)
        return cli_set_error(ONNXC_E_ARG, "input '%s' has %s type: no data can be generated for it; give it from a file",
                             info->name, info->dtype == ONNXC_STRING ? "string" : "no declared tensor");
    int rank = 0;
    int64_t shape[ONNXC_MAX_RANK];
    const cli_dim_opt *whole = find_opt(dims, info->name);
    if (whole) {
        rank = whole->rank;
        memcpy(shape, whole->dims, sizeof shape);
        int ok = info->rank < 0 || info->rank == rank;
        for (int d = 0; ok && info->rank >= 0 && d < rank; d++)
            ok = info->dims[d] < 0 || info->dims[d] == shape[d];
        if (!ok) {
            cli_dims_text(shape, rank, have, sizeof have);
            return cli_set_error(ONNXC_E_ARG, "--shape %s=%s does not fit the declared shape %s of input '%s'",
                                 info->name, have, want, info->name);
        }
    } else {
        if (info->rank < 0)
            return cli_set_error(ONNXC_E_ARG, "input '%s' has no declared shape; give --shape %s=DIMS", info->name,
                                 info->name);
        rank = info->rank;
        for (int d = 0; d < rank; d++) {
            if (info->dims[d] >= 0) {
                shape[d] = info->dims[d];
                continue;
            }
            const char *p = info->dim_params[d];
            if (p && *p && find_symbol(dims, p, &shape[d]))
                continue;
            if (!dims->strict) {
                shape[d] = 1;
                if (dims->note_default)
                    fprintf(stderr, "onnxc: note: input '%s': dim %d%s%s%s is not fixed: generated as 1 (choose it "
                            "with --shape %s=...)\n", info->name, d, p && *p ? " '" : "", p && *p ? p : "",
                            p && *p ? "'" : "", p && *p ? p : info->name);
                continue;
            }
            if (p && *p)
                return cli_set_error(ONNXC_E_ARG,
                                     "input '%s' (%s): dim %d '%s' is symbolic; give --shape %s=VALUE or --shape %s=DIMS",
                                     info->name, want, d, p, p, info->name);
            return cli_set_error(ONNXC_E_ARG, "input '%s' (%s): dim %d is unknown; give --shape %s=DIMS", info->name,
                                 want, d, info->name);
        }
    }
    onnxc_tensor *t = NULL;
    onnxc_status st = onnxc_tensor_create(info->dtype, rank, shape, &t);
    if (st != ONNXC_OK)
        return st;
    if (fill_random(t, rng) != 0) {
        onnxc_tensor_free(t);
        return cli_set_error(ONNXC_E_ARG, "input '%s': cannot generate %s data; give it from a file", info->name,
                             onnxc_dtype_name(info->dtype));
    }
    *out = t;
    return ONNXC_OK;
}

onnxc_status cli_inputs_generate(const onnxc_model *m, const cli_dims *dims, uint64_t seed, cli_inputs *in)
{
    memset(in, 0, sizeof *in);
    onnxc_status st = cli_dims_check(m, dims);
    if (st != ONNXC_OK)
        return st;
    int n = onnxc_model_num_inputs(m);
    in->names = calloc((size_t)n + 1, sizeof *in->names);
    in->tensors = calloc((size_t)n + 1, sizeof *in->tensors);
    if (!in->names || !in->tensors)
        return cli_set_error(ONNXC_E_NOMEM, "out of memory");
    uint64_t rng = seed;
    for (int i = 0; i < n; i++) {
        onnxc_io_info info;
        if ((st = onnxc_model_input_info(m, i, &info)) != ONNXC_OK)
            return st;
        if ((st = cli_input_generate(&info, dims, &rng, &in->tensors[i])) != ONNXC_OK)
            return st;
        if (!(in->names[i] = strdup(info.name)))
            return cli_set_error(ONNXC_E_NOMEM, "out of memory");
        in->n = i + 1;
    }
    return ONNXC_OK;
}

void cli_inputs_free(cli_inputs *in)
{
    if (in->names && in->tensors) {
        /* a failed generate may leave a tensor without a name at index n */
        for (int i = 0; i <= in->n; i++) {
            free(in->names[i]);
            onnxc_tensor_free(in->tensors[i]);
        }
    }
    free(in->names);
    free(in->tensors);
    memset(in, 0, sizeof *in);
}

int cli_opt_external(const char *cmd, int argc, char **argv, int *i, int64_t *min_bytes)
{
    const char *a = argv[*i];
    if (strncmp(a, "--external-data=", 16) == 0) {
        if (cli_parse_i64(a + 16, 0, INT64_MAX, min_bytes) != 0) {
            cli_usage_error(cmd, "--external-data takes a byte count, not '%s'", a + 16);
            return -1;
        }
        return 1;
    }
    if (strcmp(a, "--external-data") != 0)
        return 0;
    /* the threshold is optional: take the next argument only when it is a number */
    *min_bytes = -1;
    int64_t v;
    if (*i + 1 < argc && cli_parse_i64(argv[*i + 1], 0, INT64_MAX, &v) == 0) {
        *min_bytes = v;
        (*i)++;
    }
    return 1;
}

void cli_save_options(onnxc_save_options *o, int external, int64_t min_bytes, const char *name)
{
    memset(o, 0, sizeof *o);
    o->external_data = external;
    /* the library reads 0 as "the default 1024"; on the command line an explicit 0 means every tensor */
    if (external && min_bytes >= 0)
        o->external_min_bytes = min_bytes == 0 ? 1 : (size_t)min_bytes;
    o->external_name = name;
}

/* ---------------------------------------------------------------- detection flags */

int cli_det_flag(const char *cmd, int argc, char **argv, int *i, cli_det_opts *d)
{
    const char *val;
    int k;
    char *end;
    if ((k = cli_opt_value(cmd, argc, argv, i, "--detections", &val)) != 0) {
        if (k < 0)
            return -1;
        if (!*val)
            return cli_usage_error(cmd, "--detections takes ROLE=OUTPUT,... (or 'none'), not an empty value"), -1;
        size_t old = d->spec ? strlen(d->spec) : 0, add = strlen(val);
        if ((d->spec && strcmp(d->spec, "none") == 0) || (old && strcmp(val, "none") == 0))
            return cli_usage_error(cmd, "--detections none cannot be combined with other --detections"), -1;
        char *s = realloc(d->spec, old + add + 2);
        if (!s) {
            cli_error("%s: out of memory", cmd);
            return -1;
        }
        if (old)
            s[old++] = ';';
        memcpy(s + old, val, add + 1);
        d->spec = s;
        return 1;
    }
    if ((k = cli_opt_value(cmd, argc, argv, i, "--iou", &val)) != 0) {
        if (k < 0)
            return -1;
        double v = strtod(val, &end);
        if (end == val || *end || !(v > 0 && v <= 1))
            return cli_usage_error(cmd, "--iou takes a number in (0, 1], not '%s'", val), -1;
        d->iou = v;
        return 1;
    }
    if ((k = cli_opt_value(cmd, argc, argv, i, "--score-threshold", &val)) != 0) {
        if (k < 0)
            return -1;
        double v = strtod(val, &end);
        if (end == val || *end || !isfinite(v))
            return cli_usage_error(cmd, "--score-threshold takes a number, not '%s'", val), -1;
        d->score_threshold = v;
        return 1;
    }
    return 0;
}

void cli_det_apply(const cli_det_opts *d, onnxc_compare_options *co)
{
    co->detections = d->spec;
    if (d->iou > 0)
        co->iou = d->iou;
    co->score_threshold = d->score_threshold;
}
