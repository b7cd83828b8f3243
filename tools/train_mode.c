/* Training-mode BatchNormalization and Dropout found for `check` and `info` (see train_mode.h); the predicates
 * are the passes' own (bn_match.h), so the warning and `optimize --eval-mode` agree on what is training mode. */
#include "train_mode.h"

#include <string.h>

#include "bn_match.h"

void oc_train_mode_scan(const oc_graph *g, oc_train_mode *t)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < g->n_nodes; i++) {
        const oc_node *n = g->nodes[i];
        char why[300];
        if (oc_bn_is_training(n, why, sizeof why)) {
            if (!t->n_bn++) {
                t->first_bn = n;
                snprintf(t->bn_why, sizeof t->bn_why, "%s", why);
            }
            for (int o = 1; o < n->n_outputs && !t->stats_output; o++)
                if (n->outputs[o] && (n->outputs[o]->flags & OC_V_OUTPUT))
                    t->stats_output = n->outputs[o];
        } else if (oc_dropout_is_training(n, why, sizeof why)) {
            if (!t->n_dropout++) {
                t->first_dropout = n;
                snprintf(t->dropout_why, sizeof t->dropout_why, "%s", why);
            }
        }
    }
}

int oc_train_mode_print(const oc_train_mode *t, FILE *f)
{
    if (t->stats_output || !f)
        return 0;
    int lines = 0;
    char lbl[200];
    if (t->n_bn) {
        fprintf(f, "warning: %d BatchNormalization node%s run%s in training mode (first: %s, %s): each normalizes "
                "with its batch's own mean and variance, not the running statistics it carries, so a sample's "
                "outputs depend on the other samples in the batch and a batch of 1 is not the trained model's "
                "answer; if the model is meant for inference, 'onnxc optimize --eval-mode' fixes it\n",
                t->n_bn, t->n_bn == 1 ? "" : "s", t->n_bn == 1 ? "s" : "", oc_node_label(t->first_bn, lbl, sizeof lbl),
                t->bn_why);
        lines++;
    }
    if (t->n_dropout) {
        fprintf(f, "warning: %d Dropout node%s %s active (first: %s, %s): every run zeroes a random part of %s input "
                "and scales up the rest, so the outputs change from run to run; if the model is meant for "
                "inference, 'onnxc optimize --eval-mode' makes %s Identity\n",
                t->n_dropout, t->n_dropout == 1 ? "" : "s", t->n_dropout == 1 ? "is" : "are",
                oc_node_label(t->first_dropout, lbl, sizeof lbl), t->dropout_why, t->n_dropout == 1 ? "its" : "their",
                t->n_dropout == 1 ? "it" : "them");
        lines++;
    }
    return lines;
}
