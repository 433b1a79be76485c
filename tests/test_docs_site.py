"""The built documentation site, checked in a real browser (headless Debian Chromium driven by Playwright).

Run after building:  python tools/build_docs.py && python -m pytest tests/test_docs_site.py
Needs: pip install -e ".[dev,docs]", /usr/bin/chromium (bash tools/install_chromium.sh). Never `playwright install`.
Environment: DOCS_SITE (default: settings.ini's doc_path, `_docs/`), CHROMIUM (default /usr/bin/chromium),
DOCS_SCREENSHOTS (default <repo>/_screenshots).

The site is served on 127.0.0.1 by http.server in a thread; every page is opened once and checked for
console errors, uncaught exceptions, failed or non-200 requests and requests leaving 127.0.0.1; every <img>
must decode to a non-zero natural size; every same-site link must answer 200 and its #anchor must exist;
every public function and class has its entry on a chapter page; the command-line page documents every option of
every action; the search page must find a public function by name and link to the chapter that documents it;
screenshots of the home page, the command-line page and one chapter page (with a figure and an API entry) are saved.
"""
from __future__ import annotations

import functools, importlib, inspect, json, os, pkgutil, re, shutil, tempfile, threading, urllib.error, urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from html import escape, unescape
from urllib.parse import unquote, urldefrag, urlparse

import pytest
from nbdev.config import get_config

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get('DOCS_SITE', get_config(path=ROOT).doc_path))      # where tools/build_docs.py writes it
SHOTS = Path(os.environ.get('DOCS_SCREENSHOTS', ROOT/'_screenshots'))
CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
# Without the background-networking flags Chromium tries to reach Google services, which this closed network refuses.
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']
SEARCH_NAME = 'rng_for'        # a public function of candels_blender.core, documented on core.html
GENERATED = {'index', 'chapters', 'command-line', 'search', 'genindex'}

from playwright import sync_api        # pip install -e ".[dev,docs]" (never `playwright install`)

EXTERNAL = []                          # URLs the pages tried to fetch from anywhere but the local server


def _require_site():
    if not (SITE/'index.html').exists():
        pytest.fail(f'no built site at {SITE}: run `python tools/build_docs.py` first')
    if not Path(CHROMIUM).exists():
        pytest.fail(f'{CHROMIUM} not found: run tools/install_chromium.sh')


# ------------------------------------------------------------------ server and browser
class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *a): pass


@pytest.fixture(scope='module')
def base_url():
    _require_site()
    httpd = ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_Quiet, directory=str(SITE)))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}/'
    httpd.shutdown(); httpd.server_close()


@pytest.fixture(scope='module')
def context(base_url):
    profile = tempfile.mkdtemp(prefix='docs-chromium-')          # a fresh user-data-dir every run
    with sync_api.sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True,
                                                    args=CHROMIUM_ARGS, viewport={'width': 1280, 'height': 900})
        def guard(route):                                         # nothing may leave 127.0.0.1
            if route.request.url.startswith(base_url) or route.request.url.startswith('data:'): route.continue_()
            else: EXTERNAL.append(route.request.url); route.abort()
        ctx.route('**/*', guard)
        yield ctx
        ctx.close()
    shutil.rmtree(profile, ignore_errors=True)


_IMAGES_JS = """async () => {
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  return imgs.map(i => ({src: i.currentSrc || i.src, w: i.naturalWidth, h: i.naturalHeight}));
}"""


def visit(context, url):
    "Open `url`; return what the page showed and what went wrong."
    page = context.new_page()
    seen = dict(console=[], errors=[], failed=[], bad_status=[])
    page.on('console', lambda m: m.type == 'error' and seen['console'].append(m.text))
    page.on('pageerror', lambda e: seen['errors'].append(str(e)))
    page.on('requestfailed', lambda r: seen['failed'].append(f'{r.url} ({r.failure})'))
    page.on('response', lambda r: r.status >= 400 and seen['bad_status'].append(f'{r.status} {r.url}'))
    resp = page.goto(url, wait_until='load')
    page.wait_for_load_state('networkidle')
    seen['status'] = resp.status if resp else None
    seen['images'] = page.evaluate(_IMAGES_JS)
    seen['links'] = page.eval_on_selector_all('a[href]', 'as => as.map(a => a.href)')
    seen['title'] = page.title()
    seen['math'] = page.evaluate("[document.querySelectorAll('.math').length, document.querySelectorAll('mjx-container').length]")
    return page, seen


@pytest.fixture(scope='module')
def pages(context, base_url):
    "Every HTML page of the site, opened once in the browser."
    res = {}
    for f in sorted(SITE.rglob('*.html')):
        rel = f.relative_to(SITE).as_posix()
        if rel.startswith(('_static/', '_images/')): continue     # theme template leftovers, not pages
        page, seen = visit(context, base_url + rel)
        page.close()
        res[rel] = seen
    return res


