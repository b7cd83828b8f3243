/* Public queries and controls of a session beyond create/run: plan ahead of the first run, the planned arena's
 * size, the thread count. */
#include "session_internal.h"

onnxc_status onnxc_session_plan(onnxc_session *s, int n, const char *const *names, const onnxc_tensor *const *inputs)
{
    return oc_session_plan(s, n, names, inputs);
}

size_t onnxc_session_arena_bytes(const onnxc_session *s) { return oc_session_arena_bytes(s); }

int onnxc_session_threads(const onnxc_session *s) { return s ? s->threads : 0; }
