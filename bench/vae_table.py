#!/usr/bin/env python3
"""Prints docs/RESULTS.md's VAE table from the JSON files bench/Latent.Bench `vae` and bench/pytorch/vae.py wrote
into docs/results/vae/: per run the last epoch's loss, reconstruction and KL, the test set's negative ELBO (dense
only: the conv VAE trains on all 70,000 digits, as keras.io's does), the importance-sampled log-likelihood and the
training time (not a benchmark: the runs shared the machine with other work)."""
import json
import os

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "results", "vae")
ROWS = [
    ("blog's dense VAE, RMSprop, batch 100", "dense", "—"),
    ("keras.io conv VAE, Adam, batch 128, 10 epochs", "conv10", "(reports epoch 30 only)"),
    ("keras.io conv VAE, Adam, batch 128", "conv", "loss 146.95, reconstruction 140.15, KL 6.80"),
    ("dense VAE, reconstruction *averaged* over pixels", "dense-mean", "—"),
]


def describe(path):
    if not os.path.exists(path):
        return None
    d = json.load(open(path))
    e = d["epochs"][-1]
    mean = d["kind"] == "dense-mean"   # losses per pixel: the reconstruction averaged, not summed
    kl = f"{e['kl']:.2g}" if e["kl"] < 0.01 else f"{e['kl']:.2f}"
    text = (f"{e['epoch']} epochs: loss {e['loss']:.4f} per pixel (×784 = {784 * e['reconstruction']:.1f} nats), KL {kl}" if mean
            else f"{e['epoch']} epochs: loss {e['loss']:.2f}, reconstruction {e['reconstruction']:.2f}, KL {kl}")
    if "val_loss" in e and not mean:
        text += f"; test −ELBO {-d['test_elbo']:.2f}"
    text += f"; log-likelihood {d['log_likelihood']:.2f} (K {d['ll_k']}, {d['ll_n']:,} test digits); {sum(r['seconds'] for r in d['epochs']):.0f} s"
    return text


print("| model | reported | PyTorch 1.13 | Latent |")
print("|---|---|---|---|")
for label, key, reported in ROWS:
    lat = describe(os.path.join(HERE, f"latent-{key}.json"))
    pt = describe(os.path.join(HERE, f"pytorch-{key}.json"))
    if lat is None and pt is None:
        continue
    print(f"| {label} | {reported} | {pt or 'not run'} | {lat or 'not run'} |")
