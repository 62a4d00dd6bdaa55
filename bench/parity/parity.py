"""Step parity: PyTorch replays Latent's 200 training steps from the same initial weights and compares.

First `dotnet run -c Release --project bench/Latent.Bench -- parity DIR` writes, for each optimizer x loss,
DIR/<opt>-<loss>.init.safetensors, .losses.json and .final.safetensors (a 784-32-784 autoencoder, MNIST's
first 200 x 32 training images in order, no shuffle). Then:

    /usr/bin/python3 bench/parity/parity.py DIR

builds the same model in PyTorch, loads the initial weights, feeds the same batches with the optimizer and
hyper-parameters Latent used (Keras 2 forms; see the notes below), and prints, per combination, the largest
relative difference of the per-step losses and the largest absolute difference of the final weights.
Exits 1 if any loss differs by more than 1e-4 relative.

Notes on equivalence: PyTorch's SGD momentum keeps v = mu*v + g and steps -lr*v, Keras 2 keeps v = mu*v - lr*g
and steps +v: the same iterates for a constant rate. PyTorch's Adam adds eps to sqrt(v)/sqrt(1-b2^t) where
Keras 2 adds it to sqrt(v): for weights whose gradients are tiny (pixels that are almost always 0) the two take
very different steps, so the check replays Adam in Keras 2's form (KerasAdam below); torch.optim.Adam is shown
for information only. The loss on a sigmoid output under BCE is computed from the logits on
both sides (Latent clips at 1e-7 as Keras; no logit here comes near the clip).
"""
import json
import os
import struct
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pytorch"))
import epochs  # noqa: E402  (MNIST loading shared with the epoch benchmark)

OPTIMIZERS = ["sgd", "adagrad", "adadelta", "rmsprop", "adam"]
LOSSES = ["binary_crossentropy", "mean_squared_error", "mean_absolute_error"]
STEPS, BATCH = 200, 32


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype="<f4").reshape(info["shape"]).copy()
    return out


def mnist_batches():
    return torch.from_numpy(epochs.load_mnist_train()[:STEPS * BATCH].copy())


def step_loss(logits, xb, loss_name):
    """The loss Latent computes: BCE from the logits of the sigmoid output, MSE and MAE on the sigmoid output."""
    if loss_name == "binary_crossentropy":
        return nn.functional.binary_cross_entropy_with_logits(logits, xb)
    if loss_name == "mean_squared_error":
        return nn.functional.mse_loss(torch.sigmoid(logits), xb)
    return nn.functional.l1_loss(torch.sigmoid(logits), xb)


def optimizer(name, params):
    if name == "sgd":
        return torch.optim.SGD(params, lr=0.5, momentum=0.9, nesterov=True)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=0.01, eps=1e-7, initial_accumulator_value=0.0)
    if name == "adadelta":
        return torch.optim.Adadelta(params, lr=1.0, rho=0.95, eps=1e-7)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=0.001, alpha=0.9, eps=1e-7)
    if name == "torch-adam":
        return torch.optim.Adam(params, lr=0.001, betas=(0.9, 0.999), eps=1e-7)
    return KerasAdam(params, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-7)


class KerasAdam:
    """Adam in Keras 2's form: eps is added to sqrt(v), the bias corrections fold into the step size."""

    def __init__(self, params, lr, beta1, beta2, eps):
        self.params, self.lr, self.b1, self.b2, self.eps, self.t = params, lr, beta1, beta2, eps, 0
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            p.grad = None

    def state_dict(self):
        return {"t": self.t, "m": [m.clone() for m in self.m], "v": [v.clone() for v in self.v]}

    def load_state_dict(self, state):
        self.t = state["t"]
        for dst, src in zip(self.m + self.v, state["m"] + state["v"]):
            dst.copy_(src)

    @torch.no_grad()
    def step(self):
        self.t += 1
        lr_t = self.lr * (1 - self.b2 ** self.t) ** 0.5 / (1 - self.b1 ** self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad
            m.mul_(self.b1).add_((1 - self.b1) * g)
            v.mul_(self.b2).add_((1 - self.b2) * g * g)
            p.sub_(lr_t * m / (v.sqrt() + self.eps))


def run(directory, opt_name, loss_name, x, torch_optimizer=None):
    stem = os.path.join(directory, f"{opt_name}-{loss_name}")
    init = read_safetensors(stem + ".init.safetensors")
    final = read_safetensors(stem + ".final.safetensors")
    latent_losses = json.load(open(stem + ".losses.json"))
    enc, dec = nn.Linear(784, 32), nn.Linear(32, 784)
    with torch.no_grad():
        enc.weight.copy_(torch.from_numpy(init["encoder/kernel"].T))   # Latent kernels are (in, out)
        enc.bias.copy_(torch.from_numpy(init["encoder/bias"]))
        dec.weight.copy_(torch.from_numpy(init["decoder/kernel"].T))
        dec.bias.copy_(torch.from_numpy(init["decoder/bias"]))
    params = list(enc.parameters()) + list(dec.parameters())
    opt = optimizer(torch_optimizer or opt_name, params)
    losses = []
    for s in range(STEPS):
        xb = x[s * BATCH:(s + 1) * BATCH]
        loss = step_loss(dec(torch.relu(enc(xb))), xb, loss_name)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    rel = max(abs(a - b) / abs(b) for a, b in zip(latent_losses, losses))
    weights = {"encoder/kernel": enc.weight.detach().numpy().T, "encoder/bias": enc.bias.detach().numpy(),
               "decoder/kernel": dec.weight.detach().numpy().T, "decoder/bias": dec.bias.detach().numpy()}
    wdiff = max(float(np.max(np.abs(final[k] - v))) for k, v in weights.items())
    return rel, wdiff, losses


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "bench/parity/out"
    torch.set_num_threads(1)
    x = mnist_batches()
    worst = 0.0
    print("| optimizer | loss | max relative loss difference (200 steps) | max abs final weight difference |")
    print("|---|---|---|---|")
    for o in OPTIMIZERS:
        for l in LOSSES:
            rel, wdiff, _ = run(directory, o, l, x)
            worst = max(worst, rel)
            print(f"| {o} | {l} | {rel:.2e} | {wdiff:.2e} |")
    for l in LOSSES:
        rel, wdiff, _ = run(directory, "adam", l, x, torch_optimizer="torch-adam")
        print(f"| (torch.optim.Adam, not checked) | {l} | {rel:.2e} | {wdiff:.2e} |")
    print(f"\nworst relative loss difference: {worst:.2e} (tolerance 1e-4)")
    sys.exit(0 if worst <= 1e-4 else 1)


if __name__ == "__main__":
    main()
