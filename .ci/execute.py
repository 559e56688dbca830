"""Execute notebooks in place so the book shows real outputs, skipping cells flagged `#| gpu` on a machine without
CUDA (their outputs are left empty: run them on a GPU machine). usage: python .ci/execute.py nbs/NN_x.ipynb ..."""
import sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient

def has_cuda() -> bool:
    try:
        import torch
        return torch.cuda.is_available()
    except ImportError: return False

def flagged(src: str, flag: str) -> bool:
    return any(l.replace(' ', '') == f'#|{flag}' for l in src.splitlines() if l.startswith('#|'))

def execute(path: Path, gpu: bool):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=3600, kernel_name='python3', resources={'metadata': {'path': str(path.parent)}})
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != 'code': continue
            if flagged(cell.source, 'gpu') and not gpu:
                cell.outputs, cell.execution_count = [], None
                continue
            client.execute_cell(cell, i)
    nbformat.write(nb, path)

if __name__ == '__main__':
    gpu = has_cuda()
    for p in sys.argv[1:]: execute(Path(p), gpu)
