#!/usr/bin/python3
"""The side-by-side references of ../shared/bench/reference on the quality split.

    test/bench/reference_split.py {torch_ae|sklearn_iforest} [-s "1 2 3"] [-p 0.6] [dataset ...]

Trains the reference implementation on the same rows test/bench/quality.sh
trains on (row i of a CSV is a training row for seed s when
hash32((i + s * 0x9E3779B1) mod 2^32) / 2^32 < p, the rule of
test/bench/core_quality.c), z-scores with the training part's mean and
population standard deviation (1 for a constant column), scores the other
rows, and prints quality.sh's multi-seed line per dataset:
dataset rows dims auroc sd worst auprc sd train_s.

torch_ae is torch_ref.py's autoencoder d-64-16-64-d (ReLU, linear output,
MSE, Adam lr 1e-3, batch 256) trained by torch_ref.py's own loop for
max(5, min(200, ceil(4000 / batches per epoch))) epochs: the same budget
of some thousands of optimiser steps as the extension's default rule, so
that small tables are not judged after five batches.  sklearn_iforest is
sklearn_ref.py's IsolationForest(n_estimators=100), seeded.  Exits 77 when
../shared or the Python packages are missing.
"""
import argparse
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("ANOMALY_SHARED_DIR", os.path.join(HERE, "..", "..", "..", "shared"))
REFERENCE = os.path.join(SHARED, "bench", "reference")
DATA = os.environ.get("ANOMALY_DATA_DIR", os.path.join(SHARED, "data", "tabular"))


def hash32(x):
    for _ in range(2):
        x = (((x >> 16) ^ x) * 0x45D9F3B) & 0xFFFFFFFF
    return (x >> 16) ^ x


def in_train(n, seed, fraction):
    import numpy as np
    if fraction >= 1:
        return np.ones(n, bool)
    return np.array([hash32((i + seed * 0x9E3779B1) & 0xFFFFFFFF) / 2 ** 32 < fraction
                     for i in range(n)])


def torch_ae(Xtr, Xte, seed):
    import torch
    import torch_ref
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(seed)
    model = torch_ref.autoencoder(Xtr.shape[1])
    steps = math.ceil(Xtr.shape[0] / 256)
    epochs = max(5, min(200, math.ceil(4000 / steps)))
    torch_ref.train(model, torch.from_numpy(Xtr), torch_ref.ae_loss, epochs, 256, 1e-3, gen)
    with torch.inference_mode():
        xb = torch.from_numpy(Xte)
        return ((model(xb) - xb) ** 2).mean(1).numpy()


def sklearn_iforest(Xtr, Xte, seed):
    from sklearn.ensemble import IsolationForest
    iso = IsolationForest(n_estimators=100, random_state=seed).fit(Xtr)
    return -iso.score_samples(Xte)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("method", choices=["torch_ae", "sklearn_iforest"])
    ap.add_argument("-s", "--seeds", default="1 2 3")
    ap.add_argument("-p", "--fraction", type=float, default=0.6)
    ap.add_argument("datasets", nargs="*")
    a = ap.parse_args()
    if not os.path.isdir(DATA) or not os.path.isdir(REFERENCE):
        print(f"skipped: no {DATA} or {REFERENCE}")
        return 77
    sys.path.insert(0, REFERENCE)
    try:
        import numpy as np
        from threadpoolctl import threadpool_limits
        from common import metrics
        if a.method == "torch_ae":
            import torch  # noqa: F401
        else:
            import sklearn  # noqa: F401
    except ImportError as e:
        print(f"skipped: {e}")
        return 77
    fit = {"torch_ae": torch_ae, "sklearn_iforest": sklearn_iforest}[a.method]
    datasets = a.datasets or sorted(f[:-4] for f in os.listdir(DATA)
                                    if f.endswith(".csv") and f != "published_results.csv")
    print("%-12s %7s %5s %7s %6s %7s %7s %6s %8s" %
          ("dataset", "rows", "dims", "auroc", "sd", "worst", "auprc", "sd", "train_s"))
    for ds in datasets:
        raw = np.loadtxt(os.path.join(DATA, ds + ".csv"), delimiter=",", skiprows=1)
        X, y = raw[:, :-1], raw[:, -1].astype(int)
        aurocs, auprcs, secs = [], [], []
        for seed in [int(s) for s in a.seeds.split()]:
            tr = in_train(len(y), seed, a.fraction)
            te = ~tr if a.fraction < 1 else tr
            mu = X[tr].mean(0)
            sd = X[tr].std(0)
            sd[sd == 0] = 1.0
            Xtr = ((X[tr] - mu) / sd).astype(np.float32)
            Xte = ((X[te] - mu) / sd).astype(np.float32)
            t0 = time.perf_counter()
            with threadpool_limits(1):
                scores = fit(Xtr, Xte, seed)
            secs.append(time.perf_counter() - t0)
            m = metrics(y[te], scores)
            aurocs.append(m["auroc"])
            auprcs.append(m["auprc"])
        print("%-12s %7d %5d %7.4f %6.4f %7.4f %7.4f %6.4f %8.2f" %
              (ds, int((~tr).sum() if a.fraction < 1 else len(y)), X.shape[1],
               np.mean(aurocs), np.std(aurocs), min(aurocs), np.mean(auprcs),
               np.std(auprcs), np.mean(secs)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
