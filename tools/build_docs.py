#!/usr/bin/env python
"""Build the documentation site from the notebooks, offline, without Quarto: `python tools/build_docs.py`.

Steps (each fails loudly, with a non-zero exit):
1. nbdev's notebook processing, as `nbdev_proc_nbs` does it (nbdev's `FilterDefaults` processors, run on
   every notebook in parallel) but without its Quarto install and `_quarto.yml`/`sidebar.yml` writing in
   nbs/: applies `#| hide`, `#| export`, adds `show_doc` for every exported function and class, links
   backticked names; output in `_proc/`. One change: see `_nbdev_filter`.
2. Arranges the processed notebooks as a Sphinx source tree in `_docs/src/`: the home page from
   `nbs/index.ipynb`, one page per notebook (title from its H1), a quickstart page (the section of
   index.ipynb titled "Quickstart"), a chapters page, an API reference generated from the installed
   `candels_blender` with `fastcore.docments`, and a CLI page from `candels-blender [action] --help`.
3. `sphinx-build -W --keep-going` (configuration in `docs/conf.py`, myst-nb with execution off, so the
   saved outputs and figures are what the pages show) into `_docs/html`, moved to `site/`.
4. Checks the result: every expected page exists, no page or stylesheet loads anything from http(s).

Options: --out DIR (default `site`), -j N (sphinx workers). Work files go to `_proc/` and `_docs/`.
"""
from __future__ import annotations

import argparse, configparser, importlib, inspect, json, os, pkgutil, re, shutil, subprocess, sys, time, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT/'_docs'             # generated Sphinx source tree, doctrees, html before the move (git-ignored)
SRC = WORK/'src'
CONF_DIR = ROOT/'docs'
PACKAGE = 'candels_blender'
CLI_NAME = 'candels-blender'
GENERATED = dict(quickstart='quickstart', chapters='chapters', api='api-reference', cli='command-line')  # page names
ASSET_SUFFIXES = {'.png', '.jpg', '.jpeg', '.gif', '.svg', '.webp'}
DROP_MIMES = ('application/vnd.jupyter.widget-view+json', 'application/vnd.jupyter.widget-state+json')


class DocsError(Exception):
    "Something the site needs is missing or broken: reported as one message, exit status 1."


def log(msg): print(f'[build_docs] {msg}', flush=True)


def settings():
    cfg = configparser.ConfigParser(delimiters=['='])
    cfg.read(ROOT/'settings.ini', encoding='utf-8')
    return cfg['DEFAULT']


def src_text(cell): return ''.join(cell.get('source') or '')


def md_cell(text): return dict(cell_type='markdown', metadata={}, source=text)


# ---------------------------------------------------------------- 1. nbdev processing
def source_notebooks(nbs: Path):
    "Notebooks nbdev would process (its own glob), as paths relative to `nbs`."
    from nbdev.doclinks import nbglob
    return sorted(Path(p).relative_to(nbs) for p in nbglob(nbs, func=Path))


def check_title_cells(nbs: Path, rels):
    """nbdev turns the first H1 cell into front matter and DROPS the rest of that cell; fail if that
    would silently lose prose (keep the H1 cell to `# Title` + `> subtitle`)."""
    bad = []
    for rel in rels:
        nb = json.loads((nbs/rel).read_text(encoding='utf-8'))
        for cell in nb['cells']:
            if cell['cell_type'] == 'raw' and src_text(cell).lstrip().startswith('---'): break   # YAML front matter
            if cell['cell_type'] != 'markdown' or not re.search(r'^#\s+\S', src_text(cell), re.M): continue
            extra = [l for l in src_text(cell).splitlines()
                     if l.strip() and not re.match(r'^(#\s+\S|>\s|-\s+\S.*:)', l)]
            if extra: bad.append(f'{rel}: {extra[0][:60]!r}...')
            break
    if bad: raise DocsError('these title cells hold more than "# Title" and "> subtitle"; nbdev drops the rest '
                            'from the docs, so move it to the next markdown cell:\n  ' + '\n  '.join(bad))


