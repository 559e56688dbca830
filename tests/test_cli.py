"The installed `crowdbook` command, run as a subprocess on temporary folders."
import json, shutil, subprocess, sys
import numpy as np
import pytest

EXE = shutil.which('crowdbook')

def crowdbook(*args, cwd=None):
    return subprocess.run([EXE, *args], capture_output=True, text=True, cwd=cwd, timeout=300)

def test_installed():
    assert EXE is not None, 'the console script `crowdbook` is not installed'

def test_help_and_version():
    r = crowdbook('--help')
    assert r.returncode == 0 and 'simulate' in r.stdout and 'aggregate' in r.stdout
    r = crowdbook('--version')
    assert r.returncode == 0 and r.stdout.startswith('crowdbook ')

def test_usage_error_exit_code():
    r = crowdbook('simulate', '--n-task', 'many')
    assert r.returncode == 2 and "'many' is not an integer" in r.stderr

def test_simulate_writes_peerannot_files(tmp_path):
    folder = tmp_path / 'hs'
    r = crowdbook('simulate', '--n-worker=10', '--n-task=50', '--n-classes=3', '--strategy', 'hammer-spammer',
                  '--ratio', '0.2', '--feedback=4', '--seed', '1', '--folder', str(folder))
    assert r.returncode == 0, r.stderr
    answers = json.loads((folder / 'answers.json').read_text())
    assert len(answers) == 50 and all(len(v) == 4 for v in answers.values())
    assert json.loads((folder / 'metadata.json').read_text())['n_classes'] == 3
    assert np.load(folder / 'ground_truth.npy').shape == (50,)
    assert np.load(folder / 'matrices.npy').shape == (10, 3, 3)
    again = tmp_path / 'again'
    crowdbook('simulate', '--n-worker=10', '--n-task=50', '--n-classes=3', '--strategy', 'hammer-spammer',
              '--ratio', '0.2', '--feedback=4', '--seed', '1', '--folder', str(again))
    assert (again / 'answers.json').read_text() == (folder / 'answers.json').read_text()   # seeded

def test_impossible_simulation_is_a_clear_error(tmp_path):
    r = crowdbook('simulate', '--n-worker=3', '--feedback=5', '--folder', str(tmp_path / 'x'))
    assert r.returncode == 1 and 'need at least 5 workers' in r.stderr

@pytest.mark.parametrize('content, message', [
    ('{"0": {"1": 0, "2": 1}', 'is not valid JSON'),
    ('{"0": {"1": 0, "1": 1}}', "duplicate key '1'"),
    ('{"0": {"1": "cat"}}', 'is not an integer class code'),
    ('[1, 2, 3]', 'answers must map task'),
    ('{}', 'empty crowd'),
])
def test_malformed_answers_file(tmp_path, content, message):
    (tmp_path / 'answers.json').write_text(content)
    r = crowdbook('aggregate', str(tmp_path), '-s', 'MV')
    assert r.returncode == 1, r.stderr
    assert message in r.stderr and 'Traceback' not in r.stderr

def test_metadata_disagreeing_with_answers(tmp_path):
    (tmp_path / 'answers.json').write_text('{"0": {"0": 2}}')
    (tmp_path / 'metadata.json').write_text('{"name": "x", "n_classes": 2, "n_workers": 1, "n_task": 1}')
    r = crowdbook('aggregate', str(tmp_path), '-s', 'MV')
    assert r.returncode == 1 and 'n_classes=2 but answers.json has label 2' in r.stderr

def test_datasets_lists_embedded_crowd(tmp_path):
    r = crowdbook('datasets', '--path', str(tmp_path))
    assert r.returncode == 0 and 'cifar10n' in r.stdout and 'embedded' in r.stdout
    r = crowdbook('datasets', 'cifar10h', '--path', str(tmp_path))
    assert r.returncode == 1 and 'cifar10h.npz not found' in r.stderr

def test_deep_verbs_refuse_bad_requests_before_training(tmp_path):
    folder = tmp_path / 'crowd'
    assert crowdbook('simulate', '--n-worker=5', '--n-task=20', '--n-classes=3', '--folder', str(folder)).returncode == 0
    r = crowdbook('aggregate-deep', str(folder), '-s', 'DS')
    assert r.returncode == 1 and 'aggregate-deep needs --strategy' in r.stderr
    r = crowdbook('train', str(folder))
    assert r.returncode == 1 and 'exactly one of --labels' in r.stderr
    r = crowdbook('train', str(folder), '-s', 'MV')           # answers but no images
    assert r.returncode == 1 and "train does not exist: the training images of the tasks go there" in r.stderr
    r = crowdbook('identify', str(folder), '-s', 'entropy', '-s', 'vibes')
    assert r.returncode == 3 and "unknown identification strategy 'vibes'" in r.stderr

