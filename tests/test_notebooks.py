"Run every notebook as one test, the way `nbdev_test` does (cells flagged with `tst_flags` are skipped)."
from pathlib import Path
import pytest
from nbdev.config import get_config
from nbdev.test import test_nb as run_notebook   # aliased: pytest would collect a module-level `test_nb`

cfg = get_config()
NBS = sorted(p for p in Path(cfg.nbs_path).rglob('*.ipynb')
             if not p.name.startswith(('_', '.')) and '.ipynb_checkpoints' not in p.parts
             and not any((d / '.notest').exists() for d in p.parents))
FLAGS = str(cfg.tst_flags or '').split()

def test_notebooks_found():
    assert len(NBS) >= 5, f"only {len(NBS)} notebooks found under {cfg.nbs_path}"

@pytest.mark.parametrize('nb', NBS, ids=[p.name for p in NBS])
def test_notebook(nb):
    ok, secs = run_notebook(nb, skip_flags=FLAGS, basepath=cfg.config_path)
    assert ok, f'{nb.name} failed (traceback above)'
