"""The ``regprune`` command line: models, data check, train or sweep a grid, run notebooks, build the book.

Bad names and values are reported with what is allowed, exit code 2, before anything runs.
"""

from __future__ import annotations

import argparse
import csv
import sys
from typing import Sequence

from .registry import ConfigError


def _models(args: argparse.Namespace) -> int:
    from . import counting, models

    rows = []
    for name in models.names():
        model = models.build(name)
        shape = models.input_shape(name)
        rows.append((name, counting.count_parameters(model)["total"], counting.count_macs(model, shape)["total"]))
    if args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["name", "params", "macs"])
        writer.writerows(rows)
    else:
        print(f"{'name':<12} {'params':>12} {'MACs':>14}")
        for name, params, macs in rows:
            print(f"{name:<12} {params:>12,} {macs:>14,}")
    return 0


def _data_check(args: argparse.Namespace) -> int:
    """Exit 1 when a present file is wrong or unreadable, or a data set named on the command line
    is missing; a missing data set that was not asked for is reported, not failed."""
    import json

    from . import data, paths

    root = paths.data_root(args.root)
    rows = data.check(root, args.datasets or None)
    failed = [r for r in rows if r["checksum_ok"] is False or (args.datasets and not r["present"])]
    if args.format == "json":
        print(json.dumps({"root": str(root), "files": rows, "ok": not failed}, indent=1))
        return 1 if failed else 0
    print(f"data root: {root}")
    status = {True: "ok", False: "BAD", None: "-"}
    print(f"{'dataset':<13} {'file':<28} {'present':<8} {'checksum':<9} {'expected size':>14}  path")
    for r in rows:
        size = f"{r['expected_size']:,}" if r["expected_size"] else "-"
        print(f"{r['dataset']:<13} {r['file']:<28} {'yes' if r['present'] else 'no':<8} "
              f"{status[r['checksum_ok']]:<9} {size:>14}  {r['path']}")
    for r in failed:
        want = ", ".join(f"{k} {r['expected_' + k]}" for k in ("md5", "sha256") if r["expected_" + k])
        print(f"{r['dataset']}: {r['file']}: {r['problem']}; expected {want or 'no published checksum'}; "
              f"get it from {r['url']}", file=sys.stderr)
    return 1 if failed else 0


def _params(pairs: Sequence[Sequence[str]] | None) -> dict:
    from .book import parse_value

    return {name: parse_value(value, name) for name, value in (pairs or [])}


