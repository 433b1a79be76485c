#!/usr/bin/env python
"""Build the documentation site from the notebooks, offline and without Quarto: `python tools/build_docs.py`.

Libraries do the work; this script only joins them:
1. nbdev (`nbdev.serve.proc_nbs`, what `nbdev_docs` runs before Quarto) processes every notebook of nbs/ into
   `_proc/`: hides `#| hide` cells and exported sources, adds `show_doc` entries, links backticked names.
2. Here: each processed notebook becomes a myst-nb page named as nbdev names it (`00_core.ipynb` -> `core.html`).
   The few Quarto conventions nbdev leaves are turned into their myst-nb equivalents: the front matter becomes
   the title and lead, `output: asis` outputs (show_doc) become markdown, `echo: false` hides a cell's input,
   and nbdev's links to the hosted site (and links to `NN_name.ipynb`) point at the pages of this site.
   The book's sections come from docs/book.yml (the package's parts, in reading order): the chapters page shows
   each with what it holds, and each section is a captioned toctree, so the navigation shows the parts;
   `docs/pages/*.md` (the command line, documented by sphinx-argparse from `candels_blender.cli.build_parser`)
   are added as they are.
3. `sphinx-build -W` (configuration in docs/conf.py: myst-nb renders the saved outputs, pydata-sphinx-theme).
4. A check that no page or stylesheet loads anything over the network; then the site replaces `<doc_path>/`
   (settings.ini: `_docs/`).
"""
import json, os, re, shutil, subprocess, sys, time
from pathlib import Path

try:
    import myst_nb, pydata_sphinx_theme, sphinxarg, yaml  # noqa: F401  (the libraries of the build)
    from myst_parser.slugs import github_slugify
    from nbdev.config import get_config
    from nbdev.doclinks import nbglob
    from nbdev.serve import proc_nbs
except ImportError as e:
    sys.exit(f'build_docs: error: {e}: install the docs tools with  pip install -e ".[dev,docs]"')

ROOT = Path(__file__).resolve().parent.parent
PROC = ROOT/'_proc'                    # nbdev's processed notebooks (nbdev's own folder name)
SRC, HTML, TREES = PROC/'_sphinx', PROC/'_html', PROC/'_doctrees'   # Sphinx's source, output and cache
CONF, PAGES = ROOT/'docs', ROOT/'docs'/'pages'
IMAGES = {'.png', '.jpg', '.jpeg', '.gif', '.svg', '.webp'}


class DocsError(Exception):
    "Something the site needs is missing or broken: one message, exit status 1."


def log(msg): print(f'[build_docs] {msg}', flush=True)


def text(cell): return ''.join(cell.get('source') or '')


def cell(kind, source, **kw): return dict(cell_type=kind, id=kw.pop('id'), metadata={}, source=source, **kw)


def check_title_cells(nbs, files):
    "nbdev keeps only `# Title`, `> subtitle` and `- key: value` lines of the H1 cell: refuse a cell with more."
    bad = []
    for f in files:
        h1 = next((c for c in json.loads(f.read_text(encoding='utf-8'))['cells']
                   if c['cell_type'] == 'markdown' and re.search(r'^#\s+\S', text(c), re.M)), None)
        if h1 is None: bad.append(f'{f.relative_to(nbs)}: no "# Title" cell'); continue
        extra = [l for l in text(h1).splitlines() if l.strip() and not re.match(r'^(#\s+\S|>\s|-\s+\S.*:)', l)]
        if extra: bad.append(f'{f.relative_to(nbs)}: {extra[0][:60]!r}')
    if bad: raise DocsError('nbdev would drop from the docs what follows "# Title" and "> subtitle" in these '
                            'title cells; move it to a markdown cell of its own:\n  ' + '\n  '.join(bad))


# ---------------------------------------------------------------- one processed notebook -> one myst-nb page
def front_matter(nb):
    "Pop nbdev's front-matter raw cell (`title`, `description`, `output-file`) and return it."
    for i, c in enumerate(nb['cells']):
        if c['cell_type'] == 'raw' and text(c).lstrip().startswith('---'):
            del nb['cells'][i]
            return yaml.safe_load(text(c).strip().strip('-')) or {}
    return {}