def _nbdev_filter():
    """nbdev's own processors (`FilterDefaults`, as `nbdev_proc_nbs` uses them) with one change: a cell that mixes
    imports with other code (nbdev warns "See FAQ", then runs the whole cell to render show_doc, and replaces its
    saved outputs) runs only its top-level imports, so tests and figures are not recomputed and the saved
    outputs stay. Everything else (hide, export, show_doc, links, skip_procs/procs from settings.ini) is nbdev's."""
    import ast
    from nbdev import processors as P

    class exec_show_docs(P.exec_show_docs):
        def __call__(self, cell):
            if not self.nb.has_docs_ or not hasattr(self, 'k'): return
            if str2bool_(getattr(self.nb, 'frontmatter_', {}).get('skip_showdoc', False)): return
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                if not P._do_eval(cell): return
            trees = cell.parsed_()
            mixed = (not cell.directives_.keys() & {'export', 'exports', 'exporti', 'exec_doc'} and not P._show_docs(trees)
                     and P._ast_contains(trees, (ast.Import, ast.ImportFrom)) and P._ast_contains(trees, (ast.Expr, ast.Assign)))
            if mixed:
                imports = [t for t in trees if isinstance(t, (ast.Import, ast.ImportFrom))]
                self.k.run(ast.unparse(ast.Module(body=imports, type_ignores=[])))
                MIXED.append(next((l for l in cell.source.splitlines() if l.strip() and not l.startswith('#|')), '')[:40])
            else: self.k.cell(cell)
            if self.k.exc:
                raise Exception(f'cell {cell.idx_} failed while rendering show_doc:\n{cell.source}') from self.k.exc

    class Filter(P.FilterDefaults):
        def base_procs(self):
            return [exec_show_docs if p is P.exec_show_docs else p for p in super().base_procs()]
    return Filter


MIXED = []


def str2bool_(v): return str(v).lower() in ('1', 'true', 'yes', 'y', 'on')


def proc_notebook(src: str, dst: str):
    "Process one notebook the way nbdev's docs processing does (runs in a worker process)."
    import warnings as _w
    _w.simplefilter('ignore')
    from execnb.nbio import read_nb, write_nb
    os.environ['IN_TEST'] = '1'
    MIXED.clear()
    nb = read_nb(src)
    main_module = sys.modules['__main__']              # IPython's shell swaps it; the pool needs it back
    try: _nbdev_filter()()(nb)
    except Exception as e:
        cause = f' ({type(e.__cause__).__name__}: {e.__cause__})' if e.__cause__ else ''
        raise RuntimeError(f'nbdev could not process {src}: {e}{cause}') from None   # plain type: crosses processes
    finally: sys.modules['__main__'] = main_module
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    write_nb(nb, dst)
    return list(MIXED)


def run_nbdev(nbs: Path, rels, jobs: int):
    "nbdev-process every notebook of nbs/ into _proc/ (fresh each time, in parallel)."
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing as mp
    t, cache = time.time(), ROOT/'_proc'
    if cache.exists(): shutil.rmtree(cache)
    cache.mkdir()
    with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context('spawn')) as ex:
        futs = {rel: ex.submit(proc_notebook, str(nbs/rel), str(cache/rel)) for rel in rels}
        for rel, f in futs.items():
            try: mixed = f.result()
            except Exception as e: raise DocsError(str(e)) from None
            if mixed: log(f'nbs/{rel}: {len(mixed)} cell(s) mix imports with other code ({", ".join(map(repr, mixed))}); '
                          'only their imports ran for show_doc (nbdev FAQ: keep imports in a cell of their own)')
    log(f'nbdev processed {len(rels)} notebooks into {cache.relative_to(ROOT)}/ in {time.time()-t:.1f}s')
    return cache


# ---------------------------------------------------------------- 2. notebooks -> Sphinx sources
def slugify(text):
    try: from myst_parser.slugs import github_slugify
    except ImportError: from myst_parser.mdit_to_docutils.base import default_slugify as github_slugify
    return github_slugify(text)


