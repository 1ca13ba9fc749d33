"""``studio generate ...``, ``studio demo-model DIR`` and ``studio models list|add|remove``."""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from pathlib import Path

from studio.core.generation.schedulers import SCHEDULERS


def register(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser("generate", help="generate images with a local model into the library")
    g.add_argument("--model", required=True, metavar="PATH_OR_ID",
                   help="a registered model id, or a diffusers folder / .safetensors file")
    g.add_argument("--config", metavar="DIR", type=Path,
                   help="diffusers folder whose configs a single-file checkpoint uses offline")
    g.add_argument("--prompt", required=True)
    g.add_argument("--negative", default="")
    g.add_argument("--seed", type=int, help="default: random")
    g.add_argument("--steps", type=int)
    g.add_argument("--guidance", type=float)
    g.add_argument("--size", metavar="WxH", help="e.g. 512x512 (default: the model's size)")
    g.add_argument("--scheduler", choices=list(SCHEDULERS))
    g.add_argument("--batch", type=int, default=1)
    g.add_argument("--init", metavar="ASSET", help="img2img source: library asset id or sha256")
    g.add_argument("--strength", type=float, default=0.75)
    g.add_argument("--out", type=Path, metavar="DIR", help="also copy the images to DIR")
    g.add_argument("--json", action="store_true", help="machine-readable output")
    g.set_defaults(func=_generate)

    d = sub.add_parser("demo-model", help="write a tiny random-weight model (produces noise)")
    d.add_argument("dir", type=Path)
    d.add_argument("--no-register", action="store_true", help="only write the files")
    d.set_defaults(func=_demo_model)

    m = sub.add_parser("models", help="list, add or remove generation models")
    msub = m.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    ls = msub.add_parser("list")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_models_list)
    add = msub.add_parser("add")
    add.add_argument("path", type=Path)
    add.add_argument("--name", default="")
    add.add_argument("--config", type=Path, metavar="DIR")
    add.set_defaults(func=_models_add)
    rm = msub.add_parser("remove")
    rm.add_argument("id")
    rm.set_defaults(func=_models_remove)


def _parse_size(text: str) -> tuple[int, int]:
    from studio.cli import CliError

    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise CliError(f"--size must look like 512x768, not {text!r}", 2) from exc
    return w, h


def _resolve_model(registry, spec: str, config: Path | None):
    from studio.cli import CliError
    from studio.core.generation.errors import ModelError

    entry = registry.get(spec)
    if entry is not None:
        return entry
    if not Path(spec).exists():
        raise CliError(f"no model {spec!r}: not a registered id and not a file or folder "
                       "(`studio models list` shows registered models)")
    print(f"adding model {spec} (hashing it once)...", file=sys.stderr)
    try:
        return registry.add(Path(spec), config_dir=config)
    except ModelError as exc:
        raise CliError(str(exc)) from exc


def _resolve_init(library, spec: str):
    from studio.cli import CliError

    asset = library.get(int(spec)) if spec.isdigit() else library.get_by_sha256(spec)
    if asset is None:
        raise CliError(f"no library asset {spec!r} (`studio library list` shows them)")
    if not asset.media_type.startswith("image/"):
        raise CliError(f"asset {spec} is {asset.media_type}, not an image")
    return asset