def show_doc_markdown(c):
    "The markdown of an `output: asis` cell (nbdev's show_doc), as MyST reads it."
    md = '\n\n'.join(''.join(o['data']['text/markdown']).strip() for o in c.get('outputs', [])
                     if 'text/markdown' in o.get('data', {}))
    md = re.sub(r'^---\s*\n', '', md)                                  # a rule before a heading: a docutils error
    return re.sub(r'(\[source\]\([^)]*\))\{[^}]*\}', r'\1{.sourcelink}', md)   # Quarto's link style -> CSS class


def quarto_options(source):
    "The `#| key: value` options nbdev leaves at the top of a code cell, and the code without them."
    lines, opts = source.splitlines(), {}
    while lines and (m := re.match(r'^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$', lines[0])):
        opts[m.group(1)] = m.group(2).strip('"\'').lower()
        lines.pop(0)
    return opts, '\n'.join(lines)


def page_cells(nb):
    "Cells with the Quarto options applied the myst-nb way (markdown, `remove-input`/`remove-output` tags)."
    cells = []
    for c in nb['cells']:
        if c['cell_type'] != 'code': cells.append(c); continue
        opts, code = quarto_options(text(c))
        if opts.get('include') == 'false': continue
        if opts.get('output') == 'asis':
            cells.append(cell('markdown', show_doc_markdown(c), id=c['id'])); continue
        tags = [t for k, t in (('echo', 'remove-input'), ('output', 'remove-output')) if opts.get(k) == 'false']
        cells.append(dict(c, source=code, metadata={'tags': tags} if tags else {}))
    return cells


class Page:
    "A chapter (or the home page): nbdev's processed notebook as a myst-nb notebook for Sphinx."
    def __init__(self, rel):
        self.rel, self.nb = rel, json.loads((PROC/rel).read_text(encoding='utf-8'))
        fm = front_matter(self.nb)
        self.title, self.lead = fm.get('title'), fm.get('description', '')
        self.docname = (rel.parent/Path(fm.get('output-file') or rel.name).stem).as_posix()
        if not self.title: raise DocsError(f'nbs/{rel}: nbdev found no title ("# Title" in the first cell)')
        self.cells = page_cells(self.nb)
        self.anchors, seen = {}, {}     # GitHub slug of a heading -> its id: MyST numbers repeats (`progress-1`)
        for h, showdoc in [(self.title, False)] + [(h, '{.sourcelink}' in text(c)) for c in self.cells
                                                   if c['cell_type'] == 'markdown'
                                                   for h in re.findall(r'^#{1,4}\s+(.+?)\s*$', text(c), re.M)]:
            base = github_slugify(re.sub(r'[`*]', '', h))
            if showdoc or base not in self.anchors:
                self.anchors[base] = f'{base}-{seen[base]}' if base in seen else base
            seen[base] = seen.get(base, 0) + 1          # nbdev links a name: its show_doc entry wins over prose

    def write(self, extra=()):
        head = f'# {self.title}\n' + (f'\n```{{rst-class}} lead\n{self.lead}\n```\n' if self.lead else '')
        meta = dict(self.nb.get('metadata', {}), language_info=dict(name='python', pygments_lexer='ipython3'))
        meta.setdefault('kernelspec', dict(name='python3', display_name='Python 3', language='python'))
        nb = dict(self.nb, metadata=meta, cells=[cell('markdown', head, id='title'), *self.cells, *extra])
        dest = SRC/f'{self.docname}.ipynb'
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding='utf-8')


