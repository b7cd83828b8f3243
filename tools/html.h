/* Pieces shared by the self-contained HTML pages (compare --report, swap-norm --calibrate --report): escaping,
 * numbers, the page's CSS. Defined in tools/report_html.c. */
#ifndef ONNXC_HTML_H
#define ONNXC_HTML_H

#include <stdio.h>

/* Text with &, <, >, " and ' escaped; control characters (never meaningful in a name) as U+FFFD. */
void oc_html_text(FILE *f, const char *s);
/* A figure as %.3e, or NaN / inf / -inf. */
void oc_html_num(FILE *f, double v);
/* The CSS of every page (tables, verdicts, the SVG charts' axes, grid, lines and points). */
extern const char oc_html_style[];

#endif
