#!/usr/bin/python3
"""Sweep of the neural defaults over every shared table (issue 13).

    test/bench/sweep.py [--method autoencoder] [--seeds 1 2 3] [--configs a,b,...] [--networks K] [--list]

For every table of ../shared/data/tabular and every seed, runs build/core_quality on the
PyOD protocol (split=0.6 split_seed=seed: train on a seeded 60% of the rows, labels unused,
score the other 40%) with each configuration below, and prints AUROC per table (mean over
seeds and worst seed) and, per configuration, the mean over tables of both.  A configuration
is a function of the table's width d and training rows n giving core options; "default"
passes none, so it measures an_options_resolve() as built.  --networks K scores with the mean
of K models (seeds s, s + 1000, ...), an estimate of an ensemble; with --pick-by-loss, the
one of the K with the lowest loss (validation loss by default), an estimate of restarts.  A name a+b combines
configurations a and b (b's options come later and win over a's).

Prints "skipped" and exits 77 without ../shared.
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", ".."))
shared = os.environ.get("ANOMALY_SHARED_DIR", os.path.join(root, "..", "shared"))


def pow2ceil(x):
    p = 1
    while p < x:
        p *= 2
    return p


def clamp(x, lo, hi):
    return max(lo, min(hi, x))


def rule_hidden(d):
    return clamp(pow2ceil(2 * d), 16, 256)


def rule_latent(d):
    return clamp(pow2ceil(d) // 2, 2, 32)


def rule_batch(n):
    b = 32
    while b < 256 and b * 2 * 100 <= n:
        b *= 2
    return b


def rule_epochs(n, steps_target, batch=None, val=0.1):
    batch = batch or rule_batch(n)
    steps = max(1, math.ceil(int(n * (1 - val)) / batch))
    return clamp(math.ceil(steps_target / steps), 5, 400)


CONFIGS = {
    "default": lambda d, n: [],
    "ref_64_16": lambda d, n: ["hidden=[64]", "latent=16"],
    "hidden_min64": lambda d, n: [f"hidden=[{max(64, rule_hidden(d))}]"],
    "latent_half": lambda d, n: [f"latent={max(2, rule_latent(d) // 2)}"],
    "latent_x2": lambda d, n: [f"latent={min(64, rule_latent(d) * 2)}"],
    "two_hidden": lambda d, n: [f"hidden=[{rule_hidden(d)},{max(rule_latent(d), rule_hidden(d) // 2)}]"],
    "steps_2000": lambda d, n: [f"epochs={rule_epochs(n, 2000)}"],
    "steps_8000": lambda d, n: [f"epochs={rule_epochs(n, 8000)}"],
    "no_early_stop": lambda d, n: ["validation_fraction=0", "early_stopping_patience=0",
                                   f"epochs={rule_epochs(n, 4000, val=0)}"],
    "batch_64": lambda d, n: ["batch_size=64", f"epochs={rule_epochs(n, 4000, 64)}"],
    "lr_3e-3": lambda d, n: ["learning_rate=0.003"],
    "lr_3e-4": lambda d, n: ["learning_rate=0.0003"],
    "wd_1e-5": lambda d, n: ["weight_decay=0.00001"],
    "hidden_max64": lambda d, n: [f"hidden=[{min(64, rule_hidden(d))}]"],
    "latent_max16": lambda d, n: [f"latent={min(16, rule_latent(d))}"],
    "relu": lambda d, n: ["activation=relu"],
    "ae_x3": lambda d, n: ["members=autoencoder,autoencoder,autoencoder"],  # --method auto
    "leaky_relu": lambda d, n: ["activation=leaky_relu"],
    "tanh": lambda d, n: ["activation=tanh"],
    "patience_30": lambda d, n: ["early_stopping_patience=30"],
    "lr_2e-3": lambda d, n: ["learning_rate=0.002"],
}


def tables():
    tdir = os.path.join(shared, "data", "tabular")
    out = []
    for f in sorted(os.listdir(tdir)):
        if f.endswith(".csv") and f != "published_results.csv":
            path = os.path.join(tdir, f)
            with open(path) as fh:
                d = fh.readline().count(",")
                n = sum(1 for _ in fh)
            out.append((f[:-4], path, d, n))
    return out


def auroc(labels, scores):
    """AUROC with ties averaged (Mann-Whitney), as core_quality computes it."""
    pairs = sorted(zip(scores, labels))
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        rank_sum += sum(lab for _, lab in pairs[i:j]) * (i + 1 + j) / 2.0
        i = j
    p = sum(labels)
    return (rank_sum - p * (p + 1) / 2.0) / (p * (len(labels) - p))


def run(method, path, seed, opts, networks=1, restarts_by_loss=False):
    """AUROC on the held-out rows; with networks > 1, of the mean score of that many
    models trained on the same split with seeds seed, seed + 1000, ... (an ensemble
    estimated from core_quality's dump= files, for deciding whether one is worth building)."""
    cmd = [os.path.join(root, "build", "core_quality"), method, path, "split=0.6",
           f"split_seed={seed}"] + opts
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    if networks == 1:
        out = subprocess.run(cmd + [f"seed={seed}"], capture_output=True, text=True, env=env,
                             check=True).stdout.split()
        return float(out[out.index("auroc") + 1])
    if restarts_by_loss:
        # keep the model with the lowest loss (the best validation loss): label-free
        best = None
        for k in range(networks):
            out = subprocess.run(cmd + [f"seed={seed + 1000 * k}"], capture_output=True, text=True,
                                 env=env, check=True).stdout.split()
            loss, auc = float(out[out.index("loss") + 1]), float(out[out.index("auroc") + 1])
            if best is None or loss < best[0]:
                best = (loss, auc)
        return best[1]
    total, labels = None, None
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(networks):
            prefix = os.path.join(tmp, str(k))
            subprocess.run(cmd + [f"seed={seed + 1000 * k}", f"dump={prefix}"], capture_output=True,
                           env=env, check=True)
            with open(prefix + ".test") as fh:
                rows = [line.split() for line in fh]
            scores = [float(r[0]) for r in rows]
            labels = [int(float(r[1])) for r in rows]
            total = scores if total is None else [a + b for a, b in zip(total, scores)]
    return auroc(labels, total)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--method", default="autoencoder")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--configs", default="default,ref_64_16")
    ap.add_argument("--networks", type=int, default=1,
                    help="score with the mean of this many models (seeds s, s+1000, ...)")
    ap.add_argument("--pick-by-loss", action="store_true",
                    help="with --networks K: keep the one of the K models with the lowest loss")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    if a.list:
        print("\n".join(CONFIGS))
        return
    if not os.path.isdir(os.path.join(shared, "data", "tabular")):
        print(f"skipped: {shared} not found")
        sys.exit(77)
    subprocess.run(["make", "-s", "-C", root, "build/core_quality"], check=True, stdout=subprocess.DEVNULL)
    configs = a.configs.split(",")
    ts = tables()
    print(f"# {a.method}, AUROC on the 40% held out, mean (worst) over seeds {a.seeds}"
          + (f", {'the lowest-loss' if a.pick_by_loss else 'mean score'} of {a.networks} models"
             if a.networks > 1 else ""))
    print("| table | d | n | " + " | ".join(configs) + " |")
    print("|---|---|---|" + "---|" * len(configs))
    means = {c: [] for c in configs}
    worsts = {c: [] for c in configs}
    for name, path, d, n in ts:
        n_train = int(math.floor(0.6 * n + 0.5))
        cells = []
        for c in configs:
            opts = [o for part in c.split("+") for o in CONFIGS[part](d, n_train)]
            aucs = [run(a.method, path, s, opts, a.networks, a.pick_by_loss) for s in a.seeds]
            m, w = sum(aucs) / len(aucs), min(aucs)
            means[c].append(m)
            worsts[c].append(w)
            cells.append(f"{m:.3f} ({w:.3f})")
        print(f"| {name} | {d} | {n} | " + " | ".join(cells) + " |", flush=True)
    mm = lambda v: sum(v) / len(v)
    print("| **mean** | | | " + " | ".join(f"**{mm(means[c]):.4f} ({mm(worsts[c]):.4f})**" for c in configs) + " |")
    small = [i for i, t in enumerate(ts) if t[2] <= 16]
    wide = [i for i, t in enumerate(ts) if t[2] >= 100]
    for label, idx in (("d <= 16", small), ("d >= 100", wide)):
        print(f"| mean, {label} | | | " + " | ".join(
            f"{mm([means[c][i] for i in idx]):.4f} ({mm([worsts[c][i] for i in idx]):.4f})" for c in configs) + " |")
    print("| mean gap mean - worst | | | " + " | ".join(
        f"{mm([m - w for m, w in zip(means[c], worsts[c])]):.4f}" for c in configs) + " |")


if __name__ == "__main__":
    main()