def front_matter(nb):
    "Pop nbdev's YAML front-matter raw cell; return its dict."
    import yaml
    for i, cell in enumerate(nb['cells']):
        s = src_text(cell).strip()
        if cell['cell_type'] == 'raw' and s.startswith('---'):
            del nb['cells'][i]
            return yaml.safe_load(s.strip('-\n')) or {}
    return {}


_re_dir = re.compile(r'^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$')
_re_source_attrs = re.compile(r'(\[source\]\([^)]*\))\{[^}]*\}')


def split_directives(source):
    "Quarto-style `#| key: value` lines left by nbdev at the top of a code cell -> (dict, code)."
    lines, dirs = source.splitlines(), {}
    while lines and _re_dir.match(lines[0]):
        k, v = _re_dir.match(lines.pop(0)).groups()
        dirs[k] = v.strip('"\'').lower()
    return dirs, '\n'.join(lines)


def asis_markdown(cell):
    "The markdown a `#| output: asis` cell (nbdev's show_doc) shows, made MyST-friendly."
    parts = []
    for out in cell.get('outputs', []):
        md = out.get('data', {}).get('text/markdown')
        if md is None: continue
        md = ''.join(md).strip()
        md = re.sub(r'^---\s*\n', '', md)                      # a leading rule would be a docutils transition
        md = _re_source_attrs.sub(r'\1{.sourcelink}', md)     # Quarto link attributes -> a CSS class
        parts.append(md)
    return '\n\n'.join(parts)


def convert_cells(nb):
    "Apply the Quarto directives nbdev leaves (echo, output, include, asis) as myst-nb cells/tags."
    cells = []
    for cell in nb['cells']:
        if cell['cell_type'] == 'markdown':
            if src_text(cell).strip().startswith('<!-- WARNING: THIS FILE WAS AUTOGENERATED'): continue
            cells.append(md_cell(src_text(cell))); continue
        if cell['cell_type'] != 'code': continue                # raw cells have no HTML meaning here
        dirs, code = split_directives(src_text(cell))
        if dirs.get('include') == 'false': continue
        if dirs.get('output') == 'asis':
            md = asis_markdown(cell)
            if md: cells.append(dict(md_cell(md), showdoc=True))
            continue
        tags = []
        if dirs.get('echo') == 'false': tags.append('remove-input')
        if dirs.get('output') == 'false': tags.append('remove-output')
        outputs = []
        for out in cell.get('outputs', []):
            if 'data' in out:
                out = dict(out, data={k: v for k, v in out['data'].items() if k not in DROP_MIMES})
                if not out['data']: continue
            outputs.append(out)
        if not code.strip() and not outputs: continue
        cells.append(dict(cell_type='code', execution_count=None, metadata={'tags': tags} if tags else {},
                          source=code, outputs=outputs))
    return cells


def heading_slugs(title, cells):
    """nbdev anchor (lower-cased heading text) -> the MyST slug of that heading on our page. MyST makes repeated
    slugs unique (`progress`, `progress-1`), counting the title; a show_doc heading wins over a prose heading
    with the same text (`## Progress` and the function `progress`), since nbdev links point at symbols."""
    seen, res = {}, {}
    headings = [(title or '', False)] + [(t, c.get('showdoc', False)) for c in cells if c['cell_type'] == 'markdown'
                                         for t in re.findall(r'^#{1,6}\s+(.+?)\s*#*\s*$', c['source'], re.M)]
    for text, showdoc in headings:
        text = text.replace('`', '')
        base = slugify(text)
        slug = base if base not in seen else f'{base}-{seen[base]}'
        seen[base] = seen.get(base, 0) + 1
        if text.lower() not in res or showdoc: res[text.lower()] = slug
    return res


