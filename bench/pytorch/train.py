"""PyTorch reference for docs/RESULTS.md: one row of the notebook/blog table, full length.

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/pytorch/train.py MODEL OPTIMIZER EPOCHS BATCH L1 SEED [sum|mean]
MODEL simple|deep|conv (the blog's convolutional autoencoder, NCHW with Keras's "same" pooling as ceil_mode), OPTIMIZER adagrad|adadelta (Keras 2 defaults), L1 the activity penalty on the code
(summed over the batch, Keras 2; "mean" averages it over the batch, Keras 1.0.x), 0 for none. Same architecture and initialisation as Latent (Glorot uniform
kernels, zero biases), binary cross-entropy on a sigmoid output (computed from the logits), shuffled each epoch.
Prints one JSON line: final train loss (with penalty), test loss (with penalty, at the training batch size),
test reconstruction loss, mean code activation on the test set, seconds.
"""
import json
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
import epochs as E  # noqa: E402


def load(kind):
    return torch.from_numpy(E.load_mnist_images(kind))


def main():
    model_kind, opt_name, epochs, batch, l1, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
    reduction = sys.argv[7] if len(sys.argv) > 7 else "sum"
    torch.set_num_threads(2)
    torch.manual_seed(seed)
    if model_kind == "conv":
        conv = lambda a, b, pad=1: nn.Conv2d(a, b, 3, padding=pad)  # noqa: E731
        encoder = nn.Sequential(nn.Unflatten(1, (1, 28, 28)),
                                conv(1, 16), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
                                conv(16, 8), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
                                conv(8, 8), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True))
        decoder = nn.Sequential(conv(8, 8), nn.ReLU(), nn.Upsample(scale_factor=2),
                                conv(8, 8), nn.ReLU(), nn.Upsample(scale_factor=2),
                                conv(8, 16, pad=0), nn.ReLU(), nn.Upsample(scale_factor=2),
                                conv(16, 1), nn.Flatten())
    else:
        sizes = [784, 32] if model_kind == "simple" else [784, 128, 64, 32]
        enc_layers = []
        for a, b in zip(sizes, sizes[1:]):
            enc_layers += [nn.Linear(a, b), nn.ReLU()]
        dec_sizes = list(reversed(sizes))
        dec_layers = []
        for i, (a, b) in enumerate(zip(dec_sizes, dec_sizes[1:])):
            dec_layers.append(nn.Linear(a, b))
            if i < len(dec_sizes) - 2:
                dec_layers.append(nn.ReLU())
        encoder, decoder = nn.Sequential(*enc_layers), nn.Sequential(*dec_layers)
    for m in list(encoder) + list(decoder):
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    params = list(encoder.parameters()) + list(decoder.parameters())
    opt = (torch.optim.Adagrad(params, lr=0.01, eps=1e-7, initial_accumulator_value=0.0) if opt_name == "adagrad"
           else torch.optim.Adadelta(params, lr=1.0, rho=0.95, eps=1e-7))
    bce = nn.BCEWithLogitsLoss()
    x_train, x_test = load("train"), load("t10k")
    g = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    train_loss = 0.0
    for _ in range(epochs):
        order = torch.randperm(60000, generator=g)
        total = 0.0
        for s in range(0, 60000, batch):
            xb = x_train[order[s:s + batch]]
            code = encoder(xb)
            loss = bce(decoder(code), xb)
            if l1 > 0:
                loss = loss + l1 * code.abs().sum() / (xb.shape[0] if reduction == "mean" else 1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * xb.shape[0]
        train_loss = total / 60000
    seconds = time.perf_counter() - t0
    with torch.no_grad():
        test, recon, codes = 0.0, 0.0, []
        for s in range(0, 10000, batch):
            xb = x_test[s:s + batch]
            code = encoder(xb)
            r = bce(decoder(code), xb).item()
            pen = l1 * code.abs().sum().item() / (xb.shape[0] if reduction == "mean" else 1) if l1 > 0 else 0.0
            test += (r + pen) * xb.shape[0]
            recon += r * xb.shape[0]
            codes.append(code)
        codes = torch.cat(codes)
    print(json.dumps({"train_loss": train_loss, "test_loss": test / 10000, "test_reconstruction": recon / 10000,
                      "mean_code": codes.mean().item(), "seconds": seconds}))


if __name__ == "__main__":
    main()
