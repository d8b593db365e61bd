"""The --check step shared by the fixture generators: compare freshly generated fixtures with the
committed ones, byte for byte, and report what is missing, stale or orphaned."""
import os
import sys


def stale_fixtures(committed_dir, fresh_dir, files, prefix=None):
    """Lines 'missing: f' / 'stale: f' for each generated file, and 'orphan: f' for committed files
    starting with `prefix` that no case generates (no orphan check when prefix is None)."""
    stale = []
    for fname in files:
        committed = os.path.join(committed_dir, fname)
        if not os.path.exists(committed):
            stale.append(f"missing: {fname}")
            continue
        with open(committed, "rb") as a, open(os.path.join(fresh_dir, fname), "rb") as b:
            if a.read() != b.read():
                stale.append(f"stale:   {fname}")
    if prefix is not None and os.path.isdir(committed_dir):
        wanted = set(files)
        for f in sorted(os.listdir(committed_dir)):
            if f.startswith(prefix) and f.endswith(".safetensors") and f not in wanted:
                stale.append(f"orphan:  {f} (no case generates it)")
    return stale


def report(stale, count, generator):
    """Prints the verdict; returns the exit status (1 when anything is out of date)."""
    if stale:
        print(f"{len(stale)} fixture(s) out of date; rerun /usr/bin/python3 {generator}:", file=sys.stderr)
        for line in stale:
            print("  " + line, file=sys.stderr)
        return 1
    print(f"all {count} fixtures up to date")
    return 0
