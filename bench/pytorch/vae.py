"""PyTorch reference for the variational autoencoders: the same architectures, initialisation (glorot_uniform
kernels, zero biases), optimizers (Keras 2's forms), loss (binary cross-entropy summed over pixels + KL summed over
the latent, both averaged over the batch) and schedule as `Latent.Bench vae`.

    dense: the blog's VAE, 784-256-2 / 2-256-784, RMSprop, batch 100, trained on the 60,000 training digits,
           validated on the 10,000 test digits.
    conv:  keras.io's vae.py, Conv2D 32, 64 (stride 2) -> Dense 16 -> 2 / Dense 7*7*64 -> Conv2DTranspose 64, 32
           (stride 2) -> Conv2DTranspose 1; Adam; batch 128; all 70,000 digits (as keras.io), no validation.

Keras's "same" for stride 2 pads after (TensorFlow's split): F.pad before the convolution, and the transposed
convolution is cropped at the end. Afterwards the test set's log-likelihood is estimated by importance sampling
(K draws per digit) on the first N test digits.

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/pytorch/vae.py dense|conv EPOCHS [--ll-n N] [--ll-k K] [--json OUT]
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity"))
import epochs  # noqa: E402
from parity import KerasAdam  # noqa: E402


def glorot(module):
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


class DenseVae(nn.Module):
    def __init__(self, latent=2):
        super().__init__()
        self.h, self.mean, self.logvar = nn.Linear(784, 256), nn.Linear(256, latent), nn.Linear(256, latent)
        self.d1, self.d2 = nn.Linear(latent, 256), nn.Linear(256, 784)
        glorot(self)

    def encode(self, x):
        h = F.relu(self.h(x))
        return self.mean(h), self.logvar(h)

    def decode_logits(self, z):
        return self.d2(F.relu(self.d1(z)))


class ConvVae(nn.Module):
    def __init__(self, latent=2):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 32, 3, stride=2), nn.Conv2d(32, 64, 3, stride=2)
        self.h, self.mean, self.logvar = nn.Linear(7 * 7 * 64, 16), nn.Linear(16, latent), nn.Linear(16, latent)
        self.d = nn.Linear(latent, 7 * 7 * 64)
        self.t1, self.t2 = nn.ConvTranspose2d(64, 64, 3, stride=2), nn.ConvTranspose2d(64, 32, 3, stride=2)
        self.t3 = nn.ConvTranspose2d(32, 1, 3, padding=1)
        glorot(self)

    def encode(self, x):
        x = x.view(-1, 28, 28, 1).permute(0, 3, 1, 2)                     # channels last as Latent, to NCHW
        x = F.relu(self.c1(F.pad(x, (0, 1, 0, 1))))                         # 28 -> 14
        x = F.relu(self.c2(F.pad(x, (0, 1, 0, 1))))                         # 14 -> 7
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)                  # Flatten in Keras's (h, w, c) order
        h = F.relu(self.h(x))
        return self.mean(h), self.logvar(h)

    def decode_logits(self, z):
        y = F.relu(self.d(z)).view(-1, 7, 7, 64).permute(0, 3, 1, 2)
        y = F.relu(self.t1(y)[:, :, :14, :14])
        y = F.relu(self.t2(y)[:, :, :28, :28])
        return self.t3(y).permute(0, 2, 3, 1).reshape(y.shape[0], 784)


def build(kind):
    if kind == "dense":
        model = DenseVae()
        return model, torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7), 100
    model = ConvVae()
    return model, KerasAdam(list(model.parameters()), lr=0.001, beta1=0.9, beta2=0.999, eps=1e-7), 128


def losses(model, xb, eps=None):
    mean, logvar = model.encode(xb)
    if eps is None:
        eps = torch.randn_like(mean)
    z = mean + torch.exp(0.5 * logvar) * eps
    recon = F.binary_cross_entropy_with_logits(model.decode_logits(z), xb, reduction="sum") / xb.shape[0]
    kl = -0.5 * torch.sum(1 + logvar - mean * mean - torch.exp(logvar)) / xb.shape[0]
    return recon + kl, recon, kl


def run_epoch(model, opt, x, batch, generator, train=True):
    order = torch.randperm(x.shape[0], generator=generator) if train else torch.arange(x.shape[0])
    sums, seen = np.zeros(3), 0
    for start in range(0, x.shape[0], batch):
        xb = x[order[start:start + batch]]
        if train:
            opt.zero_grad(set_to_none=True)
            total, recon, kl = losses(model, xb)
            total.backward()
            opt.step()
        else:
            with torch.no_grad():
                total, recon, kl = losses(model, xb)
        sums += np.array([total.item(), recon.item(), kl.item()]) * xb.shape[0]
        seen += xb.shape[0]
    return sums / seen


@torch.no_grad()
def log_likelihood(model, x, k, chunk=4):
    """Importance-sampled log p(x), clipping p to [1e-7, 1 - 1e-7] as Latent's Metrics.ImportanceLogLikelihood."""
    out = []
    for start in range(0, x.shape[0], chunk):
        xb = x[start:start + chunk]
        mean, logvar = model.encode(xb)
        eps = torch.randn(xb.shape[0], k, mean.shape[1])
        z = mean[:, None, :] + torch.exp(0.5 * logvar)[:, None, :] * eps
        p = torch.sigmoid(model.decode_logits(z.reshape(-1, mean.shape[1]))).clamp(1e-7, 1 - 1e-7).view(xb.shape[0], k, 784)
        ll = (xb[:, None, :] * torch.log(p) + (1 - xb[:, None, :]) * torch.log(1 - p)).sum(-1)
        log_prior = (-0.5 * z * z - 0.5 * math.log(2 * math.pi)).sum(-1)
        log_q = (-0.5 * eps * eps - 0.5 * math.log(2 * math.pi) - 0.5 * logvar[:, None, :]).sum(-1)
        w = ll + log_prior - log_q
        out.append(torch.logsumexp(w, dim=1) - math.log(k))
    return torch.cat(out).double()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["dense", "conv"])
    ap.add_argument("epochs", type=int)
    ap.add_argument("--ll-n", type=int, default=10000)
    ap.add_argument("--ll-k", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    train = torch.from_numpy(epochs.load_mnist_train())
    test = torch.from_numpy(epochs.load_mnist_images("t10k"))
    model, opt, batch = build(args.kind)
    data = train if args.kind == "dense" else torch.cat([train, test])
    g = torch.Generator().manual_seed(args.seed)
    rows = []
    for e in range(args.epochs):
        t = time.perf_counter()
        total, recon, kl = run_epoch(model, opt, data, batch, g)
        secs = time.perf_counter() - t
        row = {"epoch": e + 1, "loss": total, "reconstruction": recon, "kl": kl, "seconds": secs}
        if args.kind == "dense":
            row["val_loss"] = run_epoch(model, opt, test, batch, g, train=False)[0]
        rows.append(row)
        print(json.dumps(row), flush=True)
    t = time.perf_counter()
    ll = log_likelihood(model, test[:args.ll_n], args.ll_k)
    result = {"engine": "pytorch " + torch.__version__, "kind": args.kind, "epochs": rows,
              "test_elbo": -run_epoch(model, opt, test, batch, g, train=False)[0],
              "log_likelihood": ll.mean().item(), "ll_n": args.ll_n, "ll_k": args.ll_k,
              "ll_seconds": time.perf_counter() - t}
    print(json.dumps({k: v for k, v in result.items() if k != "epochs"}), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
