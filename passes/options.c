/* The options object of onnxc_optimize: one value per option the pipeline and the passes declare, set by name
 * from text and parsed and checked by the declaring table, so that no caller keeps a copy of a default or of
 * the values an option accepts. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pass.h"

/* ---------------------------------------------------------------- parsing one value */

static const char *const bool_true[] = {"true", "1", "yes", "on", NULL};
static const char *const bool_false[] = {"false", "0", "no", "off", NULL};

static bool in_list(const char *const *list, const char *s, bool nocase)
{
    for (int i = 0; list[i]; i++)
        if (nocase ? !strcasecmp(list[i], s) : !strcmp(list[i], s))
            return true;
    return false;
}

/* "a, b or c" */
static void choices_text(const char *const *c, char *buf, size_t cap)
{
    size_t off = 0;
    int n = 0;
    while (c[n])
        n++;
    buf[0] = 0;
    for (int i = 0; i < n && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ", c[i]);
}

void oc_opt_value_clear(oc_opt_value *v)
{
    if (v->re) {
        regfree(v->re);
        oc_free(v->re);
    }
    oc_free(v->text);
    memset(v, 0, sizeof *v);
}

onnxc_status oc_opt_parse(const oc_opt_def *d, const char *text, oc_opt_value *out)
{
    memset(out, 0, sizeof *out);
    if (!text)
        return oc_err(ONNXC_E_ARG, "%s needs a value", d->name);
    char canon[64];
    const char *keep = text; /* the text the value is known by afterwards */
    switch (d->type) {
    case OC_OPT_BOOL:
        if (in_list(bool_true, text, true))
            out->b = true;
        else if (!in_list(bool_false, text, true))
            return oc_err(ONNXC_E_ARG, "%s takes true or false (also 1/0, yes/no, on/off), not '%s'", d->name, text);
        keep = out->b ? "true" : "false";
        break;
    case OC_OPT_INT: {
        /* strtoll alone would accept leading blanks and a trailing nothing; a value must be all digits */
        char *end = NULL;
        errno = 0;
        long long v = (text[0] == '-' || text[0] == '+' || (text[0] >= '0' && text[0] <= '9'))
                          ? strtoll(text, &end, 10) : 0;
        if (!end || end == text || *end || errno == ERANGE || v < d->min || v > d->max)
            return oc_err(ONNXC_E_ARG, "%s takes a whole number from %lld to %lld, not '%s'", d->name,
                          (long long)d->min, (long long)d->max, text);
        out->i = v;
        snprintf(canon, sizeof canon, "%lld", v);
        keep = canon;
        break;
    }
    case OC_OPT_FLOAT: {
        char *end = NULL;
        errno = 0;
        double v = (text[0] && text[0] != ' ' && text[0] != '\t') ? strtod(text, &end) : 0;
        if (!end || end == text || *end || !isfinite(v) || v < d->fmin || v > d->fmax)
            return oc_err(ONNXC_E_ARG, "%s takes a number from %g to %g, not '%s'", d->name, d->fmin, d->fmax,
                          text);
        out->f = v;
        break;
    }
    case OC_OPT_STRING:
        if (d->check) {
            onnxc_status st = d->check(d->name, text);
            if (st != ONNXC_OK)
                return st;
        }
        break;
    case OC_OPT_ENUM: {
        int k = 0;
        while (d->choices[k] && strcmp(d->choices[k], text))
            k++;
        if (!d->choices[k]) {
            char c[256];
            choices_text(d->choices, c, sizeof c);
            return oc_err(ONNXC_E_ARG, "%s takes %s, not '%s'", d->name, c, text);
        }
        out->e = k;
        break;
    }
    case OC_OPT_REGEX:
        if (!*text)
            break; /* no pattern: the option selects nothing out */
        out->re = oc_malloc(sizeof *out->re);
        if (!out->re)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        int rc = regcomp(out->re, text, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char why[200];
            regerror(rc, out->re, why, sizeof why);
            oc_free(out->re);
            out->re = NULL;
            return oc_err(ONNXC_E_ARG, "%s: '%s' is not a valid regular expression (POSIX extended): %s", d->name,
                          text, why);
        }
        break;
    }
    out->text = oc_strdup(keep);
    if (!out->text) {
        oc_opt_value_clear(out);
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    return ONNXC_OK;
}

void oc_opt_print(FILE *f, const oc_opt_def *d)
{
    char accepts[256];
    switch (d->type) {
    case OC_OPT_BOOL: snprintf(accepts, sizeof accepts, "bool"); break;
    case OC_OPT_INT: snprintf(accepts, sizeof accepts, "int %lld..%lld", (long long)d->min, (long long)d->max); break;
    case OC_OPT_FLOAT: snprintf(accepts, sizeof accepts, "float %g..%g", d->fmin, d->fmax); break;
    case OC_OPT_STRING: snprintf(accepts, sizeof accepts, "string"); break;
    case OC_OPT_REGEX: snprintf(accepts, sizeof accepts, "regex"); break;
    case OC_OPT_ENUM: {
        size_t off = 0;
        accepts[0] = 0;
        for (int i = 0; d->choices[i] && off < sizeof accepts; i++)
            off += (size_t)snprintf(accepts + off, sizeof accepts - off, "%s%s", i ? "|" : "", d->choices[i]);
        break;
    }
    }
    char dflt[80];
    snprintf(dflt, sizeof dflt, "default %s", *d->dflt ? d->dflt : "\"\"");
    fprintf(f, "  %-22s %-22s %-15s %s\n", d->name, accepts, dflt, d->help);
}

/* ---------------------------------------------------------------- the declared options, in object order */

/* Option i of all declared ones (the pipeline's, then each registered pass's), with its pass; NULL past the end. */
static const oc_opt_def *declared(int i, const oc_pass **pass)
{
    *pass = NULL;
    if (i < 0)
        return NULL;
    if (i < oc_n_pipeline_options)
        return &oc_pipeline_options[i];
    i -= oc_n_pipeline_options;
    for (int p = 0; oc_passes[p]; p++) {
        if (i < oc_passes[p]->n_options) {
            *pass = oc_passes[p];
            return &oc_passes[p]->options[i];
        }
        i -= oc_passes[p]->n_options;
    }
    return NULL;
}

const char *onnxc_optimize_option_name(int i)
{
    const oc_pass *p;
    const oc_opt_def *d = declared(i, &p);
    return d ? d->name : NULL;
}

/* Edit distance, for "did you mean". Names are short; longer ones are never close to anything. */
static int distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    int row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static onnxc_status unknown_option(const char *name)
{
    const oc_pass *p;
    const oc_opt_def *d, *best = NULL;
    int best_d = 99;
    for (int i = 0; (d = declared(i, &p)) != NULL; i++) {
        /* "groups" for "swap-norm.groups": the pass prefix left out */
        const char *dot = strchr(d->name, '.');
        int dist = dot && !strcmp(dot + 1, name) ? 0 : distance(name, d->name);
        if (dist < best_d) {
            best_d = dist;
            best = d;
        }
    }
    if (best && best_d <= 2)
        return oc_err(ONNXC_E_ARG, "unknown option '%s' (did you mean '%s'?)", name, best->name);
    char known[1024];
    size_t off = 0;
    known[0] = 0;
    for (int i = 0; (d = declared(i, &p)) != NULL && off < sizeof known; i++)
        off += (size_t)snprintf(known + off, sizeof known - off, "%s%s", i ? ", " : "", d->name);
    return oc_err(ONNXC_E_ARG, "unknown option '%s' (known: %s)", name, known);
}

/* ---------------------------------------------------------------- the object */

const oc_opt_slot *oc_opts_of(const onnxc_optimize_options *o, const oc_pass *p)
{
    for (int i = 0; i < o->n_slots; i++)
        if (o->slots[i].pass == p)
            return &o->slots[i];
    return NULL;
}

void onnxc_optimize_options_free(onnxc_optimize_options *o)
{
    if (!o)
        return;
    for (int i = 0; i < o->n_slots; i++)
        oc_opt_value_clear(&o->slots[i].v);
    oc_free(o->slots);
    oc_free(o);
}

onnxc_status onnxc_optimize_options_create(onnxc_optimize_options **out)
{
    if (!out)
        return oc_err(ONNXC_E_ARG, "optimize options: no place for the result");
    *out = NULL;
    const oc_pass *p;
    int n = 0;
    while (declared(n, &p))
        n++;
    onnxc_optimize_options *o = oc_calloc(1, sizeof *o);
    if (!o || !(o->slots = oc_calloc((size_t)n + 1, sizeof *o->slots))) {
        oc_free(o);
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        oc_opt_slot *s = &o->slots[i];
        s->def = declared(i, &s->pass);
        /* The tables are ours: a default that does not parse, or a name outside its pass's prefix, is a bug
         * that every test meets here at once. */
        size_t pl = s->pass ? strlen(s->pass->name) : 0;
        if (s->pass && (strncmp(s->def->name, s->pass->name, pl) || s->def->name[pl] != '.')) {
            onnxc_optimize_options_free(o);
            return oc_err(ONNXC_E_INVALID, "option '%s' of pass %s is not named '%s.<option>' (a bug in onnxc)",
                          s->def->name, s->pass->name, s->pass->name);
        }
        onnxc_status st = oc_opt_parse(s->def, s->def->dflt, &s->v);
        if (st != ONNXC_OK) {
            onnxc_optimize_options_free(o);
            return st == ONNXC_E_NOMEM ? st : oc_err_prefix(ONNXC_E_INVALID, "the default of %s (a bug in onnxc)",
                                                            s->def->name);
        }
        o->n_slots++;
    }
    *out = o;
    return ONNXC_OK;
}

static oc_opt_slot *find(const onnxc_optimize_options *o, const char *name)
{
    for (int i = 0; i < o->n_slots; i++)
        if (!strcmp(o->slots[i].def->name, name))
            return &o->slots[i];
    return NULL;
}

onnxc_status onnxc_optimize_set(onnxc_optimize_options *o, const char *name, const char *value)
{
    if (!o || !name)
        return oc_err(ONNXC_E_ARG, "optimize options: no %s given", o ? "option name" : "options object");
    oc_opt_slot *s = find(o, name);
    if (!s)
        return unknown_option(name);
    oc_opt_value nv;
    onnxc_status st = oc_opt_parse(s->def, value, &nv);
    if (st != ONNXC_OK)
        return st;
    nv.set = true;
    oc_opt_value old = s->v;
    s->v = nv;
    if (s->pass && s->pass->check_options &&
        (st = s->pass->check_options(oc_opts_of(o, s->pass))) != ONNXC_OK) {
        s->v = old; /* refused: the object keeps what it held */
        oc_opt_value_clear(&nv);
        return st;
    }
    oc_opt_value_clear(&old);
    return ONNXC_OK;
}

const char *onnxc_optimize_get(const onnxc_optimize_options *o, const char *name)
{
    if (!name)
        return NULL;
    if (o) {
        const oc_opt_slot *s = find(o, name);
        return s ? s->v.text : NULL;
    }
    const oc_pass *p;
    const oc_opt_def *d;
    for (int i = 0; (d = declared(i, &p)) != NULL; i++)
        if (!strcmp(d->name, name))
            return d->dflt;
    return NULL;
}
