"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does with Quarto): markdown cells as they are, code cells
as Python blocks followed by their saved text outputs; `#| hide` cells and directive lines are left out."""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def text_output(o) -> str:
    if o.get('output_type') == 'stream': return ''.join(o['text'])
    data = o.get('data', {})
    return ''.join(data.get('text/plain', ''))

def readme(nb_path: Path) -> str:
    parts = ['<!-- generated from nbs/index.ipynb by .ci/readme.py: edit the notebook, not this file -->']
    for c in json.loads(nb_path.read_text())['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown': parts.append(src); continue
        lines = src.splitlines()
        if any(l.strip() in ('#| hide', '#|hide') for l in lines): continue
        parts.append('```python\n' + '\n'.join(l for l in lines if not l.startswith('#|')) + '\n```')
        outs = ''.join(text_output(o) for o in c.get('outputs', [])).rstrip()
        if outs: parts.append('```\n' + outs + '\n```')
    return '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    (ROOT / 'README.md').write_text(readme(ROOT / 'nbs' / 'index.ipynb'))
    print('README.md written')
