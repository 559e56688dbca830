"""The files of the device script `.ci/gpu` in `$CROWDBOOK_GPU_RESULTS`: one per table, each a complete `GPUResult`
whose runs have the columns the notebooks show. `.ci/run` runs it on the dry run's files:
`CROWDBOOK_GPU_RESULTS=DIR python -m pytest tests/check_gpu_results.py` (its name keeps pytest from collecting it
with the other tests, which need no dry run); pointed at `nbs/_gpu_results` it checks the book's measured tables."""
import pytest
from crowdbook.deep.experiment import gpu_results_dir, read_gpu_result

COLUMNS = {   # per table, the columns of the runs that its notebook reads
    'soft_cifar10h': {'method', 'seed', 'epochs', 'accuracy', 'ece', 'cross_entropy', 'entropy_correlation', 'seconds', 'wall_s'},
    'crowd_cifar10n': {'method', 'seed', 'epochs', 'accuracy', 'ece', 'seconds', 'wall_s'},
    'lmnl_cifar10n': {'setting', 'method', 'epochs', 'accuracy', 'accuracy_last_epoch', 'seconds', 'valid_accuracy',
                      'skills', 'skill_epochs', 'mean_skill', 'skill_correlation'},
    'waum_cifar10n': {'seed', 'n_epochs', 'mv_error_lowest_1pct', 'mv_error_lowest_5pct', 'mv_error_all', 'wall_s'}}

def test_no_other_files():
    assert {p.stem for p in gpu_results_dir().glob('*.json')} <= set(COLUMNS)

@pytest.mark.parametrize('table', list(COLUMNS))
def test_table(table):
    res = read_gpu_result(table, dry_run=True)   # refuses a file with missing or unknown keys
    assert res is not None, f"no {table}.json with a finished run in {gpu_results_dir()} (set $CROWDBOOK_GPU_RESULTS)"
    assert res.device and res.torch and res.date and res.seconds > 0 and res.budget_s > 0
    assert {'epochs', 'probe_s', 'max_epochs'} <= set(res.settings), sorted(res.settings)
    if res.dry_run: assert len(res.runs) and not res.skipped, f"a dry run runs the whole plan; left out: {res.skipped}"
    assert COLUMNS[table] <= set(res.runs.columns), f"runs lack {sorted(COLUMNS[table] - set(res.runs.columns))}"
