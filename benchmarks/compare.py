#!/usr/bin/env python
"""Compare the quickstart pipeline of two versions of the package in one run, on the same machine.

    python benchmarks/compare.py issue8-done HEAD            # git revisions (tags, branches, commits)
    python benchmarks/compare.py before after --n 20000 --repeat 5

Each revision is checked out into a temporary git worktree and put first on PYTHONPATH, so the console
script of the current environment runs that revision's code. The two versions run alternately
(A B A B ...) so that the machine's drift and other load fall on both alike; the script prints each
step's median seconds per version and the ratio after/before. Timings on shared virtual machines are
noisy (about ±10 %): read the ratio, not the absolute numbers.
"""
import argparse, os, statistics, subprocess, sys, tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from pipeline import pipeline      # the quickstart's three steps, timed (benchmarks/pipeline.py)

def checkout(rev:str, where:Path) -> Path:
    "A git worktree of `rev` in `where` (removed by `cleanup`)."
    subprocess.run(['git', 'worktree', 'add', '--detach', '-q', str(where), rev], check=True)
    return where

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('before', help='git revision of the reference version')
    ap.add_argument('after', help='git revision of the new version')
    ap.add_argument('--n', type=int, default=20000, help='blends')
    ap.add_argument('--repeat', type=int, default=3, help='runs of each version (medians reported)')
    ap.add_argument('--data', type=Path, help='input dataset (default: the built-in mock set)')
    a = ap.parse_args()
    if a.data is None:
        from candels_blender.mock.build import cached_mock
        a.data = cached_mock()
    tmp = Path(tempfile.mkdtemp(prefix='cb-compare-'))
    trees = {name: checkout(rev, tmp/name) for name, rev in (('before', a.before), ('after', a.after))}
    runs = {name: [] for name in trees}
    try:
        for i in range(a.repeat + 1):                       # the first round is a warm-up
            for name, tree in trees.items():
                os.environ['PYTHONPATH'] = str(tree)
                r = pipeline(a.n, Path(a.data).resolve(), tmp)
                if i: runs[name].append(r)
                print(f"round {i}{' (warm-up)' if not i else ''} {name}: {r['total_seconds']:.2f} s", flush=True)
    finally:
        for tree in trees.values(): subprocess.run(['git', 'worktree', 'remove', '--force', str(tree)])
    med = lambda name, key: statistics.median(r['steps'][key]['seconds'] if key != 'total' else r['total_seconds']
                                              for r in runs[name])
    print(f"\n{a.n} blends, medians of {a.repeat} alternating runs ({a.before} vs {a.after}):")
    print(f"  {'step':12} {'before s':>9} {'after s':>9} {'after/before':>13}")
    for key in ('produce', 'concatenate', 'convert', 'total'):
        b, f = med('before', key), med('after', key)
        print(f"  {key:12} {b:9.2f} {f:9.2f} {f / b:13.2f}")

if __name__ == '__main__': main()
