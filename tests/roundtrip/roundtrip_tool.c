/* Round-trip driver for tests/roundtrip/check_roundtrip.py: for each model listed in a file, load it and write
 * OUT/<index>/inline.onnx (plain save), OUT/<index>/ext/model.onnx (+ model.onnx.data, every tensor external),
 * then load that external copy back and write OUT/<index>/reloaded.onnx. One line per model on stdout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "onnxc/onnxc.h"

static int mkdir_p(const char *path)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int one_model(const char *model, const char *outdir, int idx)
{
    char dir[2048], ext_dir[2100], inline_path[2200], ext_path[2200], back_path[2200];
    snprintf(dir, sizeof dir, "%s/%04d", outdir, idx);
    snprintf(ext_dir, sizeof ext_dir, "%s/ext", dir);
    snprintf(inline_path, sizeof inline_path, "%s/inline.onnx", dir);
    snprintf(ext_path, sizeof ext_path, "%s/model.onnx", ext_dir);
    snprintf(back_path, sizeof back_path, "%s/reloaded.onnx", dir);
    if (mkdir_p(dir) || mkdir_p(ext_dir)) {
        printf("FAIL %d %s: cannot create %s\n", idx, model, dir);
        return 1;
    }
    onnxc_model *m = NULL, *back = NULL;
    const char *stage = "load";
    onnxc_status st = onnxc_model_load(model, &m);
    if (st == ONNXC_OK) {
        stage = "save";
        st = onnxc_model_save(m, inline_path, NULL);
    }
    if (st == ONNXC_OK) {
        stage = "save external";
        onnxc_save_options o;
        memset(&o, 0, sizeof o);
        o.external_data = 1;
        o.external_min_bytes = 1; /* every tensor with data goes to the external file */
        st = onnxc_model_save(m, ext_path, &o);
    }
    if (st == ONNXC_OK) {
        stage = "reload external";
        st = onnxc_model_load(ext_path, &back);
    }
    if (st == ONNXC_OK) {
        stage = "save reloaded";
        st = onnxc_model_save(back, back_path, NULL);
    }
    if (st != ONNXC_OK)
        printf("FAIL %d %s: %s: %s\n", idx, model, stage, onnxc_last_error());
    else
        printf("OK %d %s\n", idx, model);
    onnxc_model_free(m);
    onnxc_model_free(back);
    return st != ONNXC_OK;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL_LIST OUTDIR\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    if (mkdir_p(argv[2])) {
        fprintf(stderr, "%s: %s\n", argv[2], strerror(errno));
        fclose(f);
        return 2;
    }
    char line[4096];
    int idx = 0, failed = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!*line)
            continue;
        failed += one_model(line, argv[2], idx++);
    }
    fclose(f);
    fflush(stdout);
    return failed ? 1 : 0;
}