def point_links_here(pages, cfg):
    """nbdev links names to the hosted site (`<doc_host><doc_baseurl>/core.html#rng_for`), authors link chapters by
    notebook (`01_toy.ipynb`): point both at this site's pages (MyST paths from the source root, GitHub-style
    heading slugs, as `myst_heading_anchors` makes them). A name without a section of its own (a private helper
    named in prose) is linked to its page."""
    by_doc, by_nb = {p.docname: p for p in pages}, {p.rel.with_suffix('').as_posix(): p for p in pages}
    site = re.escape((cfg.doc_host.rstrip('/') + '/' + cfg.doc_baseurl.strip('/')).rstrip('/') + '/')
    re_site = re.compile(r'\]\(' + site + r'([^)#\s]+?)\.html(?:#([^)\s]*))?\)')
    re_nb = re.compile(r'\]\((?:\./)?([^)#\s:]+?)\.ipynb(?:#([^)\s]*))?\)')
    unknown = set()

    def link(p, anchor):
        slug = p.anchors.get(github_slugify(anchor or ''))
        return f'](/{p.docname}.ipynb' + (f'#{slug}' if slug else '') + ')'

    def to_site(m):
        if m.group(1) not in by_doc: unknown.add(m.group(0)); return m.group(0)
        return link(by_doc[m.group(1)], m.group(2))

    for p in pages:
        def to_nb(m):
            p2 = by_nb.get(os.path.normpath(os.path.join(p.rel.parent, m.group(1))).replace(os.sep, '/'))
            return link(p2, m.group(2)) if p2 else m.group(0)     # any other link is Sphinx's to check
        for c in p.cells:
            if c['cell_type'] == 'markdown': c['source'] = re_nb.sub(to_nb, re_site.sub(to_site, text(c)))
    if unknown: raise DocsError(f'links to pages this site does not have: {sorted(unknown)}')


TOCTREE = '```{{toctree}}\n:hidden:\n:maxdepth: 2\n{}\n{}\n```\n'
BOOK = CONF/'book.yml'


def toctree(docnames, caption=None):
    return TOCTREE.format(f':caption: {caption}\n' if caption else '', '\n'.join(docnames))


def book_sections(pages):
    """The book's sections from docs/book.yml, in reading order: (title, about, pages), and the "Get started" page.
    Each chapter must be in exactly one section (or be the start): a notebook left out would be a page nobody finds."""
    book = yaml.safe_load(BOOK.read_text(encoding='utf-8'))
    by_nb = {p.rel.with_suffix('').as_posix(): p for p in pages}
    start = by_nb.get(book['start'])
    if start is None: raise DocsError(f'{BOOK.name}: start: no notebook nbs/{book["start"]}.ipynb')
    sections, placed = [], [start.rel]
    for s in book['sections']:
        if 'part' in s: members = sorted((p for p in pages if p.rel.parts[0] == s['part'] and len(p.rel.parts) > 1),
                                         key=lambda p: p.rel.as_posix())
        else: members = [by_nb[c] if c in by_nb else None for c in s['chapters']]
        if not members or None in members: raise DocsError(f'{BOOK.name}: section {s["title"]!r} names no notebook or a missing one')
        sections.append((s['title'], ' '.join(s['about'].split()), members)); placed += [p.rel for p in members]
    left = sorted(p.rel.as_posix() for p in pages if p.docname != 'index' and p.rel not in placed)
    twice = sorted({r.as_posix() for r in placed if placed.count(r) > 1})
    if left or twice: raise DocsError(f'{BOOK.name}: notebooks in no section: {left}; in two: {twice}')
    return start, sections


def chapters_page(start, sections):
    "The chapters page: each section with what it holds, its chapters with their leads, and its toctree (a caption)."
    def item(p): return f'- [{p.title}](/{p.docname}.ipynb)' + (f' — {p.lead}' if p.lead else '')
    parts = [f'## {title}\n\n{about}\n\n' + '\n'.join(map(item, members)) + '\n\n'
             + toctree([p.docname for p in members], title) for title, about, members in sections]
    return ('# Chapters\n\nThe book in reading order: how blends are made, what goes in, what comes out and at what '
            'scale, then training and scoring networks, and the realism of the synthetic set. Each chapter explains '
            'what and why, documents the code it exports, and shows examples that are also tests, with figures. '
            f'New here? Start with [{start.title}](/{start.docname}.ipynb).\n\n' + '\n'.join(parts))


