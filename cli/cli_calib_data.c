/* Calibration samples for swap-norm --calibrate: read from a folder (one file per sample; for several inputs one
 * sub-folder per input name with matching file names), from NAME=DIR pairs, or generated from seeds. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_common.h"

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int has_ext(const char *n, const char *ext)
{
    size_t a = strlen(n), b = strlen(ext);
    return a > b && !strcmp(n + a - b, ext);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void free_list(char **v, int n)
{
    if (!v)
        return;
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Sorted names in dir: sample files (.npy, .pb) when want_dirs == 0, sub-folders when 1. */
static onnxc_status list_dir(const char *dir, int want_dirs, char ***out, int *n_out)
{
    *out = NULL;
    *n_out = 0;
    DIR *d = opendir(dir);
    if (!d)
        return cli_set_error(ONNXC_E_IO, "calibration data '%s': %s", dir, strerror(errno));
    char **v = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(len);
        if (!path)
            break;
        snprintf(path, len, "%s/%s", dir, e->d_name);
        int keep = want_dirs ? is_dir(path) : !is_dir(path) && (has_ext(e->d_name, ".npy") || has_ext(e->d_name, ".pb"));
        free(path);
        if (!keep)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **nv = realloc(v, (size_t)cap * sizeof *v);
            if (!nv)
                break;
            v = nv;
        }
        if (!(v[n] = strdup(e->d_name)))
            break;
        n++;
    }
    int failed = e != NULL;
    closedir(d);
    if (failed) {
        free_list(v, n);
        return cli_set_error(ONNXC_E_NOMEM, "out of memory");
    }
    if (n)
        qsort(v, (size_t)n, sizeof *v, cmp_str);
    *out = v;
    *n_out = n;
    return ONNXC_OK;
}

void cli_calib_free(cli_calib *c)
{
    for (int i = 0; i < c->n_samples * c->n_inputs; i++)
        onnxc_tensor_free(c->tensors[i]);
    free(c->tensors);
    free_list(c->names, c->n_inputs);
    free_list(c->labels, c->n_samples);
    memset(c, 0, sizeof *c);
}

static int input_index(const onnxc_model *m, const char *name)
{
    for (int i = 0; i < onnxc_model_num_inputs(m); i++) {
        onnxc_io_info info;
        if (onnxc_model_input_info(m, i, &info) == ONNXC_OK && !strcmp(info.name, name))
            return i;
    }
    return -1;
}

static void input_list(const onnxc_model *m, char *buf, size_t cap)
{
    buf[0] = 0;
    for (int i = 0; i < onnxc_model_num_inputs(m); i++) {
        onnxc_io_info info;
        if (onnxc_model_input_info(m, i, &info) == ONNXC_OK)
            snprintf(buf + strlen(buf), cap - strlen(buf), "%s'%s'", i ? ", " : "", info.name);
    }
}

