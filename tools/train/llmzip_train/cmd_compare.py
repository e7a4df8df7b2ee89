"""`compare`: a model against bzip2 -9 and xz -9e, file by file (the bar for shipping a default model).

Sizes are real llmzip archives (every representable chunk model-coded, round trip checked) and
the classic tools' outputs; the exit status is 0 only when the model beats both on every file."""

from __future__ import annotations

import argparse
import json
import os
import subprocess

from . import data

PROSE = ["canterbury/alice29.txt", "canterbury/asyoulik.txt", "canterbury/lcet10.txt", "canterbury/plrabn12.txt",
         "calgary/book1", "calgary/book2", "calgary/paper1", "calgary/paper2", "calgary/paper3", "calgary/paper4",
         "calgary/paper5", "calgary/paper6", "gutenberg/Mark.Twain-Tom.Sawyer.txt", "gutenberg/pg1661.txt"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True)
    p.add_argument("--corpora", help="folder holding canterbury/, calgary/, gutenberg/: compares on the English prose files of issue 9")
    p.add_argument("--lanes", type=int, default=0)
    p.add_argument("--json", help="write the rows here as JSON")
    p.add_argument("files", nargs="*")


def _size(cmd: list[str], path: str) -> int:
    with open(path, "rb") as f:
        return len(subprocess.run(cmd, stdin=f, capture_output=True, check=True).stdout)


def run(args: argparse.Namespace) -> int:
    files = list(args.files) + ([os.path.join(args.corpora, f) for f in PROSE] if args.corpora else [])
    if not files:
        raise SystemExit("name files or --corpora")
    rows = []
    print("| file | bytes | model bpb | bzip2 -9 bpb | xz -9e bpb | beats both |")
    print("|---|---:|---:|---:|---:|---|")
    tot = {"bytes": 0, "model": 0, "bzip2": 0, "xz": 0}
    for f in files:
        extra = ["--lanes", str(args.lanes)] if args.lanes else []
        m = data.engine(["measure", "--model", args.model, *extra, f])[0]
        n = m["bytes"]
        bz = _size(["bzip2", "-9", "-c"], f)
        xz = _size(["xz", "-9e", "-c"], f)
        row = {"file": os.path.basename(f), "bytes": n, "model": m["archiveBytes"], "bzip2": bz, "xz": xz, "roundTrip": m["roundTrip"]}
        row["beats"] = row["model"] < bz and row["model"] < xz and m["roundTrip"]
        rows.append(row)
        for k in tot:
            tot[k] += row[k] if k != "bytes" else n
        print(f"| {row['file']} | {n} | {8 * row['model'] / n:.3f} | {8 * bz / n:.3f} | {8 * xz / n:.3f} | {'yes' if row['beats'] else 'NO'} |", flush=True)
    n = tot["bytes"]
    print(f"| total | {n} | {8 * tot['model'] / n:.3f} | {8 * tot['bzip2'] / n:.3f} | {8 * tot['xz'] / n:.3f} | {'yes' if all(r['beats'] for r in rows) else 'NO'} |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"model": os.path.basename(args.model), "rows": rows, "total": tot}, fh, indent=2)
    return 0 if all(r["beats"] for r in rows) else 1
