/* Driver for check_tensor_files.py: reads each tensor file listed in a file with onnxc_tensor_read and writes it
 * back as OUT/<index>.npy and OUT/<index>.pb. One line per file on stdout: "OK i" or "ERR i message". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnxc/onnxc.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s LIST OUTDIR\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    char line[4096];
    int idx = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!*line)
            continue;
        onnxc_tensor *t = NULL;
        char *name = NULL;
        onnxc_status st = onnxc_tensor_read(line, &t, &name);
        if (st != ONNXC_OK) {
            printf("ERR %d %s\n", idx++, onnxc_last_error());
            continue;
        }
        char npy[4200], pb[4200];
        snprintf(npy, sizeof npy, "%s/%d.npy", argv[2], idx);
        snprintf(pb, sizeof pb, "%s/%d.pb", argv[2], idx);
        st = onnxc_tensor_write_pb(t, name, pb);
        if (st == ONNXC_OK) {
            st = onnxc_tensor_write_npy(t, npy);
            if (st == ONNXC_E_UNSUPPORTED) /* strings and bfloat16 have no .npy form */
                st = ONNXC_OK;
        }
        if (st != ONNXC_OK)
            printf("ERR %d %s\n", idx, onnxc_last_error());
        else
            printf("OK %d\n", idx);
        idx++;
        free(name);
        onnxc_tensor_free(t);
    }
    fclose(f);
    return 0;
}
