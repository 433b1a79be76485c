"""Runtime-only install check: the console script in a venv made by `pip install .` (newest fastcore).

Run with that venv's python from an empty working directory. Checks: fastcore is 2.x (so the
option-spelling trap is really exercised), every action's --help, both option spellings, the
reference quickstart verbatim on the default (built-in mock) data, output shapes and dtypes, and
that the default data really was the mock set.
"""
import json, os, shutil, subprocess, sys
from pathlib import Path
import numpy as np

passed, failed = [], []

def check(name, ok, detail=''):
    (passed if ok else failed).append(name)
    print(f"  {'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + detail}", flush=True)

def sh(cmd):
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr

import fastcore
check(f'fastcore {fastcore.__version__} is 2.x in the runtime venv', int(fastcore.__version__.split('.')[0]) >= 2)
for cmd in ['candels-blender --help'] + [f'candels-blender {a} --help' for a in ('produce', 'concatenate', 'convert', 'mock', 'download', 'evaluate')]:
    status, out = sh(cmd); check(cmd, status == 0 and 'usage' in out, out[-500:])

# both spellings, on a small mock set built with the CLI
status, out = sh('candels-blender mock -o small -n 60 -s 1'); check('candels-blender mock -o small -n 60', status == 0, out[-800:])
for spelling in ('--mag_high 23.5 --test_ratio 0.25 --n_galaxies 2', '--mag-high 23.5 --test-ratio 0.25 --n-galaxies 2'):
    status, out = sh(f'candels-blender produce -d small -n 40 {spelling} -o sp -q --overwrite')
    cat = Path('sp/run.json')
    ok = status == 0 and json.loads(cat.read_text())['parameters']['mag_high'] == 23.5
    check(f'produce {spelling}', ok, out[-800:])
status, out = sh('candels-blender produce -d small --mag_high=abc'); check('bad value: one line, exit 1 (every error exits 1)', status == 1 and len(out.strip().splitlines()) == 1 and 'Traceback' not in out, out)

# the reference quickstart, verbatim, on the default data (no ./data here: the built-in mock set)
quickstart = ['candels-blender produce -n 20000 --exclude irr --mag_high 23.5 --test_ratio 0.2 --seed 42 --use_clean_galaxies',
              'candels-blender concatenate -d output-s_42-n_20000 --method ogg_masks --delete',
              'candels-blender convert -d output-s_42-n_20000 --zeropoint=25.5']
for cmd in quickstart:
    status, out = sh(cmd); print(out.strip()); check(cmd, status == 0, out[-800:])
res = Path('output-s_42-n_20000')
expected = {'train_blends.npy': ((16000, 128, 128), 'float32'), 'test_blends.npy': ((4000, 128, 128), 'float32'),
            'train_ogg_masks.npy': ((16000, 128, 128, 3), 'uint8'), 'test_ogg_masks.npy': ((4000, 128, 128, 3), 'uint8'),
            'train_flux.npy': ((16000, 2), 'float64'), 'test_flux.npy': ((4000, 2), 'float64')}
for name, (shape, dtype) in expected.items():
    a = np.load(res/name, mmap_mode='r') if (res/name).exists() else None
    check(f'{name} {shape} {dtype}', a is not None and a.shape == shape and str(a.dtype) == dtype, repr(None if a is None else (a.shape, a.dtype)))
check('--delete removed the stamps', not (res/'stamps').exists())
rec = json.loads((res/'run.json').read_text()) if (res/'run.json').exists() else {}
check('run record says the built-in mock set was used', rec.get('input', {}).get('synthetic_mock') is True, str(rec.get('input')))

# what the runtime install lacks (the optional extras) is named in one line, and nothing is damaged
def one_line(status, out, extra): return status == 1 and len(out.strip().splitlines()) == 1 and f'[{extra}]' in out and 'Traceback' not in out
status, out = sh('candels-blender evaluate -d output-s_42-n_20000'); check('evaluate without sep names [baseline]', one_line(status, out, 'baseline'), out)
status, out = sh('candels-blender concatenate -d sp --format zarr'); check('--format zarr without zarr names [dask]', one_line(status, out, 'dask'), out)
check('the outputs are untouched', all((res/name).exists() for name in expected) and not (res/'evaluation').exists())

# the training dataset, without torch: an item is the file's row
from candels_blender.learning.dataset import BlendDataset, import_torch
ds = BlendDataset(res, split='test')
item, rows = ds[7], np.load(res/'test_blends.npy', mmap_mode='r')
check('BlendDataset item 7 == test_blends.npy row 7', ds.on_the_fly is False and np.array_equal(item['image'][0], rows[7]) and item['target'].shape == (3, 128, 128))
try: import_torch(); check('import_torch without torch names [torch]', False, 'torch is installed')
except Exception as e: check('import_torch without torch names [torch]', '[torch]' in str(e), str(e))

print(f"runtime checks: {len(passed)} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
