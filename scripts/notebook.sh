#!/usr/bin/env bash
# The notebook's simple autoencoder end to end: data into the cache, 100 epochs of training (Adagrad, batch 32,
# binary cross-entropy), then runs/simple/ holds the model, history.csv, loss.png, reconstructions.png,
# codes.png, tsne.png and run.json (a run already there is replaced). Extra arguments go to 'latent train'
# (e.g. --epochs 5).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-data.sh
./latent train --model simple --dataset mnist --seed 1 --out runs/simple --overwrite "$@"
