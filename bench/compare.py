#!/usr/bin/env python3
"""Latent against PyTorch, side by side: for each row, each repetition runs one Latent process and one PyTorch
process in turn (alternating, so both see the same machine state), each training a warm-up then EPOCHS
epochs. Prints a Markdown table of median seconds per epoch, the ratio PyTorch/Latent, and each process's
peak resident memory (from wait4). Stdlib only; PyTorch runs under Debian's /usr/bin/python3.

The table starts with the CPU model, the OpenBLAS kernel PyTorch used (a generic fallback is replaced after a check,
see bench/blas_probe.py) and both programs' versions.

Usage: python3 bench/compare.py [--reps 3] [--epochs 2] [--rows simple-256,simple-32,deep-100,conv-128]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LATENT = os.path.join(HERE, "Latent.Bench", "bin", "Release", "net10.0", "Latent.Bench.dll")
PYTORCH = [os.environ.get("TORCH_PYTHON", "/usr/bin/python3"), os.path.join(HERE, "pytorch", "epochs.py")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--rows", default="simple-256,simple-32,deep-100")
    args = ap.parse_args()
    subprocess.run(["dotnet", "build", os.path.join(HERE, "Latent.Bench"), "-c", "Release", "-v", "quiet", "-nologo"], check=True,
                   stdout=subprocess.DEVNULL)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    # PyTorch at its best on this machine: if OpenBLAS fell back to a generic kernel, name the right one
    # (bench/blas_probe.py checks a product against float64 before accepting it).
    probe = json.loads(subprocess.run([PYTORCH[0], os.path.join(HERE, "blas_probe.py")], capture_output=True, text=True,
                                      env=env, check=True).stdout.strip().splitlines()[-1])
    if probe["coretype"]:
        env["OPENBLAS_CORETYPE"] = probe["coretype"]
    dotnet = subprocess.run(["dotnet", "--version"], capture_output=True, text=True).stdout.strip()
    results = {}
    for rep in range(args.reps):
        for row in args.rows.split(","):
            for name, cmd in (("latent", ["dotnet", LATENT, "epoch", row, str(args.epochs), "--plain"]),
                              ("pytorch", PYTORCH + [row, str(args.epochs)])):
                p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
                out = p.stdout.read()
                err = p.stderr.read()
                _, status, usage = os.wait4(p.pid, 0)
                if status != 0:
                    sys.exit(f"{' '.join(cmd)} failed:\n{err}")
                secs = [float(l.split()[1]) for l in out.splitlines() if l.startswith(row + " ")]
                r = results.setdefault((row, name), {"secs": [], "rss": []})
                r["secs"] += secs
                r["rss"].append(usage.ru_maxrss / 1024)
                print(f"rep {rep + 1} {row:<11} {name:<8} " + " ".join(f"{s:.3f}" for s in secs) + f"  peak RSS {usage.ru_maxrss / 1024:.0f} MB",
                      file=sys.stderr, flush=True)
    print(f"CPU: {probe['cpu']} ({os.cpu_count()} cores); OpenBLAS core: {probe['core']}"
          + (f" (OPENBLAS_CORETYPE={probe['coretype']} set: it had fallen back to a generic kernel)" if probe["coretype"] else "")
          + f"; PyTorch {probe['torch']}, OPENBLAS_NUM_THREADS=1, torch threads 2; Latent on .NET SDK {dotnet}\n")
    print("| row | PyTorch s/epoch | Latent s/epoch | PyTorch / Latent | PyTorch peak RSS | Latent peak RSS |")
    print("|---|---|---|---|---|---|")
    for row in args.rows.split(","):
        t = statistics.median(results[(row, "pytorch")]["secs"])
        l = statistics.median(results[(row, "latent")]["secs"])
        print(f"| {row} | {t:.3f} | {l:.3f} | {t / l:.2f}× | {max(results[(row, 'pytorch')]['rss']):.0f} MB | "
              f"{max(results[(row, 'latent')]['rss']):.0f} MB |")


if __name__ == "__main__":
    main()
