/* A calibrated swap-norm as one self-contained HTML page (inline CSS and SVG, no script, nothing fetched): each
 * layer's relative residual before and after the fit along the execution order on a log scale, the table of
 * layers, and the drift of every output against the original. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "html.h"
#include "util.h"

/* y of a residual: log scale between decades dlo..dhi, 0 on the bottom edge, not finite on the top edge. */
typedef struct chart {
    double W, H, left, right, top, bottom, pw, pl;
    int dlo, dhi, n;
} chart;

static double y_of(const chart *c, double r)
{
    if (!isfinite(r))
        return c->top;
    if (r <= 0)
        return c->H - c->bottom;
    double lg = fmax(log10(r), c->dlo);
    return c->top + c->pl * (1.0 - (lg - c->dlo) / (double)(c->dhi - c->dlo));
}

static double x_of(const chart *c, int i)
{
    return c->left + (c->n > 1 ? c->pw * (double)i / (double)(c->n - 1) : c->pw / 2);
}

static double residual(const onnxc_calib_layer *L, int after) { return after ? L->residual_after : L->residual_before; }

static void layer_chart(FILE *f, const onnxc_calibration *cal)
{
    chart c = {.W = 960, .H = 340, .left = 70, .right = 20, .top = 20, .bottom = 40};
    c.n = onnxc_calibration_num_layers(cal);
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < c.n; i++)
        for (int a = 0; a < 2; a++) {
            double r = residual(onnxc_calibration_layer(cal, i), a);
            if (isfinite(r) && r > 0) {
                lo = fmin(lo, r);
                hi = fmax(hi, r);
            }
        }
    if (!(lo <= hi)) {
        lo = 1e-6;
        hi = 1;
    }
    c.dlo = (int)floor(log10(lo));
    c.dhi = (int)ceil(log10(hi));
    if (c.dhi - c.dlo < 2)
        c.dhi = c.dlo + 2;
    if (c.dlo < -330)
        c.dlo = -330;
    const double zero_lane = 18;
    c.pw = c.W - c.left - c.right;
    c.pl = c.H - c.top - c.bottom - zero_lane;
    fprintf(f,
            "<svg id=\"residual-chart\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
            "aria-label=\"relative residual of each calibrated layer before and after the fit, in execution "
            "order, log scale\">\n",
            c.W, c.H, c.W, c.H);
    int step = (c.dhi - c.dlo + 7) / 8;
    for (int d = c.dlo; d <= c.dhi; d += step) {
        double y = y_of(&c, pow(10.0, d));
        fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", c.left, y, c.W - c.right,
                y);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">1e%d</text>\n", c.left - 6, y + 4, d);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">0</text>\n", c.left - 6, c.H - c.bottom + 4);
    fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", c.left, c.top, c.left,
            c.H - c.bottom);
    fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", c.left, c.H - c.bottom,
            c.W - c.right, c.H - c.bottom);
    fprintf(f,
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">calibrated layers in execution order (1 to %d)"
            "</text>\n",
            c.left + c.pw / 2, c.H - 10, c.n);
    fprintf(f,
            "<text x=\"14\" y=\"%.1f\" transform=\"rotate(-90 14 %.1f)\" text-anchor=\"middle\">relative "
            "residual</text>\n",
            c.top + (c.H - c.top - c.bottom) / 2, c.top + (c.H - c.top - c.bottom) / 2);
    /* legend */
    fprintf(f,
            "<circle class=\"legend before\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#d80\"/><text x=\"%.1f\" "
            "y=\"%.1f\">before the fit (carried gamma/beta)</text>\n",
            c.W - c.right - 330, c.top + 8, c.W - c.right - 322, c.top + 12);
    fprintf(f,
            "<circle class=\"legend after\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#27a\"/><text x=\"%.1f\" "
            "y=\"%.1f\">after the fit</text>\n",
            c.W - c.right - 100, c.top + 8, c.W - c.right - 92, c.top + 12);
    for (int a = 0; a < 2; a++) {
        fprintf(f, "<polyline class=\"line %s\" points=\"", a ? "after" : "before");
        for (int i = 0; i < c.n; i++)
            fprintf(f, "%s%.1f,%.1f", i ? " " : "", x_of(&c, i),
                    y_of(&c, residual(onnxc_calibration_layer(cal, i), a)));
        fputs("\"/>\n", f);
    }
    for (int a = 0; a < 2; a++)
        for (int i = 0; i < c.n; i++) {
            const onnxc_calib_layer *L = onnxc_calibration_layer(cal, i);
            double r = residual(L, a);
            fprintf(f, "<circle class=\"point %s%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\"><title>%d. ",
                    a ? "after" : "before", r == 0 ? " zero" : "", x_of(&c, i), y_of(&c, r), i + 1);
            oc_html_text(f, L->node);
            fputs(a ? ": residual after the fit " : ": residual before the fit ", f);
            oc_html_num(f, r);
            fputs("</title></circle>\n", f);
        }
    fputs("</svg>\n", f);
}

