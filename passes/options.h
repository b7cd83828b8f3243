/* Options of the pipeline and of each pass, declared as tables (name, type, default, range or choices, help):
 * the one place where an option's default and its validation live. The public options object
 * (onnxc_optimize_options) holds one value per declared option, parsed from text by these tables. */
#ifndef ONNXC_PASS_OPTIONS_H
#define ONNXC_PASS_OPTIONS_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "onnxc/onnxc.h"

struct oc_pass;

typedef enum oc_opt_type {
    OC_OPT_BOOL = 0,   /* true/false (also 1/0, yes/no, on/off) */
    OC_OPT_INT = 1,    /* a whole decimal number in [min, max] */
    OC_OPT_FLOAT = 2,  /* a finite number in [fmin, fmax] */
    OC_OPT_STRING = 3, /* any text; check (optional) refuses what the option cannot use */
    OC_OPT_ENUM = 4,   /* one of choices */
    OC_OPT_REGEX = 5   /* a POSIX extended regular expression, compiled when set; "" = none */
} oc_opt_type;

typedef struct oc_opt_def {
    const char *name;           /* public name: "<pass>.<option>" for a pass's option, a bare word for the pipeline's */
    oc_opt_type type;
    const char *dflt;           /* the default, as text: parsed and checked like a value a user sets */
    int64_t min, max;           /* OC_OPT_INT */
    double fmin, fmax;          /* OC_OPT_FLOAT */
    const char *const *choices; /* OC_OPT_ENUM, NULL-terminated */
    /* OC_OPT_STRING: refuse a value (ONNXC_E_ARG, message naming the option) the option cannot use; may be NULL */
    onnxc_status (*check)(const char *name, const char *value);
    const char *help;           /* one line */
} oc_opt_def;

/* A parsed value. */
typedef struct oc_opt_value {
    bool set;     /* given by the caller (false: the default) */
    bool b;       /* OC_OPT_BOOL */
    int64_t i;    /* OC_OPT_INT */
    double f;     /* OC_OPT_FLOAT */
    int e;        /* OC_OPT_ENUM: index into choices */
    char *text;   /* canonical text (what onnxc_optimize_get returns); the string or the pattern itself */
    /* OC_OPT_REGEX: the compiled pattern, NULL for "". Held by pointer because POSIX does not promise that a
     * regex_t still works after being copied, and values are moved when a set replaces them. */
    regex_t *re;
} oc_opt_value;

/* One option of an options object: its declaration, the pass declaring it (NULL: the pipeline) and its value. */
typedef struct oc_opt_slot {
    const struct oc_pass *pass;
    const oc_opt_def *def;
    oc_opt_value v;
} oc_opt_slot;

struct onnxc_optimize_options {
    oc_opt_slot *slots; /* the pipeline's options, then each registered pass's, in registry order */
    int n_slots;
};

/* The slots of pass p's options in o (NULL when p declares none), or of the pipeline's when p is NULL. */
const oc_opt_slot *oc_opts_of(const onnxc_optimize_options *o, const struct oc_pass *p);

/* Parse text as a value of d into *out (which the caller frees with oc_opt_value_clear): ONNXC_E_ARG naming
 * the option, the value and what d accepts. */
onnxc_status oc_opt_parse(const oc_opt_def *d, const char *text, oc_opt_value *out);
void oc_opt_value_clear(oc_opt_value *v);

/* One line describing d for onnxc_list_passes: name, what it accepts, default, help. */
void oc_opt_print(FILE *f, const oc_opt_def *d);

#endif
