#!/usr/bin/env python
"""Benchmark of concatenate's outputs: the quickstart's blends written three ways in one run.

    python benchmarks/store.py                      # 20 000 blends on the default mock set (needs .[dask])
    python benchmarks/store.py --n 20000 --data data --repeat 3

The quickstart's produce runs once (untimed); then `concatenate --method ogg_masks` is timed, in turns:
  npy        the built-in workers (2), .npy files
  zarr       the built-in workers (2), a local Zarr store per split (chunks of 256 blends: blends raw, masks Zstd-1)
  zarr-dask  a 2-worker Dask LocalCluster (processes, one thread each), each task writing its own chunks
For each: wall time (median of --repeat turns), blends/s, MB/s of array data (blends + target, uncompressed)
and MB stored. One untimed warm-up of each way comes first (memory touched for the first time on these VMs is
several times slower to write). The target (issue 12): the Dask path within 1.3x of the built-in one.
"""
import argparse, os, shutil, statistics, sys, tempfile, time
from pathlib import Path

def stored_mb(paths) -> float:
    "MB on disk of files and directories."
    total = 0
    for p in map(Path, paths):
        files = [p] if p.is_file() else [f for f in p.rglob('*') if f.is_file()]
        total += sum(f.stat().st_size for f in files)
    return total / 1e6

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n', type=int, default=20000, help='blends (train + test)')
    ap.add_argument('--data', default=None, help='input directory (default: ./data, else the mock set)')
    ap.add_argument('--repeat', type=int, default=3, help='timed turns of each way')
    ap.add_argument('--workdir', default=None, help='where to write (default: a temporary directory, removed)')
    args = ap.parse_args()
    from distributed import LocalCluster
    from candels_blender.pipeline import produce, concatenate
    from candels_blender.outputs.products import read_catalogues, load_stamps

    work = Path(args.workdir or tempfile.mkdtemp(prefix='bench-store-'))
    out = work/f'output-s_42-n_{args.n}'
    if not (out/'train_catalogue.csv').exists():
        t0 = time.perf_counter()
        produce(n_blends=args.n, exclude=['irr'], mag_high=23.5, test_ratio=0.2, seed=42, use_clean_galaxies=True,
                datapath=args.data, output=out, quiet=True, workers=2)
        print(f"produce: {time.perf_counter() - t0:.1f} s (untimed below)")
    cats, (stack, _) = read_catalogues(out), load_stamps(out)
    n, S, k = sum(len(c) for c in cats.values()), stack.size, 2
    array_mb = n * S * S * (4 + (1 + k)) / 1e6                      # float32 blends + uint8 ogg_masks (k = 2)

    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None)
    print(f"LocalCluster (2 workers, 1 thread each) started in {time.perf_counter() - t0:.1f} s (untimed)")
    ways = {'npy': dict(), 'zarr': dict(format='zarr', store=str(work/'zarr')),
            'zarr-dask': dict(format='zarr', store=str(work/'dask'), scheduler=cluster.scheduler_address)}
    outputs = {'npy': [out/f'{s}_{m}.npy' for s in ('train', 'test') for m in ('blends', 'ogg_masks')],
               'zarr': [work/'zarr'], 'zarr-dask': [work/'dask']}
    times = {w: [] for w in ways}
    try:
        for turn in range(args.repeat + 1):                          # turn 0: warm-up, untimed
            for way, kwargs in ways.items():
                for p in outputs[way]: shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
                os.sync()
                t0 = time.perf_counter()
                concatenate(out, 'ogg_masks', workers=2, quiet=True, **kwargs)
                if turn: times[way].append(time.perf_counter() - t0)
    finally:
        cluster.close()
    print(f"\n{n} blends of {S}x{S} pixels, ogg_masks; {array_mb:.0f} MB of arrays; median of {args.repeat} turns, 2 cores")
    print(f"{'way':10s} {'seconds':>8s} {'blends/s':>9s} {'MB/s':>7s} {'MB stored':>10s}  turns (s)")
    for way, ts in times.items():
        t = statistics.median(ts)
        print(f"{way:10s} {t:8.2f} {n / t:9.0f} {array_mb / t:7.0f} {stored_mb(outputs[way]):10.0f}  "
              + ' '.join(f'{x:.2f}' for x in ts))
    for stat in (statistics.median, min):
        ratio = stat(times['zarr-dask']) / stat(times['npy'])
        print(f"{stat.__name__:6s}: Dask path / built-in npy path {ratio:.2f}x (target <= 1.3x); "
              f"per Dask worker {n / stat(times['zarr-dask']) / 2:.0f} blends/s")
    if not args.workdir: shutil.rmtree(work)

if __name__ == '__main__':
    main()
