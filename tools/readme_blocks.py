#!/usr/bin/env python
"""Run the README's code blocks exactly as written, in order, in a fresh virtual environment and an empty directory.

    python tools/readme_blocks.py            # list the blocks and what will be run
    python tools/readme_blocks.py --run      # run them (CI step 4b); exit 1 if any fails

Every ```bash block is run as it is by one bash process (`set -e`), so a `cd` in one block holds for the next, as in
a user's terminal; consecutive ```python blocks are one Python session, as in a notebook. A block preceded by the
line `<!-- not run by the README test: REASON -->` is skipped, and the reason printed. The README's `git clone` of
the project's public URL is pointed at this checkout (git's `url.<base>.insteadOf`, set in the environment): the
command itself runs as written. Environment kept: CANDELS_BLENDER_CACHE (where CI keeps the synthetic set).
"""
import os, re, shutil, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = re.compile(r'<!--\s*not run by the README test:\s*(.+?)\s*-->\s*$')
CLONE_URL = 'https://github.com/candels-blender/candels-blender.git'


def blocks(text:str) -> list:
    "The README's code blocks: (language, code, reason to skip or None), in order."
    found, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = re.match(r'^```(\w+)\s*$', lines[i])
        if not m: i += 1; continue
        j = lines.index('```', i + 1)
        prev = next((l for l in reversed(lines[:i]) if l.strip()), '')
        skip = SKIP.match(prev.strip())
        found.append((m.group(1), '\n'.join(lines[i + 1:j]), skip.group(1) if skip else None))
        i = j + 1
    return found


def script(found:list) -> str:
    "One bash script running the blocks that are not skipped: bash as it is, python groups through heredocs."
    out, n = ['set -e'], 0
    runnable = [(lang, code) for lang, code, skip in found if skip is None and lang in ('bash', 'python')]
    k = 0
    while k < len(runnable):
        lang, code = runnable[k]
        if lang == 'bash':
            n += 1; out += [f'echo "---- README bash block {n}"', code]; k += 1; continue
        group = []
        while k < len(runnable) and runnable[k][0] == 'python': group.append(runnable[k][1]); k += 1
        n += 1; out += [f'echo "---- README python blocks ({len(group)})"', "python - <<'README_PY'", '\n'.join(group), 'README_PY']
    return '\n'.join(out) + '\n'


def run(found:list) -> int:
    work = Path(tempfile.mkdtemp(prefix='readme-blocks-'))
    try:
        subprocess.run([sys.executable, '-m', 'venv', str(work/'venv')], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(('VIRTUAL_ENV', 'PYTHONPATH', 'CONDA'))}
        env.update(PATH=f"{work/'venv'/'bin'}:{env['PATH']}", VIRTUAL_ENV=str(work/'venv'), MPLBACKEND='Agg',
                   PIP_DISABLE_PIP_VERSION_CHECK='1', GIT_CONFIG_COUNT='1',
                   GIT_CONFIG_KEY_0=f'url.{ROOT.as_uri()}.insteadOf', GIT_CONFIG_VALUE_0=CLONE_URL)
        (work/'user').mkdir()
        (work/'readme.sh').write_text(script(found))
        r = subprocess.run(['bash', str(work/'readme.sh')], cwd=work/'user', env=env)
        print(f'README blocks: {"all ran" if r.returncode == 0 else f"failed (exit {r.returncode})"}')
        return 0 if r.returncode == 0 else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv):
    found = blocks((ROOT/'README.md').read_text())
    for lang, code, skip in found:
        print(f"{'skip' if skip else 'run '} {lang:6} {code.splitlines()[0][:70] if code else ''}"
              + (f'   ({skip})' if skip else ''))
    return run(found) if '--run' in argv else 0


if __name__ == '__main__': sys.exit(main(sys.argv[1:]))
