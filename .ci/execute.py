"""Execute notebooks in place so the book shows real outputs, skipping cells flagged `#| gpu` on a machine without
CUDA (their outputs are left empty: run them on a GPU machine). With --keep-slow, cells flagged `#| slow` that have
outputs are not run and keep the outputs of their last run (for a notebook whose quick cells changed); slow cells
without outputs (new ones) are run.
usage: python .ci/execute.py [--keep-slow] nbs/NN_x.ipynb ..."""
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

def execute(path: Path, gpu: bool, keep_slow: bool = False):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=3600, kernel_name='python3', resources={'metadata': {'path': str(path.parent)}})
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != 'code': continue
            if flagged(cell.source, 'gpu') and not gpu:
                cell.outputs, cell.execution_count = [], None
                continue
            if keep_slow and flagged(cell.source, 'slow') and cell.outputs: continue
            client.execute_cell(cell, i)
    nbformat.write(nb, path)

if __name__ == '__main__':
    gpu, keep_slow = has_cuda(), '--keep-slow' in sys.argv[1:]
    for p in sys.argv[1:]:
        if p != '--keep-slow': execute(Path(p), gpu, keep_slow)
