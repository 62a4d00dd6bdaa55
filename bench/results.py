#!/usr/bin/env python3
"""Runs every row of the results table at full length, with Latent (the `latent` tool) and with PyTorch
(bench/pytorch/train.py), and writes docs/results/results.json, the reconstruction figures under docs/results/, and the table in
docs/RESULTS.md (the text around it is written by hand from the numbers). Takes about an hour on 2 cores.

Usage: python3 bench/results.py [--only ROW,ROW] [--skip-pytorch] [--latent-only ROW,ROW]
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROWS = [
    # id, source, preset, optimizer, epochs, batch, L1, L1 reduction over the batch
    ("notebook-simple", "notebook", "simple", "adagrad", 100, 32, 0.0, "sum"),
    ("notebook-sparse", "notebook", "sparse", "adagrad", 250, 25, 1e-4, "sum"),
    ("notebook-sparse-mean", "notebook", "sparse", "adagrad", 250, 25, 1e-4, "mean"),
    ("notebook-deep", "notebook", "deep", "adadelta", 100, 100, 0.0, "sum"),
    ("blog-simple", "blog", "simple", "adadelta", 50, 256, 0.0, "sum"),
    ("blog-sparse", "blog", "sparse", "adadelta", 100, 256, 1e-4, "sum"),
    ("blog-sparse-mean", "blog", "sparse", "adadelta", 100, 256, 1e-4, "mean"),
    ("blog-deep", "blog", "deep", "adadelta", 100, 256, 0.0, "sum"),
    ("blog-conv", "blog", "conv", "adadelta", 50, 128, 0.0, "sum"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="")
    ap.add_argument("--skip-pytorch", action="store_true")
    ap.add_argument("--latent-only", default="", help="rows whose PyTorch result is kept from an earlier run")
    args = ap.parse_args()
    out_dir = os.path.join(ROOT, "docs", "results")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "results.json")
    results = json.load(open(path)) if os.path.exists(path) else {}
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    for row_id, source, preset, opt, epochs, batch, l1, reduction in ROWS:
        if args.only and row_id not in args.only.split(","):
            continue
        run_dir = os.path.join(ROOT, "runs", "results", row_id)
        cmd = [os.path.join(ROOT, "latent"), "train", "--model", preset, "--dataset", "mnist", "--optimizer", opt,
               "--epochs", str(epochs), "--batch-size", str(batch), "--seed", "1", "--out", run_dir, "--l1-reduction", reduction, "--overwrite"]
        print(" ".join(cmd), file=sys.stderr, flush=True)
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
        run = json.load(open(os.path.join(run_dir, "run.json")))
        lines = open(os.path.join(run_dir, "history.csv")).read().strip().splitlines()
        column = lines[0].split(",").index("seconds")
        history = lines[1:]
        seconds = sum(float(line.split(",")[column]) for line in history)
        codes = os.path.join(run_dir, "codes.npy")
        subprocess.run([os.path.join(ROOT, "latent"), "encode", run_dir, "--out", codes], check=True, stdout=subprocess.DEVNULL)
        mean_code = float(load_npy_mean(codes))
        evaluation = subprocess.run([os.path.join(ROOT, "latent"), "evaluate", run_dir], check=True, capture_output=True, text=True).stdout
        recon = float(evaluation.split("reconstruction ")[1].split()[0]) if "reconstruction " in evaluation else run["final"]["test_loss"]
        entry = results.setdefault(row_id, {})
        entry["latent"] = {"train_loss": run["final"]["loss"], "test_loss": run["final"]["test_loss"],
                           "test_reconstruction": recon, "mean_code": mean_code, "seconds": seconds}
        fig = os.path.join(out_dir, f"{row_id}.png")
        os.replace(os.path.join(run_dir, "reconstructions.png"), fig)
        json.dump(results, open(path, "w"), indent=2)
        if not args.skip_pytorch and row_id not in args.latent_only.split(","):
            model = "simple" if preset in ("simple", "sparse") else preset
            torch_cmd = [os.environ.get("TORCH_PYTHON", "/usr/bin/python3"), os.path.join(ROOT, "bench", "pytorch", "train.py"),
                         model, opt, str(epochs), str(batch), str(l1), "1", reduction]
            print(" ".join(torch_cmd), file=sys.stderr, flush=True)
            out = subprocess.run(torch_cmd, check=True, env=env, capture_output=True, text=True).stdout
            entry["pytorch"] = json.loads(out.strip().splitlines()[-1])
            json.dump(results, open(path, "w"), indent=2)
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import results_table
    results_table.update_results_md()
    print(json.dumps(results, indent=2))


def load_npy_mean(path):
    """Mean of a float32 .npy written by `latent encode` (stdlib only)."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    header_len = struct.unpack("<H", data[8:10])[0]
    values = struct.unpack(f"<{(len(data) - 10 - header_len) // 4}f", data[10 + header_len:])
    return sum(values) / len(values)


if __name__ == "__main__":
    main()