def _run(args: argparse.Namespace) -> int:
    from . import book, inputs

    o = inputs.command("run", vars(args))
    names = book.execution_order(book.notebooks()) if args.notebook == "all" else [args.notebook]
    params = _params(args.param)
    for name in names:  # check all before running any
        book.notebook_path(name)
        book.check_parameters(name, params, profile=o["profile"])
    for name in names:
        out = book.run(name, profile=o["profile"], params=params, build_dir=o["build_dir"])
        print(f"executed {name} -> {out}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    """Every run of a chapter's grid into the store, on the chosen backend (``train``: local);
    exit 1 if any run failed or a stored record is bad."""
    from . import chapters, inputs, runner, transfer

    o = inputs.command(args.command, vars(args))
    outcome = runner.sweep(lambda: [c for c in chapters.configs(o["chapter"], o["profile"], o["seeds"], o["results_dir"])
                                    if transfer.in_shard(c, o["shard"])],
                           label=f"{o['chapter']} ({o['profile']})", backend=o.get("backend", "local"),
                           address=o.get("address"), gpus_per_run=o.get("gpus_per_run"), results_dir=o["results_dir"],
                           recompute=o["recompute"], repair=o["repair"], device=o["device"], data_root=o["data_root"],
                           report=lambda line: print(line, flush=True))
    return 1 if outcome.failures else 0


def _import(args: argparse.Namespace) -> int:
    """Bring stored runs home from another store; exit 1 if any record conflicts or is invalid."""
    from . import inputs, transfer

    o = inputs.command("import-results", vars(args))
    out = transfer.import_records(o["source"], o["results_dir"])
    print(", ".join(f"{len(v)} {k}" for k, v in out.items()))
    for kind in ("conflict", "invalid"):
        for path in out[kind]:
            print(f"{kind}: {path}", file=sys.stderr)
    return 1 if out["conflict"] or out["invalid"] else 0


def _book(args: argparse.Namespace) -> int:
    from . import book, inputs

    o = inputs.command("book", vars(args))
    index = book.build(profile=o["profile"], params=_params(args.param), build_dir=o["build_dir"])
    print(f"built the book: {index / 'index.html'}")
    return 0


def _sync(args: argparse.Namespace) -> int:
    from . import book, paths

    changed = book.sync_install_cells(check=args.check)
    stripped = [] if args.check else [p.name for p in (paths.repo_root() / "notebooks").glob("*.ipynb") if book.strip_outputs(p)]
    if args.check and changed:
        print(f"install cells out of date in: {', '.join(changed)}; run `regprune sync-notebooks`")
        return 1
    print(f"install cells updated: {changed or 'none'}; outputs stripped: {stripped or 'none'}")
    return 0


class _Parser(argparse.ArgumentParser):
    """A bad option is one line naming it and what is allowed, exit 2 (no usage block)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="regprune", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    m = sub.add_parser("models", help="parameters and MACs of every registered model")
    m.add_argument("--format", choices=("table", "csv"), default="table")
    m.set_defaults(func=_models)

    d = sub.add_parser("data", help="data sets: `data check` reports presence and checksums")
    d.add_argument("action", choices=("check",))
    d.add_argument("datasets", nargs="*", help="data sets that must be present (default: report all, fail on none missing)")
    d.add_argument("--format", choices=("table", "json"), default="table")
    d.add_argument("--root", help="data root (default: $REGPRUNE_DATA or ./data)")
    d.set_defaults(func=_data_check)

    def notebook_options(q: argparse.ArgumentParser, default_profile: str | None) -> None:
        q.add_argument("--profile", required=default_profile is None, default=default_profile, help="smoke, cpu or paper")
        q.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"),
                       help="a notebook parameter (value read as YAML); repeatable")
        q.add_argument("--build-dir", help="build folder (default: ./_build)")

    r = sub.add_parser("run", help="execute a notebook (or all) with papermill into the build folder")
    r.add_argument("notebook", help="a notebook name from _toc.yml, or 'all'")
    notebook_options(r, None)
    r.set_defaults(func=_run)

    def grid_options(q: argparse.ArgumentParser) -> None:
        q.add_argument("chapter", help="a chapter grid name (see regprune.chapters.CHAPTERS)")
        q.add_argument("--profile", required=True, help="smoke, cpu or paper")
        q.add_argument("--seeds", nargs="+", help="integers from 0 to 2**32-1 (default: the profile's seeds)")
        q.add_argument("--device", default="auto", help="auto, cpu or cuda")
        q.add_argument("--data-root", help="data root (default: $REGPRUNE_DATA or ./data)")
        q.add_argument("--results-dir", help="results root, a folder or a URL such as s3://bucket/results "
                                             "(default: $REGPRUNE_RESULTS or the repository's results/)")
        q.add_argument("--recompute", action="store_true", help="train again even when a result is stored")
        q.add_argument("--repair", action="store_true", help="move a bad stored record aside (kept as *.bad-<time>) "
                                                            "and train its run again, instead of failing the run")
        q.add_argument("--shard", help="I/N: only the runs of shard I of N (by run key), for N workers on one store")

    t = sub.add_parser("train", help="train (or load) every run of a chapter's grid into the results store")
    grid_options(t)
    t.set_defaults(func=_sweep)

    w = sub.add_parser("sweep", help="run a chapter's grid on a backend (local, or Ray on one machine or a cluster)")
    grid_options(w)
    w.add_argument("--backend", default="local", help="local (in order, in this process) or ray (one task per run)")
    w.add_argument("--address", help="ray: the cluster to join, e.g. HOST:6379, or 'local' for a new instance "
                                     "(default: $RAY_ADDRESS, a `ray start` cluster on this machine, else a new one)")
    w.add_argument("--gpus-per-run", help="ray: GPUs each run asks for, may be a fraction "
                                                     "(default: 1 where the cluster has GPUs, else 0)")
    w.set_defaults(func=_sweep)

    i = sub.add_parser("import-results", help="copy stored runs from another results folder (a GPU machine's "
                                              "output) into the store, verifying keys, never replacing a record")
    i.add_argument("source", help="a results folder: <source>/<chapter>/<profile>/<key>.json")
    i.add_argument("--results-dir", help="the store to import into (default: $REGPRUNE_RESULTS or results/)")
    i.set_defaults(func=_import)

    b = sub.add_parser("book", help="execute every notebook, then build the Jupyter Book (-W)")
    notebook_options(b, "cpu")
    b.set_defaults(func=_book)

    s = sub.add_parser("sync-notebooks", help="write the Colab install cell from _config.yml, strip outputs")
    s.add_argument("--check", action="store_true", help="only report notebooks that are out of date")
    s.set_defaults(func=_sync)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as err:
        print(f"regprune: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
