/* A comparison as one self-contained HTML page (inline CSS and SVG, no script, nothing fetched): the table of
 * outputs and, with per_node, the NMSE of every shared value along B's execution order on a log scale; and the
 * helpers the other pages share (tools/html.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compare.h"
#include "html.h"
#include "util.h"

void oc_html_text(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fputs("&#xFFFD;", f);
            else
                fputc(*p, f);
        }
    }
}

void oc_html_num(FILE *f, double v)
{
    if (isnan(v))
        fputs("NaN", f);
    else if (isinf(v))
        fputs(v > 0 ? "inf" : "-inf", f);
    else
        fprintf(f, "%.3e", v);
}

static void html_shape(FILE *f, const int64_t *dims, int rank)
{
    char buf[256];
    oc_dims_str(dims, rank, buf, sizeof buf);
    oc_html_text(f, buf);
}

const char oc_html_style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}"
    "h1{font-size:20px}h2{font-size:16px;margin-top:28px}"
    "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "th{background:#f3f3f3}td.name,td.op{text-align:left;font-family:monospace}"
    "tr.differs td.verdict{color:#b00;font-weight:bold}tr.ok td.verdict{color:#070}"
    "p.verdict-line{font-weight:bold}p.ok{color:#070}p.differs{color:#b00}"
    "svg{border:1px solid #ccc;background:#fff}svg text{font:11px sans-serif}"
    "svg .axis{stroke:#444}svg .grid{stroke:#e4e4e4}svg .limit{stroke:#b60;stroke-dasharray:4 3}"
    "svg .line{fill:none;stroke:#68a;stroke-width:1}svg circle.point{fill:#27a}"
    "svg circle.point.differs{fill:#c22}svg circle.point.zero{fill:#8b8}svg .divergence{stroke:#c22}"
    "svg .line.before{stroke:#d80}svg circle.point.before{fill:#d80}svg .line.after{stroke:#27a}"
    "td.warn{color:#b60}table#layers td,table#outputs td{white-space:nowrap}";

/* One row of a table: the output, or with op a per-node value. */
static void entry_row(FILE *f, const onnxc_compare_entry *e, int per_node, int index)
{
    const onnxc_metrics *m = &e->metrics;
    fprintf(f, "<tr class=\"%s\">", e->within ? "ok" : "differs");
    if (per_node)
        fprintf(f, "<td>%d</td>", index);
    fputs("<td class=\"name\">", f);
    oc_html_text(f, e->name);
    if (e->name_a && strcmp(e->name_a, e->name) != 0) {
        fputs(" (A: ", f);
        oc_html_text(f, e->name_a);
        fputs(")", f);
    }
    fputs("</td>", f);
    if (per_node) {
        fputs("<td class=\"op\">", f);
        oc_html_text(f, e->op_type);
        fputs("</td>", f);
    }
    fputs("<td>", f);
    html_shape(f, e->dims_b, e->rank_b);
    if ((!m->comparable || e->detection_set >= 0) && (e->rank_a != e->rank_b || memcmp(e->dims_a, e->dims_b, sizeof e->dims_a) != 0)) {
        fputs(" (A: ", f);
        html_shape(f, e->dims_a, e->rank_a);
        fputs(")", f);
    }
    fputs("</td><td>", f);
    oc_html_text(f, onnxc_dtype_name(e->dtype_b));
    if (e->dtype_a != e->dtype_b) {
        fputs(" (A: ", f);
        oc_html_text(f, onnxc_dtype_name(e->dtype_a));
        fputs(")", f);
    }
    fputs("</td>", f);
    if (e->detection_set >= 0) {
        fprintf(f, "<td colspan=\"4\">matched as detections (set %d, below)</td>", e->detection_set + 1);
    } else if (m->comparable) {
        double v[] = {m->max_abs, m->max_rel, m->nmse};
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
            fputs("<td>", f);
            oc_html_num(f, v[i]);
            fputs("</td>", f);
        }
        fprintf(f, "<td>%.9f</td>", m->cosine);
    } else {
        fputs("<td colspan=\"4\">not comparable</td>", f);
    }
    fprintf(f, "<td class=\"verdict\">%s</td></tr>\n", e->within ? "ok" : "DIFFERS");
}

static void table_head(FILE *f, int per_node)
{
    fprintf(f, "<tr>%s<th>%s</th>%s<th>shape</th><th>dtype</th><th>max abs</th><th>max rel</th><th>NMSE</th>"
               "<th>cosine</th><th>verdict</th></tr>\n",
            per_node ? "<th>#</th>" : "", per_node ? "value" : "output", per_node ? "<th>op</th>" : "");
}

