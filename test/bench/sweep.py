#!/usr/bin/python3
"""Sweep of the neural defaults over every shared table (issue 13).

    test/bench/sweep.py [--method autoencoder] [--seeds 1 2 3] [--configs a,b,...] [--networks K]
                        [--mix a,b,... [--mix ...]] [--combine mean|z|rank|median|trimmed]
                        [--tables t1,t2,...] [--split-seed S] [--against FILE] [--cache DIR]
                        [--jobs J] [--list]

For every table of ../shared/data/tabular and every seed, runs build/core_quality on the
PyOD protocol (split=0.6 split_seed=seed: train on a seeded 60% of the rows, labels unused,
score the other 40%) with each configuration below, and prints AUROC per table (mean over
seeds and worst seed) and, per configuration, the mean over tables of both.  A configuration
is a function of the table's width d and training rows n giving the core options of one
network; "default" passes none but networks=1, so it measures an_options_resolve() as built
for one network (the autoencoder's default model is the mean of seven: --configs networks_7).  --networks K scores with the mean
of K models (seeds s, s + 1000, ...), an estimate of an ensemble; with --pick-by-loss, the
one of the K with the lowest loss (validation loss by default), an estimate of restarts.  A name a+b combines
configurations a and b (b's options come later and win over a's).

--mix a,b,c (repeatable) adds a column for an ensemble of mixed configurations: one model per
listed configuration, the k-th trained with seed s + 1000 k, scores combined per row.  --combine
says how: "mean" averages the raw scores (reconstruction errors share the scaled space),
"median" takes their median per row and "trimmed" their mean without the lowest and the
highest (robust to one network that fits a row badly; the autoencoder's rule from five
networks on until it retrained failed networks instead), "trim_low" / "trim_high" without only the lowest / only the highest,
"z" first standardises each model's scores by the mean and sd of its scores on its own training
rows, "rank" replaces each score by the fraction of that model's training scores below it (both
label-free, so a model could do the same).  With --cache DIR (default $ANOMALY_SWEEP_CACHE or
anomaly-sweep-cache-UID in the temporary directory, outside build/, which make clean removes)
every model's per-row scores are kept, keyed by method, configuration, table, split seed and
training seed, so further mixes and combinations re-read them instead of retraining (delete the
directory after changing the core).  --jobs J trains J models at a time.

Prints "skipped" and exits 77 without ../shared.
"""
import argparse
import bisect
import concurrent.futures
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


def pow2floor(x):
    p = 1
    while p * 2 <= x:
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
    "networks_5": lambda d, n: ["networks=5"],
    "networks_7": lambda d, n: ["networks=7"],   # the built default model, seven networks
    "networks_10": lambda d, n: ["networks=10"],
    "ref_64_16": lambda d, n: ["hidden=[64]", "latent=16"],
    "hidden_min64": lambda d, n: [f"hidden=[{max(64, rule_hidden(d))}]"],
    "latent_half": lambda d, n: [f"latent={max(2, rule_latent(d) // 2)}"],
    "latent_floor": lambda d, n: [f"latent={clamp(pow2floor(d) // 2, 2, 32)}"],
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
    # what PyTorch's d-64-16-64-d does differently, one thing at a time (mammography, issue 13)
    "batch_256": lambda d, n: ["batch_size=256", f"epochs={rule_epochs(n, 4000, 256)}"],
    "hidden_64": lambda d, n: ["hidden=[64]"],
    "latent_16": lambda d, n: ["latent=16"],
    "latent_d": lambda d, n: [f"latent={clamp(d, 2, 32)}"],
    "torch_like": lambda d, n: ["hidden=[64]", "latent=16", "activation=relu", "batch_size=256",
                                "validation_fraction=0", "early_stopping_patience=0",
                                f"epochs={clamp(math.ceil(4000 / math.ceil(n / 256)), 5, 200)}"],
    "patience_20": lambda d, n: ["early_stopping_patience=20"],
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


def one_network(method):
    """A configuration describes one network: the autoencoder's own default, the mean of
    several (method_autoencoder.c), is what --networks K and --mix estimate."""
    return ["networks=1"] if method == "autoencoder" else []


def cached_scores(method, path, seed, config, train_seed, opts, cache):
    """(test scores, test labels, training scores) of one model, from the cache or trained."""
    table = os.path.basename(path)[:-4]
    prefix = os.path.join(cache, method, config, f"{table}.s{seed}.t{train_seed}")
    if not os.path.exists(prefix + ".test"):
        os.makedirs(os.path.dirname(prefix), exist_ok=True)
        tmp = prefix + f".tmp{os.getpid()}"
        cmd = [os.path.join(root, "build", "core_quality"), method, path, "split=0.6",
               f"split_seed={seed}"] + one_network(method) + opts + [f"seed={train_seed}", f"dump={tmp}"]
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
        subprocess.run(cmd, capture_output=True, env=env, check=True)
        os.replace(tmp + ".train", prefix + ".train")
        os.replace(tmp + ".test", prefix + ".test")
    with open(prefix + ".test") as fh:
        rows = [line.split() for line in fh]
    with open(prefix + ".train") as fh:
        train = [float(line) for line in fh]
    return [float(r[0]) for r in rows], [int(float(r[1])) for r in rows], train


