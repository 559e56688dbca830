"The package as users get it: a wheel that carries the embedded crowd, and imports that stay light."
import subprocess, sys, zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_wheel_contains_modules_and_embedded_crowd(tmp_path):
    r = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', str(tmp_path), str(ROOT)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    names = zipfile.ZipFile(next(tmp_path.glob('crowdbook-*.whl'))).namelist()
    for f in ('crowdbook/data.py', 'crowdbook/datasets.py', 'crowdbook/simulate.py', 'crowdbook/cli.py',
              'crowdbook/aggregate/core.py', 'crowdbook/assets/cifar10n.npz'):
        assert f in names, f
    size = zipfile.ZipFile(next(tmp_path.glob('crowdbook-*.whl'))).getinfo('crowdbook/assets/cifar10n.npz').file_size
    assert size < 1_000_000

def test_core_modules_do_not_import_torch():
    code = ('import sys, crowdbook.data, crowdbook.datasets, crowdbook.simulate, crowdbook.aggregate.core, crowdbook.cli; '
            'print(sorted(m for m in ("torch", "fastai") if m in sys.modules))')
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == '[]'

def test_embedded_crowd_loads_from_another_directory(tmp_path):
    code = 'from crowdbook.datasets import load; c, t = load("cifar10n"); print(len(c), len(t))'
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ['150000', '50000']
