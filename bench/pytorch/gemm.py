"""One thread's float32 multiply in PyTorch (its OpenBLAS) on shapes given on the command line, timed as
Latent.Bench gemm-shapes times Latent's: the median of 15 rounds of about 2 ms each after a warm-up, into a
preallocated C, no bias. Prints `TA TB M N K microseconds` per shape. Run by bench/gemm_compare.py.
Usage: /usr/bin/python3 bench/pytorch/gemm.py "TA,TB,M,N,K;..."
"""
import sys
import time

import torch


def main():
    torch.set_num_threads(1)
    torch.manual_seed(1)
    for item in sys.argv[1].split(";"):
        if not item:
            continue
        ta, tb, m, n, k = (int(v) for v in item.split(","))
        a = torch.rand(k, m) - 0.5 if ta else torch.rand(m, k) - 0.5
        b = torch.rand(n, k) - 0.5 if tb else torch.rand(k, n) - 0.5
        op_a = a.t() if ta else a
        op_b = b.t() if tb else b
        c = torch.empty(m, n)
        flops = 2.0 * m * n * k
        reps = int(min(max(1e8 / flops, 1), 10000))
        for _ in range(3 * reps):
            torch.mm(op_a, op_b, out=c)
        rounds = []
        for _ in range(15):
            t = time.perf_counter()
            for _ in range(reps):
                torch.mm(op_a, op_b, out=c)
            rounds.append((time.perf_counter() - t) / reps * 1e6)
        rounds.sort()
        print(f"{ta} {tb} {m} {n} {k} {rounds[len(rounds) // 2]:.2f}", flush=True)


if __name__ == "__main__":
    main()
