# The Dask example on a local distributed cluster (two worker processes): its results equal a serial run.
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import dask_batch  # noqa: E402

from distributed import Client, LocalCluster  # noqa: E402


def test_dask_batch_equals_serial(repo):
    model = repo / "models/detector_small.onnx"
    rng = np.random.default_rng(7)
    batch = rng.standard_normal((20, 3, 64, 64)).astype(np.float32)
    want = dask_batch.run_serial(model, batch, chunk=4)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        got = dask_batch.run_batch(client, model, batch, chunk=4)
    assert set(got) == {"cls_logits", "box_regression"}
    for k in want:
        assert got[k].shape == (20,) + want[k].shape[1:]
        np.testing.assert_array_equal(got[k], want[k])