static void write_page(const onnxc_calibration *cal, const char *original, const char *swapped, FILE *f)
{
    int n = onnxc_calibration_num_layers(cal), no = onnxc_calibration_num_outputs(cal);
    int ns = onnxc_calibration_num_samples(cal);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>onnxc swap-norm "
          "calibration: ",
          f);
    oc_html_text(f, swapped);
    fprintf(f,
            "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>onnxc swap-norm calibration</h1>\n"
            "<p>original: <code>",
            oc_html_style);
    oc_html_text(f, original);
    fputs("</code><br>swapped and calibrated: <code>", f);
    oc_html_text(f, swapped);
    fprintf(f,
            "</code><br>%d layer%s fitted on %d sample%s. The residual of a layer is ||fit &minus; target|| / "
            "||target|| over every sample, position and channel, target being the original "
            "BatchNormalization's output and fit the swapped layer's, with the layers before it already "
            "calibrated: before = with the carried gamma/beta, after = with the fitted scale and bias.</p>\n",
            n, n == 1 ? "" : "s", ns, ns == 1 ? "" : "s");
    double worst_b = 0, worst_a = 0;
    for (int i = 0; i < n; i++) {
        const onnxc_calib_layer *L = onnxc_calibration_layer(cal, i);
        worst_b = isnan(L->residual_before) || L->residual_before > worst_b ? L->residual_before : worst_b;
        worst_a = isnan(L->residual_after) || L->residual_after > worst_a ? L->residual_after : worst_a;
    }
    fputs("<p id=\"summary\">largest residual before the fit ", f);
    oc_html_num(f, worst_b);
    fputs(", after ", f);
    oc_html_num(f, worst_a);
    fputs(".</p>\n<h2>Layers</h2>\n", f);
    if (n > 0)
        layer_chart(f, cal);
    fputs("<table id=\"layers\">\n<tr><th>#</th><th>layer</th><th>output</th><th>C</th><th>G</th>"
          "<th>residual before</th><th>residual after</th><th>after / before</th><th>notes</th></tr>\n",
          f);
    for (int i = 0; i < n; i++) {
        const onnxc_calib_layer *L = onnxc_calibration_layer(cal, i);
        fprintf(f, "<tr><td>%d</td><td class=\"name\">", i + 1);
        oc_html_text(f, L->node);
        fputs("</td><td class=\"name\">", f);
        oc_html_text(f, L->output);
        fprintf(f, "</td><td>%lld</td><td>%lld</td><td>", (long long)L->channels, (long long)L->groups);
        oc_html_num(f, L->residual_before);
        fputs("</td><td>", f);
        oc_html_num(f, L->residual_after);
        fputs("</td><td>", f);
        if (L->residual_before > 0)
            oc_html_num(f, L->residual_after / L->residual_before);
        else
            fputs("-", f);
        fputs("</td><td class=\"warn\">", f);
        if (L->kept_channels)
            fprintf(f, "%lld channel%s without variance kept gamma/beta", (long long)L->kept_channels,
                    L->kept_channels == 1 ? "" : "s");
        if (L->training_mode)
            fprintf(f, "%sthe original ran in training mode", L->kept_channels ? "; " : "");
        if (L->objective && strcmp(L->objective, "bn")) {
            fprintf(f, "%sresiduals after the ", L->kept_channels || L->training_mode ? "; " : "");
            oc_html_text(f, L->objective);
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n<h2>Drift of the outputs</h2>\n<p>The calibrated model against the original on the "
          "calibration samples.</p>\n<table id=\"outputs\">\n<tr><th>output</th><th>NMSE</th><th>max abs</th>"
          "<th>max rel</th><th>cosine</th><th>top-1 agrees</th></tr>\n",
          f);
    for (int i = 0; i < no; i++) {
        const onnxc_calib_output *o = onnxc_calibration_output(cal, i);
        const onnxc_metrics *m = &o->metrics;
        fputs("<tr><td class=\"name\">", f);
        oc_html_text(f, o->name);
        fputs("</td><td>", f);
        oc_html_num(f, m->nmse);
        fputs("</td><td>", f);
        oc_html_num(f, m->max_abs);
        fputs("</td><td>", f);
        oc_html_num(f, m->max_rel);
        fprintf(f, "</td><td>%.9f</td><td>", m->cosine);
        if (m->top1_rows)
            fprintf(f, "%lld of %lld", (long long)m->top1_agree, (long long)m->top1_rows);
        else
            fputs("-", f);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n</body>\n</html>\n", f);
}

onnxc_status onnxc_calibration_html(const onnxc_calibration *c, const char *original, const char *swapped, char **html)
{
    if (!html || !c) {
        if (html)
            *html = NULL;
        return oc_err(ONNXC_E_ARG, "onnxc_calibration_html: NULL argument");
    }
    oc_membuf b;
    onnxc_status st = oc_membuf_open(&b);
    if (st != ONNXC_OK) {
        *html = NULL;
        return st;
    }
    write_page(c, original ? original : "original", swapped ? swapped : "swapped", b.f);
    return oc_membuf_take(&b, html);
}

onnxc_status onnxc_calibration_write_html(const onnxc_calibration *c, const char *original, const char *swapped,
                                          const char *path)
{
    if (!c || !path || !*path)
        return oc_err(ONNXC_E_ARG, "onnxc_calibration_write_html: no calibration or no path");
    char *page = NULL;
    onnxc_status st = onnxc_calibration_html(c, original, swapped, &page);
    if (st != ONNXC_OK)
        return oc_err_prefix(st, "%s", path);
    oc_piece piece = {page, strlen(page)};
    st = oc_write_file_atomic(path, &piece, 1);
    onnxc_free(page);
    return st;
}
