/* Tensor file tests: .npy and TensorProto .pb files written by NumPy and onnx (tensor_io_fixtures.h) read to the
 * values they hold; onnxc's writers produce the same bytes NumPy's np.save and onnx's from_array do; unsupported
 * layouts and damaged files give one-line errors; writes are atomic. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "onnxc/onnxc.h"
#include "tensor_io_fixtures.h"
#include "util.h"

static char tmpdir[256];

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/onnxc_test_tensor_io_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            char p[600];
            snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                unlink(p);
        }
        closedir(d);
    }
    rmdir(tmpdir);
    oc_alloc_fail_after(0);
    return 0;
}

static const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static uint8_t *read_bytes(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    fclose(f);
    return buf;
}

/* Read fixture bytes through a file, as users do. */
static onnxc_status read_fixture(const unsigned char *data, size_t len, const char *name, onnxc_tensor **t,
                                 char **tname)
{
    write_bytes(tmp_path(name), data, len);
    return onnxc_tensor_read(tmp_path(name), t, tname);
}

static int count_tmp_files(void)
{
    DIR *d = opendir(tmpdir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strstr(e->d_name, ".tmp") != NULL;
    closedir(d);
    return n;
}

static void test_read_npy_formats(void **state)
{
    (void)state;
    onnxc_tensor *t;
    assert_int_equal(read_fixture(npy_f32_2x3, sizeof npy_f32_2x3, "a.npy", &t, NULL), ONNXC_OK);
    assert_int_equal(t->dtype, ONNXC_FLOAT);
    assert_int_equal(t->rank, 2);
    assert_int_equal(t->dims[0], 2);
    assert_int_equal(t->dims[1], 3);
    const float *f = t->data;
    for (int i = 0; i < 6; i++)
        assert_true(f[i] == 0.5f * (float)i);
    onnxc_tensor_free(t);

    /* numpy.asfortranarray(arange(6).reshape(2, 3)): stored column by column, read back in C order */
    assert_int_equal(read_fixture(npy_fortran, sizeof npy_fortran, "f.npy", &t, NULL), ONNXC_OK);
    assert_int_equal(t->rank, 2);
    assert_int_equal(t->dims[0], 2);
    assert_int_equal(t->dims[1], 3);
    for (int i = 0; i < 6; i++)
        assert_true(((const float *)t->data)[i] == (float)i);
    onnxc_tensor_free(t);

    assert_int_equal(read_fixture(npy_i64_v2, sizeof npy_i64_v2, "b.npy", &t, NULL), ONNXC_OK);
    assert_int_equal(t->dtype, ONNXC_INT64);
    const int64_t *l = t->data;
    assert_true(l[0] == -1 && l[1] == 2 && l[2] == ((int64_t)1 << 40));
    onnxc_tensor_free(t);

    assert_int_equal(read_fixture(npy_f64_v3, sizeof npy_f64_v3, "c.npy", &t, NULL), ONNXC_OK);
    assert_int_equal(t->dtype, ONNXC_DOUBLE);
    assert_int_equal(t->rank, 2);
    assert_int_equal(t->dims[0], 2);
    assert_int_equal(t->dims[1], 1);
    assert_true(((double *)t->data)[0] == 1.25 && ((double *)t->data)[1] == -3.5);
    onnxc_tensor_free(t);

    assert_int_equal(read_fixture(npy_bool, sizeof npy_bool, "d.npy", &t, NULL), ONNXC_OK);
    assert_int_equal(t->dtype, ONNXC_BOOL);
    assert_memory_equal(t->data, "\1\0\1", 3);
    onnxc_tensor_free(t);

    assert_int_equal(read_fixture(npy_f16, sizeof npy_f16, "e.npy", &t, NULL), ONNXC_OK);
    assert_int_equal(t->dtype, ONNXC_FLOAT16);
    const uint16_t *h = t->data;
    assert_true(h[0] == 0x3C00 && h[1] == 0xC000 && h[2] == 0x7BFF);
    onnxc_tensor_free(t);

    /* big-endian data is swapped to host order */
    assert_int_equal(read_fixture(npy_be_i32, sizeof npy_be_i32, "f.npy", &t, NULL), ONNXC_OK);
    assert_int_equal(t->dtype, ONNXC_INT32);
    const int32_t *k = t->data;
    assert_true(k[0] == 1 && k[1] == -2 && k[2] == 0x01020304);
    onnxc_tensor_free(t);

    assert_int_equal(read_fixture(npy_u8_scalar, sizeof npy_u8_scalar, "g.npy", &t, NULL), ONNXC_OK);
    assert_int_equal(t->rank, 0);
    assert_int_equal(*(uint8_t *)t->data, 200);
    onnxc_tensor_free(t);

    assert_int_equal(read_fixture(npy_empty, sizeof npy_empty, "h.npy", &t, NULL), ONNXC_OK);
    assert_int_equal(t->rank, 2);
    assert_int_equal(t->dims[0], 0);
    assert_int_equal(onnxc_tensor_numel(t), 0);
    onnxc_tensor_free(t);

    assert_int_equal(read_fixture(npy_c64, sizeof npy_c64, "i.npy", &t, NULL), ONNXC_OK);
    assert_int_equal(t->dtype, ONNXC_COMPLEX64);
    assert_true(((float *)t->data)[0] == 1 && ((float *)t->data)[1] == 2);
    onnxc_tensor_free(t);
}

static void test_read_pb(void **state)
{
    (void)state;
    onnxc_tensor *t;
    char *name = NULL;
    assert_int_equal(read_fixture(pb_f32_raw, sizeof pb_f32_raw, "t.pb", &t, &name), ONNXC_OK);
    assert_string_equal(name, "t");
    free(name);
    assert_int_equal(t->dtype, ONNXC_FLOAT);
    assert_int_equal(t->rank, 2);
    for (int i = 0; i < 6; i++)
        assert_true(((float *)t->data)[i] == 0.5f * (float)i);
    onnxc_tensor_free(t);

    assert_int_equal(read_fixture(pb_f16_typed, sizeof pb_f16_typed, "h.pb", &t, NULL), ONNXC_OK);
    assert_int_equal(t->dtype, ONNXC_FLOAT16);
    const uint16_t *h = t->data;
    assert_true(h[0] == 0x3C00 && h[1] == 0xC000 && h[2] == 0x7BFF);
    onnxc_tensor_free(t);

    assert_int_equal(read_fixture(pb_strings, sizeof pb_strings, "s.pb", &t, &name), ONNXC_OK);
    assert_string_equal(name, "s");
    free(name);
    assert_int_equal(t->dtype, ONNXC_STRING);
    const onnxc_string *s = t->data;
    assert_int_equal(s[0].len, 5);
    assert_string_equal(s[0].data, "hello");
    assert_int_equal(s[1].len, 0);
    onnxc_tensor_free(t);

    assert_int_equal(read_fixture(pb_bool_raw, sizeof pb_bool_raw, "b.pb", &t, NULL), ONNXC_OK);
    assert_int_equal(t->dtype, ONNXC_BOOL);
    assert_memory_equal(t->data, "\1\0\1", 3);
    onnxc_tensor_free(t);
}

/* Our writers against NumPy's and onnx's bytes. */
static void test_write_matches_numpy_and_onnx(void **state)
{
    (void)state;
    struct {
        const unsigned char *ref;
        size_t len;
    } cases[] = {
        {npy_f32_2x3, sizeof npy_f32_2x3}, {npy_bool, sizeof npy_bool},     {npy_f16, sizeof npy_f16},
        {npy_u8_scalar, sizeof npy_u8_scalar}, {npy_empty, sizeof npy_empty}, {npy_c64, sizeof npy_c64},
        {npy_u16_3, sizeof npy_u16_3},     {npy_i8_m, sizeof npy_i8_m},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        onnxc_tensor *t;
        assert_int_equal(read_fixture(cases[i].ref, cases[i].len, "in.npy", &t, NULL), ONNXC_OK);
        assert_int_equal(onnxc_tensor_write_npy(t, tmp_path("out.npy")), ONNXC_OK);
        size_t n;
        uint8_t *got = read_bytes(tmp_path("out.npy"), &n);
        if (n != cases[i].len || memcmp(got, cases[i].ref, n) != 0)
            fail_msg("case %zu: .npy bytes differ from numpy's (%zu vs %zu bytes)", i, n, cases[i].len);
        free(got);
        onnxc_tensor_free(t);
    }

    const struct {
        const unsigned char *ref;
        size_t len;
        const char *name;
    } pbs[] = {{pb_f32_raw, sizeof pb_f32_raw, "t"}, {pb_i64_raw, sizeof pb_i64_raw, "ints"},
               {pb_bool_raw, sizeof pb_bool_raw, "b"}};
    for (size_t i = 0; i < sizeof pbs / sizeof pbs[0]; i++) {
        onnxc_tensor *t;
        assert_int_equal(read_fixture(pbs[i].ref, pbs[i].len, "in.pb", &t, NULL), ONNXC_OK);
        assert_int_equal(onnxc_tensor_write_pb(t, pbs[i].name, tmp_path("out.pb")), ONNXC_OK);
        size_t n;
        uint8_t *got = read_bytes(tmp_path("out.pb"), &n);
        if (n != pbs[i].len || memcmp(got, pbs[i].ref, n) != 0)
            fail_msg("case %zu: .pb bytes differ from onnx's from_array (%zu vs %zu bytes)", i, n, pbs[i].len);
        free(got);
        onnxc_tensor_free(t);
    }
    assert_int_equal(count_tmp_files(), 0);
}

static void test_write_strings_pb_and_read_back(void **state)
{
    (void)state;
    onnxc_tensor *t;
    assert_int_equal(read_fixture(pb_strings, sizeof pb_strings, "s.pb", &t, NULL), ONNXC_OK);
    assert_int_equal(onnxc_tensor_write_pb(t, "s", tmp_path("s2.pb")), ONNXC_OK);
    size_t n;
    uint8_t *got = read_bytes(tmp_path("s2.pb"), &n);
    assert_int_equal(n, sizeof pb_strings);
    assert_memory_equal(got, pb_strings, n);
    free(got);
    /* strings have no .npy form without pickles */
    assert_int_equal(onnxc_tensor_write_npy(t, tmp_path("s.npy")), ONNXC_E_UNSUPPORTED);
    assert_non_null(strstr(onnxc_last_error(), "s.npy"));
    assert_int_equal(access(tmp_path("s.npy"), F_OK), -1);
    onnxc_tensor_free(t);

    int64_t d[1] = {2};
    assert_int_equal(onnxc_tensor_create(ONNXC_BFLOAT16, 1, d, &t), ONNXC_OK);
    assert_int_equal(onnxc_tensor_write_npy(t, tmp_path("bf.npy")), ONNXC_E_UNSUPPORTED);
    assert_non_null(strstr(onnxc_last_error(), "bfloat16"));
    onnxc_tensor_free(t);
}

static void test_bad_files(void **state)
{
    (void)state;
    onnxc_tensor *t = NULL;
    struct {
        const unsigned char *data;
        size_t len;
        onnxc_status want;
        const char *msg;
    } cases[] = {
        {npy_unicode, sizeof npy_unicode, ONNXC_E_UNSUPPORTED, "<U"},
        {npy_f32_2x3, sizeof npy_f32_2x3 - 4, ONNXC_E_INVALID, "needs 24"}, /* data cut short */
        {npy_f32_2x3, 20, ONNXC_E_PARSE, ".npy"},                           /* header cut short */
        {(const unsigned char *)"", 0, ONNXC_E_PARSE, "empty"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        onnxc_status st = read_fixture(cases[i].data, cases[i].len, "bad.npy", &t, NULL);
        if (st != cases[i].want || !strstr(onnxc_last_error(), cases[i].msg) ||
            !strstr(onnxc_last_error(), "bad.npy") || strchr(onnxc_last_error(), '\n'))
            fail_msg("case %zu: status %d, message: %s", i, st, onnxc_last_error());
        assert_null(t);
    }
    /* data longer than the shape says */
    unsigned char longer[sizeof npy_f32_2x3 + 4];
    memcpy(longer, npy_f32_2x3, sizeof npy_f32_2x3);
    memset(longer + sizeof npy_f32_2x3, 0, 4);
    assert_int_equal(read_fixture(longer, sizeof longer, "long.npy", &t, NULL), ONNXC_E_INVALID);
    /* a format version that does not exist */
    unsigned char v9[sizeof npy_f32_2x3];
    memcpy(v9, npy_f32_2x3, sizeof v9);
    v9[6] = 9;
    assert_int_equal(read_fixture(v9, sizeof v9, "v9.npy", &t, NULL), ONNXC_E_UNSUPPORTED);
    /* a TensorProto whose raw_data is shorter than its dims */
    assert_int_not_equal(read_fixture(pb_f32_raw, sizeof pb_f32_raw - 4, "short.pb", &t, NULL), ONNXC_OK);
    assert_non_null(strstr(onnxc_last_error(), "short.pb"));
    assert_int_equal(onnxc_tensor_read(tmp_path("absent.npy"), &t, NULL), ONNXC_E_IO);
}

static void test_write_is_atomic(void **state)
{
    (void)state;
    onnxc_tensor *t;
    int64_t d[2] = {2, 2};
    assert_int_equal(onnxc_tensor_create(ONNXC_FLOAT, 2, d, &t), ONNXC_OK);
    assert_int_equal(onnxc_tensor_write_npy(t, tmp_path("no/dir/x.npy")), ONNXC_E_IO);
    /* an existing file is replaced whole or left alone */
    static const char old[] = "old";
    write_bytes(tmp_path("x.pb"), old, sizeof old);
    int failures = 0;
    onnxc_status st = ONNXC_E_NOMEM;
    for (size_t k = 1; k < 1000 && st != ONNXC_OK; k++) {
        oc_alloc_fail_after(k);
        st = onnxc_tensor_write_pb(t, "x", tmp_path("x.pb"));
        oc_alloc_fail_after(0);
        if (st != ONNXC_OK) {
            failures++;
            size_t n;
            uint8_t *now = read_bytes(tmp_path("x.pb"), &n);
            assert_int_equal(n, sizeof old);
            free(now);
            assert_int_equal(count_tmp_files(), 0);
        }
    }
    assert_int_equal(st, ONNXC_OK);
    assert_true(failures >= 1);
    onnxc_tensor *back;
    char *name;
    assert_int_equal(onnxc_tensor_read(tmp_path("x.pb"), &back, &name), ONNXC_OK);
    assert_string_equal(name, "x");
    free(name);
    assert_int_equal(back->rank, 2);
    onnxc_tensor_free(back);
    onnxc_tensor_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_npy_formats, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_read_pb, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_write_matches_numpy_and_onnx, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_write_strings_pb_and_read_back, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_bad_files, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_write_is_atomic, make_tmpdir, remove_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
