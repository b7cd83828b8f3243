"""Run one onnxc session per Dask worker over a batch of inputs.

    python3 dask_batch.py MODEL.onnx INPUTS.npy [--chunk 8] [--scheduler tcp://HOST:8786] [-o OUT.npz]

Without --scheduler it starts a local cluster (2 worker processes, 1 thread each). With a real cluster, start
`dask-scheduler` on one machine and `dask-worker tcp://HOST:8786 --nthreads 1` on each node (every node needs
the onnxc package installed), then pass --scheduler tcp://HOST:8786: the code is the same. The model goes to the
workers once (scattered as bytes); each worker process builds its Session on first use and keeps it.
"""
import argparse

import numpy as np

import onnxc

_sessions = {}  # per worker process: model key -> Session


def _session(model_bytes, threads):
    key = (hash(model_bytes), threads)
    s = _sessions.get(key)
    if s is None:
        s = _sessions[key] = onnxc.Session(onnxc.load(model_bytes), threads=threads)
    return s


def run_chunk(model_bytes, input_name, chunk, threads=1):
    """Outputs of one chunk, copied out of the session (the result travels back to the client)."""
    return _session(model_bytes, threads).run({input_name: chunk}, copy=True)


def run_batch(client, model, batch, chunk=8, threads=1):
    """Split batch (first axis) into chunks, run them on the cluster's workers, and put the outputs back
    together in order: {output name: ndarray}."""
    m = onnxc.load(model)
    model_bytes = m.to_bytes()
    name = m.inputs[0]["name"]
    remote_model = client.scatter(model_bytes, broadcast=True)
    futures = [client.submit(run_chunk, remote_model, name, batch[i:i + chunk], threads, pure=False)
               for i in range(0, len(batch), chunk)]
    parts = client.gather(futures)
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def run_serial(model, batch, chunk=8, threads=1):
    """The same chunks run one after another in this process: what run_batch must equal."""
    m = onnxc.load(model)
    s = onnxc.Session(m, threads=threads)
    name = m.inputs[0]["name"]
    parts = [s.run({name: batch[i:i + chunk]}, copy=True) for i in range(0, len(batch), chunk)]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("inputs", help=".npy with the batch along the first axis")
    ap.add_argument("--chunk", type=int, default=8)
    ap.add_argument("--scheduler", help="address of a running Dask scheduler (default: a local cluster)")
    ap.add_argument("-o", "--output", help="write the outputs to this .npz")
    a = ap.parse_args()
    from distributed import Client, LocalCluster

    batch = np.load(a.inputs)
    if a.scheduler:
        client = Client(a.scheduler)
    else:
        client = Client(LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None))
    with client:
        out = run_batch(client, a.model, batch, a.chunk)
    for k, v in out.items():
        print("%s: %s %s" % (k, v.dtype, "x".join(map(str, v.shape))))
    if a.output:
        np.savez(a.output, **out)


if __name__ == "__main__":
    main()
