/* JSON output helpers shared by the library's reports (info, compare) and the CLI. */
#ifndef ONNXC_JSON_H
#define ONNXC_JSON_H

#include <stdio.h>

/* Write s as a JSON string (null when s is NULL): quotes, backslashes and control characters escaped, invalid
 * UTF-8 replaced by U+FFFD so the output always parses. */
void oc_json_str(FILE *f, const char *s);

#endif