def test_hostile_folder_writes_nothing_outside_its_output(tmp_path):
    folder = tmp_path / 'data'; (folder / 'labels').mkdir(parents=True)
    (folder / 'answers.json').write_text('{"0": {"a": 1, "b": 0}, "1": {"a": 0, "b": 0}}')
    (folder / 'metadata.json').write_text(json.dumps({'name': '/../../../../escaped'}))
    victim = tmp_path / 'victim.txt'; victim.write_text('precious')
    (folder / 'labels' / 'labels_escaped_ds.npy').symlink_to(victim)
    r = crowdbook('aggregate', str(folder), '-s', 'MV', '-s', 'DS')
    assert r.returncode == 4 and 'labels_escaped_ds.npy is a symbolic link' in r.stderr and 'Traceback' not in r.stderr
    assert victim.read_text() == 'precious'
    assert sorted(p.name for p in (folder / 'labels').iterdir()) == ['labels_escaped_ds.npy']   # MV not written either
    (folder / 'labels' / 'labels_escaped_ds.npy').unlink()
    r = crowdbook('aggregate', str(folder), '-s', 'MV', '-s', 'DS')
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (folder / 'labels').iterdir()) == ['labels_escaped_ds.npy', 'labels_escaped_mv.npy']
    assert sorted(p.name for p in tmp_path.iterdir()) == ['data', 'victim.txt']

@pytest.mark.parametrize('content, code, message', [
    ('[' * 100_000, 1, 'nests its JSON too deeply'),
    ('{"0": {"a": 1000000000000}}', 5, '`n_classes` would be 1,000,000,000,001'),
    ('{"0": {"a": 1}, "4294967296": {"a": 0}}', 5, '`n_task` would be 4,294,967,297'),
])
def test_hostile_answers_give_one_line(tmp_path, content, code, message):
    (tmp_path / 'answers.json').write_text(content)
    r = crowdbook('aggregate', str(tmp_path), '-s', 'MV')
    assert r.returncode == code and message in r.stderr
    assert r.stderr.count('\n') == 1 and r.stderr.startswith('crowdbook: error: ')

def test_bad_strategy_parameters_are_usage_errors(tmp_path):
    assert crowdbook('simulate', '--n-task=20', '--folder', str(tmp_path / 'c')).returncode == 0
    for spec in ('DS[smoothing=inf]', 'GLAD[chance_corrected=maybe]', 'DSWC[L=abc]'):
        r = crowdbook('aggregate', str(tmp_path / 'c'), '-s', 'MV', '-s', spec)
        assert r.returncode == 2 and spec in r.stderr, r.stderr
    assert not (tmp_path / 'c' / 'labels').exists() or not any((tmp_path / 'c' / 'labels').iterdir())

TOY = {'0': {'0': 1, '1': 0, '2': 1, '3': 1}, '1': {'0': 1, '2': 0, '3': 0}, '2': {'1': 1, '3': 1}}   # peerannot's toy data

def toy_folder(tmp_path, answers_name='answers.json'):
    folder = tmp_path / 'toy'; folder.mkdir()
    (folder / answers_name).write_text(json.dumps(TOY))
    (folder / 'metadata.json').write_text(json.dumps({'name': 'toy-data', 'n_classes': 2, 'n_workers': 4}))
    return folder

def test_peerannot_cases_through_the_folder(tmp_path):
    "peerannot's tests/test_models.py and test_identification.py cases, run through the folder format and the command"
    folder = toy_folder(tmp_path, 'votes.json')
    r = crowdbook('aggregate', str(folder), '--answers-file', 'votes.json', '-s', 'majority_voting', '-s', 'naive_soft',
                  '-s', 'dawid_skene', '-s', 'wawa', '-s', 'iwmv', '-s', 'glad', '--hard')
    assert r.returncode == 0, r.stderr
    for s in ('majority_voting', 'naive_soft', 'dawid_skene', 'wawa', 'iwmv', 'glad'):
        assert np.load(folder / 'labels' / f'labels_toy-data_{s}_hard.npy').tolist() == [1, 0, 1], s
    assert crowdbook('aggregate', str(folder), '--answers-file', 'votes.json', '-s', 'naive_soft').returncode == 0
    ns = np.load(folder / 'labels' / 'labels_toy-data_naive_soft.npy')
    assert np.allclose(ns, [[.25, .75], [2 / 3, 1 / 3], [0, 1]])
    r = crowdbook('identify', str(folder), '--labels', str(folder / 'votes.json'), '--method', 'entropy', '-s', 'GLAD')
    assert r.returncode == 0, r.stderr
    h = np.load(folder / 'identification' / 'entropies.npy')
    assert h.shape == (3,) and h[2] == 0
    assert sorted(p.name for p in (folder / 'identification' / 'glad').glob('*.npy')) == ['abilities.npy', 'difficulties.npy']
    kr = tmp_path / 'kr'; kr.mkdir()   # peerannot's krippendorff-data: labels 1..4 in 4 classes, so no metadata here
    (kr / 'answers.json').write_text(json.dumps({'0': {'1': 1}, '1': {}, '2': {'1': 2, '2': 2}, '3': {'1': 1, '2': 1},
        '4': {'1': 3, '2': 3}, '5': {'0': 3, '1': 3, '2': 4}, '6': {'0': 4, '1': 4, '2': 4}, '7': {'0': 1, '1': 3},
        '8': {'0': 2, '2': 2}, '9': {'0': 1, '2': 1}, '10': {'0': 1, '2': 1}, '11': {'0': 3, '2': 3},
        '12': {'0': 3, '2': 3}, '13': {}, '14': {'0': 3, '2': 4}}))
    assert crowdbook('identify', str(kr), '-s', 'krippendorffAlpha').returncode == 0
    assert np.load(kr / 'identification' / 'krippendorff_alpha.npy') == pytest.approx(0.691358024691358, abs=1e-12)

