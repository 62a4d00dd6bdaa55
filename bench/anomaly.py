#!/usr/bin/env python3
"""One-class anomaly detection on MNIST and Fashion-MNIST, the standard protocol (Ruff et al. 2018, Deep SVDD): for
each class c, fit on the training images of c alone, score all 10,000 test images, and take the ROC AUC of "not c";
report each class and the mean over the 10. Latent's dense and conv autoencoders (`Latent.Bench anomaly`, see
AnomalyRun.cs) beside scikit-learn on the same splits and the same [0, 1] pixels: PCA with 32 components (score: the
reconstruction's mean squared error), IsolationForest (100 trees, random_state 1; score: −score_samples) and
OneClassSVM (RBF, gamma "scale", nu 0.1; score: −score_samples). Writes JSON lines, a Markdown table and one figure
per data set.

Usage: python3 bench/anomaly.py [--datasets mnist,fashion-mnist] [--classes 0,...,9] [--out docs/results/anomaly]
           [--latent "--models conv --conv-loss mse"] [--skip-latent] [--skip-sklearn] [--append]
With --append the new rows are added to anomaly.jsonl (a row of the same data set, method and class replaces the old
one); the tables and figures are always made from the whole file.
"""
import argparse
import gzip
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LATENT = os.path.join(HERE, "Latent.Bench", "bin", "Release", "net10.0", "Latent.Bench.dll")
ROOT = os.environ.get("LATENT_DATA") or os.path.join(os.path.expanduser("~"), ".latent", "datasets")
METHODS = ["latent dense", "latent conv", "latent conv (bce score)", "latent conv (mse)", "PCA (32)", "IsolationForest", "OneClassSVM"]


def cpu():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def load(dataset):
    import numpy as np
    folders = [os.path.join(ROOT, dataset)] + (["/usr/share/datasets/fashion-mnist"] if dataset == "fashion-mnist" else [])

    def read(prefix, offset):
        for folder in folders:
            if not os.path.isdir(folder):
                continue
            for name in sorted(os.listdir(folder)):
                if name.startswith(prefix):
                    raw = open(os.path.join(folder, name), "rb").read()
                    return np.frombuffer(gzip.decompress(raw) if name.endswith(".gz") else raw, np.uint8, offset=offset)
        sys.exit(f"{dataset}: no {prefix} file under {folders}; run scripts/setup-data.sh first")

    xtr = read("train-images", 16).reshape(-1, 784).astype(np.float32) / 255
    xte = read("t10k-images", 16).reshape(-1, 784).astype(np.float32) / 255
    return xtr, read("train-labels", 8), xte, read("t10k-labels", 8)


def sklearn_rows(dataset, classes):
    import numpy as np
    import sklearn
    from sklearn.decomposition import PCA
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.svm import OneClassSVM
    xtr, ytr, xte, yte = load(dataset)
    for c in classes:
        x, outlier = xtr[ytr == c], yte != c
        for method in METHODS[4:]:
            t = time.perf_counter()
            if method.startswith("PCA"):
                m = PCA(32, random_state=1).fit(x)
                scores = ((xte - m.inverse_transform(m.transform(xte))) ** 2).mean(axis=1)
            elif method == "IsolationForest":
                scores = -IsolationForest(random_state=1).fit(x).score_samples(xte)
            else:
                scores = -OneClassSVM(gamma="scale", nu=0.1).fit(x).score_samples(xte)
            yield {"engine": "scikit-learn " + sklearn.__version__, "dataset": dataset, "model": method, "class": int(c), "train": int(len(x)),
                   "auc": float(roc_auc_score(outlier, scores)), "ap": float(average_precision_score(outlier, scores)),
                   "seconds": time.perf_counter() - t}


def latent_rows(dataset, classes, extra):
    cmd = ["dotnet", LATENT, "anomaly", dataset, "--classes", ",".join(map(str, classes))] + extra
    for line in subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            row["model"] = "latent " + row["model"]
            yield row


