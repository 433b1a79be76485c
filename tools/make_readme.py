#!/usr/bin/env python
"""Write README.md from nbs/index.ipynb (nbdev's `nbdev_readme` needs Quarto, which cannot be installed here).

Markdown cells are copied as they are; visible code cells become ```python blocks followed by their
text output; cells marked `#| hide` are left out. `--check` exits 1 if README.md is not up to date.
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def _source(cell) -> str: return ''.join(cell['source'])

def _hidden(src:str) -> bool:
    return any(line.replace(' ', '').startswith('#|hide') for line in src.splitlines())

def _code(src:str) -> str:
    "Code without nbdev directives."
    return '\n'.join(l for l in src.splitlines() if not l.lstrip().startswith('#|')).strip()

def _outputs(cell) -> str:
    texts = []
    for o in cell.get('outputs', []):
        if o.get('output_type') == 'stream': texts.append(''.join(o['text']))
        elif 'text/plain' in o.get('data', {}) and 'image/png' not in o.get('data', {}): texts.append(''.join(o['data']['text/plain']))
    text = ''.join(t if t.endswith('\n') else t + '\n' for t in texts).rstrip()
    return f"\n\n```\n{text}\n```" if text else ''

def readme(nb_path:Path) -> str:
    "README text of an nbdev index notebook."
    parts = []
    for i, cell in enumerate(json.loads(nb_path.read_text())['cells']):
        src = _source(cell)
        if cell['cell_type'] == 'markdown' and i == 0:        # the title cell: nbdev's `- key: value` options are not text
            parts.append('\n'.join(l for l in src.splitlines() if not re.match(r'^-\s+\w+:', l)).strip())
        elif cell['cell_type'] == 'markdown': parts.append(src.strip())
        elif cell['cell_type'] == 'code' and not _hidden(src) and _code(src):
            parts.append(f"```python\n{_code(src)}\n```" + _outputs(cell))
    return '\n\n'.join(parts) + '\n'

def main(argv):
    text, dest = readme(ROOT/'nbs'/'index.ipynb'), ROOT/'README.md'
    if '--check' in argv:
        if dest.read_text() != text:
            print('README.md is not up to date with nbs/index.ipynb: run python tools/make_readme.py'); return 1
        print('README.md matches nbs/index.ipynb'); return 0
    dest.write_text(text); print(f'wrote {dest.relative_to(ROOT)}'); return 0

if __name__ == '__main__': sys.exit(main(sys.argv[1:]))
