#!/usr/bin/env python
"""Benchmark of the quickstart pipeline: produce + concatenate (ogg_masks) + convert.

    python benchmarks/pipeline.py                   # 20 000 and 100 000 blends on the default mock set
    python benchmarks/pipeline.py --n 20000 --data data --repeat 3
    python benchmarks/pipeline.py --n 20000 --original /path/to/venv-orig/bin/candels-blender   # side by side

With `--original SCRIPT` (the console script of the original implementation, aboucaud/candels-blender,
installed in its own environment), the original's three commands run on the same input, in turn with this
package's (ours, original, ours, original, ...; each pair shares the machine's state), and the script
prints each step's median seconds for both and the median of the paired ratios original/ours. The
original is given the same options in its own spelling (`-e irr`; it has no `--use_clean_galaxies`, so it
pairs all 2 201 galaxies of the cut instead of the 1 688 screened ones) and reads `./data`, a link to the input.

Each step runs as the console script, as a user runs it. For each step the script prints the wall
time, blends per second, MB written and MB/s, and the peak resident memory of the whole process tree
(the command and its worker processes, sampled every 20 ms from /proc; shared pages count once per
process, so this over-estimates). It also times produce with 1 and 2 workers, and measures the
machine's sequential write speed (into the page cache, and through to the disk with fsync) for
comparison. One untimed warm-up run comes first (on the VMs here, memory touched for the first
time since boot is several times slower to write). Reference (issue 3): the original implementation took ~72 s for 20 000 blends on this
machine class (produce 53 s, concatenate 18.6 s, convert 0.4 s); the target is <= 7 s, <= 1 GB.
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, threading, time
from pathlib import Path

SCRIPT = Path(sys.executable).parent/'candels-blender'

def tree_rss_kb(pid:int) -> int:
    "Resident memory (kB) of a process and all its descendants, from /proc."
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f'/proc/{p}/status').read_text()
            total += int(next(l.split()[1] for l in status.splitlines() if l.startswith('VmRSS:')))
            for task in Path(f'/proc/{p}/task').iterdir():
                todo += [int(c) for c in (task/'children').read_text().split()]
        except (FileNotFoundError, ProcessLookupError, StopIteration, PermissionError): pass
    return total

def run(cmd:list, cwd:Path) -> dict:
    "Run a command; return wall time (s), peak tree RSS (MB) and exit status."
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss_kb(proc.pid)); time.sleep(0.02)
    out = proc.stdout.read()
    if proc.returncode: raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{out}")
    return dict(seconds=time.perf_counter() - t0, peak_rss_mb=peak/1024)

def dir_mb(path:Path, names=None) -> float:
    files = [p for p in Path(path).rglob('*') if p.is_file() and (names is None or p.name in names)]
    return sum(p.stat().st_size for p in files) / 1e6

def write_speed(workdir:Path, mb:int=2048, repeat:int=3) -> dict:
    "Sequential write speed of the machine (MB/s, median of `repeat`): into the page cache, and with fsync to disk."
    buf, res = os.urandom(64 << 20), {}
    for sync in (False, True):
        speeds = []
        for _ in range(repeat):
            p = workdir/'speed.bin'
            t0 = time.perf_counter()
            with open(p, 'wb') as f:
                for _ in range(mb // 64): f.write(buf)
                if sync: f.flush(); os.fsync(f.fileno())
            speeds.append(mb / (time.perf_counter() - t0))
            p.unlink()
        res['fsync' if sync else 'page_cache'] = statistics.median(speeds)
    return res

def pipeline(n:int, data:Path, workdir:Path, workers:int=None) -> dict:
    "The three quickstart steps for n blends; timings, sizes and memory."
    out = workdir/f'output-s_42-n_{n}'
    shutil.rmtree(out, ignore_errors=True)
    j = [] if workers is None else ['-j', str(workers)]
    steps = {}
    steps['produce'] = run([SCRIPT, 'produce', '-n', str(n), '--exclude', 'irr', '--mag_high', '23.5', '--test_ratio', '0.2',
                            '--seed', '42', '--use_clean_galaxies', '-d', data, *j], workdir)
    steps['produce']['mb_written'] = dir_mb(out)
    steps['concatenate'] = run([SCRIPT, 'concatenate', '-d', out, '--method', 'ogg_masks', '--delete', *j], workdir)
    steps['concatenate']['mb_written'] = dir_mb(out, {f'{s}_{k}.npy' for s in ('train', 'test') for k in ('blends', 'ogg_masks')})
    steps['convert'] = run([SCRIPT, 'convert', '-d', out, '--zeropoint=25.5'], workdir)
    steps['convert']['mb_written'] = dir_mb(out, {'train_flux.npy', 'test_flux.npy'})
    for s in steps.values(): s['blends_per_s'], s['mb_per_s'] = n / s['seconds'], s['mb_written'] / s['seconds']
    total = sum(s['seconds'] for s in steps.values())
    shutil.rmtree(out)
    return dict(n=n, steps=steps, total_seconds=total, blends_per_s=n / total, peak_rss_mb=max(s['peak_rss_mb'] for s in steps.values()))

def original_pipeline(n:int, data:Path, workdir:Path, script:Path) -> dict:
    "The original implementation's three quickstart steps for n blends, on the same input (linked as ./data)."
    work = workdir/'original'
    shutil.rmtree(work, ignore_errors=True); work.mkdir(parents=True)
    (work/'data').symlink_to(data)
    out, steps = f'output-s_42-n_{n}', {}
    steps['produce'] = run([script, 'produce', '-n', str(n), '-e', 'irr', '--mag_high', '23.5', '--test_ratio', '0.2',
                            '--seed', '42'], work)
    steps['concatenate'] = run([script, 'concatenate', '-d', out, '--method', 'ogg_masks', '--delete'], work)
    steps['convert'] = run([script, 'convert', '-d', out, '--zeropoint=25.5'], work)
    shutil.rmtree(work)
    return dict(n=n, steps=steps, total_seconds=sum(s['seconds'] for s in steps.values()),
                peak_rss_mb=max(s['peak_rss_mb'] for s in steps.values()))

def side_by_side(n:int, data:Path, workdir:Path, script:Path, repeat:int) -> dict:
    "This package's and the original's pipelines in turn, `repeat` pairs after one untimed pair; medians and ratios."
    pairs = []
    for i in range(repeat + 1):
        ours, orig = pipeline(n, data, workdir), original_pipeline(n, data, workdir, script)
        print(f"pair {i}{' (warm-up)' if not i else ''}: ours {ours['total_seconds']:.2f} s, "
              f"original {orig['total_seconds']:.2f} s", flush=True)
        if i: pairs.append((ours, orig))
    secs = lambda r, key: r['total_seconds'] if key == 'total' else r['steps'][key]['seconds']
    med = lambda side, key: statistics.median(secs(p[side], key) for p in pairs)
    print(f"\n{n} blends, this package vs the original (medians of {repeat} pairs; ratio: median of paired ratios)")
    print(f"  {'step':12} {'ours s':>8} {'original s':>11} {'original/ours':>14}")
    res = {}
    for key in ('produce', 'concatenate', 'convert', 'total'):
        ratio = statistics.median(secs(orig, key) / secs(ours, key) for ours, orig in pairs)
        res[key] = dict(ours_s=med(0, key), original_s=med(1, key), ratio=ratio)
        print(f"  {key:12} {med(0, key):8.2f} {med(1, key):11.2f} {ratio:14.1f}")
    peaks = [max(p[side]['peak_rss_mb'] for p in pairs) for side in (0, 1)]
    print(f"  peak memory (process tree): ours {peaks[0]:.0f} MB, original {peaks[1]:.0f} MB")
    return dict(n=n, steps=res, peak_rss_mb=dict(ours=peaks[0], original=peaks[1]))

def produce_only(n:int, data:Path, workdir:Path, workers:int) -> float:
    out = workdir/f'prod-{workers}'
    r = run([SCRIPT, 'produce', '-n', str(n), '--exclude', 'irr', '--mag_high', '23.5', '--seed', '42',
             '--use_clean_galaxies', '-d', data, '-j', str(workers), '-o', out, '-q', '--overwrite'], workdir)
    shutil.rmtree(out)
    return r['seconds']

def produce_call(n:int, data:Path, workdir:Path, workers:int) -> float:
    "Seconds spent inside produce() (interpreter start and imports excluded), in a fresh process."
    code = (f"import time; from candels_blender.pipeline import produce; t = time.perf_counter(); "
            f"produce(n_blends={n}, exclude=['irr'], mag_high=23.5, use_clean_galaxies=True, seed=42, datapath={str(data)!r}, "
            f"output='prod-call', overwrite=True, workers={workers}, quiet=True); print(time.perf_counter() - t)")
    seconds = float(subprocess.run([sys.executable, '-c', code], cwd=workdir, capture_output=True, text=True, check=True).stdout)
    shutil.rmtree(workdir/'prod-call')
    return seconds

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, nargs='+', default=[20000, 100000], help='numbers of blends')
    ap.add_argument('--data', type=Path, help='input dataset (default: the built-in mock set, built if needed)')
    ap.add_argument('--repeat', type=int, default=3, help='repetitions of the 20 000-blend timings (median reported)')
    ap.add_argument('--workdir', type=Path, help='where outputs go (default: a temporary directory)')
    ap.add_argument('--json', type=Path, help='also write the results here')
    ap.add_argument('--original', type=Path, help="the original implementation's console script: run its three "
                    'commands in turn with ours and compare (only this, at the smallest --n)')
    a = ap.parse_args()
    if a.data is None:
        from candels_blender.mock.build import cached_mock
        a.data = cached_mock()
    a.data = Path(a.data).resolve()
    workdir = Path(a.workdir or tempfile.mkdtemp(prefix='cb-bench-')); workdir.mkdir(parents=True, exist_ok=True)
    print(f"input: {a.data}; cores: {os.cpu_count()}; work directory: {workdir}")
    speed = write_speed(workdir)
    print(f"machine sequential write: {speed['page_cache']:.0f} MB/s into the page cache, {speed['fsync']:.0f} MB/s to disk (fsync)")
    results = dict(write_speed_mb_s=speed, pipelines=[], produce_speedup={})
    if a.original:
        results['side_by_side'] = side_by_side(min(a.n), a.data, workdir, a.original.resolve(), a.repeat)
        if a.json: a.json.write_text(json.dumps(results, indent=1))
        if a.workdir is None: shutil.rmtree(workdir)
        return
    pipeline(min(a.n), a.data, workdir)                  # warm-up, not counted: caches, first-touch memory
    for n in a.n:
        runs = [pipeline(n, a.data, workdir) for _ in range(a.repeat if n <= 20000 else 1)]
        best = sorted(runs, key=lambda r: r['total_seconds'])[len(runs) // 2]        # the median run
        results['pipelines'].append(best)
        totals = ', '.join(f"{r['total_seconds']:.2f}" for r in runs)
        print(f"\n{n} blends (median of {len(runs)} run(s); totals: {totals} s)")
        print(f"  {'step':12} {'seconds':>8} {'blends/s':>10} {'MB written':>11} {'MB/s':>7} {'peak RSS MB':>12}")
        for name, s in best['steps'].items():
            print(f"  {name:12} {s['seconds']:8.2f} {s['blends_per_s']:10.0f} {s['mb_written']:11.0f} {s['mb_per_s']:7.0f} {s['peak_rss_mb']:12.0f}")
        print(f"  {'total':12} {best['total_seconds']:8.2f} {best['blends_per_s']:10.0f}   peak RSS {best['peak_rss_mb']:.0f} MB")
    n = min(a.n)
    t1 = statistics.median(produce_only(n, a.data, workdir, 1) for _ in range(a.repeat))
    t2 = statistics.median(produce_only(n, a.data, workdir, 2) for _ in range(a.repeat))
    c1 = statistics.median(produce_call(n, a.data, workdir, 1) for _ in range(a.repeat))
    c2 = statistics.median(produce_call(n, a.data, workdir, 2) for _ in range(a.repeat))
    results['produce_speedup'] = dict(n=n, command_1_worker_s=t1, command_2_workers_s=t2, command_speedup=t1 / t2,
                                      call_1_worker_s=c1, call_2_workers_s=c2, call_speedup=c1 / c2)
    print(f"\nproduce, {n} blends, 1 vs 2 workers (medians of {a.repeat}):")
    print(f"  whole command:       {t1:.2f} s vs {t2:.2f} s: {t1 / t2:.2f}x")
    print(f"  produce() call only: {c1:.2f} s vs {c2:.2f} s: {c1 / c2:.2f}x  (without interpreter start and imports)")
    if a.json: a.json.write_text(json.dumps(results, indent=1))
    if a.workdir is None: shutil.rmtree(workdir)

if __name__ == '__main__': main()
