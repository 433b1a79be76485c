#!/usr/bin/env python
"""Benchmark of BlendDataset: items per second per worker, rendered on the fly vs read from the files.

    python benchmarks/dataset.py                      # quickstart (20 000 blends, ogg_masks) in ./bench-dataset
    python benchmarks/dataset.py --work /tmp/b --items 4000 --batch 64

Makes (once) the quickstart output of produce, with its stamps (the dataset renders from them), and a
copy concatenated with `--method ogg_masks --delete` (the dataset reads its files). The files are read
once before timing, so they sit in the page cache. Then, in this one process (one worker), the same
training blends in one random order:

- `ds[i]` item by item, and `ds.batch(...)` in batches (the path torch's DataLoader takes: __getitems__);
- on the fly with the added noise redrawn (epoch 1), and from the files;
- and, for reference, bare rows: `np.array(blends[i]), np.array(masks[i])` from the memory-mapped files
  (what a minimal numpy loader does: no dict, channels last as stored).

Each rate is the median of `--repeat` passes (the five ways take turns) after a warm-up. Target (issue 11):
on the fly at least 0.3 x the file rate. Timings on shared machines are noisy: compare the ratios of one run.
"""
import argparse, os, shutil, statistics, subprocess, sys, time
from pathlib import Path

import numpy as np

from candels_blender.learning.dataset import BlendDataset

SCRIPT = Path(sys.executable).parent/'candels-blender'

def make_outputs(work:Path, n:int) -> tuple:
    "The quickstart's output directory with its stamps, and a concatenated copy without them."
    out, files = work/f'output-s_42-n_{n}', work/'files'
    if not out.is_dir():
        subprocess.run([SCRIPT, 'produce', '-n', str(n), '--exclude', 'irr', '--mag_high', '23.5',
                        '--test_ratio', '0.2', '--seed', '42', '--use_clean_galaxies', '-o', out, '--quiet'],
                       check=True, cwd=work)
    if not files.is_dir():
        shutil.copytree(out, work/'files.tmp')
        subprocess.run([SCRIPT, 'concatenate', '-d', work/'files.tmp', '--method', 'ogg_masks', '--delete', '--quiet'],
                       check=True, cwd=work)
        os.rename(work/'files.tmp', files)
    return out, files

def rates(runs:dict, order, repeat:int) -> dict:
    "Median items per second of each (run, batch size) over `order`; the runs take turns, so that they share the load."
    calls = {name: [order[a:a + batch] for a in range(0, len(order), batch)] for name, (run, batch) in runs.items()}
    for name, (run, batch) in runs.items(): run(calls[name][:max(1, 300 // batch)])   # warm-up: caches, first opens
    seen = {name: [] for name in runs}
    for _ in range(repeat):
        for name, (run, batch) in runs.items():
            t0 = time.perf_counter(); run(calls[name]); seen[name].append(len(order) / (time.perf_counter() - t0))
    return {name: statistics.median(r) for name, r in seen.items()}

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--work', default='bench-dataset', help='directory for the outputs (kept for reruns)')
    p.add_argument('--n', type=int, default=20000, help='blends of the quickstart run')
    p.add_argument('--items', type=int, default=4096, help='items per timed pass')
    p.add_argument('--batch', type=int, default=64, help='items per batch() call')
    p.add_argument('--repeat', type=int, default=5, help='timed passes (median)')
    a = p.parse_args()
    work = Path(a.work).resolve(); work.mkdir(parents=True, exist_ok=True)
    out, files = make_outputs(work, a.n)
    fly, disk = BlendDataset(out, target='ogg_masks', epoch=1), BlendDataset(files, target='ogg_masks')
    order = np.random.default_rng(0).permutation(len(fly))[:a.items]
    blends, masks = (np.load(files/f'train_{f}.npy', mmap_mode='r') for f in ('blends', 'ogg_masks'))
    for f in [*(out/'stamps').glob('*.npy'), files/'train_blends.npy', files/'train_ogg_masks.npy']:
        with open(f, 'rb') as fh:                                             # into the page cache
            while fh.read(1 << 24): pass
    def items(ds): return lambda calls: [ds[int(c[0])] for c in calls]
    def batches(ds): return lambda calls: [ds.batch(c) for c in calls]
    def rows(calls): return [(np.array(blends[c[0]]), np.array(masks[c[0]])) for c in calls]
    r = rates(dict(fly_item=(items(fly), 1), file_item=(items(disk), 1), fly_batch=(batches(fly), a.batch),
                   file_batch=(batches(disk), a.batch), rows=(rows, 1)), order, a.repeat)
    print(f"BlendDataset, quickstart train split ({len(fly)} blends of 2, {blends.shape[-1]}^2 pixels, ogg_masks), "
          f"{a.items} items in random order, one process, median of {a.repeat}; {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"  on the fly (noise of epoch 1), ds[i]        {r['fly_item']:8.0f} items/s")
    print(f"  from page-cached files,        ds[i]        {r['file_item']:8.0f} items/s")
    print(f"  on the fly (noise of epoch 1), batch({a.batch})    {r['fly_batch']:8.0f} items/s")
    print(f"  from page-cached files,        batch({a.batch})    {r['file_batch']:8.0f} items/s")
    print(f"  bare memory-mapped rows (no dataset)        {r['rows']:8.0f} items/s")
    print(f"  ratio on the fly / files: items {r['fly_item'] / r['file_item']:.2f}, batches "
          f"{r['fly_batch'] / r['file_batch']:.2f}; best on the fly / bare rows "
          f"{max(r['fly_item'], r['fly_batch']) / r['rows']:.2f} (target >= 0.3)")

if __name__ == '__main__': main()
