"""``studio batch run|list|show|resume|cancel``: many generations as one persisted job, on the
local engine or a Ray cluster; every output is signed and stored here."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from studio.core.generation.schedulers import SCHEDULERS


def _backend_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ray", metavar="ADDRESS|local",
                   help="render on a Ray cluster (ray.init address, e.g. ray://head:10001), "
                   "or 'local' to start a private Ray here; default: the local engine")
    p.add_argument("--workers", type=int, help="Ray workers (default: one per GPU, else 2)")
    p.add_argument("--gpus-per-worker", type=float,
                   help="GPUs each Ray worker reserves (default: 1 with GPUs, else 0)")
    p.add_argument("--worker-models", metavar="DIR",
                   help="a model store every Ray node sees, models under their sha256")
    p.add_argument("--in-flight", type=int, metavar="N",
                   help="items handed out at once (default: 2 per worker)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def register(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("batch", help="run many generations as one resumable batch (local or Ray)")
    bsub = b.add_subparsers(dest="batch_command", metavar="ACTION", required=True)

    run = bsub.add_parser("run", help="create a batch from a matrix or a CSV/JSONL file, run it")
    run.add_argument("file", nargs="?", type=Path, help="a .jsonl or .csv file of requests")
    run.add_argument("--model", action="append", default=[], metavar="ID",
                     help="model id, name or path (repeat for several; default model for FILE)")
    run.add_argument("--prompt", action="append", default=[], help="repeat for several")
    run.add_argument("--seeds", default="0", help="e.g. 1-12 or 1,5,9 (default 0)")
    run.add_argument("--steps", type=int)
    run.add_argument("--size", metavar="WxH")
    run.add_argument("--negative", default="")
    run.add_argument("--guidance", type=float)
    run.add_argument("--scheduler", choices=list(SCHEDULERS))
    run.add_argument("--name", default="")
    run.add_argument("--out", type=Path, metavar="DIR", help="also copy the outputs to DIR")
    _backend_args(run)
    run.set_defaults(func=_run)

    ls = bsub.add_parser("list", help="batches and their progress")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_list)

    show = bsub.add_parser("show", help="one batch's items")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_show)

    res = bsub.add_parser("resume", help="finish a stopped or crashed batch (done items stay)")
    res.add_argument("id", type=int)
    res.add_argument("--retry-failed", action="store_true", help="run failed items again")
    _backend_args(res)
    res.set_defaults(func=_resume)

    cancel = bsub.add_parser("cancel", help="stop a batch (resume picks it up again)")
    cancel.add_argument("id", type=int)
    cancel.set_defaults(func=_cancel)


def _resolver(registry):
    from studio.core.batch.store import BatchError
    from studio.core.generation.errors import ModelError

    def resolve(spec: str):
        entry = registry.get(spec)
        if entry is not None:
            return entry
        if not Path(spec).exists():
            raise BatchError(f"no model {spec!r}: not a registered id and not a file or folder "
                             "(`studio models list` shows registered models)")
        try:
            return registry.add(Path(spec))
        except ModelError as exc:
            raise BatchError(str(exc)) from exc
    return resolve


def _run(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.batch import plan
    from studio.core.batch.service import backend_spec
    from studio.core.batch.store import BatchError, BatchStore
    from studio.core.generation.registry import ModelRegistry
    from studio.core.library import Library

    settings = ctx.settings.load().settings
    with Library.open(ctx.paths) as lib:
        resolve = _resolver(ModelRegistry(lib))
        try:
            opts = plan.Options(steps=args.steps,
                                size=plan.parse_size(args.size) if args.size else None,
                                negative=args.negative, guidance=args.guidance,
                                scheduler=args.scheduler)
            if args.file is not None:
                if args.prompt:
                    raise BatchError("give either FILE or --prompt, not both")
                requests = plan.load_file(args.file, resolve, settings.generation,
                                          default_model=args.model[0] if args.model else None,
                                          defaults=opts)
            else:
                if not args.prompt or not args.model:
                    raise BatchError("give a FILE, or at least one --model and one --prompt")
                requests = plan.matrix([resolve(m) for m in args.model], args.prompt,
                                       plan.parse_seeds(args.seeds), opts, settings.generation)
            batch = BatchStore(lib).create(
                requests, name=args.name, backend=backend_spec(args.ray),
                out_dir=str(args.out.resolve()) if args.out else None)
        except BatchError as exc:
            raise CliError(str(exc), 2) from exc
        if not args.json:
            print(f"batch {batch.id}: {batch.total} items on {batch.backend}", file=sys.stderr)
        return _execute(args, ctx, lib, settings, batch.id, retry_failed=False)


def _resume(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.batch.service import backend_spec
    from studio.core.batch.store import BatchError, BatchState, BatchStore
    from studio.core.library import Library

    settings = ctx.settings.load().settings
    with Library.open(ctx.paths) as lib:
        store = BatchStore(lib)
        try:
            batch = store.get(args.id)
        except BatchError as exc:
            raise CliError(str(exc)) from exc
        if args.ray:
            store.set_backend(batch.id, backend_spec(args.ray))
        if batch.state is BatchState.DONE:
            print(f"batch {batch.id} is already done ({batch.done}/{batch.total})",
                  file=sys.stderr)
            if args.json:
                print(json.dumps(_batch_json(store, batch.id), indent=2))
            return 0
        return _execute(args, ctx, lib, settings, batch.id, retry_failed=args.retry_failed)


def _execute(args, ctx, lib, settings, batch_id: int, *, retry_failed: bool) -> int:
    from studio.cli import CliError
    from studio.core.batch.runner import BatchProgress, ItemEvent
    from studio.core.batch.service import RayOptions, close_backend, make_backend, run_batch
    from studio.core.batch.store import BatchError, BatchState, BatchStore, ItemState
    from studio.core.generation.ray_backend import RayBackendError

    store = BatchStore(lib)
    batch = store.get(batch_id)
    total = batch.total
    quiet = args.json

    def show(ev) -> None:
        if quiet:
            return
        if isinstance(ev, ItemEvent) and ev.state is ItemState.FAILED:
            print(f"\n  item {ev.idx} failed: {ev.error}", file=sys.stderr)
        elif isinstance(ev, BatchProgress):
            eta = f", ETA {ev.eta_s:.0f}s" if ev.eta_s is not None else ""
            print(f"\r[{ev.done + ev.failed}/{total}] {ev.done} done, {ev.failed} failed, "
                  f"{ev.items_per_s:.2f} items/s{eta}   ", end="", file=sys.stderr, flush=True)

    try:
        backend = make_backend(batch.backend, lib, settings, ray=RayOptions(
            args.workers, args.gpus_per_worker, args.worker_models))
    except BatchError as exc:
        raise CliError(str(exc)) from exc
    try:
        result = run_batch(ctx.paths, settings, lib, batch_id, backend, listener=show,
                           retry_failed=retry_failed, max_in_flight=args.in_flight)
    except (BatchError, RayBackendError) as exc:
        raise CliError(str(exc)) from exc
    finally:
        close_backend(backend)
    if not quiet:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(_batch_json(store, batch_id), indent=2))
    else:
        for it in store.items(batch_id, ItemState.DONE):
            asset = lib.get(it.asset_id) if it.asset_id else None
            if asset is not None:
                print(lib.path_of(asset))
    summary = (f"batch {batch_id}: {result.done}/{result.total} done, {result.failed} failed "
               f"in {result.seconds:.1f}s")
    if result.state is BatchState.DONE:
        print(summary, file=sys.stderr)
        return 0
    if result.state is BatchState.CANCELLED:
        raise CliError(f"{summary}; cancelled (`studio batch resume {batch_id}` continues)")
    raise CliError(f"{summary} (`studio batch resume {batch_id} --retry-failed` retries them)")


def _batch_json(store, batch_id: int) -> dict:
    b = store.get(batch_id)
    lib = store.library
    items = []
    for it in store.items(batch_id):
        asset = lib.get(it.asset_id) if it.asset_id else None
        items.append({"idx": it.idx, "state": str(it.state), "seed": it.request.seed,
                      "prompt": it.request.prompt, "model_sha256": it.request.model_sha256,
                      "attempts": it.attempts, "sha256": it.result_sha256,
                      "asset_id": it.asset_id, "path": str(lib.path_of(asset)) if asset else None,
                      "error": it.error, "backend": it.backend, "device": it.device,
                      "node": it.node})
    return {"id": b.id, "name": b.name, "state": str(b.state), "backend": b.backend,
            "total": b.total, "done": b.done, "failed": b.failed, "items": items}


def _list(args: argparse.Namespace, ctx) -> int:
    from studio.core.batch.store import BatchStore
    from studio.core.library import Library

    with Library.open(ctx.paths) as lib:
        batches = BatchStore(lib).list()
    if args.json:
        print(json.dumps([{"id": b.id, "name": b.name, "state": str(b.state),
                           "backend": b.backend, "total": b.total, "done": b.done,
                           "failed": b.failed} for b in batches], indent=2))
        return 0
    if not batches:
        print("No batches yet. `studio batch run --model ID --prompt P --seeds 1-12` makes one.")
    for b in batches:
        print(f"{b.id:>4}  {b.state.value:<9} {b.done:>4}/{b.total:<4} failed {b.failed:<4} "
              f"{b.backend:<16} {b.name}")
    return 0


def _show(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.batch.store import BatchError, BatchStore
    from studio.core.library import Library

    with Library.open(ctx.paths) as lib:
        try:
            data = _batch_json(BatchStore(lib), args.id)
        except BatchError as exc:
            raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"batch {data['id']} ({data['state']}, {data['backend']}): "
          f"{data['done']}/{data['total']} done, {data['failed']} failed")
    for it in data["items"]:
        tail = it["error"] or it["path"] or ""
        print(f"  {it['idx']:>4} {it['state']:<8} seed {it['seed']:<8} {tail}")
    return 0


def _cancel(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.batch.store import BatchError, BatchStore
    from studio.core.library import Library

    with Library.open(ctx.paths) as lib:
        try:
            b = BatchStore(lib).cancel(args.id)
        except BatchError as exc:
            raise CliError(str(exc)) from exc
    print(f"batch {b.id}: {b.state.value} ({b.done}/{b.total} done); "
          f"`studio batch resume {b.id}` continues it")
    return 0