class Page:
    "One notebook turned into one Sphinx document."
    def __init__(self, rel: Path, proc: Path):
        self.rel, self.nb = rel, json.loads(proc.read_text(encoding='utf-8'))
        self.fm = front_matter(self.nb)
        out = self.fm.get('output-file') or rel.with_suffix('.html').name
        self.docname = (rel.parent/Path(out).stem).as_posix()
        self.title, self.description = self.fm.get('title'), self.fm.get('description', '')
        self.cells = convert_cells(self.nb)
        self.slugs = heading_slugs(self.title, self.cells)
        self.numbered = bool(re.match(r'^\d+', rel.name))

    def write(self, extra_cells=()):
        head = f'# {self.title}\n'
        if self.description: head += f'\n```{{rst-class}} lead\n{self.description}\n```\n'
        meta = dict(self.nb.get('metadata', {}))
        meta['kernelspec'] = meta.get('kernelspec') or dict(name='python3', display_name='Python 3', language='python')
        meta['language_info'] = dict(name='python', pygments_lexer='ipython3')
        cells = [{k: v for k, v in dict(c, id=f'cell-{i}').items() if k != 'showdoc'} for i, c in enumerate([md_cell(head)] + self.cells + list(extra_cells))]
        nb = dict(nbformat=4, nbformat_minor=5, metadata=meta, cells=cells)
        dest = SRC/f'{self.docname}.ipynb'
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding='utf-8')


def rewrite_links(pages, cfg):
    "nbdev links backticked names to the Quarto site URL; point them at our pages and MyST slugs instead."
    base = cfg.get('doc_host', '').rstrip('/') + '/' + cfg.get('doc_baseurl', '').strip('/')
    base = base.rstrip('/') + '/'
    re_link = re.compile(r'\]\(' + re.escape(base) + r'([^)#\s]+?)\.html(?:#([^)\s]*))?\)')
    by_doc = {p.docname: p for p in pages}
    missing, degraded = set(), set()

    def fix(m, here):
        doc, anchor = m.group(1), (m.group(2) or '')
        if doc not in by_doc: missing.add(f'{here}: {doc}.html'); return m.group(0)
        target = os.path.relpath(f'{doc}.ipynb', os.path.dirname(here) or '.')
        if not anchor: return f']({target})'
        slug = by_doc[doc].slugs.get(anchor.lower())
        if slug is None:                                   # e.g. a private helper named in prose: no section for it
            degraded.add(f'{doc}#{anchor}'); return f']({target})'
        return f']({target}#{slug})'

    # links between notebooks by file name (`[Toy data](01_toy.ipynb)`, as Jupyter and Quarto read them)
    by_file = {p.rel.with_suffix('').as_posix(): p.docname for p in pages}
    re_nb = re.compile(r'\]\((?:\./)?([^)#\s:]+?)\.ipynb(#[^)\s]*)?\)')
    def fix_nb(m, here):
        stem = os.path.normpath(os.path.join(os.path.dirname(here), m.group(1))).replace(os.sep, '/')
        if stem not in by_file: return m.group(0)                   # left for Sphinx to report if it is broken
        return f']({os.path.relpath(by_file[stem], os.path.dirname(here) or ".")}.ipynb{m.group(2) or ""})'

    for p in pages:
        here = p.rel.with_suffix('').as_posix()
        for c in p.cells:
            if c['cell_type'] != 'markdown': continue
            c['source'] = re_link.sub(lambda m: fix(m, p.docname), c['source'])
            c['source'] = re_nb.sub(lambda m: fix_nb(m, here), c['source'])
    if missing: raise DocsError('links to pages that were not built:\n  ' + '\n  '.join(sorted(missing)))
    if degraded: log('links to names without their own section (linked to the page instead): ' + ', '.join(sorted(degraded)))


def quickstart_cells(index: Page):
    "The section of the home page whose heading says Quickstart, as cells with headings promoted."
    cells, level = [], None
    for c in index.cells:
        if c['cell_type'] != 'markdown':
            if level: cells.append(c)
            continue
        keep = []
        for line in c['source'].splitlines():
            h = re.match(r'^(#{1,6})\s+(.*)$', line)
            if level is None:
                if h and re.search(r'quick\s*-?\s*start', h.group(2), re.I): level = len(h.group(1))
                continue
            if h and len(h.group(1)) <= level:
                if keep: cells.append(md_cell('\n'.join(keep)))
                return promote(cells, level)
            keep.append(line)
        if level and keep: cells.append(md_cell('\n'.join(keep)))
    if level is None:
        raise DocsError('nbs/index.ipynb has no section titled "Quickstart" (e.g. "## Quickstart"); the '
                        'quickstart page is taken from it')
    return promote(cells, level)


