"""The PyTorch half of the convolutional step-parity check: replays Latent's 200 steps of the blog's
convolutional autoencoder (written by `Latent.Bench parity-conv DIR`) from the same initial weights, on MNIST's
first 200 × 32 training images in order, and compares the per-step losses and the final weights.

Usage: dotnet run -c Release --project bench/Latent.Bench -- parity-conv bench/parity/out
       OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/parity/conv_parity.py bench/parity/out
Keras's "same" max pooling of 7 -> 4 is ceil_mode; kernels are (kh, kw, in, out) in Latent, (out, in, kh, kw) here.
This ReLU/max-pooling model magnifies rounding: a float32 difference in a sum eventually flips a ReLU or a
pooling winner and the runs part. So besides Latent against PyTorch, PyTorch in float32 is compared with itself in
float64, and the check passes when Latent stays within 1e-4 of PyTorch at least as many steps as that.
"""
import json
import os
import sys

import numpy as np
import torch
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parity  # noqa: E402

STEPS, BATCH = 200, 32
PAD = {"c1": 1, "c2": 1, "c3": 1, "c4": 1, "c5": 1, "c6": 0, "c7": 1}


def forward(p, xb):
    h = xb
    for name in ("c1", "c2", "c3"):
        h = F.max_pool2d(F.relu(F.conv2d(h, p[name + "/kernel"], p[name + "/bias"], padding=PAD[name])), 2, ceil_mode=True)
    for name in ("c4", "c5", "c6"):
        h = F.interpolate(F.relu(F.conv2d(h, p[name + "/kernel"], p[name + "/bias"], padding=PAD[name])), scale_factor=2, mode="nearest")
    return F.conv2d(h, p["c7/kernel"], p["c7/bias"], padding=1)


def replay(init, opt_name, x, dtype=torch.float32):
    """PyTorch's 200 steps from Latent's initial weights; returns the per-step losses and the parameters."""
    p = {k: torch.nn.Parameter(torch.from_numpy(np.array(v.transpose(3, 2, 0, 1) if v.ndim == 4 else v, copy=True)).to(dtype))
         for k, v in init.items() if not k.startswith("optimizer/")}
    opt = parity.optimizer(opt_name, list(p.values()))
    losses = []
    for s in range(STEPS):
        xb = x[s * BATCH:(s + 1) * BATCH].to(dtype)
        loss = F.binary_cross_entropy_with_logits(forward(p, xb), xb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, p


def first_apart(a, b):
    """Relative differences per step, and the first step where they exceed 1e-4."""
    diffs = [abs(u - v) / abs(v) for u, v in zip(a, b)]
    return diffs, next((i for i, d in enumerate(diffs) if d > 1e-4), len(diffs))


def run(directory, opt_name, x):
    stem = os.path.join(directory, f"conv-{opt_name}")
    init = parity.read_safetensors(stem + ".init.safetensors")
    final = parity.read_safetensors(stem + ".final.safetensors")
    latent_losses = json.load(open(stem + ".losses.json"))
    losses, p = replay(init, opt_name, x)
    diffs, apart = first_apart(latent_losses, losses)
    rel = max(diffs)
    # How long PyTorch agrees with itself when only the rounding changes (float32 against float64): the horizon
    # beyond which no two implementations of this ReLU/max-pool model can be expected to agree step by step.
    own, _ = replay(init, opt_name, x, torch.float64)
    _, own_apart = first_apart(losses, own)
    before = max(diffs[:apart], default=0.0)
    wdiff = max(float(np.max(np.abs(final[k] - (v.detach().numpy().transpose(2, 3, 1, 0) if v.ndim == 4 else v.detach().numpy()))))
                for k, v in p.items())
    return rel, wdiff, apart, before, own_apart


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "bench/parity/out"
    torch.set_num_threads(1)
    x = parity.mnist_batches().reshape(-1, 1, 28, 28)
    worst = 0.0
    print("| optimizer | steps Latent = PyTorch within 1e-4 | max relative difference over those | steps PyTorch float32 = float64 within 1e-4 | max relative difference (200 steps) | max abs final weight difference |")
    print("|---|---|---|---|---|---|")
    ok = True
    for o in ("sgd", "adadelta", "adam"):
        rel, wdiff, apart, before, own_apart = run(directory, o, x)
        worst = max(worst, rel)
        ok &= apart >= min(own_apart, STEPS)
        print(f"| {o} | {apart} | {before:.2e} | {own_apart} | {rel:.2e} | {wdiff:.2e} |")
    print(f"\nworst relative loss difference: {worst:.2e}; Latent agrees with PyTorch at least as long as PyTorch with itself: {ok}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
