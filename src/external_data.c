/* External tensor data: a TensorProto can keep its bytes in another file named by a relative location.
 * Locations come from untrusted models, so they are confined to the model's folder (CVE-2022-25882 "../",
 * CVE-2024-27318 "sub/../../", symlinks pointing out) and offsets are checked against the file size. */
#include "external_data.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_sep(char c) { return c == '/' || c == '\\'; }

onnxc_status oc_external_check_location(const char *location, const char *what)
{
    if (!location || !*location)
        return oc_err(ONNXC_E_INVALID, "%s: external data has no location", what);
    /* Windows separators and drive letters are refused too: the model may come from another system. */
    if (is_sep(location[0]) ||
        (((location[0] >= 'A' && location[0] <= 'Z') || (location[0] >= 'a' && location[0] <= 'z')) &&
         location[1] == ':'))
        return oc_err(ONNXC_E_INVALID, "%s: external data location '%s' is an absolute path", what, location);
    const char *p = location;
    while (*p) {
        const char *e = p;
        while (*e && !is_sep(*e))
            e++;
        if (e - p == 2 && p[0] == '.' && p[1] == '.')
            return oc_err(ONNXC_E_INVALID, "%s: external data location '%s' has a '..' component", what, location);
        p = *e ? e + 1 : e;
    }
    return ONNXC_OK;
}

/* Strict non-negative decimal; no sign, no spaces, no overflow. */
static bool parse_u64(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        if (!oc_mul_i64(v, 10, &v) || !oc_add_i64(v, *s - '0', &v))
            return false;
    }
    *out = v;
    return true;
}

/* true when path is dir itself or lies below it (both canonical). */
static bool path_inside(const char *dir, const char *path)
{
    size_t n = strlen(dir);
    if (n == 1 && dir[0] == '/')
        return path[0] == '/';
    return strncmp(dir, path, n) == 0 && path[n] == '/';
}

onnxc_status oc_ext_root_for_file(const char *path, oc_ext_root *root, char **dir, char **real_dir)
{
    root->dir = root->real_model_dir = NULL;
    *real_dir = NULL;
    const char *slash = strrchr(path, '/');
    *dir = !slash ? oc_strdup(".") : oc_strndup(path, slash == path ? 1 : (size_t)(slash - path));
    if (!*dir)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    root->dir = *dir;
    struct stat sb;
    char real[PATH_MAX];
    if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode) && realpath(path, real)) {
        char *s = strrchr(real, '/');
        if (s) {
            *real_dir = oc_strndup(real, s == real ? 1 : (size_t)(s - real));
            if (!*real_dir)
                return oc_err(ONNXC_E_NOMEM, "out of memory");
            root->real_model_dir = *real_dir;
        }
    }
    return ONNXC_OK;
}

onnxc_status oc_external_read(const oc_ext_root *root, const oc_kv *entries, size_t n_entries, size_t need,
                              const char *what, void **out)
{
    const char *dir = root ? root->dir : NULL;
    *out = NULL;
    const char *location = NULL, *offset_s = NULL, *length_s = NULL;
    for (size_t i = 0; i < n_entries; i++) {
        const char *k = entries[i].key ? entries[i].key : "";
        if (strcmp(k, "location") == 0)
            location = entries[i].value;
        else if (strcmp(k, "offset") == 0)
            offset_s = entries[i].value;
        else if (strcmp(k, "length") == 0)
            length_s = entries[i].value;
    }
    onnxc_status st = oc_external_check_location(location, what);
    if (st != ONNXC_OK)
        return st;
    if (!dir)
        return oc_err(ONNXC_E_ARG, "%s: external data '%s' needs the model's folder (load from a file or give base_dir)",
                      what, location);
    int64_t offset = 0, length = -1;
    if (offset_s && !parse_u64(offset_s, &offset))
        return oc_err(ONNXC_E_INVALID, "%s: external data offset '%s' is not a non-negative integer", what, offset_s);
    if (length_s && !parse_u64(length_s, &length))
        return oc_err(ONNXC_E_INVALID, "%s: external data length '%s' is not a non-negative integer", what, length_s);

    char real_dir[PATH_MAX], joined[PATH_MAX], real_file[PATH_MAX];
    if (!realpath(dir, real_dir))
        return oc_err(ONNXC_E_IO, "%s: model folder '%s': %s", what, dir, strerror(errno));
    if ((size_t)snprintf(joined, sizeof joined, "%s/%s", real_dir, location) >= sizeof joined)
        return oc_err(ONNXC_E_INVALID, "%s: external data location '%s' is too long", what, location);
    if (!realpath(joined, real_file))
        return oc_err(ONNXC_E_IO, "%s: external data file '%s': %s", what, location, strerror(errno));
    /* ".", "sub/.." and a symlink to the folder name the folder itself, which is inside but is no file. */
    if (strcmp(real_file, real_dir) == 0 || (root->real_model_dir && strcmp(real_file, root->real_model_dir) == 0))
        return oc_err(ONNXC_E_INVALID, "%s: external data location '%s' names the model folder itself, not a file",
                      what, location);
    /* A symlink inside the folder may point anywhere; what counts is where it resolves. */
    if (!path_inside(real_dir, real_file) &&
        !(root->real_model_dir && path_inside(root->real_model_dir, real_file)))
        return oc_err(ONNXC_E_INVALID, "%s: external data location '%s' resolves to '%s', outside the model folder",
                      what, location, real_file);

    char label[PATH_MAX + 512];
    snprintf(label, sizeof label, "%s: external data file '%s'", what, location);
    int fd;
    int64_t fsize;
    if ((st = oc_open_regular(real_file, label, &fd, &fsize)) != ONNXC_OK)
        return st;
    if (offset > fsize) {
        close(fd);
        return oc_err(ONNXC_E_INVALID, "%s: external data offset %lld is past the end of '%s' (%lld bytes)", what,
                      (long long)offset, location, (long long)fsize);
    }
    if (length < 0)
        length = fsize - offset;
    else if (length > fsize - offset) {
        close(fd);
        return oc_err(ONNXC_E_INVALID,
                      "%s: external data offset %lld + length %lld is past the end of '%s' (%lld bytes)", what,
                      (long long)offset, (long long)length, location, (long long)fsize);
    }
    if ((uint64_t)length != (uint64_t)need) {
        close(fd);
        return oc_err(ONNXC_E_INVALID, "%s: external data in '%s' has %lld bytes, the dims need %zu", what, location,
                      (long long)length, need);
    }
    uint8_t *buf = oc_malloc(need ? need : 1);
    if (!buf) {
        close(fd);
        return oc_err(ONNXC_E_NOMEM, "%s: out of memory for %zu bytes of external data", what, need);
    }
    size_t got = 0;
    while (got < need) {
        ssize_t r = pread(fd, buf + got, need - got, (off_t)(offset + (int64_t)got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : 0;
            close(fd);
            oc_free(buf);
            return oc_err(ONNXC_E_IO, "%s: reading external data '%s': %s", what, location,
                          e ? strerror(e) : "file shrank while reading");
        }
        got += (size_t)r;
    }
    close(fd);
    *out = buf;
    return ONNXC_OK;
}

bool oc_external_name_ok(const char *name)
{
    if (!name || !*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (const char *p = name; *p; p++)
        if (is_sep(*p))
            return false;
    return true;
}