def promote(cells, level):
    shift = level - 1
    for c in cells:
        if c['cell_type'] == 'markdown' and shift:
            c['source'] = re.sub(r'^(#{2,6})(?=\s)', lambda m: '#'*max(2, len(m.group(1))-shift), c['source'], flags=re.M)
    return [dict(c) for c in cells]


def write_md(docname, text):
    (SRC/f'{docname}.md').write_text(text, encoding='utf-8')


# ---------------------------------------------------------------- API reference (fastcore.docments)
def public_modules():
    sys.path.insert(0, str(ROOT))                      # document this checkout, whatever else is installed
    pkg = importlib.import_module(PACKAGE)
    names = sorted(m.name for m in pkgutil.walk_packages(pkg.__path__, PACKAGE + '.')
                   if not any(part.startswith('_') for part in m.name.split('.')))
    mods = []
    for name in names:
        try: mods.append(importlib.import_module(name))
        except Exception as e: raise DocsError(f'cannot import {name} for the API reference: {e!r}') from None
    return mods


def public_names(mod):
    if hasattr(mod, '__all__'): return list(mod.__all__)
    return [n for n, o in vars(mod).items() if not n.startswith('_') and getattr(o, '__module__', None) == mod.__name__
            and (inspect.isfunction(o) or inspect.isclass(o))]


def cell_text(x): return str(x).replace('|', '\\|').replace('\n', ' ').strip()


def anno_text(a):
    if a is inspect.Parameter.empty or a is None: return ''
    return a if isinstance(a, str) else inspect.formatannotation(a)


def short_repr(v, n=70):
    r = repr(v)
    return r if len(r) <= n else r[:n-3] + '...'


def signature_and_table(obj, skip_self=False):
    "(one-line signature, markdown rows of the parameter table) from docments."
    from fastcore.docments import docments
    try: sig = inspect.signature(obj)
    except (TypeError, ValueError): return '(...)', []
    try: docs = docments(obj, full=True, args_kwargs=True)
    except Exception: docs = {}
    parts, rows = [], []
    for i, (name, p) in enumerate(sig.parameters.items()):
        if skip_self and i == 0 and name in ('self', 'cls'): continue
        star = {p.VAR_POSITIONAL: '*', p.VAR_KEYWORD: '**'}.get(p.kind, '')
        d = docs.get(name, {}) or {}
        anno = anno_text(p.annotation)
        default = '' if p.default is p.empty else short_repr(p.default, 40)
        eq = ' = ' if anno else '='
        parts.append(star + name + (f': {anno}' if anno else '') + (f'{eq}{default}' if default else ''))
        rows.append(f'| `{star}{name}` | {f"`{cell_text(anno)}`" if anno else ""} | '
                    f'{f"`{cell_text(default)}`" if default else ""} | {cell_text(d.get("docment") or "")} |')
    ret = anno_text(sig.return_annotation)
    ret_doc = (docs.get('return') or {}).get('docment') or ''
    if (ret or ret_doc) and not inspect.isclass(obj):
        rows.append(f'| **returns** | {f"`{cell_text(ret)}`" if ret else ""} | | {cell_text(ret_doc)} |')
    return f'({", ".join(parts)})' + (f' -> {ret}' if ret and not inspect.isclass(obj) else ''), rows


def own_doc(obj):
    d = obj.__dict__.get('__doc__') if inspect.isclass(obj) else obj.__doc__
    if not d: return ''
    d = inspect.cleandoc(d)
    if inspect.isclass(obj) and re.match(rf'^{re.escape(obj.__name__)}\(.*\)$', d, re.S): return ''  # dataclass default
    return d


def has_own_init(cls):
    return any('__init__' in vars(k) or '__new__' in vars(k) for k in cls.__mro__[:-1]
               if k.__module__ not in ('builtins', 'abc')) or hasattr(cls, '__dataclass_fields__')


