"""PyTorch reference for bench/compare.py: the same epochs as `Latent.Bench epoch` (same models, optimizers,
batch sizes, shuffling, binary cross-entropy), timed the same way: a warm-up on 2048 samples, then whole
epochs over MNIST's 60,000 training images, including the per-batch gather. Latent's warm-up repeats, 250 ms
apart, until its JIT compiles nothing more (about eight rounds); PyTorch has no JIT to wait for, so it gets
four rounds spaced alike (LATENT_WARMUP=once: one, as runs 1-24 of the side by side had).

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/pytorch/epochs.py ROW REPETITIONS
Prints one line per epoch: "ROW SECONDS LOSS".
"""
import gzip
import os
import sys
import time

import numpy as np
import torch
from torch import nn


def load_mnist_images(kind):
    """MNIST "train" or "t10k" images from Latent's cache, (N, 784) float32 in [0, 1]."""
    root = os.environ.get("LATENT_DATA") or os.path.join(os.path.expanduser("~"), ".latent", "datasets")
    for name in (f"{kind}-images-idx3-ubyte", f"{kind}-images-idx3-ubyte.gz"):
        path = os.path.join(root, "mnist", name)
        if os.path.exists(path):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rb") as f:
                data = f.read()
            return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / np.float32(255)
    sys.exit(f"MNIST not found under {root}/mnist: run scripts/setup-data.sh")


def load_mnist_train():
    return load_mnist_images("train")


def build(row):
    if row in ("simple-256", "simple-32"):
        model = nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 784))
        opt = torch.optim.Adagrad(model.parameters(), lr=0.01, eps=1e-7, initial_accumulator_value=0.0)
        return model, opt, 256 if row == "simple-256" else 32
    if row == "deep-100":
        model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(),
                              nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 784))
        opt = torch.optim.Adadelta(model.parameters(), lr=1.0, rho=0.95, eps=1e-7)
        return model, opt, 100
    if row == "conv-128":
        # The blog's convolutional autoencoder. Keras's "same" max-pooling of 7 -> 4 hangs the last window over the
        # edge: ceil_mode. PyTorch is NCHW, its native layout (oneDNN picks its own blocked format inside).
        conv = lambda cin, cout, pad=1: nn.Conv2d(cin, cout, 3, padding=pad)
        model = nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            conv(1, 16), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
            conv(16, 8), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
            conv(8, 8), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
            conv(8, 8), nn.ReLU(), nn.Upsample(scale_factor=2),
            conv(8, 8), nn.ReLU(), nn.Upsample(scale_factor=2),
            conv(8, 16, pad=0), nn.ReLU(), nn.Upsample(scale_factor=2),
            conv(16, 1), nn.Flatten())
        opt = torch.optim.Adadelta(model.parameters(), lr=1.0, rho=0.95, eps=1e-7)
        return model, opt, 128
    if row in ("denoise-128", "denoise-keras-128"):
        import denoise  # the denoising issue's models, as bench/pytorch/denoise.py trains them
        model = nn.Sequential(nn.Unflatten(1, (1, 28, 28)), denoise.Denoiser("blog" if row == "denoise-128" else "keras"), nn.Flatten())
        opt = (torch.optim.Adadelta(model.parameters(), lr=1.0, rho=0.95, eps=1e-7) if row == "denoise-128"
               else torch.optim.Adam(model.parameters(), lr=0.001, eps=1e-7))
        return model, opt, 128
    if row in ("vae-100", "conv-vae-128"):
        import vae  # the VAE issue's models, as bench/pytorch/vae.py trains them; torch's own optimizers here
        model = vae.DenseVae() if row == "vae-100" else vae.ConvVae()
        opt = (torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7) if row == "vae-100"
               else torch.optim.Adam(model.parameters(), lr=0.001, eps=1e-7))
        return model, opt, 100 if row == "vae-100" else 128
    if row == "lstm-128":
        # The sequence issue's contract: rows as 28 steps of 28 features; LSTM(64) code repeated 28 times; LSTM(28);
        # MSE, Adam with Keras's defaults.
        model = SequenceAutoencoder()
        opt = torch.optim.Adam(model.parameters(), lr=0.001, eps=1e-7)
        return model, opt, 128
    sys.exit(f"unknown row {row}")


class SequenceAutoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.LSTM(28, 64, batch_first=True)
        self.decoder = nn.LSTM(64, 28, batch_first=True)

    def forward(self, x):
        _, (h, _) = self.encoder(x.view(-1, 28, 28))
        out, _ = self.decoder(h[-1].unsqueeze(1).expand(-1, 28, -1))
        return out.reshape(-1, 784)


def epoch(model, opt, x, batch, generator):
    if hasattr(model, "encode"):  # a VAE: summed BCE + KL, as bench/pytorch/vae.py
        import vae
        return vae.run_epoch(model, opt, x, batch, generator)[0]
    # The model ends in a linear layer; BCE-with-logits is sigmoid + binary cross-entropy, fused (PyTorch's fastest form).
    loss_fn = nn.MSELoss() if isinstance(model, SequenceAutoencoder) else nn.BCEWithLogitsLoss()
    order = torch.randperm(x.shape[0], generator=generator)
    total, seen = 0.0, 0
    for start in range(0, x.shape[0], batch):
        xb = x[order[start:start + batch]]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), xb)
        loss.backward()
        opt.step()
        total += loss.item() * xb.shape[0]
        seen += xb.shape[0]
    return total / seen


def main():
    row, reps = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(2)
    torch.manual_seed(1)
    x = torch.from_numpy(load_mnist_train())
    model, opt, batch = build(row)
    g = torch.Generator().manual_seed(1)
    rounds = 1 if os.environ.get("LATENT_WARMUP") == "once" else 4
    for r in range(rounds):
        if r:
            time.sleep(0.25)
        epoch(model, opt, x[:2048], batch, g)
    for _ in range(reps):
        t = time.perf_counter()
        loss = epoch(model, opt, x, batch, g)
        print(f"{row} {time.perf_counter() - t:.4f} {loss:.4f}", flush=True)


if __name__ == "__main__":
    main()