def write_sources(nbs, files, cfg):
    "The Sphinx source tree: one page per notebook, the chapters page, docs/pages/*.md and the notebooks' images."
    if SRC.exists(): shutil.rmtree(SRC)
    pages = [Page(f.relative_to(nbs)) for f in files]
    dupes = sorted({p.docname for p in pages if [q.docname for q in pages].count(p.docname) > 1})
    if dupes: raise DocsError(f'several notebooks would make the same page: {dupes}')
    point_links_here(pages, cfg)
    home = next((p for p in pages if p.docname == 'index'), None)
    if home is None: raise DocsError('nbs/index.ipynb is missing: it is the home page (and the README)')
    start, sections = book_sections(pages)
    extra = sorted(f.stem for f in PAGES.glob('*.md'))
    home.write([cell('markdown', toctree([start.docname, 'chapters', *extra]), id='toctree')])
    for p in pages:
        if p is not home: p.write()
    (SRC/'chapters.md').write_text(chapters_page(start, sections), encoding='utf-8')
    for f in PAGES.glob('*.md'): shutil.copy2(f, SRC/f.name)
    for f in nbs.rglob('*'):                            # images the notebooks show by relative path
        if f.suffix.lower() in IMAGES and not any(s.startswith(('.', '_')) for s in f.relative_to(nbs).parts):
            (SRC/f.relative_to(nbs)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, SRC/f.relative_to(nbs))
    log(f'{len(pages)} notebooks -> {len(pages) + 1 + len(extra)} pages in {SRC.relative_to(ROOT)}/ '
        f'({len(sections)} sections, from {BOOK.relative_to(ROOT)})')


# ---------------------------------------------------------------- build and check
def sphinx_build():
    for d in (HTML, TREES):
        if d.exists(): shutil.rmtree(d)
    warnings = PROC/'sphinx-warnings.txt'
    r = subprocess.run([sys.executable, '-m', 'sphinx', '-b', 'html', '-c', str(CONF), '-d', str(TREES), '-W',
                        '--keep-going', '-w', str(warnings), '-q', '-j', 'auto', str(SRC), str(HTML)], cwd=ROOT)
    if r.returncode: raise DocsError(f'sphinx-build failed (warnings are errors):\n{warnings.read_text().strip()}')


def check_offline(site):
    "No page or stylesheet may load a script, style, font or image over the network (the site works offline)."
    html = re.compile(r'<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)=["\'](?:https?:)?//', re.I)
    css = re.compile(r'(?:url\(\s*["\']?|@import\s+["\'])(?:https?:)?//', re.I)
    bad = [f.relative_to(site).as_posix() for f in site.rglob('*') if f.suffix in ('.html', '.css')
           and (html if f.suffix == '.html' else css).search(f.read_text(encoding='utf-8', errors='replace'))]
    if bad: raise DocsError(f'these files load something over the network: {bad}')


def main():
    t0 = time.time()
    os.chdir(ROOT)                                      # nbdev finds settings.ini from here
    cfg = get_config()
    nbs, out = Path(cfg.nbs_path), Path(cfg.doc_path)
    files = sorted(nbglob(nbs, func=Path))
    try:
        check_title_cells(nbs, files)
        t = time.time()
        proc_nbs(nbs, force=True)
        log(f'nbdev processed {len(files)} notebooks into {PROC.relative_to(ROOT)}/ in {time.time() - t:.0f} s')
        write_sources(nbs, files, cfg)
        sphinx_build()
        check_offline(HTML)
    except DocsError as e:
        print(f'build_docs: error: {e}', file=sys.stderr)
        return 1
    shutil.rmtree(HTML/'_sources', ignore_errors=True)  # empty: html_copy_source is off
    if out.exists(): shutil.rmtree(out)
    shutil.move(str(HTML), str(out))
    log(f'site ready in {out.relative_to(ROOT)}/ ({time.time() - t0:.0f} s): open {out/"index.html"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