onnxc_status cli_calib_read(const onnxc_model *m, int n_specs, const char *const *specs, cli_calib *c)
{
    memset(c, 0, sizeof *c);
    int n_in = onnxc_model_num_inputs(m);
    char inputs[400];
    input_list(m, inputs, sizeof inputs);
    /* which folder holds each input's files */
    char **dirs = calloc((size_t)n_in + 1, sizeof *dirs);
    char **subs = NULL;
    int n_subs = 0;
    onnxc_status st = ONNXC_OK;
    if (!dirs)
        return cli_set_error(ONNXC_E_NOMEM, "out of memory");
    for (int k = 0; k < n_specs && st == ONNXC_OK; k++) {
        const char *eq = strchr(specs[k], '=');
        if (eq && !is_dir(specs[k])) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(eq - specs[k]), specs[k]);
            int i = input_index(m, name);
            if (i < 0)
                st = cli_set_error(ONNXC_E_ARG, "--calibrate %s: '%s' is not an input of the model (its inputs: %s)",
                                   specs[k], name, inputs);
            else if (dirs[i])
                st = cli_set_error(ONNXC_E_ARG, "--calibrate: input '%s' given twice", name);
            else if (!is_dir(eq + 1))
                st = cli_set_error(ONNXC_E_IO, "--calibrate %s: '%s' is not a folder", specs[k], eq + 1);
            else
                dirs[i] = strdup(eq + 1);
            continue;
        }
        if (n_specs > 1) {
            st = cli_set_error(ONNXC_E_ARG, "--calibrate: give one folder, or NAME=DIR for each input");
            break;
        }
        if (!is_dir(specs[k])) {
            st = cli_set_error(ONNXC_E_IO, "calibration data '%s' is not a folder%s", specs[k],
                               access(specs[k], F_OK) ? " (it does not exist)" : "");
            break;
        }
        /* sub-folders named after inputs, or the files of the only input */
        st = list_dir(specs[k], 1, &subs, &n_subs);
        for (int s = 0; st == ONNXC_OK && s < n_subs; s++) {
            int i = input_index(m, subs[s]);
            if (i < 0) {
                st = cli_set_error(ONNXC_E_ARG, "calibration data '%s/%s': the model has no input '%s' (its "
                                   "inputs: %s)", specs[k], subs[s], subs[s], inputs);
                break;
            }
            size_t len = strlen(specs[k]) + strlen(subs[s]) + 2;
            if ((dirs[i] = malloc(len)))
                snprintf(dirs[i], len, "%s/%s", specs[k], subs[s]);
        }
        if (st == ONNXC_OK && n_subs == 0) {
            if (n_in != 1)
                st = cli_set_error(ONNXC_E_ARG, "calibration data '%s': the model has %d inputs (%s): give one "
                                   "sub-folder per input name, or NAME=DIR for each", specs[k], n_in, inputs);
            else
                dirs[0] = strdup(specs[k]);
        }
    }
    for (int i = 0; i < n_in && st == ONNXC_OK; i++) {
        onnxc_io_info info;
        onnxc_model_input_info(m, i, &info);
        if (!dirs[i])
            st = cli_set_error(ONNXC_E_ARG, "--calibrate: no data for input '%s'", info.name);
    }
    /* the file names of the first input's folder name the samples; every other folder must have the same */
    char **files = NULL;
    int n_files = 0;
    if (st == ONNXC_OK && n_in > 0)
        st = list_dir(dirs[0], 0, &files, &n_files);
    if (st == ONNXC_OK && n_files == 0)
        st = cli_set_error(ONNXC_E_ARG, "calibration data '%s' holds no sample (.npy or .pb files)", dirs[0]);
    for (int i = 1; i < n_in && st == ONNXC_OK; i++) {
        char **other = NULL;
        int n_other = 0;
        st = list_dir(dirs[i], 0, &other, &n_other);
        for (int k = 0; st == ONNXC_OK && k < n_files; k++)
            if (k >= n_other || strcmp(files[k], other[k]))
                st = cli_set_error(ONNXC_E_ARG, "calibration data: '%s/%s' has no counterpart in '%s'", dirs[0],
                                   files[k], dirs[i]);
        if (st == ONNXC_OK && n_other > n_files)
            st = cli_set_error(ONNXC_E_ARG, "calibration data: '%s/%s' has no counterpart in '%s'", dirs[i],
                               other[n_files], dirs[0]);
        free_list(other, n_other);
    }
    if (st == ONNXC_OK) {
        c->n_inputs = n_in;
        c->names = calloc((size_t)n_in + 1, sizeof *c->names);
        c->labels = calloc((size_t)n_files + 1, sizeof *c->labels);
        c->tensors = calloc((size_t)n_files * (size_t)n_in + 1, sizeof *c->tensors);
        if (!c->names || !c->labels || !c->tensors)
            st = cli_set_error(ONNXC_E_NOMEM, "out of memory");
        for (int i = 0; i < n_in && st == ONNXC_OK; i++) {
            onnxc_io_info info;
            onnxc_model_input_info(m, i, &info);
            if (!(c->names[i] = strdup(info.name)))
                st = cli_set_error(ONNXC_E_NOMEM, "out of memory");
        }
        for (int k = 0; k < n_files && st == ONNXC_OK; k++) {
            for (int i = 0; i < n_in && st == ONNXC_OK; i++) {
                size_t len = strlen(dirs[i]) + strlen(files[k]) + 2;
                char *path = malloc(len);
                if (!path) {
                    st = cli_set_error(ONNXC_E_NOMEM, "out of memory");
                    break;
                }
                snprintf(path, len, "%s/%s", dirs[i], files[k]);
                st = onnxc_tensor_read(path, &c->tensors[(size_t)k * (size_t)n_in + (size_t)i], NULL);
                if (i == 0 && st == ONNXC_OK)
                    c->labels[k] = path;
                else
                    free(path);
            }
            c->n_samples = k + 1;
        }
    }
    free_list(files, n_files);
    free_list(subs, n_subs);
    free_list(dirs, n_in);
    if (st != ONNXC_OK)
        cli_calib_free(c);
    return st;
}

onnxc_status cli_calib_random(const onnxc_model *m, int n, cli_calib *c)
{
    memset(c, 0, sizeof *c);
    int n_in = onnxc_model_num_inputs(m);
    cli_dims dims = {.note_default = 1};
    onnxc_status st = ONNXC_OK;
    c->n_inputs = n_in;
    c->names = calloc((size_t)n_in + 1, sizeof *c->names);
    c->tensors = calloc((size_t)n * (size_t)n_in + 1, sizeof *c->tensors);
    if (!c->names || !c->tensors)
        st = cli_set_error(ONNXC_E_NOMEM, "out of memory");
    for (int k = 0; k < n && st == ONNXC_OK; k++) {
        cli_inputs in;
        dims.note_default = k == 0;
        /* sample k is what 'onnxc run MODEL --seed k' feeds */
        st = cli_inputs_generate(m, &dims, (uint64_t)k, &in);
        for (int i = 0; i < in.n && st == ONNXC_OK; i++) {
            if (k == 0 && !(c->names[i] = strdup(in.names[i])))
                st = cli_set_error(ONNXC_E_NOMEM, "out of memory");
            c->tensors[(size_t)k * (size_t)n_in + (size_t)i] = in.tensors[i];
            in.tensors[i] = NULL;
        }
        cli_inputs_free(&in);
        c->n_samples = k + 1;
    }
    if (st != ONNXC_OK)
        cli_calib_free(c);
    return st;
}
