#!/usr/bin/env python3
"""t-SNE, Latent against scikit-learn on the same input, alternating: for each input (MNIST's first N test digits as
PCA-50, computed once by Latent and saved so that both get the same numbers; optionally an .npy of codes), one
Latent process then one scikit-learn process (Barnes-Hut, n_jobs=2, perplexity 30, PCA init, learning rate auto,
1000 iterations, random_state 1). Prints a Markdown table of seconds (t-SNE only), final KL, trustworthiness@10
(scikit-learn's function, on both embeddings) and 5-fold 10-NN accuracy in 2-D (scikit-learn's, on both).

Usage: python3 bench/tsne.py [--n 10000] [--codes codes.npy] [--reps 1]
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
LATENT = os.path.join(HERE, "Latent.Bench", "bin", "Release", "net10.0", "Latent.Bench.dll")
PY = os.environ.get("TORCH_PYTHON", "/usr/bin/python3")

SKLEARN = r'''
import json, sys, time, numpy as np
from sklearn.manifold import TSNE
x = np.load(sys.argv[1]).astype(np.float32)
t = time.perf_counter()
ts = TSNE(perplexity=30, random_state=1, init="pca", learning_rate="auto", n_jobs=2, method="barnes_hut")
e = ts.fit_transform(x)
s = time.perf_counter() - t
np.save(sys.argv[2], e.astype(np.float32))
import sklearn
print(json.dumps({"engine": "scikit-learn " + sklearn.__version__, "seconds": s, "kl": float(ts.kl_divergence_), "iterations": int(ts.n_iter_)}))
'''

SCORE = r'''
import json, sys, numpy as np, gzip, os
from sklearn.manifold import trustworthiness
from sklearn.neighbors import KNeighborsClassifier
from sklearn.model_selection import cross_val_score
x, e, n = np.load(sys.argv[1]), np.load(sys.argv[2]), int(sys.argv[3])
root = os.environ.get("LATENT_DATA") or os.path.join(os.path.expanduser("~"), ".latent", "datasets")
name = [f for f in os.listdir(os.path.join(root, "mnist")) if f.startswith("t10k-labels")][0]
raw = open(os.path.join(root, "mnist", name), "rb").read()
raw = gzip.decompress(raw) if name.endswith(".gz") else raw
y = np.frombuffer(raw, np.uint8, offset=8)[:n]
print(json.dumps({"trust10": float(trustworthiness(x, e, n_neighbors=10)), "knn10": float(cross_val_score(KNeighborsClassifier(10), e, y, cv=5).mean())}))
'''


def cpu():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--codes")
    ap.add_argument("--reps", type=int, default=1)
    args = ap.parse_args()
    subprocess.run(["dotnet", "build", os.path.join(HERE, "Latent.Bench"), "-c", "Release", "-v", "quiet", "-nologo"], check=True, stdout=subprocess.DEVNULL)
    tmp = tempfile.mkdtemp(prefix="latent-tsne-")
    inputs = [("pca50", os.path.join(tmp, "pca50.npy"))]
    if args.codes:
        inputs.append((os.path.basename(args.codes), args.codes))
    rows = []
    for label, path in inputs:
        for rep in range(args.reps):
            src = "pca50" if label == "pca50" else path
            cmd = ["dotnet", LATENT, "tsne", str(args.n), "--input", src, "--out", os.path.join(tmp, "latent")]
            if label == "pca50":
                cmd += ["--save-input", path]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
            lat = json.loads(out)
            x = os.path.join(tmp, "x.npy")
            subprocess.run([PY, "-c", "import numpy as np, sys; np.save(sys.argv[2], np.load(sys.argv[1])[:int(sys.argv[3])])", path, x, str(args.n)], check=True)
            score = json.loads(subprocess.run([PY, "-c", SCORE, x, os.path.join(tmp, "latent.npy"), str(args.n)], capture_output=True, text=True, check=True).stdout)
            lat.update(score)
            sk = json.loads(subprocess.run([PY, "-c", SKLEARN, x, os.path.join(tmp, "sk.npy")], capture_output=True, text=True, check=True).stdout)
            sk.update(json.loads(subprocess.run([PY, "-c", SCORE, x, os.path.join(tmp, "sk.npy"), str(args.n)], capture_output=True, text=True, check=True).stdout))
            for r in (lat, sk):
                r["input"] = label
                rows.append(r)
                print(json.dumps(r), file=sys.stderr, flush=True)
    print(f"CPU: {cpu()} ({os.cpu_count()} cores); {args.n} MNIST test digits\n")
    print("| input | engine | seconds | KL | trustworthiness@10 | 10-NN accuracy (5-fold) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['input']} | {r['engine']} | {r['seconds']:.1f} | {r['kl']:.4f} | {r['trust10']:.4f} | {r['knn10']:.4f} |")


if __name__ == "__main__":
    main()
