"""Packaging for candels-blender: every value comes from settings.ini (the nbdev 2 convention)."""
from configparser import ConfigParser
from pathlib import Path
import setuptools

root = Path(__file__).parent
cfg = ConfigParser(delimiters=['='])
cfg.read(root/'settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']

licenses = {'mit': 'MIT'}   # SPDX identifiers
statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable', '6 - Mature']
lic = licenses[cfg['license'].lower()]
min_python = cfg['min_python']
py_versions = '3.9 3.10 3.11 3.12 3.13'.split()

def _split(key): return cfg.get(key, '').split()

# every `NAME_requirements` key of settings.ini is the extra `[NAME]` (dev, docs, torch, dask, ...)
extras = {k[:-len('_requirements')]: _split(k) for k in cfg if k.endswith('_requirements') and k != 'requirements'}

setuptools.setup(
    name=cfg['lib_name'],
    version=cfg['version'],
    description=cfg['description'],
    long_description=(root/'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    author=cfg['author'], author_email=cfg['author_email'],
    url=cfg['git_url'], license=lic,
    keywords=cfg['keywords'],
    classifiers=[
        'Development Status :: ' + statuses[int(cfg['status'])],
        'Intended Audience :: ' + cfg['audience'].title(),
        'Natural Language :: ' + cfg['language'].title(),
        'Topic :: Scientific/Engineering :: Astronomy',
    ] + ['Programming Language :: Python :: ' + v for v in py_versions[py_versions.index(min_python):]],
    packages=setuptools.find_packages(include=['candels_blender', 'candels_blender.*']),
    include_package_data=True,
    python_requires='>=' + min_python,
    install_requires=_split('requirements'),
    extras_require=extras,
    entry_points={'console_scripts': _split('console_scripts'),
                  'nbdev': [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"]},
    zip_safe=False,
)
