/* A program built against an installed onnxc (tests/install/test_install.sh): loads a model, runs it on a saved
 * input and checks output 0 against PyTorch's saved output (NMSE <= 1e-10). Public header only. */
#include <stdio.h>
#include <string.h>

#include <onnxc/onnxc.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: consumer MODEL INPUT.npy EXPECTED_OUTPUT0.npy\n");
        return 2;
    }
    onnxc_model *m = NULL;
    onnxc_session *s = NULL;
    onnxc_tensor *x = NULL, *want = NULL;
    int rc = 1;
    if (onnxc_model_load(argv[1], &m) != ONNXC_OK || onnxc_tensor_read(argv[2], &x, NULL) != ONNXC_OK ||
        onnxc_tensor_read(argv[3], &want, NULL) != ONNXC_OK || onnxc_session_create(m, NULL, &s) != ONNXC_OK) {
        fprintf(stderr, "consumer: %s\n", onnxc_last_error());
        goto done;
    }
    onnxc_io_info in;
    if (onnxc_model_input_info(m, 0, &in) != ONNXC_OK) {
        fprintf(stderr, "consumer: %s\n", onnxc_last_error());
        goto done;
    }
    const char *names[1] = {in.name};
    const onnxc_tensor *inputs[1] = {x};
    onnxc_metrics mt;
    if (onnxc_session_run(s, 1, names, inputs) != ONNXC_OK ||
        onnxc_metrics_compute(want, onnxc_session_output(s, 0), 0, 0, &mt) != ONNXC_OK) {
        fprintf(stderr, "consumer: %s\n", onnxc_last_error());
        goto done;
    }
    printf("onnxc %s: %s %lld elements, nmse %.3g\n", ONNXC_VERSION, onnxc_session_output_name(s, 0),
           (long long)mt.n, mt.nmse);
    rc = mt.comparable && mt.n > 0 && mt.nmse <= 1e-10 ? 0 : 1;
done:
    onnxc_session_free(s);
    onnxc_tensor_free(x);
    onnxc_tensor_free(want);
    onnxc_model_free(m);
    return rc;
}