def table(rows, dataset, classes):
    out = [f"| method | {' | '.join(map(str, classes))} | mean | seconds (all classes) |",
           "|---|" + "---|" * (len(classes) + 2)]
    for method in METHODS:
        mine = {r["class"]: r for r in rows if r["dataset"] == dataset and r["model"] == method}
        if not mine:
            continue
        aucs = [mine[c]["auc"] for c in classes]
        seconds = sum(mine[c]["seconds"] for c in classes)
        out.append(f"| {method} | {' | '.join(f'{a:.3f}' for a in aucs)} | **{sum(aucs) / len(aucs):.3f}** | {seconds:.0f} |")
    return "\n".join(out)


def figure(rows, dataset, classes, path):
    """Grouped bars per class for the main methods (the table also has the conv variants)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    methods = [m for m in METHODS if "(" not in m or m == "PCA (32)"]
    fig, ax = plt.subplots(figsize=(11, 4.6))
    width = 0.8 / len(methods)
    for k, method in enumerate(methods):
        mine = {r["class"]: r["auc"] for r in rows if r["dataset"] == dataset and r["model"] == method}
        if mine:
            mean = sum(mine[c] for c in classes) / len(classes)
            ax.bar(np.arange(len(classes)) + (k - (len(methods) - 1) / 2) * width, [mine[c] for c in classes], width,
                   label=f"{method} (mean {mean:.3f})")
    ax.axhline(0.5, color="gray", linestyle="--", linewidth=0.8)
    ax.set_xticks(range(len(classes)), [str(c) for c in classes])
    ax.set_xlabel("normal class (trained on it alone; the other nine are the anomalies)")
    ax.set_ylabel("ROC AUC on the 10,000 test images")
    ax.set_ylim(0.3, 1.0)
    ax.set_title(f"One-class anomaly detection, {dataset} (dashed: chance)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize=8, ncol=len(methods), frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="mnist,fashion-mnist")
    ap.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9")
    ap.add_argument("--out", default=os.path.join(HERE, "..", "docs", "results", "anomaly"))
    ap.add_argument("--latent", default="", help="extra arguments for Latent.Bench anomaly")
    ap.add_argument("--skip-latent", action="store_true")
    ap.add_argument("--skip-sklearn", action="store_true")
    ap.add_argument("--append", action="store_true")
    args = ap.parse_args()
    classes = [int(c) for c in args.classes.split(",")]
    os.makedirs(args.out, exist_ok=True)
    subprocess.run(["dotnet", "build", os.path.join(HERE, "Latent.Bench"), "-c", "Release", "-v", "quiet", "-nologo"], check=True, stdout=subprocess.DEVNULL)
    path = os.path.join(args.out, "anomaly.jsonl")
    rows = [json.loads(l) for l in open(path)] if args.append and os.path.exists(path) else []
    key = lambda r: (r["dataset"], r["model"], r["class"])
    for dataset in args.datasets.split(","):
        new = [] if args.skip_latent else list(latent_rows(dataset, classes, args.latent.split()))
        new += [] if args.skip_sklearn else list(sklearn_rows(dataset, classes))
        for row in new:
            print(json.dumps(row), file=sys.stderr)
        keys = {key(r) for r in new}
        rows = [r for r in rows if key(r) not in keys] + new
        with open(path + ".part", "w") as log:
            log.writelines(json.dumps(r) + "\n" for r in rows)
        os.replace(path + ".part", path)
    print(f"CPU: {cpu()} ({os.cpu_count()} cores)\n")
    for dataset in sorted({r["dataset"] for r in rows}, key=["mnist", "fashion-mnist"].index):
        print(f"### {dataset}\n")
        print(table(rows, dataset, classes) + "\n")
        figure(rows, dataset, classes, os.path.join(args.out, f"anomaly-{dataset}.png"))


if __name__ == "__main__":
    main()
