"""Turn the notebooks into a Sphinx book source (`_proc/_book/`), offline.

Quarto renders the book where it is installed (`nbdev_docs`); this is the documented fallback. First nbdev processes
the notebooks as `nbdev_proc_nbs` does (into `_proc/`), without its attempt to download and install Quarto. Then each
notebook page gets its title back from the frontmatter, directive lines and `show_doc` call cells are hidden, each
`show_doc` heading gets its source link beside it, links to the doc site and to other chapters become links between
the book's pages, and the sidebar (`nbs/sidebar.yml`) becomes the book's table of contents."""
import hashlib, json, re, shutil, sys
from pathlib import Path
import yaml

ROOT = Path(__file__).resolve().parents[1]
PROC, BOOK = ROOT / '_proc', ROOT / '_proc' / '_book'
cfg = dict(l.split(' = ', 1) for l in (ROOT / 'settings.ini').read_text().splitlines() if ' = ' in l)
SITE = cfg['doc_host'].rstrip('/') + cfg['doc_baseurl'].rstrip('/') + '/'

CSS = """/* crowdbook's book: room for wide tables and code, and nbdev's small source link beside each symbol */
.bd-page-width { max-width: 110rem; }
.bd-main .bd-content .bd-article-container { max-width: 72rem; }
div.cell_input pre, div.cell_output pre, div.highlight pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.cell_output table, .bd-article table { display: block; max-width: 100%; overflow-x: auto; }
.cell_output table { font-size: 0.78rem; }
.cell_output table td, .cell_output table th { padding: 0.15rem 0.6rem; text-align: right; }
div.math, mjx-container[display="true"] { overflow-x: auto; max-width: 100%; }
div.cell_output img { max-width: 100%; height: auto; }
/* a figure wider than the column is shrunk to fit; pointing at it shows it as large as the window allows, above the sidebar */
div.cell_output img:hover { max-width: calc(100vw - 21rem); position: relative; z-index: 1100; background: white; box-shadow: 0 0 0.6rem rgba(0,0,0,.3); }
p.source-link { float: right; margin: 1.2rem 0 0 1rem; font-size: smaller; }
"""

def process_notebooks():
    "`nbdev_proc_nbs` without its attempt to download and install Quarto (which needs sudo and the internet)"
    import warnings, nbdev.quarto
    warnings.filterwarnings('ignore', message='.*torch.jit.script.*')   # raised by importing fastai with this torch
    nbdev.quarto._ensure_quarto = lambda: None
    nbdev.quarto._pre_docs(n_workers=0)   # in this process, where the warning filter above holds

def md_cell(text): return {'cell_type': 'markdown', 'id': hashlib.md5(text.encode()).hexdigest()[:8], 'metadata': {}, 'source': text}

SOURCE = re.compile(r'^---\s*\n+(?:\[source\]\(([^)]*)\)\{[^}]*\}\s*\n+)?(#+ [^\n]+)\n', re.M)
def show_doc_md(text):
    "nbdev's `show_doc` markdown: the rule above it dropped, the source link (if any) floated beside the heading, and nbdev's anchor"
    def heading(m):
        anchor = f'<span id="{m.group(2).lstrip("#").strip().lower()}"></span>\n\n'   # nbdev links to `page.html#symbol.name`
        link = f'<p class="source-link"><a href="{m.group(1)}">source</a></p>\n\n' if m.group(1) else ''
        return f'{anchor}{link}{m.group(2)}\n\n'
    return SOURCE.sub(heading, text)

CODE_BLOCK = re.compile(r'```python\n.*?```', re.S)
def plain_signature(text):
    "Docments in a `show_doc` signature as plain text: symbol links and `$...$` maths are markup only prose renders"
    def plain(m):
        block = re.sub(r'\[`?([^\]`]+)`?\]\([^)]*\)', r'\1', m.group(0))        # [`name`](page#name) -> name
        return re.sub(r'\$([^$\n]+)\$', lambda n: n.group(1).replace('\\', ''), block)   # $\alpha_j$ -> alpha_j
    return CODE_BLOCK.sub(plain, text)

PAGES = {}   # notebook file name -> page name, filled by `main`
def fix_links(text):
    "Links to the doc site and to other chapters' notebooks as links between the book's pages"
    text = re.sub(re.escape(SITE) + r'([\w.\-]+)\.html', lambda m: f'{m.group(1)}.ipynb', text)
    return re.sub(r'\]\((\d\d\w*[\w.\-]*)\.ipynb', lambda m: f"]({PAGES.get(m.group(1) + '.ipynb', m.group(1))}.ipynb", text)

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
                        o['data'][k] = fix_links(plain_signature(show_doc_md(''.join(v) if isinstance(v, list) else v)))
        c.get('metadata', {}).pop('execution', None)
        out.append(c)
    nb['cells'] = out
    nb['metadata'].update(kernelspec={'name': 'python3', 'display_name': 'Python 3', 'language': 'python'},
                          language_info={'name': 'python', 'pygments_lexer': 'ipython3'})
    return PAGES[nb_path.name], nb

def page_name(nb_path: Path) -> str:
    "The page a processed notebook becomes: its `output-file` without `.html`"
    cells = json.loads(nb_path.read_text())['cells']
    front = yaml.safe_load(''.join(cells[0]['source']).strip().strip('-')) or {} if cells and cells[0]['cell_type'] == 'raw' else {}
    return Path(front.get('output-file', nb_path.stem + '.html')).stem

def main():
    process_notebooks()
    shutil.rmtree(BOOK, ignore_errors=True); (BOOK / '_static').mkdir(parents=True)
    PAGES.update({p.name: page_name(p) for p in sorted(PROC.glob('*.ipynb'))})
    names = {}
    for p in sorted(PROC.glob('*.ipynb')):
        name, nb = page(p)
        names[p.name] = name
        (BOOK / f'{name}.ipynb').write_text(json.dumps(nb))
    (BOOK / '_static' / 'crowdbook.css').write_text(CSS)
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
author = "{cfg["author"]}"
copyright = "{cfg["copyright"]}"
extensions = ["myst_nb", "sphinx-mathjax-offline"]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "html_image"]
myst_heading_anchors = 4
html_static_path = ["_static"]
html_css_files = ["crowdbook.css"]
nb_execution_mode = "off"
nb_merge_streams = True
html_theme = "sphinx_book_theme"
html_title = "crowdbook"
html_theme_options = {{"repository_url": "{cfg["git_url"]}", "use_repository_button": True, "show_toc_level": 2,
                       "navbar_persistent": []}}
exclude_patterns = ["_build"]
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type", "misc.highlighting_failure", "myst.xref_missing"]
''')
    print(f"book source: {len(names)} pages in {BOOK}")

if __name__ == '__main__': main()
