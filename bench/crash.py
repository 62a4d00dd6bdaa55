#!/usr/bin/env python3
"""Crash harness for run folders: kill `latent train` with SIGKILL at random moments (mid-epoch, mid-checkpoint,
mid-save, while figures are written) and resume it, many times, checking after every kill and at the end:

  1. the run folder is never unusable: `--resume` always continues (or finishes) it, with exit 0;
  2. model.safetensors, whenever present, loads (`latent summary`, exit 0);
  3. no temporary file is left after a resume;
  4. every resumed run that completes has the uninterrupted run's weights, bit for bit, and the same history
     (every epoch's losses; the seconds column aside), and its run.json says all epochs are done.

The data set is small (2,000 synthetic samples of 64 features), the model the simple preset with a checkpoint every
epoch, so a run lasts a few seconds and kills land in every phase. Usage:
  python3 bench/crash.py [--kills 100] [--epochs 6] [--seed 1] [--out /tmp/latent-crash]
Prints one line per kill and a summary; exit status 1 if any check failed.
"""
import argparse
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DLL = os.path.join(ROOT, "src", "Latent.Cli", "bin", "Release", "net10.0", "Latent.Cli.dll")


def weights(path):
    """The tensors of a safetensors file (name -> bytes), the optimizer state included; metadata left out."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    return {k: data[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in header.items() if k != "__metadata__"}


def history(run):
    with open(os.path.join(run, "history.csv")) as f:
        return [line.rsplit(",", 1)[0] for line in f.read().splitlines()]   # the seconds column varies


def latent(args, timeout=300):
    return subprocess.run(["dotnet", DLL] + args, capture_output=True, text=True, timeout=timeout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="/tmp/latent-crash")
    a = ap.parse_args()
    subprocess.run(["dotnet", "build", os.path.join(ROOT, "src", "Latent.Cli"), "-c", "Release", "-v", "quiet", "-nologo"], check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(a.out, ignore_errors=True)
    os.makedirs(a.out)
    rng = random.Random(a.seed)
    data = os.path.join(a.out, "data.npy")
    # 2,000 × 64 values in [0, 1] as an .npy (float32, C order), written without NumPy.
    values = [rng.random() for _ in range(2000 * 64)]
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2000, 64), }"
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    with open(data, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack(f"<{len(values)}f", *values))
    train = ["train", "--model", "simple", "--dataset", data, "--epochs", str(a.epochs), "--batch-size", "32",
             "--checkpoint-every", "1", "--seed", "7"]
    ref = os.path.join(a.out, "reference")
    t0 = time.time()
    r = latent(train + ["--out", ref])
    if r.returncode != 0:
        sys.exit(f"reference run failed: {r.stderr}")
    full = time.time() - t0
    ref_weights, ref_history = weights(os.path.join(ref, "model.safetensors")), history(ref)
    print(f"reference run: {full:.1f} s for {a.epochs} epochs; kills at random in [0.1, {full + 0.5:.1f}] s after a start")

    failures, kills, completed, cycle = [], 0, 0, 0
    phases = {}
    while kills < a.kills:
        cycle += 1
        run = os.path.join(a.out, f"run{cycle}")
        started = False
        while True:
            args = (train + ["--out", run]) if not started else ["train", "--resume", run, "--epochs", str(a.epochs)]
            if kills < a.kills and rng.random() < 0.85:
                p = subprocess.Popen(["dotnet", DLL] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                delay = rng.uniform(0.1, full + 0.5)
                try:
                    p.wait(timeout=delay)
                    finished = True
                except subprocess.TimeoutExpired:
                    finished = False
                if not finished:
                    p.send_signal(signal.SIGKILL)
                    p.wait()
                    kills += 1
                    present = sorted(os.listdir(run)) if os.path.isdir(run) else []
                    phase = "before the first checkpoint" if "model.safetensors" not in present else \
                            "after the figures" if "loss.png" in present else "between checkpoints"
                    phases[phase] = phases.get(phase, 0) + 1
                    if "model.safetensors" in present:
                        s = latent(["summary", run])
                        if s.returncode != 0:
                            failures.append(f"kill {kills}: model.safetensors does not load: {s.stderr.strip()}")
                    started = started or os.path.exists(os.path.join(run, "run.json")) or "model.safetensors" in present
                    print(f"kill {kills:3d} at {delay:4.1f} s ({phase}; {len([f for f in present if '.tmp' in f])} temp files)")
                    continue
                err = p.stderr.read()
                code = p.returncode
            else:
                res = latent(args)
                code, err = res.returncode, res.stderr
            if code != 0:
                if not started and "already holds a run" in err:
                    started = True   # killed after run.json was written but before the model: resume it
                    continue
                if not (started and f"has done {a.epochs} epochs" in err):
                    failures.append(f"cycle {cycle}: {' '.join(args[:3])} exit {code}: {err.strip()[:300]}")
                    break
                # Killed after everything was written (the run was complete): --resume says so; check it as done.
            leftovers = [f for f in os.listdir(run) if ".tmp" in f]
            if leftovers:
                failures.append(f"cycle {cycle}: temporary files left after a completed run: {leftovers}")
            if weights(os.path.join(run, "model.safetensors")) != ref_weights:
                failures.append(f"cycle {cycle}: the resumed run's weights differ from the uninterrupted run's")
            if history(run) != ref_history:
                failures.append(f"cycle {cycle}: history.csv differs from the uninterrupted run's")
            with open(os.path.join(run, "run.json")) as f:
                if json.load(f).get("epochs_done") != a.epochs:
                    failures.append(f"cycle {cycle}: run.json does not say {a.epochs} epochs done")
            completed += 1
            shutil.rmtree(run)
            break
    print(f"\n{kills} kills over {cycle} runs, {completed} resumed to completion; kills by phase: {phases}")
    print(f"checks failed: {len(failures)}")
    for f in failures:
        print("  " + f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
