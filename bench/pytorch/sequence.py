"""PyTorch 1.13 beside examples/sequence_autoencoder.cs: the sequence issue's contract model run the same way.
MNIST rows as 28 steps of 28 features; nn.LSTM(28, 64) -> last state repeated 28 times -> nn.LSTM(64, 28); MSE;
Adam with Keras's defaults (lr 1e-3, eps 1e-7); batch 128, shuffled each epoch; Keras's initialisation (glorot
uniform input weights, orthogonal recurrent weights, forget-gate bias 1, one bias per layer: bias_hh frozen at 0).
Prints one line per epoch (train loss over the epoch, validation loss on the 10,000 test digits, seconds).

--save-init FILE.npz writes the initial weights in Latent's layout (enc_W (28, 256), enc_U (64, 256), enc_b (256), dec_W
(64, 112), dec_U (28, 112), dec_b (112); W = weight_ih^T, U = weight_hh^T, b = bias_ih + bias_hh), for
`Latent.Bench sequence-from-init FILE.npz` to train from the same weights.
--keras-adam uses Adam in Keras 2's form (as Latent's Adam: eps added to sqrt(v) before the bias corrections,
which fold into the step size) instead of torch.optim.Adam (eps added to the bias-corrected sqrt(v)).

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/pytorch/sequence.py [EPOCHS] [--seed S] [--keras-adam] [--save-init FILE.npz] [--json OUT]
"""
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from epochs import load_mnist_images  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity"))
from parity import KerasAdam  # noqa: E402


def keras_init(lstm):
    h = lstm.hidden_size
    with torch.no_grad():
        nn.init.xavier_uniform_(lstm.weight_ih_l0)
        nn.init.orthogonal_(lstm.weight_hh_l0)
        lstm.bias_ih_l0.zero_()
        lstm.bias_ih_l0[h:2 * h] = 1
        lstm.bias_hh_l0.zero_()
    lstm.bias_hh_l0.requires_grad_(False)


class SequenceAutoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.LSTM(28, 64, batch_first=True)
        self.decoder = nn.LSTM(64, 28, batch_first=True)
        keras_init(self.encoder)
        keras_init(self.decoder)

    def forward(self, x):
        _, (h, _) = self.encoder(x)
        out, _ = self.decoder(h[-1].unsqueeze(1).expand(-1, x.shape[1], -1))
        return out


def main():
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else 10
    out = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
    torch.set_num_threads(2)
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 1
    torch.manual_seed(seed)
    x = torch.from_numpy(load_mnist_images("train")).view(-1, 28, 28)
    xt = torch.from_numpy(load_mnist_images("t10k")).view(-1, 28, 28)
    model = SequenceAutoencoder()
    if "--save-init" in sys.argv:
        layers = {"enc": model.encoder, "dec": model.decoder}
        np.savez(sys.argv[sys.argv.index("--save-init") + 1], **{
            f"{k}_{name}": np.ascontiguousarray(a.detach().numpy(), dtype=np.float32) for k, lstm in layers.items() for name, a in
            (("W", lstm.weight_ih_l0.T), ("U", lstm.weight_hh_l0.T), ("b", lstm.bias_ih_l0 + lstm.bias_hh_l0))})
    trained = [p for p in model.parameters() if p.requires_grad]
    keras_adam = "--keras-adam" in sys.argv
    opt = (KerasAdam(trained, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-7) if keras_adam
           else torch.optim.Adam(trained, lr=0.001, eps=1e-7))
    loss_fn = nn.MSELoss()
    g = torch.Generator().manual_seed(seed)
    history = []
    for e in range(epochs):
        t = time.perf_counter()
        order = torch.randperm(x.shape[0], generator=g)
        total = 0.0
        for start in range(0, x.shape[0], 128):
            xb = x[order[start:start + 128]]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), xb)
            loss.backward()
            opt.step()
            total += loss.item() * xb.shape[0]
        seconds = time.perf_counter() - t
        with torch.no_grad():
            val = sum(loss_fn(model(xt[i:i + 1000]), xt[i:i + 1000]).item() * 1000 for i in range(0, 10000, 1000)) / 10000
        history.append({"epoch": e + 1, "loss": total / x.shape[0], "val_loss": val, "seconds": seconds})
        print(f"Epoch {e + 1}/{epochs} - {seconds:.1f}s - loss: {total / x.shape[0]:.4f} - val_loss: {val:.4f}", flush=True)
    mean = x.mean(dim=0)
    baseline = ((xt - mean) ** 2).mean().item()
    print(f"the mean sequence scores {baseline:.4f}")
    if out:
        with open(out, "w") as f:
            json.dump({"torch": torch.__version__, "adam": "keras" if keras_adam else "torch", "epochs": history, "mean_baseline": baseline}, f, indent=1)


if __name__ == "__main__":
    main()
