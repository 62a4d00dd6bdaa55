"""PyTorch reference for the denoising autoencoders: the same architectures, initialisation (glorot_uniform kernels,
zero biases), optimizers (Keras 2's forms), loss (binary cross-entropy averaged over pixels, from the logits) and
schedule as `Latent.Bench denoise`, on MNIST's 60,000 training digits validated on the 10,000 test digits, batch 128,
noisy copies clip(x + f*N(0, 1), 0, 1) drawn once.

    blog:  the blog post's Conv32-Pool-Conv32-Pool / Conv32-Up-Conv32-Up-Conv1 (sigmoid), Adadelta, noise 0.5,
           trained noisy -> clean.
    keras: keras.io's "Convolutional autoencoder for image denoising": Conv32-Pool-Conv32-Pool /
           Conv2DTranspose 32, 32 (stride 2) -> Conv1 (sigmoid), Adam; first clean -> clean (--clean-epochs, 50),
           then noise 0.4, noisy -> clean. Keras's "same" transposed convolution is PyTorch's unpadded one cropped
           at the end.

Prints one JSON line per epoch, then the test loss and the mean per-image PSNR of the noisy and the restored test
digits against the clean ones.

With --checkpoint FILE the model, optimizer, shuffling generator and rows so far are saved after every epoch
(temporary file, then rename); started again with the same arguments, the run continues from there as if never stopped.

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/pytorch/denoise.py blog|keras EPOCHS [--clean-epochs N] [--json OUT]
       [--checkpoint FILE]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity"))
import epochs as E  # noqa: E402
from parity import KerasAdam  # noqa: E402


class Denoiser(nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.e1, self.e2 = nn.Conv2d(1, 32, 3, padding=1), nn.Conv2d(32, 32, 3, padding=1)
        if kind == "blog":
            self.d1, self.d2 = nn.Conv2d(32, 32, 3, padding=1), nn.Conv2d(32, 32, 3, padding=1)
        else:
            self.d1, self.d2 = nn.ConvTranspose2d(32, 32, 3, stride=2), nn.ConvTranspose2d(32, 32, 3, stride=2)
        self.out = nn.Conv2d(32, 1, 3, padding=1)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        """Logits (B, 1, 28, 28) of (B, 1, 28, 28) images."""
        y = F.max_pool2d(F.relu(self.e1(x)), 2)
        y = F.max_pool2d(F.relu(self.e2(y)), 2)
        if self.kind == "blog":
            y = F.interpolate(F.relu(self.d1(y)), scale_factor=2)
            y = F.interpolate(F.relu(self.d2(y)), scale_factor=2)
        else:
            y = F.relu(self.d1(y)[:, :, :14, :14])
            y = F.relu(self.d2(y)[:, :, :28, :28])
        return self.out(y)


def noisy(x, factor, seed):
    rng = np.random.default_rng(seed)
    return torch.from_numpy(np.clip(x.numpy() + factor * rng.standard_normal(x.shape, dtype=np.float32), 0, 1).astype(np.float32))


def run_epoch(model, opt, x, y, batch, generator, train):
    order = torch.randperm(x.shape[0], generator=generator) if train else torch.arange(x.shape[0])
    total = 0.0
    for start in range(0, x.shape[0], batch):
        idx = order[start:start + batch]
        xb, yb = x[idx], y[idx]
        if train:
            opt.zero_grad(set_to_none=True)
            loss = F.binary_cross_entropy_with_logits(model(xb), yb)
            loss.backward()
            opt.step()
        else:
            with torch.no_grad():
                loss = F.binary_cross_entropy_with_logits(model(xb), yb)
        total += loss.item() * xb.shape[0]
    return total / x.shape[0]


def psnr(images, clean):
    mse = ((images.double() - clean.double()) ** 2).flatten(1).mean(1)
    return float((10 * torch.log10(1 / mse)).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["blog", "keras"])
    ap.add_argument("epochs", type=int)
    ap.add_argument("--clean-epochs", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json")
    ap.add_argument("--checkpoint")
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    clean_epochs = args.clean_epochs if args.kind == "keras" else 0
    factor = 0.4 if args.kind == "keras" else 0.5
    train = torch.from_numpy(E.load_mnist_images("train")).view(-1, 1, 28, 28)
    test = torch.from_numpy(E.load_mnist_images("t10k")).view(-1, 1, 28, 28)
    train_noisy, test_noisy = noisy(train, factor, args.seed), noisy(test, factor, args.seed + 1)
    model = Denoiser(args.kind)
    params = list(model.parameters())
    opt = (torch.optim.Adadelta(params, lr=1.0, rho=0.95, eps=1e-7) if args.kind == "blog"
           else KerasAdam(params, 0.001, 0.9, 0.999, 1e-7))
    g = torch.Generator().manual_seed(args.seed)
    history = []
    if args.checkpoint and os.path.exists(args.checkpoint):
        state = torch.load(args.checkpoint)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        g.set_state(state["generator"])
        history = state["history"]
        print(f"Continuing from {args.checkpoint}: {len(history)} epochs done.", flush=True)
    done = len(history)
    for phase, epochs, x_in, x_test_in in (("clean", clean_epochs, train, test), ("noisy", args.epochs, train_noisy, test_noisy)):
        skip, done = min(done, epochs), done - min(done, epochs)
        for e in range(skip, epochs):
            t = time.perf_counter()
            loss = run_epoch(model, opt, x_in, train, 128, g, True)
            val = run_epoch(model, opt, x_test_in, test, 128, g, False)
            row = {"phase": phase, "epoch": e + 1, "loss": loss, "val_loss": val, "seconds": time.perf_counter() - t}
            history.append(row)
            print(json.dumps(row), flush=True)
            if args.checkpoint:
                torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "generator": g.get_state(), "history": history},
                           args.checkpoint + ".tmp")
                os.replace(args.checkpoint + ".tmp", args.checkpoint)
    with torch.no_grad():
        restored = torch.cat([torch.sigmoid(model(test_noisy[s:s + 1000])) for s in range(0, 10000, 1000)])
    result = {"engine": "pytorch", "kind": args.kind, "noise": factor, "clean_epochs": clean_epochs, "epochs": args.epochs,
              "test_loss": run_epoch(model, opt, test_noisy, test, 128, g, False),
              "psnr_noisy": psnr(test_noisy, test), "psnr_restored": psnr(restored, test),
              "seconds": sum(r["seconds"] for r in history), "torch": torch.__version__}
    print(json.dumps(result), flush=True)
    if args.json:
        result["history"] = history
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