def _generate(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.generation.engine import JobProgress, JobState
    from studio.core.generation.errors import GenerationError
    from studio.core.generation.families import FAMILIES
    from studio.core.generation.request import GenerationRequest
    from studio.core.generation.schedulers import default_scheduler_for

    settings = ctx.studio.settings.generation
    with ctx.library() as lib:
        # The composition root's engine: every output is signed (C2PA) before it is stored.
        engine = ctx.studio.engine
        try:
            entry = _resolve_model(engine.registry, args.model, args.config)
            info = FAMILIES[entry.family]
            size = info.default_size
            w, h = _parse_size(args.size) if args.size else (size, size)
            init = _resolve_init(lib, args.init) if args.init else None
            req = GenerationRequest(
                model_id=entry.id, model_sha256=entry.sha256, model_name=entry.name,
                family=str(entry.family), prompt=args.prompt, negative_prompt=args.negative,
                seed=random.randrange(2**32) if args.seed is None else args.seed,
                steps=args.steps or (4 if info.turbo else settings.default_steps),
                guidance=args.guidance if args.guidance is not None else (
                    0.0 if info.turbo else settings.default_guidance),
                width=w, height=h,
                scheduler=args.scheduler or (default_scheduler_for(info.turbo)
                                             if info.turbo else settings.default_scheduler),
                batch_size=args.batch, init_asset_id=init.id if init else None,
                init_sha256=init.sha256 if init else None, strength=args.strength)

            def progress(ev) -> None:
                if isinstance(ev, JobProgress) and not args.json:
                    print(f"\rstep {ev.done}/{ev.total}", end="", file=sys.stderr, flush=True)

            engine.add_listener(progress)
            try:
                job = engine.wait(engine.enqueue(req))
            except KeyboardInterrupt:
                engine.cancel()
                raise
            if not args.json:
                print(file=sys.stderr)
        except GenerationError as exc:
            raise CliError(str(exc)) from exc
        finally:
            engine.shutdown()
        if job.state is not JobState.DONE:
            raise CliError(job.error or f"generation {job.state}")
        results = []
        for i, asset in enumerate(job.assets):
            path = lib.path_of(asset)
            copied = None
            if args.out:
                args.out.mkdir(parents=True, exist_ok=True)
                copied = args.out / f"{asset.sha256[:12]}-{req.seed + i}.png"
                shutil.copyfile(path, copied)
            results.append({"asset_id": asset.id, "sha256": asset.sha256, "seed": req.seed + i,
                            "path": str(path), "copy": str(copied) if copied else None})
    if args.json:
        print(json.dumps({"request": req.to_dict(), "outputs": results}, indent=2))
    else:
        for r in results:
            print(r["copy"] or r["path"])
    return 0


def _demo_model(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.generation.demo import DEMO_NAME, build_demo_pipeline
    from studio.core.generation.registry import ModelRegistry
    from studio.core.library import Library

    target: Path = args.dir
    if target.exists() and any(target.iterdir()):
        raise CliError(f"{target} is not empty; choose a new folder")
    build_demo_pipeline(target)
    print(f"wrote a tiny random-weight model to {target} (it produces noise)")
    if not args.no_register:
        with Library.open(ctx.paths) as lib:
            entry = ModelRegistry(lib).add(target, name=DEMO_NAME)
        print(f"registered as {entry.id}: studio generate --model {entry.id} --prompt ...")
    return 0


def _models_list(args: argparse.Namespace, ctx) -> int:
    from studio.core.generation.registry import ModelRegistry
    from studio.core.library import Library

    with Library.open(ctx.paths) as lib:
        entries = ModelRegistry(lib).list()
    if args.json:
        print(json.dumps([{**e.__dict__, "kind": str(e.kind), "family": str(e.family)}
                          for e in entries], indent=2))
    elif not entries:
        print("No models yet. `studio models add PATH` or `studio demo-model DIR` adds one.")
    for e in [] if args.json else entries:
        print(f"{e.id}  {e.family.value:<10} {e.kind.value:<11} {e.name}  ({e.path})")
    return 0


def _models_add(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.generation.errors import ModelError
    from studio.core.generation.registry import ModelRegistry
    from studio.core.library import Library

    with Library.open(ctx.paths) as lib:
        try:
            e = ModelRegistry(lib).add(args.path, name=args.name, config_dir=args.config)
        except ModelError as exc:
            raise CliError(str(exc)) from exc
    print(f"{e.id}  {e.label}  sha256 {e.sha256}")
    return 0


def _models_remove(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.generation.registry import ModelRegistry
    from studio.core.library import Library

    with Library.open(ctx.paths) as lib:
        reg = ModelRegistry(lib)
        entry = reg.get(args.id)
        if entry is None or not reg.remove(entry.id):
            raise CliError(f"no model {args.id!r}")
    print(f"removed {entry.id} from the list (its files were left in place)")
    return 0