/* The NMSE of each shared value in B's order, log scale. An NMSE of 0 sits on the bottom edge (green), one
 * that is not finite or not comparable on the top edge (no xmlns: inline SVG in HTML needs none, and the page
 * then names no URL at all); the dashed line is the NMSE limit and the red
 * vertical line the first divergence. */
static void per_node_chart(FILE *f, const onnxc_comparison *c, double nmse_limit)
{
    int n = onnxc_compare_num_nodes(c), first = onnxc_compare_first_divergence(c);
    const double W = 960, H = 320, left = 70, right = 20, top = 20, bottom = 40;
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++) {
        const onnxc_metrics *m = &onnxc_compare_node(c, i)->metrics;
        if (m->comparable && isfinite(m->nmse) && m->nmse > 0) {
            lo = fmin(lo, m->nmse);
            hi = fmax(hi, m->nmse);
        }
    }
    if (isfinite(nmse_limit) && nmse_limit > 0) {
        lo = fmin(lo, nmse_limit);
        hi = fmax(hi, nmse_limit);
    }
    if (!(lo <= hi)) {
        lo = 1e-12;
        hi = 1;
    }
    /* whole decades, at least two, so ticks are powers of ten */
    int dlo = (int)floor(log10(lo)) - 1, dhi = (int)ceil(log10(hi));
    if (dhi - dlo < 2)
        dhi = dlo + 2;
    if (dlo < -330)
        dlo = -330;
    /* the log axis ends a lane above the bottom edge, where NMSE 0 values sit with their own "0" label */
    const double pw = W - left - right, ph = H - top - bottom, zero_lane = 18, pl = ph - zero_lane;
#define YOF(lg) (top + pl * (1.0 - ((lg) - dlo) / (double)(dhi - dlo)))
#define XOF(i) (left + (n > 1 ? pw * (double)(i) / (double)(n - 1) : pw / 2))
    fprintf(f, "<svg id=\"per-node-chart\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"NMSE of each shared value in B's execution "
               "order, log scale\">\n",
            W, H, W, H);
    int step = (dhi - dlo + 7) / 8;
    for (int d = dlo; d <= dhi; d += step) {
        double y = YOF(d);
        fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", left, y, W - right, y);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">1e%d</text>\n", left - 6, y + 4, d);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">0</text>\n", left - 6, H - bottom + 4);
    fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", left, top, left, H - bottom);
    fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", left, H - bottom,
            W - right, H - bottom);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">shared values in B's execution order "
               "(1 to %d)</text>\n",
            left + pw / 2, H - 10, n);
    fprintf(f, "<text x=\"14\" y=\"%.1f\" transform=\"rotate(-90 14 %.1f)\" text-anchor=\"middle\">NMSE</text>\n",
            top + ph / 2, top + ph / 2);
    if (isfinite(nmse_limit) && nmse_limit > 0) {
        double y = YOF(log10(nmse_limit));
        fprintf(f, "<line class=\"limit\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", left, y, W - right, y);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">NMSE limit %.0e</text>\n", W - right - 4, y - 4,
                nmse_limit);
    }
    if (first >= 0) {
        double x = XOF(first);
        fprintf(f, "<line class=\"divergence\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x, top, x,
                H - bottom);
        fprintf(f, "<text class=\"divergence-label\" x=\"%.1f\" y=\"%.1f\"%s>first divergence: ", x + (first > n / 2 ? -4 : 4),
                top + 12, first > n / 2 ? " text-anchor=\"end\"" : "");
        oc_html_text(f, onnxc_compare_node(c, first)->name);
        fputs("</text>\n", f);
    }
    /* y of each point: its NMSE, or the bottom edge for 0, the top edge for inf / not comparable */
    fputs("<polyline class=\"line\" points=\"", f);
    for (int i = 0; i < n; i++) {
        const onnxc_metrics *m = &onnxc_compare_node(c, i)->metrics;
        double y = !m->comparable || !isfinite(m->nmse) ? top : m->nmse > 0 ? YOF(fmax(log10(m->nmse), dlo)) : H - bottom;
        fprintf(f, "%s%.1f,%.1f", i ? " " : "", XOF(i), y);
    }
    fputs("\"/>\n", f);
    for (int i = 0; i < n; i++) {
        const onnxc_compare_entry *e = onnxc_compare_node(c, i);
        const onnxc_metrics *m = &e->metrics;
        int zero = m->comparable && m->nmse == 0;
        double y = !m->comparable || !isfinite(m->nmse) ? top : m->nmse > 0 ? YOF(fmax(log10(m->nmse), dlo)) : H - bottom;
        fprintf(f, "<circle class=\"point%s%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\"><title>%d. ", e->within ? "" : " differs",
                zero ? " zero" : "", XOF(i), y, i + 1);
        oc_html_text(f, e->name);
        fputs(" (", f);
        oc_html_text(f, e->op_type);
        fputs("): ", f);
        if (m->comparable) {
            fputs("NMSE ", f);
            oc_html_num(f, m->nmse);
        } else {
            fputs("not comparable", f);
        }
        fputs("</title></circle>\n", f);
    }
