"""Turn nbdev's processed notebooks (`_proc/`) into a Sphinx book source (`_proc/_book/`), offline.

Quarto renders the book where it is installed (`nbdev_docs`); this is the documented fallback: each notebook page
gets its title back from the frontmatter, directive lines and `show_doc` call cells are hidden, links to the doc
site become relative links, and the sidebar (`nbs/sidebar.yml`) becomes the book's table of contents."""
import json, re, shutil, sys
from pathlib import Path
import yaml

ROOT = Path(__file__).resolve().parents[1]
PROC, BOOK = ROOT / '_proc', ROOT / '_proc' / '_book'
cfg = dict(l.split(' = ', 1) for l in (ROOT / 'settings.ini').read_text().splitlines() if ' = ' in l)
SITE = cfg['doc_host'].rstrip('/') + cfg['doc_baseurl'].rstrip('/') + '/'

def md_cell(text): return {'cell_type': 'markdown', 'metadata': {}, 'source': text}
def fix_links(text): return text.replace(SITE, '').replace('{target="_blank" style="float:right; font-size:smaller"}', '')

def page(nb_path: Path) -> tuple[str, dict]:
    "The page name and notebook of a processed notebook"
    nb = json.loads(nb_path.read_text())
    cells, front = nb['cells'], {}
    if cells and cells[0]['cell_type'] == 'raw':
        front = yaml.safe_load(''.join(cells[0]['source']).strip().strip('-')) or {}
        cells = cells[1:]
    head = f"# {front.get('title', nb_path.stem)}\n\n" + (f"> {front['description']}\n" if front.get('description') else '')
    out = [md_cell(head)]
    for c in cells:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown': c['source'] = fix_links(src)
        if c['cell_type'] == 'code':
            directives = [l for l in src.splitlines() if l.startswith('#|')]
            c['source'] = '\n'.join(l for l in src.splitlines() if not l.startswith('#|'))
            if any('echo: false' in d for d in directives): c.setdefault('metadata', {})['tags'] = ['remove-input']
            for o in c.get('outputs', []):
                for k, v in o.get('data', {}).items():
                    if k in ('text/markdown', 'text/html'):
                        o['data'][k] = fix_links(''.join(v) if isinstance(v, list) else v)
        c.get('metadata', {}).pop('execution', None)
        out.append(c)
    nb['cells'] = out
    name = Path(front.get('output-file', nb_path.stem + '.html')).stem
    return name, nb

def main():
    if not PROC.exists(): sys.exit('run nbdev_proc_nbs first')
    shutil.rmtree(BOOK, ignore_errors=True); BOOK.mkdir()
    names = {}
    for p in sorted(PROC.glob('*.ipynb')):
        name, nb = page(p)
        names[p.name] = name
        (BOOK / f'{name}.ipynb').write_text(json.dumps(nb))
    sidebar = yaml.safe_load((ROOT / 'nbs' / 'sidebar.yml').read_text())['website']['sidebar']['contents']
    listed, toc = set(), []
    for entry in sidebar:
        if isinstance(entry, str): listed.add(entry); continue
        pages = [names[f] for f in entry['contents'] if f in names]
        listed.update(entry['contents'])
        if pages: toc.append((entry['section'], pages))
    rest = [names[f] for f in names if f not in listed]
    if rest: toc.append(('More', rest))
    home = BOOK / 'index.ipynb'
    nb = json.loads(home.read_text())
    nb['cells'].append(md_cell('\n'.join(f"```{{toctree}}\n:hidden:\n:caption: {cap}\n\n" + '\n'.join(pages) + '\n```\n'
                                         for cap, pages in toc)))
    home.write_text(json.dumps(nb))
    (BOOK / 'conf.py').write_text(f'''
project = "crowdbook"
copyright = "{cfg["copyright"]}"
extensions = ["myst_nb", "sphinx-mathjax-offline"]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
nb_execution_mode = "off"
nb_merge_streams = True
html_theme = "sphinx_book_theme"
html_title = "crowdbook"
html_theme_options = {{"repository_url": "{cfg["git_url"]}", "use_repository_button": True, "show_toc_level": 2}}
exclude_patterns = ["_build"]
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type", "misc.highlighting_failure", "myst.xref_missing"]
''')
    print(f"book source: {len(names)} pages in {BOOK}")

if __name__ == '__main__': main()
