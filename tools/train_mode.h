/* Training-mode BatchNormalization and Dropout in a model meant for inference (the "model.train() left on"
 * export): found once here, for `check` and `info`. */
#ifndef ONNXC_TRAIN_MODE_H
#define ONNXC_TRAIN_MODE_H

#include <stdbool.h>
#include <stdio.h>

#include "ir.h"

typedef struct oc_train_mode {
    int n_bn, n_dropout;                /* training-mode BNs, active Dropouts of the main graph */
    const oc_node *first_bn, *first_dropout;
    char bn_why[300], dropout_why[300]; /* the first one's reason */
    const oc_value *stats_output;       /* a BN statistics output that is a graph output (a training graph), or NULL */
} oc_train_mode;

/* Scan the main graph of g. */
void oc_train_mode_scan(const oc_graph *g, oc_train_mode *t);

/* Print one "warning: ..." line per kind found (nothing for a training graph, whose outputs are not inference
 * outputs, or when there is nothing); returns the number of lines. */
int oc_train_mode_print(const oc_train_mode *t, FILE *f);

#endif
