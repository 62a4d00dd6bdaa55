#!/usr/bin/env python3
"""Latent against PyTorch, side by side: for each row, each repetition runs one Latent process and one PyTorch
process in turn (alternating, so both see the same machine state), each training a warm-up then EPOCHS
epochs. Prints a Markdown table of median seconds per epoch, the ratio PyTorch/Latent, each epoch's work against the
FMA peak measured on the machine (Latent.Bench ceiling: the multiply-adds of the layers that multiply, over a
register-only FMA loop on every core, the better of a measurement before and one after the runs), and each process's peak resident memory (from wait4). A second table gives the
ratio within each repetition (its two processes ran back to back) and the fastest epoch of each program. Stdlib only; PyTorch runs under Debian's /usr/bin/python3.
Each repetition's line also gives the CPU time other processes took while the program ran (/proc/stat's busy time less
the program's own), and the table is headed by a warning naming the runs (and machine probes) where that exceeded OTHER_CPU_LIMIT.

The table starts with the CPU model, the OpenBLAS kernel PyTorch used (a generic fallback is replaced after a check,
see bench/blas_probe.py) and both programs' versions.

PyTorch's OpenBLAS threads (1 or 2) are chosen per row by timing one epoch with each (--blas-threads auto).

Latent's Dense layers multiply a batch of the model's input that is mostly zeros (MNIST's pixels) by its nonzeros only;
PyTorch's nn.Linear multiplies every pixel. For deep-100, vae-100, simple-256 and simple-32 (their encoder's forward) a third process per repetition runs Latent with that off
(LATENT_KNOBS=SparseInput=0), so the table shows both speeds, and the fraction of the FMA peak is given for both: the
"nominal" one counts the skipped zeros as work done, the dense-only one does not (--no-dense-latent leaves it out).

Usage: python3 bench/compare.py [--reps 3] [--epochs 2] [--rows simple-256,simple-32,deep-100,conv-128,denoise-128,denoise-keras-128,vae-100,conv-vae-128]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LATENT = os.path.join(HERE, "Latent.Bench", "bin", "Release", "net10.0", "Latent.Bench.dll")
PYTORCH = [os.environ.get("TORCH_PYTHON", "/usr/bin/python3"), os.path.join(HERE, "pytorch", "epochs.py")]
# CPU seconds other processes may use during one timed program before the table names it as disturbed (system daemons
# use a few hundredths over a program's 2–20 s).
OTHER_CPU_LIMIT = 0.25


def busy_seconds():
    """CPU time the whole machine has spent busy so far (/proc/stat: every state but idle and iowait), or None."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def run_counted(cmd, env=None):
    """Runs cmd to its end: its stdout, stderr, exit status and rusage (wait4), and the CPU seconds anything but it (and
    this script) took meanwhile, or None where /proc/stat cannot be read: another job on this machine takes a core from
    one program and not the other, and the table would not show it."""
    busy0 = busy_seconds()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    busy1 = busy_seconds()
    other = None if busy0 is None or busy1 is None else max(0.0, busy1 - busy0 - usage.ru_utime - usage.ru_stime)
    return out, err, status, usage, other


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--rows", default="simple-256,simple-32,deep-100")
    ap.add_argument("--no-dense-latent", action="store_true",
                    help="skip the Latent run without the sparse-input multiply")
    ap.add_argument("--blas-threads", default="auto", choices=["auto", "1", "2"],
                    help="OpenBLAS threads for PyTorch; auto times one epoch of each row with 1 and with 2 and keeps the faster")
    args = ap.parse_args()
    subprocess.run(["dotnet", "build", os.path.join(HERE, "Latent.Bench"), "-c", "Release", "-v", "quiet", "-nologo"], check=True,
                   stdout=subprocess.DEVNULL)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    # PyTorch at its best on this machine: if OpenBLAS fell back to a generic kernel, name the right one
    # (bench/blas_probe.py checks a product against float64 before accepting it).
    probe = json.loads(subprocess.run([PYTORCH[0], os.path.join(HERE, "blas_probe.py")], capture_output=True, text=True,
                                      env=env, check=True).stdout.strip().splitlines()[-1])
    if probe["coretype"]:
        env["OPENBLAS_CORETYPE"] = probe["coretype"]
    dotnet = subprocess.run(["dotnet", "--version"], capture_output=True, text=True).stdout.strip()
    # PyTorch's BLAS threads per row: its intra-op pool already uses both cores, and OpenBLAS threads on top can
    # help or hurt depending on the shapes, so each row gets the faster of 1 and 2 (timed on one epoch).
    blas = {}
    for row in args.rows.split(","):
        if args.blas_threads != "auto":
            blas[row] = args.blas_threads
            continue
        timing = {}
        for threads in ("1", "2"):
            out = subprocess.run(PYTORCH + [row, "1"], capture_output=True, text=True, check=True,
                                 env=dict(env, OPENBLAS_NUM_THREADS=threads)).stdout
            timing[threads] = float([l for l in out.splitlines() if l.startswith(row + " ")][0].split()[1])
        blas[row] = min(timing, key=timing.get)
        print(f"{row}: PyTorch one epoch with 1 BLAS thread {timing['1']:.3f} s, with 2 {timing['2']:.3f} s -> {blas[row]}",
              file=sys.stderr, flush=True)
    # What ran while other processes took more than OTHER_CPU_LIMIT of CPU, named above the table.
    disturbed = []
    def note_disturbed(what, other):
        if other is not None and other > OTHER_CPU_LIMIT:
            disturbed.append(f"{what} ({other:.2f} s)")
    # The FMA peak is the hardware's; on a machine shared with noisy neighbours one measurement can catch a core
    # busy elsewhere (a two-core "peak" of 101 GFLOPS next to 88 on one core). So it is measured before and after
    # the runs, and the best of the two is the peak.
    def measure_ceiling(when):
        cmd = ["dotnet", LATENT, "ceiling", args.rows]
        out, err, status, _, other = run_counted(cmd)
        if status != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{err}")
        note_disturbed(f"the machine probe {when}", other)
        out = out.split("\n")
        return ({int(l.split()[1]): float(l.split()[2]) for l in out if l.startswith("peak ")},
                {l.split()[1]: float(l.split()[2]) for l in out if l.startswith("flops ")},
                # What the FMA loop does not feel: memory bandwidth (triad, one core / every core) and a cache line's
                # round trip between two cores, so a run's table says what the machine gave it.
                {int(l.split()[1]): float(l.split()[2]) for l in out if l.startswith("memory ")},
                next((float(l.split()[1]) for l in out if l.startswith("roundtrip ")), 0.0))
    # Rows whose first layer multiplies MNIST's pixels sparsely: Dense with 64 units or more (deep's 128, the VAE's 256),
    # and the simple model's 32 units in its forward when each core runs a share of at least 16 rows
    # (Model.WholeBatchBelowRows; smaller shares run as one executor, which cuts each product across the cores and
    # leaves the layer dense). The conv and recurrent rows read no pixels through a Dense layer.
    cores = len(os.sched_getaffinity(0))
    def dense_too(row):
        model, batch = row.split("-")[0], int(row.split("-")[-1]) if row.split("-")[-1].isdigit() else 0
        return not args.no_dense_latent and (model in ("deep", "vae") or (model == "simple" and batch // cores >= 16))
    peak_before, _, memory_before, trip_before = measure_ceiling("before the runs")
    results = {}
    for rep in range(args.reps):
        for row in args.rows.split(","):
            programs = [("latent", ["dotnet", LATENT, "epoch", row, str(args.epochs), "--plain"]),
                        ("pytorch", PYTORCH + [row, str(args.epochs)])]
            if dense_too(row):
                programs.append(("latent-dense", ["dotnet", LATENT, "epoch", row, str(args.epochs), "--plain"]))
            for name, cmd in programs:
                run_env = (dict(env, OPENBLAS_NUM_THREADS=blas[row]) if name == "pytorch" else
                           dict(env, LATENT_KNOBS="SparseInput=0") if name == "latent-dense" else env)
                out, err, status, usage, other = run_counted(cmd, run_env)
                if status != 0:
                    sys.exit(f"{' '.join(cmd)} failed:\n{err}")
                secs = [float(l.split()[1]) for l in out.splitlines() if l.startswith(row + " ")]
                r = results.setdefault((row, name), {"secs": [], "rss": [], "reps": []})
                r["secs"] += secs
                r["reps"].append(statistics.median(secs))
                r["rss"].append(usage.ru_maxrss / 1024)
                note_disturbed(f"rep {rep + 1} {row} {name}", other)
                print(f"rep {rep + 1} {row:<11} {name:<12} " + " ".join(f"{s:.3f}" for s in secs) + f"  peak RSS {usage.ru_maxrss / 1024:.0f} MB"
                      + (f"  other CPU {other:.2f} s" if other is not None else ""), file=sys.stderr, flush=True)
    # The ceiling: each epoch's multiply-add work (Latent.Bench's count over the layers that multiply) against the
    # FMA peak on every core (the better of the measurements before and after the runs).
    peak_after, gflop, memory_after, trip_after = measure_ceiling("after the runs")
    peak = {k: max(peak_before[k], peak_after[k]) for k in peak_after}
    top_threads = max(peak)
    top = peak[top_threads]
    print(f"CPU: {probe['cpu']} ({os.cpu_count()} cores); FMA peak {peak[1]:.0f} GFLOPS on one core, {top:.0f} on {top_threads} "
          f"(before the runs {peak_before[1]:.0f} / {peak_before[top_threads]:.0f}, after {peak_after[1]:.0f} / {peak_after[top_threads]:.0f}); "
          f"OpenBLAS core: {probe['core']}"
          + (f" (OPENBLAS_CORETYPE={probe['coretype']} set: it had fallen back to a generic kernel)" if probe["coretype"] else "")
          + f"; PyTorch {probe['torch']}, torch threads 2, OpenBLAS threads per row as below; Latent on .NET SDK {dotnet}\n"
          + (f"Memory (triad) {memory_before.get(1, 0):.0f} / {memory_before.get(top_threads, 0):.0f} GB/s on one core / {top_threads} before the runs, "
             f"{memory_after.get(1, 0):.0f} / {memory_after.get(top_threads, 0):.0f} after; a cache line between two cores and back "
             f"{trip_before:.0f} ns before, {trip_after:.0f} after\n" if memory_after else ""))
    if disturbed:
        print(f"Warning: other processes used more than {OTHER_CPU_LIMIT} s of CPU while these ran, so they shared the cores: "
              + "; ".join(disturbed) + "\n")
    print("| row | PyTorch BLAS threads | PyTorch s/epoch | Latent s/epoch | PyTorch / Latent | Latent dense-only s/epoch | "
          "PyTorch / dense-only | epoch GFLOP | PyTorch % of peak | Latent % of peak: nominal | dense-only | PyTorch peak RSS | Latent peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in args.rows.split(","):
        t = statistics.median(results[(row, "pytorch")]["secs"])
        l = statistics.median(results[(row, "latent")]["secs"])
        if (row, "latent-dense") in results:
            d = statistics.median(results[(row, "latent-dense")]["secs"])
            dense_cols = f"{d:.3f} | {t / d:.2f}× |"
            dense_peak = f"{100 * gflop[row] / d / top:.0f}%"
        else:
            dense_cols, dense_peak = "– | – |", "–"
        print(f"| {row} | {blas[row]} | {t:.3f} | {l:.3f} | {t / l:.2f}× | {dense_cols} {gflop[row]:.1f} | {100 * gflop[row] / t / top:.0f}% | "
              f"{100 * gflop[row] / l / top:.0f}% | {dense_peak} | {max(results[(row, 'pytorch')]['rss']):.0f} MB | "
              f"{max(results[(row, 'latent')]['rss']):.0f} MB |")
    # On a machine whose speed drifts, two more views of the same epochs: each repetition's two processes ran back to
    # back, so the ratio within a repetition compares like with like (its median and range over the repetitions), and
    # the fastest epoch of each program is its speed when least disturbed.
    print("\n| row | PyTorch / Latent within each repetition: median (range) | fastest PyTorch epoch | fastest Latent epoch | fastest / fastest |")
    print("|---|---|---|---|---|")
    for row in args.rows.split(","):
        pt, lt = results[(row, "pytorch")], results[(row, "latent")]
        paired = [a / b for a, b in zip(pt["reps"], lt["reps"])]
        tb, lb = min(pt["secs"]), min(lt["secs"])
        print(f"| {row} | {statistics.median(paired):.2f}× ({min(paired):.2f}–{max(paired):.2f}×) | {tb:.3f} | {lb:.3f} | {tb / lb:.2f}× |")


if __name__ == "__main__":
    main()
