#!/usr/bin/python3
"""Reference figures for iforest and ecod under build/core_quality's protocol.

For every CSV of the shared tables: z-score each column (population sd, 0 ->
1, rounded to float32 as the core sees it), train on all rows, score the
same rows.  Prints one line per table: scikit-learn's IsolationForest
(n_estimators=100, default max_samples, random_state 1, 2, 3; AUROC mean and
sd, AUPRC mean) and ECOD computed with numpy in PyOD's formula and in the
paper's (AUROC, AUPRC each).  Needs python3-sklearn and python3-scipy.

    test/bench/classical_ref.py [data_dir]
"""
import glob
import os
import sys

import numpy as np
from scipy.stats import skew
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score


def left_tails(X):
    """P(X_j <= x) per column over the rows themselves (statsmodels' ECDF)."""
    out = np.empty_like(X)
    for j in range(X.shape[1]):
        s = np.sort(X[:, j])
        out[:, j] = np.searchsorted(s, X[:, j], side="right")
    return out / X.shape[0]


def ecod_scores(X):
    ul, ur = -np.log(left_tails(X)), -np.log(left_tails(-X))
    sign = np.sign(np.nan_to_num(skew(X, axis=0)))
    # PyOD's ECOD.decision_function
    uskew = ul * -1 * np.sign(sign - 1) + ur * np.sign(sign + 1)
    pyod = np.maximum(uskew, (ul + ur) / 2).sum(1)
    # the paper's Algorithm 1
    auto = np.where(sign < 0, ul, ur).sum(1)
    paper = np.maximum(np.maximum(ul.sum(1), ur.sum(1)), auto)
    return pyod, paper


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    data_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../../shared/data/tabular")
    for path in sorted(glob.glob(os.path.join(data_dir, "*.csv"))):
        if path.endswith("published_results.csv"):
            continue
        d = np.loadtxt(path, delimiter=",", skiprows=1)
        x, y = d[:, :-1], d[:, -1]
        sd = x.std(0)
        sd[sd == 0] = 1
        xs = ((x - x.mean(0)) / sd).astype(np.float32).astype(np.float64)
        roc, prc = [], []
        for seed in (1, 2, 3):
            s = -IsolationForest(n_estimators=100, random_state=seed).fit(xs).score_samples(xs)
            roc.append(roc_auc_score(y, s))
            prc.append(average_precision_score(y, s))
        pyod, paper = ecod_scores(xs)
        print(f"{os.path.basename(path)[:-4]} sklearn_iforest {np.mean(roc):.4f} {np.std(roc):.4f} "
              f"{np.mean(prc):.4f} ecod_pyod {roc_auc_score(y, pyod):.4f} "
              f"{average_precision_score(y, pyod):.4f} ecod_paper {roc_auc_score(y, paper):.4f} "
              f"{average_precision_score(y, paper):.4f}", flush=True)


if __name__ == "__main__":
    main()
