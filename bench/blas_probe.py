"""Which OpenBLAS kernel PyTorch's BLAS runs, and a setting that makes it run its best one.

Debian's OpenBLAS 0.3.21 does not recognise some newer CPUs and falls back to generic kernels ("Prescott"),
about 5x slower. Run under the PyTorch Python: prints one JSON line {"core": ..., "coretype": ..., "cpu": ...,
"torch": ...}, where "coretype" is the OPENBLAS_CORETYPE to set (null when the core OpenBLAS chose is fine). A
candidate is accepted only if a float32 product computed with it matches a float64 product (relative error < 1e-5).
Usage: /usr/bin/python3 bench/blas_probe.py
"""
import ctypes
import ctypes.util
import json
import os
import subprocess
import sys

GENERIC = {"Prescott", "Core2", "Nehalem", "Atom", "Katmai", "Northwood", "Banias", "Dunnington", "Penryn"}


def corename():
    for name in ("libopenblas.so.0", "libopenblasp-r0.3.21.so", ctypes.util.find_library("openblas") or ""):
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib.openblas_get_corename().decode()
        except (OSError, AttributeError):
            continue
    return None


def cpu():
    model, flags = "unknown", set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and model == "unknown":
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    return model, flags


def product_ok():
    import numpy as np
    import torch
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((256, 300)), rng.standard_normal((300, 200))
    got = (torch.from_numpy(a.astype(np.float32)) @ torch.from_numpy(b.astype(np.float32))).numpy()
    ref = a @ b
    return float(np.max(np.abs(got - ref)) / np.max(np.abs(ref))) < 1e-5


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        print(json.dumps({"core": corename(), "ok": product_ok()}))
        return
    import torch
    model, flags = cpu()
    core = corename()
    coretype = None
    if core in GENERIC:
        for candidate, needs in (("SkylakeX", "avx512f"), ("Haswell", "avx2")):
            if needs not in flags:
                continue
            out = subprocess.run([sys.executable, __file__, "--check"], capture_output=True, text=True,
                                 env=dict(os.environ, OPENBLAS_CORETYPE=candidate)).stdout
            try:
                probe = json.loads(out.strip().splitlines()[-1])
            except (IndexError, ValueError):
                continue
            if probe["ok"] and probe["core"] not in GENERIC:
                coretype, core = candidate, probe["core"]
                break
    print(json.dumps({"core": core, "coretype": coretype, "cpu": model, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
