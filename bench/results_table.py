#!/usr/bin/env python3
"""The Markdown table of docs/RESULTS.md from docs/results/results.json (written by bench/results.py): printed, or
put between the markers in docs/RESULTS.md by bench/results.py."""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPORTED = {
    "notebook-simple": ("notebook", "simple 32", "Adagrad", 100, 32, "", "~0.0932"),
    "notebook-sparse": ("notebook", "sparse 32, L1 1e-4", "Adagrad", 250, 25, "sum", "train 0.1887 (with penalty), test ~0.0876"),
    "notebook-sparse-mean": ("notebook", "sparse 32, L1 1e-4", "Adagrad", 250, 25, "mean", "(same row, other semantics)"),
    "notebook-deep": ("notebook", "deep 128-64-32", "Adadelta", 100, 100, "", "~0.0885"),
    "blog-simple": ("blog", "simple 32", "Adadelta", 50, 256, "", "~0.11"),
    "blog-sparse": ("blog", "sparse 32, L1 1e-4", "Adadelta", 100, 256, "sum", "train 0.11, test 0.10; mean code 3.33"),
    "blog-sparse-mean": ("blog", "sparse 32, L1 1e-4", "Adadelta", 100, 256, "mean", "(same row, other semantics)"),
    "blog-deep": ("blog", "deep 128-64-32", "Adadelta", 100, 256, "", "~0.097"),
    "blog-conv": ("blog", "conv 16-8-8, code 4×4×8", "Adadelta", 50, 128, "", "~0.094"),
}


def cell(r):
    if r is None:
        return "—"
    s = f"train {r['train_loss']:.4f}, test {r['test_loss']:.4f}"
    if abs(r["test_loss"] - r["test_reconstruction"]) > 1e-6:
        s += f" (reconstruction {r['test_reconstruction']:.4f})"
    return s + f"; code {r['mean_code']:.2f}; {r['seconds']:.0f} s"


def table():
    results = json.load(open(os.path.join(ROOT, "docs", "results", "results.json")))
    lines = ["| row | model | optimizer | epochs | batch | L1 over the batch | reported | PyTorch measured | Latent measured |"]
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for key, (src, model, opt, epochs, batch, red, reported) in REPORTED.items():
        r = results.get(key, {})
        lines.append(f"| {src} | {model} | {opt} | {epochs} | {batch} | {red or '—'} | {reported} | {cell(r.get('pytorch'))} | {cell(r.get('latent'))} |")
    return "\n".join(lines)


def update_results_md():
    """Replaces the table between the markers in docs/RESULTS.md."""
    path = os.path.join(ROOT, "docs", "RESULTS.md")
    text = open(path).read()
    start = text.index("<!-- results-table:start")
    start = text.index("\n", start) + 1
    end = text.index("<!-- results-table:end -->")
    open(path, "w").write(text[:start] + table() + "\n" + text[end:])


def main():
    print(table())


if __name__ == "__main__":
    main()
