"""Sphinx configuration for the candels-blender site. Built by `python tools/build_docs.py`, which writes the
source tree (nbdev's processed notebooks as myst-nb pages, the chapters page, docs/pages/*.md) into
`_proc/_sphinx` and runs sphinx-build with `-c docs`."""
import configparser
import shutil
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from docutils import nodes
from sphinx.transforms import SphinxTransform

_root = Path(__file__).resolve().parent.parent
_cfg = configparser.ConfigParser(delimiters=['='])
_cfg.read(_root/'settings.ini', encoding='utf-8')
_cfg = _cfg['DEFAULT']

project = _cfg['lib_name']
author = _cfg['author']
copyright = _cfg['copyright']
release = version = _cfg['version']

extensions = ['myst_nb', 'sphinxarg.ext']    # myst-nb brings myst-parser along; sphinx-argparse: the CLI page

# Notebooks are rendered as saved: their outputs (figures included) are what the pages show.
nb_execution_mode = 'off'
nb_merge_streams = True
myst_enable_extensions = ['dollarmath', 'amsmath', 'attrs_inline', 'colon_fence', 'deflist']
myst_heading_anchors = 4                      # `page.ipynb#rng_for` links resolve to headings

exclude_patterns = ['**.ipynb_checkpoints']
suppress_warnings = [
    # show_doc entries are level-3 headings; a chapter may show one straight under its H1. Cosmetic only.
    'myst.header',
]

html_theme = 'pydata_sphinx_theme'
html_title = project
html_static_path = ['_static']
html_css_files = ['candels.css']
html_copy_source = False                      # no _sources/*.ipynb copies: the notebooks live in the repository
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    'navbar_align': 'left',
    'header_links_before_dropdown': 6,
    'show_toc_level': 2,
    'navigation_with_keys': False,
    'secondary_sidebar_items': ['page-toc'],
    'footer_start': ['copyright'],
    'footer_end': ['sphinx-version'],
}
# pydata-sphinx-theme logs a console error on a first visit (empty localStorage) unless a default mode is set.
html_context = {'default_mode': 'auto'}
# Pages without children get no (empty) "Section Navigation" column; chapter pages list the chapters.
html_sidebars = {page: [] for page in ('index', 'command-line', 'search', 'genindex')}

# MathJax 3 from a local copy (the default loads it from a CDN, which an offline site cannot reach).
mathjax_path = 'mathjax/tex-chtml.js'
_MATHJAX_PARTS = ['tex-chtml.js', 'input/tex/extensions', 'output/chtml', 'a11y', 'ui', 'adaptors']


def _copy_mathjax(app, exc):
    if exc is not None or app.builder.format != 'html': return
    try: src = Path(distribution('sphinx-mathjax-offline').locate_file('sphinx-mathjax-offline/static/mathjax'))
    except PackageNotFoundError:
        raise RuntimeError('sphinx-mathjax-offline is not installed: pip install -e ".[dev,docs]"') from None
    if not (src/'tex-chtml.js').exists(): raise RuntimeError(f'no MathJax in {src}')
    dest = Path(app.outdir)/'_static'/'mathjax'
    for part in _MATHJAX_PARTS:
        s, d = src/part, dest/part
        if s.is_dir(): shutil.copytree(s, d, dirs_exist_ok=True)
        elif s.exists(): d.parent.mkdir(parents=True, exist_ok=True); shutil.copy2(s, d)


class _BarsAsText(SphinxTransform):
    """sphinx-argparse reads each option's help (the parameter's docments comment) as reStructuredText, where
    `|m1 - m2|` is a substitution reference: keep such text as it is written."""
    default_priority = 210                    # before docutils' Substitutions transform (220)

    def apply(self):
        for ref in list(self.document.findall(nodes.substitution_reference)):
            if ref['refname'] not in self.document.substitution_defs: ref.replace_self(nodes.Text(f'|{ref.astext()}|'))


def setup(app):
    app.connect('build-finished', _copy_mathjax)
    app.add_transform(_BarsAsText)
