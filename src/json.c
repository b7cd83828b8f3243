/* JSON output shared by `onnxc info --json`, the comparison report and the compare command: strings that
 * always parse, whatever bytes a model's names hold. */
#include "json.h"

#include "onnxc/onnxc.h"

#include <stdint.h>

void oc_json_str(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    while (*p) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
            p++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': fputs("\\n", f); break;
            case '\r': fputs("\\r", f); break;
            case '\t': fputs("\\t", f); break;
            case '\b': fputs("\\b", f); break;
            case '\f': fputs("\\f", f); break;
            default: fprintf(f, "\\u%04x", c); break;
            }
            p++;
        } else if (c < 0x80) {
            fputc(c, f);
            p++;
        } else {
            /* Length of a well-formed UTF-8 sequence starting here, or 0. */
            int len = 0;
            uint32_t cp = 0;
            if (c >= 0xC2 && c <= 0xDF) {
                len = 2;
                cp = c & 0x1F;
            } else if (c >= 0xE0 && c <= 0xEF) {
                len = 3;
                cp = c & 0x0F;
            } else if (c >= 0xF0 && c <= 0xF4) {
                len = 4;
                cp = c & 0x07;
            }
            for (int k = 1; k < len; k++) {
                if ((p[k] & 0xC0) != 0x80) {
                    len = 0;
                    break;
                }
                cp = (cp << 6) | (p[k] & 0x3F);
            }
            /* reject overlong forms, surrogates and code points past U+10FFFF */
            if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)))
                len = 0;
            if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))
                len = 0;
            if (len) {
                fwrite(p, 1, (size_t)len, f);
                p += len;
            } else {
                fputs("\\ufffd", f);
                p++;
            }
        }
    }
    fputc('"', f);
}

void onnxc_json_write_string(FILE *f, const char *s) { oc_json_str(f, s); }
