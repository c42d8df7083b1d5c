#!/usr/bin/python3
"""Markdown tables of test/bench/quality.sh results beside published figures.

    test/bench/report.py PUBLISHED_CSV METHOD=RESULTS_FILE [METHOD=RESULTS_FILE ...]

RESULTS_FILE is the output of `test/bench/quality.sh -m METHOD -s "1 2 3"`
(mean and standard deviation over seeds). Prints one AUROC table and one
AUPRC table: per dataset, each method's mean (sd), then the published figure
of the same method where published_results.csv has one (PyOD's AutoEncoder,
VAE and DeepSVDD; ADBench's DeepSVDD), and ADBench's PCA and best method.
"""
import csv
import sys
from collections import defaultdict

PUBLISHED_NAME = {"autoencoder": "AutoEncoder", "vae": "VAE", "deep_svdd": "DeepSVDD"}


def load_results(path):
    rows = {}
    for line in open(path):
        f = line.split()
        if len(f) == 8 and f[0] != "dataset":
            rows[f[0]] = {"auroc": (float(f[3]), float(f[4])), "auprc": (float(f[5]), float(f[6])),
                          "seconds": float(f[7])}
    return rows


def main():
    published = defaultdict(dict)  # (dataset, metric) -> {source/method: value}
    for r in csv.DictReader(open(sys.argv[1])):
        published[(r["dataset"], r["metric"])][(r["source"], r["method"])] = float(r["value"])
    runs = [(a.split("=", 1)[0], load_results(a.split("=", 1)[1])) for a in sys.argv[2:]]
    datasets = sorted(set().union(*[set(r) for _, r in runs]))
    for metric in ("auroc", "auprc"):
        m = metric.upper()
        head = ["dataset"] + [name for name, _ in runs]
        pub_cols = []
        for name, _ in runs:
            pname = PUBLISHED_NAME.get(name)
            for src in ("PYOD24", "PYOD2X", "ADB22"):
                if pname and any((src, pname) in published[(d, m)] for d in datasets):
                    pub_cols.append((src, pname))
        head += [f"{p} ({s})" for s, p in pub_cols] + ["PCA (ADB22)", "best of ADB22"]
        print(f"\n{m} (mean (sd) over seeds 1, 2, 3; published figures as fractions)\n")
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for d in datasets:
            cells = [d]
            for _, r in runs:
                cells.append(f"{r[d][metric][0]:.4f} ({r[d][metric][1]:.3f})" if d in r else "")
            pub = published[(d, m)]
            for key in pub_cols:
                cells.append(f"{pub[key]:.4f}" if key in pub else "")
            cells.append(f"{pub[('ADB22', 'PCA')]:.4f}" if ("ADB22", "PCA") in pub else "")
            adb = {k: v for k, v in pub.items() if k[0] == "ADB22"}
            if adb:
                best = max(adb, key=adb.get)
                cells.append(f"{best[1]} {adb[best]:.4f}")
            else:
                cells.append("")
            print("| " + " | ".join(cells) + " |")
        means = [sum(r[d][metric][0] for d in datasets if d in r) / max(1, sum(d in r for d in datasets))
                 for _, r in runs]
        print("| **mean** | " + " | ".join(f"**{v:.4f}**" for v in means) + " |" + " |" * (len(head) - 1 - len(runs)))


main()
