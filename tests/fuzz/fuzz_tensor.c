/* libFuzzer target: the tensor file readers on bytes (.npy, TensorProto .pb, .npz), as onnxc_tensor_read and
 * onnxc_npz_read see a file's contents, then the .npy/.pb writers on what was read. Built by -DONNXC_FUZZ=ON. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnxc/onnxc.h"
#include "proto_tensor.h"

static void message_ok(void)
{
    const char *msg = onnxc_last_error();
    if (!msg || !*msg || strchr(msg, '\n')) {
        fprintf(stderr, "refusal without a one-line message: '%s'\n", msg ? msg : "(null)");
        abort();
    }
}

static char tmp_npy[64], tmp_pb[64];

static void write_back(const onnxc_tensor *t, const char *name)
{
    if (!tmp_npy[0]) {
        snprintf(tmp_npy, sizeof tmp_npy, "/tmp/onnxc-fuzz-%ld.npy", (long)getpid());
        snprintf(tmp_pb, sizeof tmp_pb, "/tmp/onnxc-fuzz-%ld.pb", (long)getpid());
    }
    if (t->nbytes > ((size_t)1 << 20))
        return;
    if (onnxc_tensor_write_npy(t, tmp_npy) != ONNXC_OK)
        message_ok();
    if (onnxc_tensor_write_pb(t, name, tmp_pb) != ONNXC_OK)
        message_ok();
    unlink(tmp_npy);
    unlink(tmp_pb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1); /* read_pb may edit its buffer */
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    onnxc_tensor *t = NULL;
    char *name = NULL;
    if (oc_tensor_read_buffer(buf, size, "fuzz-tensor", &t, &name) == ONNXC_OK) {
        write_back(t, name);
        onnxc_tensor_free(t);
        onnxc_free(name);
    } else
        message_ok();
    int n = 0;
    char **names = NULL;
    onnxc_tensor **ts = NULL;
    if (oc_npz_read_buffer(data, size, "fuzz-npz", &n, &names, &ts) == ONNXC_OK)
        onnxc_npz_free(n, names, ts);
    else
        message_ok();
    free(buf);
    return 0;
}
