/* Pass and pipeline options on the command line: a command's flags (--groups, --keep-bn, ...) and
 * --set NAME=VALUE set options of an onnxc_optimize_options by name, and the library's messages about them are
 * shown under the flag the user typed. Defaults and validation stay in the library's option tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

/* Part of an option name: where a name in a message starts or ends, the characters around it are none of these. */
static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_';
}

/* The flag that set option name in this run, or NULL. */
static const char *flag_of(const cli_pass_options *po, const char *name, size_t len)
{
    for (int k = 0; k < po->n_used; k++) {
        const cli_opt_flag *f = &po->flags[po->used[k]];
        if (strlen(f->option) == len && !strncmp(f->option, name, len))
            return f->flag;
    }
    return NULL;
}

void cli_pass_options_message(const cli_pass_options *po, const char *msg, char *out, size_t cap)
{
    size_t o = 0;
    if (!cap)
        return;
    for (const char *p = msg; *p && o + 1 < cap;) {
        if (name_char(*p) && (p == msg || !name_char(p[-1]))) {
            size_t len = 0;
            while (name_char(p[len]))
                len++;
            /* a name ends a sentence now and then: "... than swap-norm.groups." */
            size_t nlen = len;
            while (nlen && p[nlen - 1] == '.')
                nlen--;
            const char *flag = flag_of(po, p, nlen);
            if (flag) {
                o += (size_t)snprintf(out + o, cap - o, "%s", flag);
                p += nlen;
                continue;
            }
            size_t take = len < cap - 1 - o ? len : cap - 1 - o;
            memcpy(out + o, p, take);
            o += take;
            p += len;
            continue;
        }
        out[o++] = *p++;
    }
    out[o < cap ? o : cap - 1] = 0;
}

/* A usage error carrying the library's last message (option names shown as the flags that set them). */
static int set_failed(const char *cmd, const cli_pass_options *po, onnxc_status st)
{
    if (st != ONNXC_E_ARG) {
        cli_fail(st);
        return -1;
    }
    char msg[1024];
    cli_pass_options_message(po, onnxc_last_error(), msg, sizeof msg);
    cli_usage_error(cmd, "%s", msg);
    return -1;
}

int cli_pass_options_arg(const char *cmd, cli_pass_options *po, int argc, char **argv, int *i)
{
    const char *v = NULL;
    int r;
    for (int k = 0; po->flags[k].flag; k++) {
        const cli_opt_flag *f = &po->flags[k];
        if (f->value) {
            if (strcmp(argv[*i], f->flag) != 0)
                continue;
            v = f->value;
        } else if ((r = cli_opt_value(cmd, argc, argv, i, f->flag, &v)) == 0) {
            continue;
        } else if (r < 0) {
            return -1;
        }
        /* remembered before the set, so that a refusal speaks of this flag too */
        if (po->n_used < (int)(sizeof po->used / sizeof po->used[0]) && !flag_of(po, f->option, strlen(f->option)))
            po->used[po->n_used++] = k;
        onnxc_status st = onnxc_optimize_set(po->opts, f->option, v);
        return st == ONNXC_OK ? 1 : set_failed(cmd, po, st);
    }
    if ((r = cli_opt_value(cmd, argc, argv, i, "--set", &v)) == 0)
        return 0;
    if (r < 0)
        return -1;
    const char *eq = strchr(v, '=');
    if (!eq || eq == v) {
        cli_usage_error(cmd, "--set takes NAME=VALUE (names: --list-passes), not '%s'", v);
        return -1;
    }
    size_t len = (size_t)(eq - v);
    char *name = malloc(len + 1);
    if (!name) {
        cli_error("out of memory");
        return -1;
    }
    memcpy(name, v, len);
    name[len] = 0;
    onnxc_status st = ONNXC_OK;
    if (po->locked && !strcmp(name, po->locked)) {
        cli_usage_error(cmd, "--set %s is not accepted here: this command keeps %s = %s", name, name,
                        onnxc_optimize_get(po->opts, name));
        free(name);
        return -1;
    }
    st = onnxc_optimize_set(po->opts, name, eq + 1);
    free(name);
    return st == ONNXC_OK ? 1 : set_failed(cmd, po, st);
}
