#!/usr/bin/env python3
"""Prints docs/RESULTS.md's denoising table from the JSON files bench/Latent.Bench `denoise` and
bench/pytorch/denoise.py wrote into docs/results/denoise/: per run the last epoch's training loss, the test loss
(noisy -> clean, binary cross-entropy), the mean per-image PSNR of the noisy and of the restored test digits against
the clean ones, and the training time (not a benchmark unless the run had the machine to itself)."""
import json
import os

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "results", "denoise")
ROWS = [
    ("blog: Conv32-Pool ×2 / Conv32-Up ×2, Adadelta, noise 0.5, 100 epochs", "blog", "no number reported"),
    ("keras.io: Conv32-Pool ×2 / Conv2DTranspose 32 ×2, Adam, clean 50 epochs then noise 0.4, 100 epochs", "keras",
     "clean val_loss 0.0622, noisy val_loss 0.0839"),
]


def describe(path):
    if not os.path.exists(path):
        return None
    d = json.load(open(path))
    h = d["history"]
    text = ""
    clean = [r for r in h if r["phase"] == "clean"]
    if clean:
        text += f"clean {len(clean)} epochs: val_loss {clean[-1]['val_loss']:.4f}; "
    noisy = [r for r in h if r["phase"] == "noisy"]
    text += (f"noisy {len(noisy)} epochs: train {noisy[-1]['loss']:.4f}, test {d['test_loss']:.4f}; "
             f"PSNR {d['psnr_noisy']:.2f} → **{d['psnr_restored']:.2f} dB**; {d['seconds']:.0f} s")
    return text


print("| model | reported | PyTorch 1.13 | Latent |")
print("|---|---|---|---|")
for label, key, reported in ROWS:
    lat = describe(os.path.join(HERE, f"latent-{key}.json"))
    pt = describe(os.path.join(HERE, f"pytorch-{key}.json"))
    print(f"| {label} | {reported} | {pt or 'not run yet'} | {lat or 'not run yet'} |")