def constant_comment(mod, name):
    try: src = inspect.getsource(mod)
    except (OSError, TypeError): return ''
    m = re.search(rf'^{re.escape(name)}\s*(?::[^=\n]*)?=.*?#\s*(.+)$', src, re.M)
    return m.group(1).strip() if m else ''


TABLE_HEAD = '| Parameter | Type | Default | Description |\n|---|---|---|---|'


def entry(title, level, sig_line, doc, rows, chapter_link=''):
    out = [f'{"#"*level} {title}\n', f'```python\n{sig_line}\n```\n']
    if doc: out.append(doc + '\n')
    if rows: out.append(TABLE_HEAD + '\n' + '\n'.join(rows) + '\n')
    if chapter_link: out.append(chapter_link + '\n')
    return '\n'.join(out)


def api_markdown(pages):
    "API reference page: every public name of every module, with its documented parameters."
    mods = public_modules()
    chapters = {}                                      # module name -> page whose default_exp it is
    for p in pages:
        if p.default_exp: chapters[f'{PACKAGE}.{p.default_exp}'] = p
    lines = ['# API reference\n',
             f'Every public function, class and constant of `{PACKAGE}`, module by module, with its documented '
             'parameters (the comment beside each parameter in the source, nbdev\'s *docments*). Generated at '
             'build time from the package; each chapter explains the why and shows examples.\n']
    covered = {}
    for mod in mods:
        page = chapters.get(mod.__name__)
        lines.append(f'## {mod.__name__}\n')
        if page: lines.append(f'Chapter: [{page.title}]({page.docname}.ipynb) — {page.description}\n')
        names, consts = public_names(mod), []
        for name in names:
            obj = getattr(mod, name, None)
            if obj is None and not hasattr(mod, name): raise DocsError(f'{mod.__name__}.__all__ names {name!r}, which is not defined')
            link = ''
            if page and name.lower() in page.slugs:
                link = f'Explained in [{page.title}]({page.docname}.ipynb#{page.slugs[name.lower()]}).'
            if inspect.isclass(obj):
                sig, rows = signature_and_table(obj) if has_own_init(obj) else ('(...)', [])
                lines.append(entry(name, 3, f'class {name}{sig}', own_doc(obj), rows, link))
                for mname, m in vars(obj).items():
                    if mname.startswith('_'): continue
                    if isinstance(m, (staticmethod, classmethod)): m = m.__func__
                    if isinstance(m, property):
                        lines.append(entry(f'{name}.{mname}', 4, f'{name}.{mname}  # property', own_doc(m.fget) if m.fget else '', []))
                    elif inspect.isfunction(m):
                        sig, rows = signature_and_table(m, skip_self=True)
                        lines.append(entry(f'{name}.{mname}', 4, f'{name}.{mname}{sig}', own_doc(m), rows))
            elif callable(obj) and (inspect.isfunction(obj) or inspect.isbuiltin(obj) or hasattr(obj, '__wrapped__')):
                sig, rows = signature_and_table(obj)
                lines.append(entry(name, 3, f'{name}{sig}', own_doc(obj), rows, link))
            else:
                consts.append(f'| `{name}` | `{cell_text(short_repr(obj))}` | {cell_text(constant_comment(mod, name))} |')
            covered[f'{mod.__name__}.{name}'] = True
        if consts:
            lines.append('### Constants\n\n| Name | Value | Meaning |\n|---|---|---|\n' + '\n'.join(consts) + '\n')
    log(f'API reference: {len(covered)} public names in {len(mods)} modules')
    return '\n'.join(lines), covered


# ---------------------------------------------------------------- CLI page
def cli_command():
    exe = shutil.which(CLI_NAME, path=str(Path(sys.executable).parent)) or shutil.which(CLI_NAME)
    if not exe:
        raise DocsError(f'the console script `{CLI_NAME}` is not installed in this environment; install the package '
                        '(pip install -e ".[dev]") after nbs/10_cli.ipynb exports candels_blender.cli')
    return exe


