"""The GPU versions of the deep chapters' tables, one JSON file per table: run by `bash .ci/gpu`, whose header gives
the plan, the data files and the time budget of each table. usage: python .ci/gpu.py [--dry-run] [TABLE ...]"""
import argparse, inspect, os, subprocess, sys, tempfile, time, traceback, warnings
from datetime import datetime, timezone
from pathlib import Path
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')   # raised by importing fastai with this torch
import numpy as np, pandas as pd, torch
from crowdbook.aggregate.vote import MajorityVote
from crowdbook.datasets import load
from crowdbook.deep.annotator import CIFAR10N_SETTINGS, cifar10_images, lmnl_cifar10n, lmnl_run
from crowdbook.deep.crowd import train_from_crowd
from crowdbook.deep.data import stratified_split
from crowdbook.deep.experiment import GPUResult, require_cuda, run_grid, sync_time
from crowdbook.deep.models import resnet_cifar
from crowdbook.deep.soft import SOFT_TARGETS, soft_loss_run
from crowdbook.identify.waum import waum

ROOT = Path(__file__).resolve().parents[1]
LIMIT_S = 540               # the hard limit: `.ci/gpu` stops the process there
START_BY_S = LIMIT_S - 30   # no run starts that may not end by then (seconds since `.ci/gpu` started)
SEEDS = (0,)       # one seed per row: the nine minutes buy epochs rather than seeds
# table: (time budget in seconds on the GPU, data files, most epochs per run), as in the header of `.ci/gpu`
TABLES = {'soft_cifar10h': (80, ('cifar10_jpeg.npz', 'cifar10h.npz'), 65),
          'crowd_cifar10n': (150, ('cifar10_jpeg.npz',), 20),
          'lmnl_cifar10n': (150, ('cifar10_jpeg.npz',), 60),
          'waum_cifar10n': (60, ('cifar10_jpeg.npz',), 15)}
DRY = dict(n_train=256, n_test=128, width=8, bs=128, budget_scale=10)   # the dry run: CPU, a few hundred images, 1 epoch

def data_folder(tables) -> Path:
    "`$CROWDBOOK_DATA`, checked to hold the files the `tables` read"
    if not os.environ.get('CROWDBOOK_DATA'):
        sys.exit("CROWDBOOK_DATA is not set: point it at the folder holding "
                 + ', '.join(sorted({f for t in tables for f in TABLES[t][1]})))
    data = Path(os.environ['CROWDBOOK_DATA'])
    missing = sorted({f for t in tables for f in TABLES[t][1] if not (data / f).is_file()})
    if missing: sys.exit(f"{', '.join(missing)} not found in CROWDBOOK_DATA={data}")
    return data