# ------------------------------------------------------------------ the checks
def _notebooks():
    "Every notebook of nbs/, in its part's folder or at the top (nbdev skips names starting with '.' or '_')."
    nbs = ROOT/'nbs'
    return sorted(f for f in nbs.rglob('*.ipynb') if not any(s.startswith(('.', '_')) for s in f.relative_to(nbs).parts))


def _page_of(nb):
    "The page nbdev names for a notebook: `nbs/blending/03_render.ipynb` -> `blending/render.html`."
    rel = nb.relative_to(ROOT/'nbs')
    stem = 'index' if nb.stem == 'index' else re.sub(r'^\d+[a-zA-Z0-9]*_', '', nb.stem.lower())
    return (rel.parent/f'{stem}.html').as_posix()


def test_site_has_the_expected_pages(pages):
    names = {Path(p).stem for p in pages}
    assert {'index', 'chapters', 'command-line', 'search'} <= names, names
    for nb in _notebooks():                                     # one page per notebook (nbdev's naming), parts in folders
        assert _page_of(nb) in pages, f'no page {_page_of(nb)} for {nb.relative_to(ROOT)}'


def _book():
    import yaml
    return yaml.safe_load((ROOT/'docs'/'book.yml').read_text())


def test_navigation_shows_the_parts_as_sections(pages):
    "The sidebar of a chapter page and the chapters page show the book's sections, in its order, with their chapters."
    titles = [s['title'] for s in _book()['sections']]
    for page in ('blending/render.html', 'chapters.html'):
        html = (SITE/page).read_text()
        nav = html[html.index('bd-sidebar-primary'):]
        captions = re.findall(r'<p[^>]*class="[^"]*caption[^"]*"[^>]*>\s*<span class="caption-text">([^<]+)</span>', nav)
        assert [unescape(c) for c in captions] == titles, (page, captions)
    chapters = (SITE/'chapters.html').read_text()
    heads = [unescape(re.sub(r'<[^>]+>', '', h)).strip().rstrip('#').strip()
             for h in re.findall(r'<h2[^>]*>(.*?)</h2>', chapters, re.S)]
    assert heads == titles, heads
    for s in _book()['sections']:                               # each part's chapters are listed under its heading
        if 'part' not in s: continue
        section = chapters.split(f'>{escape(s["title"])}<', 1)[1].split('<h2', 1)[0]
        for nb in sorted((ROOT/'nbs'/s['part']).glob('*.ipynb')):
            assert f'href="{_page_of(nb).split("/", 1)[1]}' in section or f'/{_page_of(nb)}' in section \
                or f'"{_page_of(nb)}' in section, (s['title'], _page_of(nb))
    start = _page_of(ROOT/'nbs'/f"{_book()['start']}.ipynb")   # Get started: right after the home page
    home_nav = re.findall(r'class="nav-link[^"]*"[^>]*href="([^"]+)"', (SITE/'index.html').read_text())
    assert home_nav and home_nav[0].endswith(start), home_nav


def test_pages_load_without_console_errors(pages):
    problems = {p: {k: v for k, v in s.items() if k in ('console', 'errors', 'failed', 'bad_status') and v}
                for p, s in pages.items()}
    problems = {p: v for p, v in problems.items() if v}
    assert all(s['status'] == 200 for s in pages.values())
    assert not problems, json.dumps(problems, indent=1)


def test_no_request_leaves_localhost(pages, context):
    assert EXTERNAL == [], EXTERNAL


def test_pages_reference_no_external_scripts_styles_or_fonts():
    ext = re.compile(r'<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)=["\'](?:https?:)?//', re.I)
    css = re.compile(r'(?:url\(\s*["\']?|@import\s+["\'])(?:https?:)?//', re.I)
    _require_site()
    bad = [f.relative_to(SITE).as_posix() for f in SITE.rglob('*')
           if (f.suffix == '.html' and ext.search(f.read_text(errors='replace')))
           or (f.suffix == '.css' and css.search(f.read_text(errors='replace')))]
    assert bad == []


def _shown_image_outputs(nb_path):
    "Image outputs of a notebook's cells that nbdev keeps in the docs (not hidden, exported or excluded)."
    n = 0
    for c in json.loads(nb_path.read_text())['cells']:
        if c['cell_type'] != 'code': continue
        src = ''.join(c['source'])
        dirs = re.findall(r'^#\|\s*(.*?)\s*$', src, re.M)
        if any(re.match(r'^(hide|export|exporti|default_exp)\b|^(include|output)\s*:\s*false', d) for d in dirs): continue
        n += sum(1 for o in c.get('outputs', []) if any(k.startswith('image/') for k in o.get('data', {})))
    return n


def test_figures_are_rendered_images(pages):
    for p, s in pages.items():
        for img in s['images']:
            assert img['w'] > 0 and img['h'] > 0, f'{p}: image not rendered: {img["src"]}'
    total = 0
    for nb in _notebooks():
        expected = _shown_image_outputs(nb)
        page = _page_of(nb)
        assert len(pages[page]['images']) >= expected, f'{page} shows {len(pages[page]["images"])} of {expected} figures'
        total += expected
    assert total > 0, 'the notebooks have no figures at all: nothing was checked'