def run_help(exe, *args):
    env = dict(os.environ, COLUMNS='96', NO_COLOR='1', PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]))
    r = subprocess.run([exe, *args, '--help'], capture_output=True, text=True, env=env, timeout=120)
    cmd = ' '.join([CLI_NAME, *args, '--help'])
    if r.returncode != 0 or not r.stdout.strip():
        raise DocsError(f'`{cmd}` failed (exit {r.returncode}); the CLI page cannot be generated:\n'
                        + (r.stderr or r.stdout).strip()[-1500:])
    return r.stdout.rstrip()


def list_actions(help_text):
    "Sub-commands that argparse lists in `--help` (indented entries under the sub-parser's positional argument)."
    sec = re.search(r'^positional arguments:\n((?:[ \t]+.*\n?)+)', help_text, re.M)
    found = re.findall(r'^ {4}([A-Za-z][\w-]*)(?: {2,}|$)', sec.group(1), re.M) if sec else []
    if not found:
        m = re.search(r'\{([\w-]+(?:,[\w-]+)*)\}', help_text)
        found = m.group(1).split(',') if m else []
    return found


def cli_markdown():
    exe = cli_command()
    top = run_help(exe)
    actions = list_actions(top)
    if not actions: raise DocsError(f'`{CLI_NAME} --help` lists no actions: cannot build the CLI page')
    out = ['# Command line\n',
           f'The console script `{CLI_NAME}` runs one action at a time. This page is the output of '
           f'`{CLI_NAME} --help` and `{CLI_NAME} <action> --help`, captured when the site was built.\n',
           f'## {CLI_NAME}\n', f'```text\n{top}\n```\n']
    for a in actions:
        out += [f'## {a}\n', f'```text\n{run_help(exe, a)}\n```\n']
    log(f'CLI page: actions {", ".join(actions)}')
    return '\n'.join(out), actions


# ---------------------------------------------------------------- site assembly
TOC = """
```{{toctree}}
:hidden:
:maxdepth: 2

{entries}
```
"""


def assemble(cache: Path, nbs: Path, cfg, rels):
    if SRC.exists(): shutil.rmtree(SRC)
    SRC.mkdir(parents=True)
    if not rels: raise DocsError(f'no notebooks found in {nbs}')
    if Path('index.ipynb') not in rels: raise DocsError('nbs/index.ipynb is missing: it is the home page')
    pages = []
    for rel in rels:
        proc = cache/rel
        if not proc.exists(): raise DocsError(f'nbdev produced no {proc.relative_to(ROOT)} for nbs/{rel}')
        p = Page(rel, proc)
        src_nb = json.loads((nbs/rel).read_text(encoding='utf-8'))
        exp = [re.match(r'^#\|\s*default_exp\s+(\S+)', src_text(c)) for c in src_nb['cells'] if c['cell_type'] == 'code']
        p.default_exp = next((m.group(1) for m in exp if m), None)
        if not p.title: raise DocsError(f'nbs/{rel} has no H1 title ("# Title" in its first markdown cell)')
        pages.append(p)
    names = [p.docname for p in pages] + list(GENERATED.values())
    dupes = {d for d in names if names.count(d) > 1}
    if dupes: raise DocsError(f'several notebooks (or a notebook and a generated page) would make the same page: {sorted(dupes)}')
    rewrite_links(pages, cfg)
    index = next(p for p in pages if p.rel == Path('index.ipynb'))
    chapters = [p for p in pages if p is not index]
    chapters.sort(key=lambda p: (not p.numbered, p.rel.as_posix()))

    qs = Page.__new__(Page)
    qs.docname, qs.title, qs.description, qs.nb = GENERATED['quickstart'], 'Quickstart', '', index.nb
    qs.cells = quickstart_cells(index)
    qs.write()

    for p in chapters: p.write()
    toc = TOC.format(entries='\n'.join(GENERATED.values()))
    index.write(extra_cells=[md_cell(toc)])

    listing = '\n'.join(f'- [{p.title}]({p.docname}.ipynb)' + (f' — {p.description}' if p.description else '')
                        for p in chapters)
    write_md(GENERATED['chapters'], '# Chapters\n\nThe notebooks, in reading order. Each is a chapter: prose, the exported '
             f'code\'s reference, examples that are also tests, and figures.\n\n{listing}\n'
             + TOC.format(entries='\n'.join(p.docname for p in chapters)))
    api, covered = api_markdown(pages)
    write_md(GENERATED['api'], api)
    cli, actions = cli_markdown()
    write_md(GENERATED['cli'], cli)

    for f in nbs.rglob('*'):                            # images etc. that notebooks reference by relative path
        if f.is_file() and f.suffix.lower() in ASSET_SUFFIXES and not any(p.startswith(('.', '_')) for p in f.relative_to(nbs).parts):
            d = SRC/f.relative_to(nbs); d.parent.mkdir(parents=True, exist_ok=True); shutil.copy2(f, d)
    docnames = ['index', *GENERATED.values()] + [p.docname for p in chapters]
    log(f'Sphinx sources: {len(docnames)} pages in {SRC.relative_to(ROOT)}/')
    return docnames