def normalise(scores, train, combine):
    if combine in ("mean", "median", "trimmed", "trim_low", "trim_high"):
        return scores
    if combine == "z":
        m = sum(train) / len(train)
        sd = math.sqrt(sum((t - m) ** 2 for t in train) / len(train)) or 1.0
        return [(x - m) / sd for x in scores]
    ref = sorted(train)
    return [bisect.bisect_left(ref, x) / len(ref) for x in scores]


def ensemble_auroc(method, path, seed, members, d, n_train, cache, combine="mean", split_seed=None):
    """AUROC of the combined scores of one model per member configuration, the k-th
    trained with seed seed + 1000 k, on the split of split_seed (default: seed)."""
    per_model, labels = [], None
    split = seed if split_seed is None else split_seed
    for k, config in enumerate(members):
        opts = [o for part in config.split("+") for o in CONFIGS[part](d, n_train)]
        scores, labels, train = cached_scores(method, path, split, config, seed + 1000 * k, opts, cache)
        per_model.append(normalise(scores, train, combine))
    return auroc(labels, [combine_row(row, combine) for row in zip(*per_model)])


def combine_row(row, combine):
    """One row's combined score from its K models' scores: their sum in model order (the
    mean up to a constant), their median, or their mean without the lowest and the highest
    (up to a constant)."""
    k = len(row)
    if combine == "median":
        row = sorted(row)
        return row[k // 2] if k % 2 else (row[k // 2 - 1] + row[k // 2]) / 2
    if combine == "trimmed" and k >= 3:
        return sum(sorted(row)[1:-1])
    if combine == "trim_low" and k >= 2:
        return sum(sorted(row)[1:])
    if combine == "trim_high" and k >= 2:
        return sum(sorted(row)[:-1])
    total = 0.0
    for x in row:
        total += x
    return total


def run(method, path, seed, opts, networks=1, restarts_by_loss=False):
    """AUROC on the held-out rows of one model, or (restarts_by_loss) of the one of
    `networks` models (seeds seed, seed + 1000, ...) with the lowest loss."""
    cmd = [os.path.join(root, "build", "core_quality"), method, path, "split=0.6",
           f"split_seed={seed}"] + one_network(method) + opts
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    best = None
    for k in range(networks if restarts_by_loss else 1):
        out = subprocess.run(cmd + [f"seed={seed + 1000 * k}"], capture_output=True, text=True,
                             env=env, check=True).stdout.split()
        loss, auc = float(out[out.index("loss") + 1]), float(out[out.index("auroc") + 1])
        if best is None or loss < best[0]:
            best = (loss, auc)
    return best[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--method", default="autoencoder")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--configs", default="default,ref_64_16")
    ap.add_argument("--networks", type=int, default=1,
                    help="score with the mean of this many models (seeds s, s+1000, ...)")
    ap.add_argument("--pick-by-loss", action="store_true",
                    help="with --networks K: keep the one of the K models with the lowest loss")
    ap.add_argument("--mix", action="append", default=[],
                    help="a column for the ensemble of one model per listed configuration")
    ap.add_argument("--combine", choices=["mean", "z", "rank", "median", "trimmed", "trim_low", "trim_high"], default="mean")
    ap.add_argument("--tables", help="only these tables (comma-separated names)")
    ap.add_argument("--cache", default=os.environ.get(
        "ANOMALY_SWEEP_CACHE", os.path.join(tempfile.gettempdir(), f"anomaly-sweep-cache-{os.getuid()}")))
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--against", help="reference figures per table: reference_split.py's output, "
                    "or lines 'table mean worst'; marks the tables that miss issue 13's targets")
    ap.add_argument("--split-seed", type=int,
                    help="hold the 60/40 split fixed (this seed) and vary only the training seed: "
                    "the spread the detector itself controls (needs --mix or --networks)")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    if a.split_seed is not None and a.pick_by_loss:
        ap.error("--split-seed needs ensembles from the cache (--mix or --networks without --pick-by-loss)")
    if a.list:
        print("\n".join(CONFIGS))
        return
    if not os.path.isdir(os.path.join(shared, "data", "tabular")):
        print(f"skipped: {shared} not found")
        sys.exit(77)
    subprocess.run(["make", "-s", "-C", root, "build/core_quality"], check=True, stdout=subprocess.DEVNULL)
    ts = tables()
    if a.tables:
        wanted = a.tables.split(",")
        missing = set(wanted) - {t[0] for t in ts}
        if missing:
            ap.error(f"--tables: no such table {', '.join(sorted(missing))}")
        ts = [t for t in ts if t[0] in wanted]
    # columns: a configuration (one model, the mean of --networks models, or the lowest-loss
    # one of them), then each --mix ensemble
    columns = []
    for c in (a.configs.split(",") if a.configs else []):
        if a.networks > 1 and a.pick_by_loss:
            columns.append((c, None))
        else:
            columns.append((c if a.networks == 1 else f"{c} x{a.networks}", [c] * a.networks))
    columns += [(m, m.split(",")) for m in a.mix]

    # train what the cache lacks, J at a time
    todo = set()
    for name, path, d, n in ts:
        n_train = int(math.floor(0.6 * n + 0.5))
        for _, members in columns:
            for k, c in enumerate(members or []):
                for s in a.seeds:
                    split = s if a.split_seed is None else a.split_seed
                    todo.add((path, split, c, s + 1000 * k, d, n_train))
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        list(pool.map(lambda t: cached_scores(a.method, t[0], t[1], t[2], t[3],
                                              [o for part in t[2].split("+") for o in CONFIGS[part](t[4], t[5])],
                                              a.cache), sorted(todo)))

    against = {}
    if a.against:
        with open(a.against) as fh:
            for line in fh:
                f = line.split()
                # reference_split.py's columns: dataset rows dims auroc sd worst ...
                cols = (3, 5) if len(f) >= 6 else (1, 2) if len(f) == 3 else None
                try:
                    if cols and not line.startswith("#"):
                        against[f[0]] = (float(f[cols[0]]), float(f[cols[1]]))
                except ValueError:
                    pass            # a header line

    print(f"# {a.method}, AUROC on the 40% held out, mean (worst) over seeds {a.seeds}"
          + (f", {'the lowest-loss' if a.pick_by_loss else 'mean score'} of {a.networks} models"
             if a.networks > 1 else "") + (f", ensembles combined by {a.combine}" if a.mix or a.networks > 1 else "")
          + (f", the split held at seed {a.split_seed} (only training seeds vary)" if a.split_seed is not None else ""))
    print("| table | d | n | " + " | ".join(c for c, _ in columns)
          + (" | reference |" if against else " |"))
    print("|---|---|---|" + "---|" * (len(columns) + bool(against)))
    means = {c: [] for c, _ in columns}
    worsts = {c: [] for c, _ in columns}
    met = {c: [0, 0, 0] for c, _ in columns}   # within 0.02 of the reference, gap <= 0.05, both
    for name, path, d, n in ts:
        n_train = int(math.floor(0.6 * n + 0.5))
        cells = []
        for c, members in columns:
            if members is None:
                opts = [o for part in c.split("+") for o in CONFIGS[part](d, n_train)]
                aucs = [run(a.method, path, s, opts, a.networks, True) for s in a.seeds]
            else:
                aucs = [ensemble_auroc(a.method, path, s, members, d, n_train, a.cache, a.combine,
                                       a.split_seed) for s in a.seeds]
            m, w = sum(aucs) / len(aucs), min(aucs)
            means[c].append(m)
            worsts[c].append(w)
            mark = ""
            if name in against:
                ok_mean, ok_gap = m >= against[name][0] - 0.02, m - w <= 0.05
                met[c][0] += ok_mean
                met[c][1] += ok_gap
                met[c][2] += ok_mean and ok_gap
                mark = ("" if ok_mean else " <") + ("" if ok_gap else " ~")
            cells.append(f"{m:.3f} ({w:.3f}){mark}")
        ref = (f" | {against[name][0]:.3f} ({against[name][1]:.3f})" if name in against
               else (" | " if against else ""))
        print(f"| {name} | {d} | {n} | " + " | ".join(cells) + ref + " |", flush=True)
    mm = lambda v: sum(v) / len(v)
    print("| **mean** | | | " + " | ".join(f"**{mm(means[c]):.4f} ({mm(worsts[c]):.4f})**" for c, _ in columns) + " |")
    small = [i for i, t in enumerate(ts) if t[2] <= 16]
    wide = [i for i, t in enumerate(ts) if t[2] >= 100]
    for label, idx in (("d <= 16", small), ("d >= 100", wide)) if small and wide else ():
        print(f"| mean, {label} | | | " + " | ".join(
            f"{mm([means[c][i] for i in idx]):.4f} ({mm([worsts[c][i] for i in idx]):.4f})" for c, _ in columns) + " |")
    print("| mean gap mean - worst | | | " + " | ".join(
        f"{mm([m - w for m, w in zip(means[c], worsts[c])]):.4f}" for c, _ in columns) + " |")
    print("| tables with gap > 0.05 | | | " + " | ".join(
        str(sum(m - w > 0.05 for m, w in zip(means[c], worsts[c]))) for c, _ in columns) + " |")
    if against:
        print("| tables within 0.02 of the reference or better / gap <= 0.05 / both | | | "
              + " | ".join(f"{met[c][0]} / {met[c][1]} / {met[c][2]}" for c, _ in columns) + " |")
        print("\n(< : below the reference by more than 0.02; ~ : worst seed more than 0.05 under the mean)")


if __name__ == "__main__":
    main()