#undef YOF
#undef XOF
    fputs("</svg>\n", f);
}

/* The detection sets: how each was found, its counts and the largest differences of matched pairs. */
static void detections_table(FILE *f, const onnxc_comparison *c)
{
    int n = onnxc_compare_num_detection_sets(c);
    if (n == 0)
        return;
    fprintf(f, "<h2>Detections</h2>\n<p>%d set%s of outputs compared by matching detections, not element by element: "
               "A's detections by decreasing score each take B's unmatched detection of the same label with the "
               "highest IoU &ge; the threshold; a set passes when every detection is matched and every matched box "
               "coordinate, score and extra element passes the element test.</p>\n<table id=\"detections\">\n"
               "<tr><th>#</th><th>set</th><th>grouped by</th><th>outputs</th><th>IoU &ge;</th><th>A</th><th>B</th>"
               "<th>matched</th><th>unmatched A</th><th>unmatched B</th><th>relabelled</th><th>min IoU</th>"
               "<th>max box diff</th><th>max score diff</th><th>extra max diff</th><th>verdict</th></tr>\n",
            n, n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        const onnxc_compare_detections *d = onnxc_compare_detection_set(c, i);
        fprintf(f, "<tr class=\"%s\"><td>%d</td><td class=\"name\">", d->within ? "ok" : "differs", i + 1);
        oc_html_text(f, d->name);
        fputs("</td><td>", f);
        oc_html_text(f, d->grouped_by);
        fputs("</td><td class=\"name\">", f);
        oc_html_text(f, d->form);
        fputs("=", f);
        oc_html_text(f, d->boxes);
        const char *role[] = {"scores", "labels"}, *name[] = {d->scores, d->labels};
        for (int r = 0; r < 2; r++)
            if (name[r]) {
                fprintf(f, ", %s=", role[r]);
                oc_html_text(f, name[r]);
            }
        for (int e = 0; e < d->n_extra; e++) {
            fputs(", extra=", f);
            oc_html_text(f, d->extra[e]);
        }
        fprintf(f, "</td><td>%g</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td><td>",
                d->iou_threshold, (long long)d->n_a, (long long)d->n_b, (long long)d->matched,
                (long long)d->unmatched_a, (long long)d->unmatched_b, (long long)d->label_changed);
        if (d->matched) {
            fprintf(f, "%.4f</td><td>", d->min_iou);
            oc_html_num(f, d->max_box_diff);
            fputs("</td><td>", f);
            oc_html_num(f, d->max_score_diff);
        } else {
            fputs("&ndash;</td><td>&ndash;</td><td>&ndash;", f);
        }
        fputs("</td><td>", f);
        for (int e = 0; e < d->n_extra; e++) {
            if (e)
                fputs("<br>", f);
            oc_html_text(f, d->extra[e]);
            fputs(" ", f);
            if (d->matched)
                oc_html_num(f, d->extra_max_abs[e]);
            else
                fputs("&ndash;", f);
        }
        fprintf(f, "</td><td class=\"verdict\">%s</td></tr>\n", d->within ? "ok" : "DIFFERS");
    }
    fputs("</table>\n", f);
}

