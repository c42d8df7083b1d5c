#!/usr/bin/python3
"""Training parity with PyTorch: the same network, budget and data, side by side.

    test/bench/parity.py [--seeds 0 1 2] [--rows 100000] [--methods ae,svdd,vae] [--per-seed]
                         [--tables all | name,name | none] [--split 0.6]
    test/bench/parity.py --fixture      # the bound of the unit test training_parity_fixture

For the reference's synthetic transactions (gen_data.py, d = 30, --rows rows) and every
table of ../shared/data/tabular, trains the core (build/core_quality, one BLAS thread) and
PyTorch (one thread) on the same standardised rows:

  ae    d-64-16-64-d, ReLU on every hidden layer (set: ours defaults to leaky ReLU), linear
        output, MSE
  svdd  encoder d-64-16 without biases, centre = mean initial output, |c_i| >= 0.1,
        loss mean ||phi(x) - c||^2, no weight decay (as torch_ref.py)
  vae   encoder d-64-(16 mu, 16 log variance), decoder 16-64-d, loss mean-over-dims
        MSE + KL (beta 1), log variance clamped to [-15, 15]

with Adam (lr 1e-3, PyTorch's defaults), no validation split, no early stopping. The
reference data gets torch_ref.py's budget (5 epochs, batch 256); a table gets batch 128
and about 2000 optimiser steps (5 to 200 epochs).

Printed per data set and method, as means over the seeds: the final training loss (the mean
over the last epoch's mini-batches, both sides, the figure torch_ref.py reports), the
ratio ours / PyTorch, the time until our epoch-mean loss first reaches PyTorch's final loss
(epoch granularity, "-" if never), the training rate in rows x epochs / s, and AUROC of the
scores (all rows; with --split F, training on a seeded fraction F and scoring the others,
the split of core_quality's split=F split_seed=seed, the rule shared with quality.sh).

Prints "skipped" and exits 77 without ../shared or without torch.
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", ".."))
shared = os.environ.get("ANOMALY_SHARED_DIR", os.path.join(root, "..", "shared"))


def skip(why):
    print(f"skipped: {why}")
    sys.exit(77)


try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:
    skip(f"no torch/numpy ({e})")
try:
    from threadpoolctl import threadpool_limits
except ImportError:
    threadpool_limits = None

HIDDEN, LATENT = 64, 16
PER_SEED = False


def split_mask(n, fraction, seed):
    """The split rule of core_quality.c, quality.sh and reference_split.py: row i trains
    when hash32((i + seed * 0x9E3779B1) mod 2^32) / 2^32 < fraction."""
    with np.errstate(over="ignore"):
        x = (np.arange(n, dtype=np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B1)) & np.uint64(0xFFFFFFFF)
        for _ in range(2):
            x = (((x >> np.uint64(16)) ^ x) * np.uint64(0x45D9F3B)) & np.uint64(0xFFFFFFFF)
        x = (x >> np.uint64(16)) ^ x
    return x.astype(np.float64) / 2.0 ** 32 < fraction


def auroc(y, s):
    """AUROC with ties averaged (the rank statistic core_quality prints)."""
    order = np.argsort(s, kind="mergesort")
    s_sorted = s[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j < len(s) and s_sorted[j] == s_sorted[i]:
            j += 1
        ranks[order[i:j]] = (i + 1 + j) / 2.0
        i = j
    npos = y.sum()
    return (ranks[y == 1].sum() - npos * (npos + 1) / 2) / (npos * (len(y) - npos))


def read_csv(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    return data[:, :-1], data[:, -1].astype(np.int64)


def standardise(train, *others):
    """Mean and population sd of the training rows, in double (as the core's scaler)."""
    mu = train.mean(0)
    sd = train.std(0)
    sd[~(sd > 1e-12)] = 1.0
    return [torch.from_numpy(((a - mu) / sd).astype(np.float32)) for a in (train,) + others]


class Vae(nn.Module):
    def __init__(self, d, hidden, latent):
        super().__init__()
        self.latent = latent
        self.enc = nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent))
        self.dec = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, d))

    def parts(self, x, sample):
        h = self.enc(x)
        mu, lv = h[:, :self.latent], h[:, self.latent:].clamp(-15.0, 15.0)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * lv) if sample else mu
        kl = -0.5 * (1 + lv - mu * mu - lv.exp()).sum(1)
        return self.dec(z), kl