def git_commit() -> str|None:
    "HEAD of the repository ('+' when tracked files changed), else `$CROWDBOOK_COMMIT` (a copy without git)"
    try:
        git = lambda *a: subprocess.run(['git', *a], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        return git('rev-parse', 'HEAD') + ('+' if git('status', '--porcelain', '--untracked-files=no') else '')
    except (OSError, subprocess.CalledProcessError): return os.environ.get('CROWDBOOK_COMMIT')

class Session:
    "What the tables of one execution share: data, device, sizes, the clock"
    def __init__(self, data:Path, dry_run:bool, start:float):
        self.data, self.dry_run, self.start = data, dry_run, start
        self.device = 'cpu' if dry_run else 'cuda'
        self.device_name = 'cpu' if dry_run else torch.cuda.get_device_name()
        with np.load(data / 'cifar10_jpeg.npz') as z: labels = {s: z[f'y_{s}'] for s in ('train', 'test')}
        self.idx = {s: None for s in labels}
        if dry_run:   # a stratified subset of each split
            self.idx = {s: stratified_split(y, (DRY[f'n_{s}'] / len(y), 1 - DRY[f'n_{s}'] / len(y)), seed=0)[0]
                        for s, y in labels.items()}
        self.n_images = {s: len(y) if self.idx[s] is None else len(self.idx[s]) for s, y in labels.items()}

    def images(self, split): return cifar10_images(self.data, split, self.idx[split])
    def subset(self, a, split='train'): return a if self.idx[split] is None else a[self.idx[split]]
    def cifar10n(self):
        "CIFAR-10N's crowd and clean labels on this session's training images"
        c10n = load('cifar10n')
        return (c10n.crowd if self.idx['train'] is None else c10n.crowd.subset(self.idx['train'])), self.subset(c10n.truth)
    def width(self): return DRY['width'] if self.dry_run else 64
    def bs(self, gpu_bs): return DRY['bs'] if self.dry_run else gpu_bs
    def max_epochs(self, table): return 1 if self.dry_run else TABLES[table][2]
    def budget(self, table):
        "The table's seconds: its share, or what is left before `START_BY_S`"
        return min(TABLES[table][0] * (DRY['budget_scale'] if self.dry_run else 1), START_BY_S - (time.time() - self.start))

def timed(fn):
    "`fn` with its wall time (synchronised with the GPU) added to its results as `wall_s`"
    def run(**params):
        t0 = sync_time(); res = fn(**params)
        return {**res, 'wall_s': sync_time() - t0}
    return run

def left_out(grid, runs:pd.DataFrame) -> list:
    "The parameter sets of `grid` (dicts with the same keys) that have no finished run in `runs`"
    done = set(runs[list(grid[0])].itertuples(index=False, name=None)) if len(runs) else set()
    return [p for p in grid if tuple(p.values()) not in done]

def fitted_grid(fn, grid, probe:dict, budget_s:float, max_epochs:int, epochs_key:str='epochs'):
    "Time one epoch of the `probe` run, give every run of `grid` the epochs that fit `budget_s`, run those that end in time"
    if budget_s <= 0: return pd.DataFrame(), grid, {}
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / 'runs.jsonl'   # a grid run equal to the probe (a dry run's) is not run twice
        timing = run_grid(timed(fn), [{**probe, epochs_key: 1}], cache=cache, verbose=False).iloc[0]
        probe_s = timing['wall_s']
        epoch_s = timing.get('seconds', probe_s)   # the epoch's training time, where the run reports it
        fixed_s = probe_s - epoch_s                # targets, data, prediction: paid once per run
        per_run = (budget_s - probe_s) / len(grid)
        epochs = int(max(1, min(max_epochs, (per_run - fixed_s) // epoch_s)))
        run_s = fixed_s + epochs * epoch_s   # an upper bound: the timed epoch also paid the first epoch's warm-up
        grid = [{**p, epochs_key: epochs} for p in grid]
        runs = run_grid(timed(fn), grid, cache=cache, budget_s=budget_s - probe_s - run_s, verbose=False)
    return runs, left_out(grid, runs), {'probe': probe, 'probe_s': probe_s, 'epoch_s': epoch_s, 'epochs': epochs,
                                        'max_epochs': max_epochs}

def soft_cifar10h(s:Session, budget:float):
    "31: IC-CIFAR10H, the five kinds of targets of the soft-loss paper, a ResNet-34 from scratch"
    with np.load(s.data / 'cifar10h.npz') as z: counts, y = s.subset(z['counts'].astype(np.int64), 'test'), s.subset(z['y_test'].astype(np.int64), 'test')
    x, y_images = s.images('test')
    if not np.array_equal(y, y_images): raise ValueError("cifar10h.npz and cifar10_jpeg.npz disagree on the test labels")
    model = dict(depth=34, width=s.width(), bs=s.bs(128), lr=0.1, opt='sgd', wd=5e-4, augment='crop_flip', device=s.device)
    def run(method, seed, epochs):
        tr, te = stratified_split(y, (0.7, 0.3), seed=seed)
        return soft_loss_run(x, counts, y, tr, te, method=method, seed=seed, epochs=epochs, **model)
    grid = [dict(method=m, seed=seed) for seed in SEEDS for m in SOFT_TARGETS]
    runs, skipped, fit = fitted_grid(run, grid, dict(method='ds', seed=0), budget, s.max_epochs('soft_cifar10h'))
    return {**model, **fit, 'images': len(y), 'split': '70:30 stratified by class, a new split per seed'}, runs, skipped

def crowd_cifar10n(s:Session, budget:float):
    "32: CIFAR-10N, aggregate-then-train strategies and end-to-end crowd models, a ResNet-18 from scratch"
    crowd, truth = s.cifar10n()
    (x, y), test = s.images('train'), s.images('test')
    if not np.array_equal(y, truth): raise ValueError("the CIFAR-10 training labels do not match CIFAR-10N's clean labels")
    model = dict(depth=18, width=s.width(), bs=s.bs(512), lr=2e-3, opt='adam', wd=5e-4, augment='crop_flip', device=s.device)
    def run(method, seed, epochs):
        backbone = lambda: resnet_cifar(model['depth'], 10, model['width'])
        res, _ = train_from_crowd(x, crowd, method, backbone, test=test, truth=truth, epochs=epochs, seed=seed,
                                  **{k: v for k, v in model.items() if k not in ('depth', 'width')})
        return res
    methods = ['clean', 'MV', 'NS', 'DS', 'GLAD', 'CrowdLayer', 'CoNAL[scale=0]', 'CoNAL[scale=1e-4]']
    grid = [dict(method=m, seed=seed) for seed in SEEDS for m in methods]
    runs, skipped, fit = fitted_grid(run, grid, dict(method='CoNAL[scale=1e-4]', seed=0), budget, s.max_epochs('crowd_cifar10n'))
    return {**model, **fit, 'train_images': len(x), 'test_images': len(test[0])}, runs, skipped

def lmnl_table(s:Session, budget:float):
    "33: the annotator model and the plain cross-entropy baseline on the three CIFAR-10N settings (`lmnl_cifar10n`)"
    kw = dict(width=s.width(), bs=s.bs(512), device=s.device) | (dict(lr=0.05) if s.dry_run else {})
    methods, n_runs = ('annotator', 'ce'), 2 * len(CIFAR10N_SETTINGS)
    grid = [dict(setting=st, method=m) for m in methods for st in CIFAR10N_SETTINGS]   # `lmnl_cifar10n`'s order
    if budget <= 0: return {}, pd.DataFrame(), grid
    per_run = budget / (n_runs + 1)   # + the timed epoch
    with tempfile.TemporaryDirectory() as tmp:
        runs = lmnl_cifar10n(s.data, tmp, methods=methods, budget_s=per_run, max_epochs=s.max_epochs('lmnl_cifar10n'),
                             stop_after_s=budget - 2 * per_run, train_idx=s.idx['train'], test_idx=s.idx['test'],
                             verbose=False, **kw)
    defaults = {k: p.default for k, p in inspect.signature(lmnl_run).parameters.items() if p.default is not p.empty}
    fit = {'probe': dict(setting='aggregated', method='annotator'), 'probe_s': runs.attrs['probe_seconds'],
           'epochs': runs.attrs['epochs'], 'max_epochs': s.max_epochs('lmnl_cifar10n')}
    return {**defaults, **kw, **fit, 'train_images': s.n_images['train'], 'test_images': s.n_images['test']}, runs, left_out(grid, runs)

def waum_table(s:Session, budget:float):
    "41: WAUM of a ResNet-18 trained on every (image, answer) pair of CIFAR-10N; the majority vote's errors among the lowest"
    crowd, truth = s.cifar10n()
    x, _ = s.images('train')
    wrong = MajorityVote().fit(crowd).labels_ != truth
    model = dict(depth=18, width=s.width(), bs=s.bs(512), lr=3e-3, augment='crop_flip', device=s.device)
    def run(seed, n_epochs):
        torch.manual_seed(seed)
        w = waum(crowd, x, resnet_cifar(model['depth'], 10, model['width']), n_epochs=n_epochs, lr=model['lr'],
                 bs=model['bs'], seed=seed, augment=model['augment'], device=model['device']).waum
        order, n = np.argsort(w), len(w)    # tasks without answers (NaN) sort last
        return {'mv_error_lowest_1pct': wrong[order[:max(1, n // 100)]].mean(),
                'mv_error_lowest_5pct': wrong[order[:max(1, n // 20)]].mean(), 'mv_error_all': wrong.mean()}
    grid = [dict(seed=seed) for seed in SEEDS]
    runs, skipped, fit = fitted_grid(run, grid, dict(seed=0), budget, s.max_epochs('waum_cifar10n'), 'n_epochs')
    return {**model, **fit, 'tasks': crowd.n_tasks, 'answers': crowd.n_answers}, runs, skipped

RUNNERS = {'soft_cifar10h': soft_cifar10h, 'crowd_cifar10n': crowd_cifar10n, 'lmnl_cifar10n': lmnl_table, 'waum_cifar10n': waum_table}

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split(' usage')[0])
    p.add_argument('--dry-run', action='store_true', help='the whole plan on the CPU on a few hundred images, 1 epoch, 1 seed')
    p.add_argument('tables', nargs='*', metavar='TABLE', help=f"default: all of {', '.join(TABLES)}")
    args = p.parse_args(argv)
    if unknown := [t for t in args.tables if t not in TABLES]: p.error(f"unknown table(s) {unknown}: the tables are {list(TABLES)}")
    tables = args.tables or list(TABLES)
    start = float(os.environ.get('CROWDBOOK_GPU_START') or time.time())   # set by `.ci/gpu`, so that start-up counts
    data = data_folder(tables)
    if not args.dry_run:
        try: require_cuda('bash .ci/gpu (without --dry-run)')
        except RuntimeError as e: sys.exit(str(e))
        torch.backends.cudnn.benchmark = True   # fixed shapes: let cuDNN pick its fastest kernels
    out = Path(os.environ.get('OUT') or 'gpu-results')
    s = Session(data, args.dry_run, start)
    commit, failed = git_commit(), []
    print(f"{'dry run on the CPU' if args.dry_run else s.device_name}, torch {torch.__version__}, commit {commit}, "
          f"results in {out}; start-up {time.time() - start:.0f} s", flush=True)
    for table in tables:
        t0, budget = time.time(), s.budget(table)
        try: settings, runs, skipped = RUNNERS[table](s, budget)
        except Exception:
            traceback.print_exc(); failed.append(table); continue
        res = GPUResult(table, args.dry_run, settings, runs, skipped, budget, time.time() - t0, s.device_name,
                        torch.__version__, commit, datetime.now(timezone.utc).isoformat(timespec='seconds'))
        res.write(out)
        print(f"{res}  [{time.time() - start:.0f} s since the start]", flush=True)
    if failed: print(f"failed: {', '.join(failed)} (tracebacks above)", file=sys.stderr)
    return 1 if failed else 0

if __name__ == '__main__': sys.exit(main())