def sphinx_build(jobs: str):
    html, doctrees = WORK/'html', WORK/'doctrees'
    for d in (html, doctrees, WORK/'jupyter_execute'):
        if d.exists(): shutil.rmtree(d)
    warnings_file = WORK/'sphinx-warnings.txt'
    cmd = [sys.executable, '-m', 'sphinx', '-b', 'html', '-c', str(CONF_DIR), '-d', str(doctrees),
           '-W', '--keep-going', '-w', str(warnings_file), '-q', '-j', jobs, str(SRC), str(html)]
    t = time.time()
    r = subprocess.run(cmd, cwd=ROOT)
    if r.returncode != 0:
        w = warnings_file.read_text() if warnings_file.exists() else ''
        raise DocsError(f'sphinx-build failed (exit {r.returncode}); warnings are errors here:\n{w.strip()}')
    log(f'sphinx-build done in {time.time()-t:.1f}s')
    return html


_re_ext_asset = re.compile(r'<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)=["\'](?:https?:)?//', re.I)
_re_css_url = re.compile(r'(?:url\(\s*["\']?|@import\s+["\'])(?:https?:)?//', re.I)


def check_site(site: Path, docnames):
    missing = [d for d in docnames if not (site/f'{d}.html').exists()]
    if missing: raise DocsError(f'pages missing from the built site: {missing}')
    external = []
    for f in site.rglob('*'):
        if f.suffix == '.html' and _re_ext_asset.search(f.read_text(encoding='utf-8', errors='replace')):
            external.append(f.relative_to(site).as_posix())
        if f.suffix == '.css' and _re_css_url.search(f.read_text(encoding='utf-8', errors='replace')):
            external.append(f.relative_to(site).as_posix())
    if external: raise DocsError(f'these files load scripts, styles, fonts or images from the network: {external}')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default='site', help='output directory, relative to the repository root (default: site)')
    ap.add_argument('-j', '--jobs', default='auto', help='sphinx-build parallel jobs (default: auto)')
    args = ap.parse_args(argv)
    t0 = time.time()
    os.chdir(ROOT)
    cfg = settings()
    nbs = ROOT/cfg.get('nbs_path', 'nbs')
    out = (ROOT/args.out).resolve()
    try:
        rels = source_notebooks(nbs)
        check_title_cells(nbs, rels)
        cache = run_nbdev(nbs, rels, os.cpu_count() or 1)
        docnames = assemble(cache, nbs, cfg, rels)
        html = sphinx_build(args.jobs)
        check_site(html, docnames)
        if (html/'_sources').is_dir() and not any((html/'_sources').iterdir()): (html/'_sources').rmdir()
        if out.exists(): shutil.rmtree(out)
        shutil.move(str(html), str(out))
    except DocsError as e:
        print(f'build_docs: error: {e}', file=sys.stderr)
        return 1
    log(f'site ready in {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}/ ({time.time()-t0:.0f}s): '
        f'open {out/"index.html"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