def torch_run(method, xt, xs, epochs, batch, seed, hidden=HIDDEN, latent=LATENT):
    """Train on xt, return (per-epoch losses, per-epoch cumulative seconds, scores of xs)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    d = xt.shape[1]
    if method == "ae":
        model = nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, latent), nn.ReLU(),
                              nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, d))
        loss_fn = lambda xb: F.mse_loss(model(xb), xb)
    elif method == "svdd":
        model = nn.Sequential(nn.Linear(d, hidden, bias=False), nn.ReLU(), nn.Linear(hidden, latent, bias=False))
        with torch.no_grad():
            c = model(xt).mean(0)
            c[(c.abs() < 0.1) & (c < 0)] = -0.1
            c[(c.abs() < 0.1) & (c >= 0)] = 0.1
        loss_fn = lambda xb: ((model(xb) - c) ** 2).sum(1).mean()
    else:
        model = Vae(d, hidden, latent)

        def loss_fn(xb):
            y, kl = model.parts(xb, True)
            return F.mse_loss(y, xb) + kl.mean()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = xt.shape[0]
    losses, secs = [], []
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        tot = 0.0
        for s in range(0, n, batch):
            xb = xt[perm[s:s + batch]]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(xb)
            loss.backward()
            opt.step()
            tot += loss.item() * xb.shape[0]
        losses.append(tot / n)
        secs.append(time.perf_counter() - t0)
    with torch.no_grad():
        if method == "ae":
            scores = ((model(xs) - xs) ** 2).mean(1)
        elif method == "svdd":
            scores = ((model(xs) - c) ** 2).sum(1)
        else:
            y, _ = model.parts(xs, False)
            scores = ((y - xs) ** 2).mean(1)
    return losses, secs, scores.numpy().astype(np.float64)


CORE_METHOD = {"ae": "autoencoder", "svdd": "deep_svdd", "vae": "vae"}
CORE_OPTIONS = {
    "ae": [],
    "svdd": ["weight_decay=0", "objective=one_class"],
    "vae": ["beta=1"],
}


def core_run(method, csv, epochs, batch, seed, split):
    cmd = [os.path.join(root, "build", "core_quality"), CORE_METHOD[method], csv, "trace=1",
           f"hidden=[{HIDDEN}]", f"latent={LATENT}", f"epochs={epochs}", f"batch_size={batch}",
           "learning_rate=0.001", "validation_fraction=0", "early_stopping_patience=0",
           "activation=relu", f"seed={seed}"] + CORE_OPTIONS[method]
    if split < 1.0:
        cmd += [f"split={split}", f"split_seed={seed}"]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    losses, secs, auc = [], [], float("nan")
    for line in out.splitlines():
        f = line.split()
        if f[0] == "epoch" and f[3] == "train":
            losses.append(float(f[5]))
            secs.append(float(f[9]))
        elif "auroc" in f:
            auc = float(f[f.index("auroc") + 1])
    return losses, secs, auc


def budget(name, n):
    if name.startswith("reference"):
        return 5, 256
    steps = math.ceil(n / 128)
    return min(200, max(5, math.ceil(2000 / steps))), 128


def fmt_time(t):
    return "-" if t is None else f"{t:.3f}"


def compare(name, csv, methods, seeds, split):
    raw, y = read_csv(csv)
    rows = []
    for method in methods:
        acc = {k: [] for k in ("tl", "ol", "tt", "ot", "ttl", "ta", "oa", "tr", "orate")}
        for seed in seeds:
            if split < 1.0:
                mask = split_mask(len(y), split, seed)
                xt, xs = standardise(raw[mask], raw[~mask])
                ys = y[~mask]
            else:
                xt, xs = standardise(raw, raw)
                ys = y
            n = xt.shape[0]
            epochs, batch = budget(name, n)
            tl, ts, tscores = torch_run(method, xt, xs, epochs, batch, seed)
            ol, os_, oauc = core_run(method, csv, epochs, batch, seed, split)
            reach = next((s for l, s in zip(ol, os_) if l <= tl[-1]), None)
            acc["tl"].append(tl[-1])
            acc["ol"].append(ol[-1])
            acc["tt"].append(ts[-1])
            acc["ot"].append(os_[-1])
            acc["ttl"].append(reach)
            acc["ta"].append(auroc(ys, tscores))
            acc["oa"].append(oauc)
            acc["tr"].append(n * epochs / ts[-1])
            acc["orate"].append(n * epochs / os_[-1])
        reached = [t for t in acc["ttl"] if t is not None]
        m = {k: float(np.mean(v)) for k, v in acc.items() if k != "ttl"}
        print(f"{name:<14} {method:<5} {epochs:>4}x{batch:<4} {m['tl']:>9.5f} {m['ol']:>9.5f} "
              f"{m['ol'] / m['tl']:>6.3f} {m['tt']:>8.3f} "
              f"{fmt_time(float(np.mean(reached)) if reached else None):>8} {len(reached)}/{len(seeds)} "
              f"{m['tr']:>11,.0f} {m['orate']:>11,.0f} {m['ta']:>7.4f} {m['oa']:>7.4f}", flush=True)
        rows.append((name, method, m))
        if PER_SEED:
            tl, ol = np.array(acc["tl"]), np.array(acc["ol"])
            print(f"  per seed, sorted: PyTorch {' '.join(f'{v:.5f}' for v in sorted(tl))}")
            print(f"                    ours    {' '.join(f'{v:.5f}' for v in sorted(ol))}")
            print(f"  median ratio {np.median(ol) / np.median(tl):.3f}; ours lower on "
                  f"{int((ol < tl).sum())} of {len(tl)} seeds", flush=True)
    return rows


def fixture(args):
    """Train PyTorch on the unit test's parity fixture and print the bound to store."""
    with tempfile.TemporaryDirectory() as tmp:
        csv = os.path.join(tmp, "fixture.csv")
        env = dict(os.environ, ANOMALY_PARITY_FIXTURE_CSV=csv, OPENBLAS_NUM_THREADS="1")
        subprocess.run([os.path.join(root, "build", "test_core"), "training_parity_fixture"],
                       env=env, stdout=subprocess.DEVNULL)   # its verdict does not matter here
        raw, _ = read_csv(csv)
    xt, = standardise(raw)
    epochs, batch = args.fixture_epochs, args.fixture_batch
    for method in ("ae", "svdd", "vae"):
        finals = [torch_run(method, xt, xt, epochs, batch, s, 32, 4)[0][-1] for s in range(40)]
        print(f"{method}: {xt.shape[0]} x {xt.shape[1]}, 32/4, {epochs} epochs, batch {batch}, "
              f"PyTorch final loss over seeds 0-39: mean {np.mean(finals):.6f} median {np.median(finals):.6f} "
              f"min {np.min(finals):.6f} max {np.max(finals):.6f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--rows", type=int, default=100000, help="rows of the reference data (0: none)")
    ap.add_argument("--methods", default="ae,svdd,vae")
    ap.add_argument("--tables", default="all")
    ap.add_argument("--split", type=float, default=1.0)
    ap.add_argument("--per-seed", action="store_true",
                    help="also print each seed's final loss, both sides, and the median ratio")
    ap.add_argument("--fixture", action="store_true")
    ap.add_argument("--fixture-epochs", type=int, default=20)
    ap.add_argument("--fixture-batch", type=int, default=64)
    args = ap.parse_args()
    global PER_SEED
    PER_SEED = args.per_seed

    if not os.path.isdir(os.path.join(shared, "bench", "reference")):
        skip(f"{shared} not found")
    torch.set_num_threads(1)
    subprocess.run(["make", "-s", "-C", root, "build/core_quality", "build/test_core"], check=True,
                   stdout=subprocess.DEVNULL)
    limit = threadpool_limits(limits=1, user_api="blas") if threadpool_limits else None
    if args.fixture:
        fixture(args)
        return
    methods = args.methods.split(",")
    print(f"# loss: final epoch mean; time: seconds; rate: rows x epochs / s; seeds {args.seeds}; "
          f"split {args.split}")
    print(f"{'data':<14} {'meth':<5} {'budget':>9} {'torch':>9} {'ours':>9} {'ratio':>6} "
          f"{'torch s':>8} {'ours s to torch loss':>12} {'torch rate':>11} {'ours rate':>11} "
          f"{'AUROC t':>7} {'AUROC o':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.rows > 0:
            out = os.path.join(tmp, "reference")
            subprocess.run(["/usr/bin/python3", os.path.join(shared, "bench", "reference", "gen_data.py"),
                            "-n", str(args.rows), "--out", out], check=True, stderr=subprocess.DEVNULL)
            compare(f"reference{args.rows // 1000}k", out + ".csv", methods, args.seeds, args.split)
        tdir = os.path.join(shared, "data", "tabular")
        if args.tables != "none":
            names = sorted(f[:-4] for f in os.listdir(tdir)
                           if f.endswith(".csv") and f != "published_results.csv")
            if args.tables != "all":
                names = [n for n in names if n in args.tables.split(",")]
            for name in names:
                compare(name, os.path.join(tdir, name + ".csv"), methods, args.seeds, args.split)
    del limit


if __name__ == "__main__":
    main()
