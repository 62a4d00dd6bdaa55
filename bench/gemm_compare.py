"""Latent's matrix multiply beside OpenBLAS's (through PyTorch), one thread each, on the shapes the notebook's
dense models multiply in a training step, on this machine, alternating the two programs rep by rep.

OpenBLAS runs its best kernel for the CPU (bench/blas_probe.py, as in bench/compare.py). Each program times each
shape as the median of 15 rounds of about 2 ms after a warm-up, C = op(A)·op(B) into a preallocated C, no bias;
the table gives the median over the reps, GFLOPS, the fraction of the one-core FMA peak (Latent.Bench ceiling,
the better of a measurement before and one after) and Latent's speed over OpenBLAS's. Shapes are one core's
products: the deep model's half batch of 50 rows and simple-256's half batch of 128 (the data-parallel step runs
one share a core), simple-32's whole batch of 32, and 1024³ for scale.
Usage: python3 bench/gemm_compare.py [--reps 3]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LATENT = os.path.join(HERE, "Latent.Bench", "bin", "Release", "net10.0", "Latent.Bench.dll")
PYTHON = os.environ.get("TORCH_PYTHON", "/usr/bin/python3")

# name, TA, TB, M, N, K: C[M×N] = op(A)[M×K] · op(B)[K×N]
SHAPES = [
    ("deep-100 fwd 50x784 . 784x128", 0, 0, 50, 128, 784),
    ("deep-100 fwd 50x128 . 128x784", 0, 0, 50, 784, 128),
    ("deep-100 dW (50x128)T . 50x784", 1, 0, 128, 784, 50),
    ("deep-100 dW (50x784)T . 50x128", 1, 0, 784, 128, 50),
    ("deep-100 dX 50x784 . (128x784)T", 0, 1, 50, 128, 784),
    ("simple-256 fwd 128x784 . 784x32", 0, 0, 128, 32, 784),
    ("simple-256 fwd 128x32 . 32x784", 0, 0, 128, 784, 32),
    ("simple-256 dW (128x32)T . 128x784", 1, 0, 32, 784, 128),
    ("simple-256 dW (128x784)T . 128x32", 1, 0, 784, 32, 128),
    ("simple-256 dX 128x784 . (32x784)T", 0, 1, 128, 32, 784),
    ("simple-32 fwd 32x784 . 784x32", 0, 0, 32, 32, 784),
    ("simple-32 fwd 32x32 . 32x784", 0, 0, 32, 784, 32),
    ("simple-32 dW (32x32)T . 32x784", 1, 0, 32, 784, 32),
    ("simple-32 dW (32x784)T . 32x32", 1, 0, 784, 32, 32),
    ("simple-32 dX 32x784 . (32x784)T", 0, 1, 32, 32, 784),
    ("1024^3", 0, 0, 1024, 1024, 1024),
]


def parse(out):
    times = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 6:
            times[tuple(int(v) for v in f[:5])] = float(f[5])
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    subprocess.run(["dotnet", "build", os.path.join(HERE, "Latent.Bench"), "-c", "Release", "-v", "quiet", "-nologo"], check=True,
                   stdout=subprocess.DEVNULL)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    probe = json.loads(subprocess.run([PYTHON, os.path.join(HERE, "blas_probe.py")], capture_output=True, text=True,
                                      env=env, check=True).stdout.strip().splitlines()[-1])
    if probe["coretype"]:
        env["OPENBLAS_CORETYPE"] = probe["coretype"]
    spec = ";".join(f"{ta},{tb},{m},{n},{k}" for _, ta, tb, m, n, k in SHAPES)

    def peak():
        out = subprocess.run(["dotnet", LATENT, "ceiling"], capture_output=True, text=True, check=True).stdout
        return [float(l.split()[2]) for l in out.splitlines() if l.startswith("peak 1 ")][0]

    peak_before = peak()
    latent, blas = [], []
    for rep in range(args.reps):
        latent.append(parse(subprocess.run(["dotnet", LATENT, "gemm-shapes", spec], capture_output=True, text=True,
                                           check=True).stdout))
        blas.append(parse(subprocess.run([PYTHON, os.path.join(HERE, "pytorch", "gemm.py"), spec], capture_output=True,
                                         text=True, env=env, check=True).stdout))
        print(f"rep {rep + 1} of {args.reps} done", file=sys.stderr, flush=True)
    one_core = max(peak_before, peak())
    dotnet = subprocess.run(["dotnet", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"CPU: {probe['cpu']}; FMA peak on one core {one_core:.0f} GFLOPS; OpenBLAS core {probe['core']}"
          f"{' (OPENBLAS_CORETYPE=' + probe['coretype'] + ')' if probe['coretype'] else ''}, torch {probe['torch']}, .NET {dotnet}; "
          f"one thread each, medians of {args.reps} reps alternating")
    print()
    print("| product | Latent µs | GFLOPS | % of peak | OpenBLAS µs | GFLOPS | % of peak | Latent speed ÷ OpenBLAS |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, ta, tb, m, n, k in SHAPES:
        key = (ta, tb, m, n, k)
        lt = statistics.median(r[key] for r in latent)
        bt = statistics.median(r[key] for r in blas)
        flops = 2.0 * m * n * k
        lg, bg = flops / lt / 1e3, flops / bt / 1e3
        print(f"| {name} | {lt:.1f} | {lg:.1f} | {100 * lg / one_core:.0f}% | {bt:.1f} | {bg:.1f} | {100 * bg / one_core:.0f}% | {bt / lt:.2f}× |")


if __name__ == "__main__":
    main()
