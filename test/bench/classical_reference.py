#!/usr/bin/python3
"""test/bench/classical_reference.py: reference scores for the knn and pca methods.

    test/bench/classical_reference.py [dataset.csv ...]

For each CSV (header f0,...,label; default: every CSV in ../shared/data/tabular) it
follows build/core_quality's protocol: standardise every column (mean, population
standard deviation, 1 where it is 0), fit on all rows, score all rows.  It prints AUROC
for

  knn_sk       sklearn NearestNeighbors, distance to the 5th neighbour of each row
               among all rows, the row itself included (what `anomaly_score` gives for
               a training row, and what build/core_quality measures)
  knn_loo      the same leaving the row itself out (PyOD's decision_scores_)
  pca_maha     sum_j (z.v_j)^2 / max(lambda_j, 1e-6 lambda_max), numpy's eigh on the
               covariance (ddof 1): what the pca method computes
  pca_pyod     PyOD's PCA score, sum_j ||x - v_j|| / explained_variance_ratio_j
               (pyod/models/pca.py: cdist to the unit eigenvectors), sklearn PCA

Needs python3-numpy and python3-sklearn (Debian packages).
"""
import glob
import os
import sys

import numpy as np
from sklearn.decomposition import PCA
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.neighbors import NearestNeighbors


def load(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    x, y = data[:, :-1], data[:, -1].astype(int)
    sd = x.std(axis=0)
    sd[~(sd > 1e-12)] = 1.0
    return (x - x.mean(axis=0)) / sd, y


def knn_scores(x, k=5):
    nn = NearestNeighbors(n_neighbors=k + 1).fit(x)
    dist, _ = nn.kneighbors(x)          # column 0 is the row itself (or a duplicate)
    return dist[:, k - 1], dist[:, k]


def pca_maha(x, floor=1e-6):
    z = x - x.mean(axis=0)
    w, v = np.linalg.eigh(np.cov(z, rowvar=False))
    w = np.maximum(w, max(w[-1] * floor, 1e-12))
    return ((z @ v) ** 2 / w).sum(axis=1)


def pca_pyod(x):
    from scipy.spatial.distance import cdist
    p = PCA().fit(x)
    return (cdist(x, p.components_) / p.explained_variance_ratio_).sum(axis=1)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    files = sys.argv[1:] or sorted(f for f in glob.glob(os.path.join(here, "../../../shared/data/tabular/*.csv"))
                                 if not f.endswith("published_results.csv"))
    print("%-12s %8s %8s %8s %8s" % ("dataset", "knn_sk", "knn_loo", "pca_maha", "pca_pyod"))
    for f in files:
        x, y = load(f)
        with_self, loo = knn_scores(x)
        row = [roc_auc_score(y, s) for s in (with_self, loo, pca_maha(x), pca_pyod(x))]
        print("%-12s %8.4f %8.4f %8.4f %8.4f" % ((os.path.basename(f)[:-4],) + tuple(row)))


if __name__ == "__main__":
    main()
