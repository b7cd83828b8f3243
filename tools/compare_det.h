/* Detection sets of a comparison (internal): which outputs are detections (given, by name, by shape), matching
 * A's detections with B's by label and box IoU each sample, and the sets' text and JSON. tools/compare.c owns
 * the comparison and calls these; the public figures are onnxc_compare_detections (onnxc.h). */
#ifndef ONNXC_COMPARE_DET_H
#define ONNXC_COMPARE_DET_H

#include <stdio.h>

#include "onnxc/onnxc.h"

enum { OC_DET_BOXES, OC_DET_DETS, OC_DET_INDICES };

/* One set: the public figures and the outputs (entry indices k of the comparison's outputs) it is made of. */
typedef struct oc_det_set {
    onnxc_compare_detections pub;
    int form;                       /* OC_DET_* */
    int k_boxes, k_scores, k_labels; /* -1: none (k_boxes is the dets or indices output for those forms) */
    int k_extra[ONNXC_DET_MAX_EXTRA];
    int64_t elements;               /* elements of the set's tensors seen on both sides, over the samples */
} oc_det_set;

/* What the grouping sees of the comparison's n outputs in the first sample: B's names, A's and B's tensors,
 * whether B's session allocates the output at run time (its shape depends on data), and the symbol B declares
 * for its first dim (NULL when none). */
typedef struct oc_det_view {
    int n;
    const char *const *names;
    const onnxc_tensor *const *a, *const *b;
    const int *dynamic;
    const char *const *dim0;
} oc_det_view;

/* Parse an explicit spec (onnxc_compare_options.detections) against the output names: *off = 1 for "none";
 * else the sets, in *sets (oc_free). ONNXC_E_ARG naming the bad part. */
onnxc_status oc_det_parse(const char *spec, int n, const char *const *names, oc_det_set **sets, int *n_sets,
                          int *off);

/* Find the sets by name, then by shape, on the first sample; *sets (oc_free) may get none. */
onnxc_status oc_det_group(const oc_det_view *v, double iou, double score_threshold, oc_det_set **sets,
                          int *n_sets);

/* Fold one sample into a set: a[k] and b[k] are output k's tensors in A and B. */
onnxc_status oc_det_sample(oc_det_set *s, const onnxc_tensor *const *a, const onnxc_tensor *const *b, double atol,
                           double rtol);

/* Text: how the sets were found, a table, extras' lines, the matching rule; JSON: the "detections" array. */
void oc_det_print_human(FILE *f, const oc_det_set *sets, int n);
void oc_det_print_json(FILE *f, const oc_det_set *sets, int n);

/* Why a set is not within tolerance, in a few words. */
void oc_det_reason(const oc_det_set *s, char *buf, size_t cap);

#endif