static void write_page(const onnxc_comparison *c, FILE *f)
{
    const onnxc_compare_options *o = oc_compare_options(c);
    const char *ref = onnxc_compare_reference_dir(c);
    int ok = onnxc_compare_within(c);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>onnxc compare: ", f);
    oc_html_text(f, o->label_b);
    fputs(" against ", f);
    oc_html_text(f, o->label_a);
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>onnxc compare</h1>\n<p>A (reference): <code>", oc_html_style);
    oc_html_text(f, o->label_a);
    fprintf(f, "</code>%s<br>B: <code>", ref ? " (saved outputs)" : "");
    oc_html_text(f, o->label_b);
    fprintf(f, "</code><br>%d sample%s; an element passes when |B &minus; A| &le; atol + rtol&middot;max(|A|, "
               "rms(A)) (atol %g, rtol %g; a NaN never passes), an output when no element fails and NMSE &le; %g.</p>\n",
            onnxc_compare_num_samples(c), onnxc_compare_num_samples(c) == 1 ? "" : "s", o->atol, o->rtol, o->nmse);
    if (onnxc_compare_num_samples(c) == 0 || onnxc_compare_num_elements(c) == 0)
        fputs("<p class=\"verdict-line differs\" id=\"verdict\">nothing compared: not a pass</p>\n", f);
    else
        fprintf(f, "<p class=\"verdict-line %s\" id=\"verdict\">%s</p>\n", ok ? "ok" : "differs",
                ok ? "B matches A within tolerance" : "B differs from A beyond tolerance");
    fputs("<h2>Outputs</h2>\n<table id=\"outputs\">\n", f);
    table_head(f, 0);
    for (int k = 0; k < onnxc_compare_num_outputs(c); k++)
        entry_row(f, onnxc_compare_output(c, k), 0, k + 1);
    fputs("</table>\n", f);
    int nu = onnxc_compare_num_unmatched(c, 0) + onnxc_compare_num_unmatched(c, 1);
    if (nu) {
        fputs("<p>Not compared:</p>\n<ul id=\"unmatched\">\n", f);
        for (int side = 0; side < 2; side++)
            for (int i = 0; i < onnxc_compare_num_unmatched(c, side); i++) {
                fputs("<li><code>", f);
                oc_html_text(f, onnxc_compare_unmatched(c, side, i));
                fprintf(f, "</code>: %s</li>\n", ref ? "in the reference, not an output of B"
                                                    : side ? "output of B only" : "output of A only");
            }
        fputs("</ul>\n", f);
    }
    detections_table(f, c);
    int n = onnxc_compare_num_nodes(c);
    if (n > 0) {
        int first = onnxc_compare_first_divergence(c);
        fprintf(f, "<h2>Per node</h2>\n<p>%d value%s produced under the same name in both graphs, in B's execution "
                   "order. ",
                n, n == 1 ? "" : "s");
        if (first >= 0) {
            const onnxc_compare_entry *e = onnxc_compare_node(c, first);
            fprintf(f, "First divergence: value %d, <code>", first + 1);
            oc_html_text(f, e->name);
            fputs("</code> (", f);
            oc_html_text(f, e->op_type);
            if (e->node && *e->node) {
                fputs(" node <code>", f);
                oc_html_text(f, e->node);
                fputs("</code>", f);
            }
            fputs(").</p>\n", f);
        } else {
            fputs("Every shared value is within tolerance.</p>\n", f);
        }
        per_node_chart(f, c, o->nmse);
        fputs("<table id=\"per-node\">\n", f);
        table_head(f, 1);
        for (int i = 0; i < n; i++)
            entry_row(f, onnxc_compare_node(c, i), 1, i + 1);
        fputs("</table>\n", f);
    }
    fputs("</body>\n</html>\n", f);
}

onnxc_status onnxc_compare_html(const onnxc_comparison *c, char **html)
{
    if (!html || !c) {
        if (html)
            *html = NULL;
        return oc_err(ONNXC_E_ARG, "onnxc_compare_html: NULL argument");
    }
    oc_membuf b;
    onnxc_status st = oc_membuf_open(&b);
    if (st != ONNXC_OK) {
        *html = NULL;
        return st;
    }
    write_page(c, b.f);
    return oc_membuf_take(&b, html);
}

onnxc_status onnxc_compare_write_html(const onnxc_comparison *c, const char *path)
{
    if (!c || !path || !*path)
        return oc_err(ONNXC_E_ARG, "onnxc_compare_write_html: no comparison or no path");
    char *page = NULL;
    onnxc_status st = onnxc_compare_html(c, &page);
    if (st != ONNXC_OK)
        return oc_err_prefix(st, "%s", path);
    oc_piece piece = {page, strlen(page)};
    st = oc_write_file_atomic(path, &piece, 1);
    onnxc_free(page);
    return st;
}