def test_math_is_typeset_by_the_local_mathjax(pages):
    with_math = {p: s['math'] for p, s in pages.items() if s['math'][0]}
    assert with_math, 'no page has math: nothing was checked'
    assert all(typeset >= n for n, typeset in with_math.values()), with_math


def _fetch(url, cache={}):
    if url not in cache:
        try:
            with urllib.request.urlopen(url, timeout=10) as r: cache[url] = (r.status, r.read().decode('utf-8', 'replace'))
        except urllib.error.HTTPError as e: cache[url] = (e.code, '')
    return cache[url]


def test_internal_links_resolve(pages, base_url):
    host = urlparse(base_url).netloc
    bad, checked = [], 0
    for p, s in pages.items():
        for href in set(s['links']):
            u = urlparse(href)
            if u.scheme not in ('http', 'https') or u.netloc != host: continue
            target, frag = urldefrag(href)
            status, html = _fetch(target)
            checked += 1
            if status != 200: bad.append(f'{p} -> {href}: HTTP {status}'); continue
            frag = unquote(frag)
            if frag and not re.search(rf'\b(?:id|name)=["\']{re.escape(frag)}["\']', html):
                bad.append(f'{p} -> {href}: no #{frag} on the page')
    assert checked > 50, f'only {checked} internal links found'
    assert bad == [], '\n'.join(bad)


def _public_modules():
    import sys
    sys.path.insert(0, str(ROOT))
    pkg = importlib.import_module('candels_blender')
    return [importlib.import_module(m.name) for m in pkgutil.walk_packages(pkg.__path__, 'candels_blender.')
            if not any(part.startswith('_') for part in m.name.split('.'))]


def test_every_public_function_and_class_has_an_entry(pages):
    "nbdev's show_doc entry (a heading with the name and a `source` link) for each, on some chapter page."
    headings = set()
    for p in pages:
        html = (SITE/p).read_text()
        headings |= set(re.findall(r'<h[234][^>]*>(?:<code[^>]*>)?(?:<span class="pre">)?([\w.]+)', html))
    missing, n = [], 0
    for mod in _public_modules():
        for name in getattr(mod, '__all__', []):
            obj = getattr(mod, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or obj.__module__ != mod.__name__: continue
            n += 1
            if name not in headings: missing.append(f'{mod.__name__}.{name}')
    assert n > 50, f'only {n} public functions and classes found'
    assert missing == [], missing


def test_cli_page_documents_every_option_of_every_action(pages):
    "The command-line page (sphinx-argparse on `build_parser`) has a section per action listing all its options."
    import argparse
    from candels_blender.cli import build_parser
    html = (SITE/'command-line.html').read_text()
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert len(sub.choices) >= 3 and 'produce' in sub.choices
    starts = {a: html.find(f'<section id="candels-blender-{a}">') for a in sub.choices}
    assert -1 not in starts.values(), f'actions without a section: {[a for a, i in starts.items() if i < 0]}'
    for action, parser in sub.choices.items():
        section = html[starts[action]:min([i for i in starts.values() if i > starts[action]], default=len(html))]
        for opt in (s for a in parser._actions if not isinstance(a, argparse._HelpAction) for s in a.option_strings):
            assert re.search(rf'<kbd>(?:[^<]*, )?{re.escape(opt)}(?:,|</kbd>)', section), f'{action}: no {opt}'


def test_search_finds_a_function_by_name(context, base_url):
    page, seen = visit(context, base_url + 'search.html')
    box = page.locator('.bd-search-container form.bd-search input[name="q"]')
    box.fill(SEARCH_NAME)
    box.press('Enter')
    page.wait_for_selector('#search-results ul.search li a', timeout=15000)
    page.wait_for_function("document.querySelector('#search-results .search-summary') !== null", timeout=15000)
    hrefs = page.eval_on_selector_all('#search-results ul.search li a', 'as => as.map(a => a.href)')
    page.close()
    assert any(urlparse(h).path.endswith('/core.html') for h in hrefs), hrefs
    assert not seen['console'] and not seen['errors']


def _pick_module_page(pages):
    "The first chapter page that shows a figure and an API entry (a show_doc 'source' link)."
    for p in sorted(pages):
        if Path(p).stem in GENERATED or not pages[p]['images']: continue
        if 'class="sourcelink' in (SITE/p).read_text(): return p
    pytest.fail('no chapter page has both a figure and an API entry')


def test_screenshots(context, base_url, pages):
    SHOTS.mkdir(parents=True, exist_ok=True)
    module = _pick_module_page(pages)
    for name, rel in (('home', 'index.html'), ('cli', 'command-line.html'), ('module-' + Path(module).stem, module)):
        page, _ = visit(context, base_url + rel)
        for old in SHOTS.glob(f'{name.split("-")[0]}*.png'): old.unlink()
        out = SHOTS/f'{name}.png'
        page.screenshot(path=str(out), full_page=True)
        page.close()
        assert out.stat().st_size > 20_000, f'{out} looks empty'
