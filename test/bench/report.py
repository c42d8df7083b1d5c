#!/usr/bin/python3
"""Markdown tables of test/bench/quality.sh results beside references and published figures.

    test/bench/report.py PUBLISHED_CSV NAME=RESULTS_FILE [NAME=RESULTS_FILE ...]

Each RESULTS_FILE is the multi-seed output of `test/bench/quality.sh -m METHOD
-s "1 2 3"` or of `test/bench/reference_split.py` (dataset rows dims auroc sd
worst auprc sd train_s).  Prints an AUROC table (per dataset, each run's mean
over seeds and, in parentheses, its worst seed; then ADBench's published
IForest, KNN, PCA, ECOD and best-of-14 figures), an AUPRC table of means, and
for the run named "auto" (the default detector), its gap to the best of the
extension's own methods on each table.  Means are over the 17 ADBench tables
(arrhythmia, from PyOD, has no ADBench figures) and, separately, all tables.
"""
import csv
import sys
from collections import defaultdict

REFERENCE_RUNS = ("torch_ae", "sklearn_iforest")
PUBLISHED = [("ADB22", "IForest"), ("ADB22", "KNN"), ("ADB22", "PCA"), ("ADB22", "ECOD")]


def load_results(path):
    rows = {}
    for line in open(path):
        f = line.split()
        if len(f) == 9 and f[0] != "dataset":
            rows[f[0]] = {"auroc": float(f[3]), "worst": float(f[5]), "auprc": float(f[6]),
                          "seconds": float(f[8])}
    return rows


def mean(values):
    values = list(values)
    return sum(values) / len(values) if values else float("nan")


def main():
    published = defaultdict(dict)  # (dataset, metric) -> {(source, method): value}
    for r in csv.DictReader(open(sys.argv[1])):
        published[(r["dataset"], r["metric"])][(r["source"], r["method"])] = float(r["value"])
    runs = [(a.split("=", 1)[0], load_results(a.split("=", 1)[1])) for a in sys.argv[2:]]
    datasets = sorted(set().union(*[set(r) for _, r in runs]))
    adbench = [d for d in datasets if any(k[0] == "ADB22" for k in published[(d, "AUROC")])]

    head = ["dataset"] + [n for n, _ in runs] + [f"{m} (ADB22)" for _, m in PUBLISHED] + ["best of ADB22"]
    print("\nAUROC: mean over seeds 1, 2, 3 (worst seed); published figures as fractions\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for d in datasets:
        cells = [d]
        for _, r in runs:
            cells.append(f"{r[d]['auroc']:.3f} ({r[d]['worst']:.3f})" if d in r else "")
        pub = published[(d, "AUROC")]
        cells += [f"{pub[k]:.3f}" if k in pub else "" for k in PUBLISHED]
        adb = {k: v for k, v in pub.items() if k[0] == "ADB22"}
        cells.append(f"{max(adb.values()):.3f} {max(adb, key=adb.get)[1]}" if adb else "")
        print("| " + " | ".join(cells) + " |")
    for label, subset in (("mean, 17 ADBench tables", adbench), ("mean, all tables", datasets)):
        cells = [f"**{label}**"]
        for _, r in runs:
            cells.append(f"**{mean(r[d]['auroc'] for d in subset if d in r):.3f}** "
                         f"({mean(r[d]['worst'] for d in subset if d in r):.3f})")
        for k in PUBLISHED:
            vals = [published[(d, "AUROC")][k] for d in subset if k in published[(d, "AUROC")]]
            cells.append(f"{mean(vals):.3f}" if len(vals) == len(subset) else "")
        best = [max(v for k, v in published[(d, "AUROC")].items() if k[0] == "ADB22") for d in subset
                if d in adbench]
        cells.append(f"{mean(best):.3f}" if len(best) == len(subset) else "")
        print("| " + " | ".join(cells) + " |")

    print("\nAUPRC: mean over seeds 1, 2, 3\n")
    head = ["dataset"] + [n for n, _ in runs]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for d in datasets:
        print("| " + " | ".join([d] + [f"{r[d]['auprc']:.3f}" if d in r else "" for _, r in runs]) + " |")
    print("| **mean, all tables** | " + " | ".join(
        f"**{mean(r[d]['auprc'] for d in datasets if d in r):.3f}**" for _, r in runs) + " |")

    by_name = dict(runs)
    if "auto" in by_name:
        ours = [n for n, _ in runs if n != "auto" and n not in REFERENCE_RUNS]
        print("\nThe default (auto) against the best of the extension's own methods "
              f"({', '.join(ours)}), mean AUROC\n")
        print("| dataset | auto | best method | gap |")
        print("|---|---|---|---|")
        for d in datasets:
            cand = {n: by_name[n][d]["auroc"] for n in ours if d in by_name[n]}
            if not cand or d not in by_name["auto"]:
                continue
            best = max(cand, key=cand.get)
            gap = cand[best] - by_name["auto"][d]["auroc"]
            print(f"| {d} | {by_name['auto'][d]['auroc']:.3f} | {best} {cand[best]:.3f} | "
                  f"{gap:+.3f}{' **over 0.03**' if gap > 0.03 else ''} |")


main()