@pytest.mark.parametrize('verb, name, closest', [('aggregate', 'WDS', 'DS'), ('aggregate', 'TwoThird', 'MV'),
                                                 ('aggregate', 'plantnet[alpha=0.5]', 'Wawa'), ('identify', 'AUM', 'WAUM')])
def test_peerannot_only_strategies_name_the_closest(tmp_path, verb, name, closest):
    r = crowdbook(verb, str(toy_folder(tmp_path)), '-s', name)
    assert r.returncode == 3 and f"the closest is -s {closest}" in r.stderr and "peerannot's" in r.stderr

def test_simulate_side_files_and_defaults(tmp_path):
    assert crowdbook('simulate', '--folder', str(tmp_path / 'default')).returncode == 0
    meta = json.loads((tmp_path / 'default' / 'metadata.json').read_text())
    assert (meta['name'], meta['n_workers'], meta['n_task'], meta['n_classes']) == ('hammer-spammer', 1, 20, 2)
    r = crowdbook('simulate', '-s', 'student-teacher', '--n-worker=10', '--ratio=0.3', '--folder', str(tmp_path / 'st'))
    assert r.returncode == 0, r.stderr
    assoc = np.load(tmp_path / 'st' / 'student_teacher_association.npy')
    assert assoc[:, 0].tolist() == [7, 8, 9] and (assoc[:, 1] < 7).all()

def test_pictures(tmp_path):
    folder = tmp_path / 'hs'
    assert crowdbook('simulate', '--n-worker=8', '--n-task=60', '-K', '3', '--folder', str(folder)).returncode == 0
    r = crowdbook('aggregate', str(folder), '-s', 'MV', '-s', 'DSWC[L=2]', '--report', str(tmp_path / 'pics'))
    assert r.returncode == 0 and 'Warning' not in r.stderr, r.stderr
    assert sorted(p.name for p in (tmp_path / 'pics').iterdir()) == ['report_hammer-spammer_dswc_l_2.png', 'report_hammer-spammer_mv.png']
    r = crowdbook('identify', str(folder), '--plot', str(tmp_path / 'pics' / 'ds.png'))
    assert r.returncode == 0, r.stderr
    assert all(p.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' for p in (tmp_path / 'pics').iterdir())
    assert crowdbook('identify', str(folder), '--plot', str(tmp_path / 'ds.svg')).returncode == 2
    (tmp_path / 'link.png').symlink_to(tmp_path / 'pics' / 'ds.png')
    r = crowdbook('identify', str(folder), '--plot', str(tmp_path / 'link.png'))
    assert r.returncode == 4 and 'symbolic link' in r.stderr

def test_aggregate_parquet_on_dask(tmp_path):
    "The dask engine end to end through the installed command: a local cluster of worker processes, parquet in and out"
    import pandas as pd
    from crowdbook.aggregate import DawidSkene
    from crowdbook.simulate import one_coin_crowd
    df = one_coin_crowd(300, 20, 3, feedback=4, seed=1).crowd.to_dataframe().sample(frac=1, random_state=0)
    (tmp_path / 'answers').mkdir()
    for i in range(3): df.iloc[i::3].to_parquet(tmp_path / 'answers' / f'part{i}.parquet')
    r = crowdbook('aggregate', str(tmp_path / 'answers'), '-s', 'DS', '--engine', 'dask')
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith('DS: 300 tasks aggregated on dask'), r.stdout
    probas = pd.read_parquet(tmp_path / 'answers' / 'labels' / 'labels_answers_ds.parquet')
    expected = DawidSkene().fit_predict_proba(df)
    assert list(probas.columns) == ['0', '1', '2'] and (probas.index == expected.index).all()
    assert abs(probas.to_numpy() - expected.to_numpy()).max() < 1e-9
    r = crowdbook('aggregate', str(tmp_path / 'answers'), '-s', 'DS', '--engine', 'dask', '--gold', 'gold.json')
    assert r.returncode == 2 and '--gold: not available with --engine dask' in r.stderr
