"""Check the built book (`_docs/*.html`) as a reader would meet it; exit 1 with a list of what is wrong.

Checked on every page: no literal `$` outside code and maths (unrendered LaTeX), no link of the broken form
`#page.html#anchor`, every internal link points at a page that exists and at an anchor on it, and none of the
phrases that belong to how the work was organised rather than to the book.
usage: python .ci/check_book.py [_docs]"""
import re, sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

PHRASES = ['not run yet', 'this session', 'the issue', "issue's", 'needs the device', 'author name not set']
PATHS = ['shared/papers', 'ipykernel_', '/work/', '/root/', '.venv/', '/venv/']   # a machine's paths, in code and outputs too
SKIP_TEXT = {'code', 'pre', 'script', 'style', 'kbd', 'samp'}

class Page(HTMLParser):
    "Text outside code and maths, links and anchor ids of one HTML page"
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.all_text, self.links, self.ids, self.skip = [], [], [], set(), []
    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if 'id' in attrs: self.ids.add(attrs['id'])
        if tag == 'a' and 'href' in attrs: self.links.append(attrs['href'])
        classes = (attrs.get('class') or '').split()
        if tag in SKIP_TEXT or 'math' in classes or 'highlight' in classes:
            self.skip.append(tag)
        elif self.skip and tag not in ('br', 'img', 'input', 'meta', 'link', 'hr', 'wbr'): self.skip.append(tag)
    def handle_endtag(self, tag):
        if self.skip and tag in self.skip: self.skip = self.skip[:len(self.skip) - 1 - self.skip[::-1].index(tag)]
    def handle_data(self, data):
        if not self.skip: self.text.append(data)
        if not self.skip or self.skip[0] not in ('script', 'style'): self.all_text.append(data)

def parse(path: Path) -> Page:
    p = Page(); p.feed(path.read_text(encoding='utf-8')); return p

def main(root='_docs') -> int:
    root = Path(root)
    pages = {p.name: parse(p) for p in sorted(root.glob('*.html')) if p.name not in ('genindex.html', 'search.html')}
    if not pages: print(f'no page in {root}: build the book first (bash .ci/docs)'); return 1
    problems = []
    for name, page in pages.items():
        text = ' '.join(page.text)
        for m in re.finditer(r'\$', text):
            problems.append(f'{name}: literal $ outside code: ...{text[max(0, m.start() - 40):m.end() + 40]!r}...')
        low = text.lower()
        for phrase in PHRASES:
            if phrase in low: problems.append(f"{name}: internal phrase {phrase!r}: ...{text[max(0, low.index(phrase) - 50):low.index(phrase) + 60]!r}...")
        everything = ' '.join(page.all_text)
        for path in PATHS:
            if path in everything:
                i = everything.index(path)
                problems.append(f"{name}: a machine's path {path!r}: ...{everything[max(0, i - 50):i + 60]!r}...")
        for href in page.links:
            if re.match(r'#.*\.html#', href): problems.append(f'{name}: broken link {href!r}'); continue
            parts = urlsplit(href)
            if parts.scheme or href.startswith(('mailto:', 'javascript:')) or parts.netloc: continue
            target = unquote(parts.path) or name
            if target.startswith('_') or not target.endswith('.html'): continue   # static files, sources, images
            if Path(target).name not in pages: problems.append(f'{name}: link to a missing page {href!r}'); continue
            if parts.fragment and parts.fragment not in pages[Path(target).name].ids:
                problems.append(f'{name}: link to a missing anchor {href!r}')
    for p in problems: print(p)
    print(f'{len(pages)} pages checked: ' + (f'{len(problems)} problem(s)' if problems else 'no problem'))
    return 1 if problems else 0

if __name__ == '__main__': sys.exit(main(*sys.argv[1:]))
