"""``studio generate ...``, ``studio demo-model DIR`` and ``studio models list|add|remove``."""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from pathlib import Path

from studio.core.generation.schedulers import SCHEDULERS


def register(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser("generate", help="generate images with a local model into the library")
    g.add_argument("--model", metavar="PATH_OR_ID",
                   help="a registered model id, or a diffusers folder / .safetensors file "
                        "(required unless --reuse names the model)")
    g.add_argument("--config", metavar="DIR", type=Path,
                   help="diffusers folder whose configs a single-file checkpoint uses instead of "
                        "the ones the studio ships")
    g.add_argument("--prompt", help="required unless --reuse gives one")
    g.add_argument("--negative")
    g.add_argument("--seed", type=int, help="default: random (or the reused seed)")
    g.add_argument("--steps", type=int)
    g.add_argument("--guidance", type=float)
    g.add_argument("--size", metavar="WxH", help="e.g. 512x512 (default: the model's size)")
    g.add_argument("--scheduler", choices=list(SCHEDULERS))
    g.add_argument("--batch", type=int, default=1)
    g.add_argument("--init", metavar="ASSET",
                   help="source image (img2img, inpaint, outpaint): library asset id or sha256")
    g.add_argument("--strength", type=float,
                   help="how much of the source is redone (default 0.75; 1.0 for outpaint)")
    g.add_argument("--mask", metavar="MASK.png", type=Path,
                   help="inpaint: white (or opaque) pixels are regenerated, the rest is kept "
                        "exactly; needs --init")
    g.add_argument("--outpaint", metavar="PIXELS",
                   help="extend the --init image and fill the new area: N (every side), "
                        "L,T,R,B, or e.g. right=256,bottom=128")
    g.add_argument("--reuse", metavar="ASSET_OR_FILE",
                   help="start from the settings recorded in a studio output's credentials "
                        "(library asset id / sha256, or a file); other options override them")
    g.add_argument("--lora", action="append", default=[], metavar="PATH_OR_ID[:WEIGHT]",
                   help="apply a LoRA (a registered id or a .safetensors file), weight 1 by "
                        "default; repeat for several (default with --reuse: its LoRAs)")
    g.add_argument("--out", type=Path, metavar="DIR", help="also copy the images to DIR")
    g.add_argument("--json", action="store_true", help="machine-readable output")
    g.set_defaults(func=_generate)

    u = sub.add_parser("upscale", help="upscale a library image 2x or 4x into a new signed asset")
    u.add_argument("asset", metavar="ASSET", help="library asset id or sha256")
    u.add_argument("--scale", type=int, choices=[2, 4], default=2)
    u.add_argument("--model", metavar="ID_OR_PATH",
                   help="a registered upscaler (`studio models list`) or an ESRGAN-family "
                        ".safetensors/.pth file; default: Lanczos resampling, no model")
    u.add_argument("--tile", type=int, default=256, help="tile size in pixels (less memory)")
    u.add_argument("--out", type=Path, metavar="DIR", help="also copy the image to DIR")
    u.add_argument("--json", action="store_true", help="machine-readable output")
    u.set_defaults(func=_upscale)

    d = sub.add_parser("demo-model", help="write a tiny random-weight model (produces noise)")
    d.add_argument("dir", type=Path)
    d.add_argument("--no-register", action="store_true", help="only write the files")
    d.add_argument("--family", default="sd15", metavar="FAMILY",
                   help="architecture of the tiny model: " + ", ".join(_family_names()))
    d.set_defaults(func=_demo_model)

    m = sub.add_parser("models", help="list, add or remove generation models")
    msub = m.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    ls = msub.add_parser("list", help="registered models, LoRAs and upscalers")
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--family", choices=[*_family_names(), "upscaler"],
                    help="only this family (upscaler: only the upscalers)")
    ls.add_argument("--search", default="", metavar="TEXT", help="name, path or source")
    ls.set_defaults(func=_models_list)
    add = msub.add_parser("add", help="register a model folder, checkpoint or LoRA file")
    add.add_argument("path", type=Path)
    add.add_argument("--name", default="")
    add.add_argument("--config", type=Path, metavar="DIR")
    add.set_defaults(func=_models_add)
    dl = msub.add_parser("download", help="download from Hugging Face and register")
    dl.add_argument("repo", metavar="REPO_ID_OR_URL",
                    help="a Hugging Face repo id (org/name), a starter key "
                         "(`studio models starters`), or a direct https:// download link")
    dl.add_argument("--revision", help="branch, tag or commit (default: main)")
    dl.add_argument("--file", metavar="PATH_IN_REPO", help="one checkpoint or LoRA file")
    dl.add_argument("--sha256", metavar="HEX",
                    help="for a direct URL: the file's sha256 (e.g. from the model page)")
    dl.add_argument("--name", default="")
    dl.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    dl.add_argument("--json", action="store_true")
    dl.set_defaults(func=_models_download)
    st = msub.add_parser("starters", help="the curated first models")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=_models_starters)
    tk = msub.add_parser("token", help="store the Hugging Face access token in the OS keyring "
                                       "(read from stdin, never from the command line)")
    tk.add_argument("--delete", action="store_true", help="forget the stored token")
    tk.set_defaults(func=_models_token)
    rm = msub.add_parser("remove")
    rm.add_argument("id")
    rm.set_defaults(func=_models_remove)


def _family_names() -> list[str]:
    from studio.core.generation.families import Family

    return [f.value for f in Family]


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


def _parse_lora(spec: str) -> tuple[str, float]:
    """``PATH_OR_ID[:WEIGHT]``; a Windows drive letter or a path with ':' is not a weight."""
    from studio.cli import CliError

    head, sep, tail = spec.rpartition(":")
    if sep and head:
        try:
            return head, float(tail)
        except ValueError:
            if tail.replace(".", "").replace("-", "").isdigit():
                raise CliError(f"--lora {spec!r}: the weight must be a number", 2) from None
    return spec, 1.0


def _resolve_loras(engine, specs: list[str], family):
    from studio.cli import CliError
    from studio.core.generation.errors import ModelError
    from studio.core.generation.lora import check_family

    refs = []
    for spec in specs:
        key, weight = _parse_lora(spec)
        entry = engine.loras.get(key)
        try:
            if entry is None:
                if not Path(key).is_file():
                    raise CliError(f"no LoRA {key!r}: not a registered id and not a file "
                                   "(`studio models list` shows registered LoRAs)")
                entry = engine.loras.add(Path(key))
            check_family(entry, family)
        except ModelError as exc:
            raise CliError(str(exc)) from exc
        if entry.trigger_words:
            print(f"LoRA {entry.name}: trigger words: {', '.join(entry.trigger_words)}",
                  file=sys.stderr)
        refs.append(entry.ref(weight))
    return tuple(refs)


def _resolve_init(library, spec: str):
    from studio.cli import CliError

    asset = library.get(int(spec)) if spec.isdigit() else library.get_by_sha256(spec)
    if asset is None:
        raise CliError(f"no library asset {spec!r} (`studio library list` shows them)")
    if not asset.media_type.startswith("image/"):
        raise CliError(f"asset {spec} is {asset.media_type}, not an image")
    return asset


def _parse_outpaint(text: str) -> tuple[int, int, int, int]:
    """N | L,T,R,B | side=N[,side=N...] -> (left, top, right, bottom)."""
    from studio.cli import CliError

    sides = ("left", "top", "right", "bottom")
    try:
        if "=" in text:
            values = dict.fromkeys(sides, 0)
            for part in text.split(","):
                key, _, num = part.partition("=")
                if key.strip().lower() not in values:
                    raise ValueError(key)
                values[key.strip().lower()] = int(num)
            out = tuple(values[k] for k in sides)
        elif "," in text:
            out = tuple(int(v) for v in text.split(","))
        else:
            out = (int(text),) * 4
        if len(out) != 4 or any(v < 0 for v in out) or not any(out):
            raise ValueError(text)
    except ValueError as exc:
        raise CliError(f"--outpaint must be N, L,T,R,B or e.g. right=256,bottom=128 (pixels, "
                       f"not negative, at least one above 0), not {text!r}", 2) from exc
    return out  # type: ignore[return-value]


def _store_mask(lib, path: Path) -> tuple[str, tuple[int, int]]:
    from studio.cli import CliError
    from studio.core.generation.edit import load_mask_image, store_mask
    from studio.core.generation.errors import RequestError

    try:
        mask = load_mask_image(path.read_bytes())
    except OSError as exc:
        raise CliError(f"cannot read the mask {path}: {exc.strerror or exc}") from exc
    except RequestError as exc:
        raise CliError(f"{path}: {exc}") from exc
    if not mask.getbbox():
        raise CliError(f"the mask {path} is empty (all black): nothing to inpaint")
    return store_mask(lib, mask), mask.size


def _build_request(args: argparse.Namespace, lib, engine, settings):
    from dataclasses import replace

    from studio.cli import CliError
    from studio.core.generation.edit import processing_size
    from studio.core.generation.errors import GenerationError
    from studio.core.generation.families import FAMILIES
    from studio.core.generation.request import GenerationRequest
    from studio.core.generation.reuse import reuse_request
    from studio.core.generation.schedulers import (
        default_guidance,
        default_scheduler,
        default_steps,
    )

    base = None
    if args.reuse:
        try:
            base = reuse_request(lib, args.reuse)
        except GenerationError as exc:
            raise CliError(str(exc)) from exc
    if args.model:
        entry = _resolve_model(engine.registry, args.model, args.config)
    elif base is not None:
        entry = engine.registry.get(base.model_id)
        if entry is None or entry.sha256 != base.model_sha256:
            raise CliError(f"the reused settings need the model {base.model_name or '?'} "
                           f"(sha256 {base.model_sha256}), which is not registered here; add "
                           "it with `studio models add PATH`, or choose one with --model")
    else:
        raise CliError("--model is required (unless --reuse names the model)", 2)
    prompt = args.prompt if args.prompt is not None else (base.prompt if base else None)
    if not prompt:
        raise CliError("--prompt is required (unless --reuse gives one)", 2)
    if (args.mask or args.outpaint) and not (args.init or (base and base.init_sha256)):
        raise CliError("--mask and --outpaint edit a source image: give it with --init", 2)
    if args.mask and args.outpaint:
        raise CliError("use either --mask (inpaint) or --outpaint, not both", 2)

    info = FAMILIES[entry.family]
    init = _resolve_init(lib, args.init) if args.init else None
    edit: dict = {}
    if init is not None:  # a new source: the reused mask / margins do not apply to it
        edit = dict(init_asset_id=init.id, init_sha256=init.sha256, mask_sha256=None,
                    outpaint_left=0, outpaint_top=0, outpaint_right=0, outpaint_bottom=0)
    elif base is not None and base.init_sha256:
        init = lib.get_by_sha256(base.init_sha256)
        if init is None:
            raise CliError("the reused settings edit a source image that is not in this "
                           f"library (sha256 {base.init_sha256})")
        edit = dict(init_asset_id=init.id)
    source_size = (init.width, init.height) if init is not None and init.width else None
    if init is not None and source_size is None:
        from PIL import Image

        with Image.open(lib.path_of(init)) as img:
            source_size = img.size
    out_size = source_size
    if args.mask:
        edit["mask_sha256"], _size = _store_mask(lib, args.mask)
    if args.outpaint:
        margins = _parse_outpaint(args.outpaint)
        edit.update(mask_sha256=None, outpaint_left=margins[0], outpaint_top=margins[1],
                    outpaint_right=margins[2], outpaint_bottom=margins[3])
        assert source_size is not None
        out_size = (source_size[0] + margins[0] + margins[2],
                    source_size[1] + margins[1] + margins[3])

    if args.size:
        w, h = _parse_size(args.size)
    elif out_size is not None and (args.mask or args.outpaint or args.init):
        w, h = processing_size(*out_size)
    elif base is not None:
        w, h = base.width, base.height
    else:
        w, h = info.default_size, info.default_size
    fresh = GenerationRequest(
        model_id=entry.id, model_sha256=entry.sha256, model_name=entry.name,
        family=str(entry.family), prompt=prompt,
        steps=default_steps(info, settings), guidance=default_guidance(info, settings),
        scheduler=default_scheduler(info, settings))
    req = base if base is not None else fresh
    outpainting = bool(args.outpaint) or (not args.init and not args.mask and base is not None
                                          and base.mode == "outpaint")
    chosen = {
        "model_id": entry.id, "model_sha256": entry.sha256, "model_name": entry.name,
        "family": str(entry.family), "prompt": prompt, "width": w, "height": h,
        "negative_prompt": args.negative if args.negative is not None else req.negative_prompt,
        "seed": args.seed if args.seed is not None else (
            base.seed if base is not None else random.randrange(2**32)),
        "steps": args.steps or req.steps,
        "guidance": args.guidance if args.guidance is not None else req.guidance,
        "scheduler": args.scheduler or req.scheduler, "batch_size": args.batch,
        "strength": args.strength if args.strength is not None else (
            1.0 if outpainting else base.strength if base is not None else 0.75),
        "model_source": entry.source,
        "loras": _resolve_loras(engine, args.lora, entry.family) if args.lora else (
            base.loras if base is not None else ()),
        **edit,
    }
    return replace(req, **chosen)


def _generate(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.generation.engine import JobProgress, JobState
    from studio.core.generation.errors import GenerationError

    settings = ctx.studio.settings.generation
    with ctx.library() as lib:
        # The composition root's engine: every output is signed (C2PA) before it is stored.
        engine = ctx.studio.engine
        try:
            req = _build_request(args, lib, engine, settings)

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
                            "path": str(path), "copy": str(copied) if copied else None,
                            "width": asset.width, "height": asset.height})
    if args.json:
        print(json.dumps({"request": req.to_dict(), "mode": req.mode, "outputs": results},
                         indent=2))
    else:
        for r in results:
            print(r["copy"] or r["path"])
    return 0


def _upscale(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.generation.devices import probe_device
    from studio.core.generation.errors import GenerationError
    from studio.core.generation.upscale import UpscalerRegistry, upscale_asset

    if not 32 <= args.tile <= 4096:
        raise CliError("--tile must be between 32 and 4096 pixels", 2)
    studio = ctx.studio
    with ctx.library() as lib:
        source = _resolve_init(lib, args.asset)
        model = None
        try:
            if args.model:
                reg = UpscalerRegistry(lib)
                model = reg.get(args.model)
                if model is None:
                    if not Path(args.model).exists():
                        raise CliError(f"no upscaler {args.model!r}: not a registered id and "
                                       "not a file (`studio models list` shows them)")
                    model = reg.add(Path(args.model))
            signer = studio.signer()
            device = probe_device(studio.settings.generation.device).kind if model else "cpu"

            def progress(done: int, total: int) -> None:
                if not args.json:
                    print(f"\rtile {done}/{total}", end="", file=sys.stderr, flush=True)

            result = upscale_asset(lib, source, args.scale, model=model, device=device,
                                   sign=signer.upscale, tile=args.tile, progress=progress)
            if model is not None and not args.json:
                print(file=sys.stderr)
        except GenerationError as exc:
            raise CliError(str(exc)) from exc
        path = lib.path_of(result.asset)
        copied = None
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            copied = args.out / f"{result.asset.sha256[:12]}-x{args.scale}.png"
            shutil.copyfile(path, copied)
    if args.json:
        print(json.dumps({"asset_id": result.asset.id, "sha256": result.asset.sha256,
                          "path": str(path), "copy": str(copied) if copied else None,
                          "width": result.asset.width, "height": result.asset.height,
                          "upscale": result.info}, indent=2))
    else:
        print(copied or path)
    return 0


def _demo_model(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.generation.demo import DEMO_NAME, build_demo_pipeline
    from studio.core.generation.demo_families import build_tiny_pipeline
    from studio.core.generation.families import FAMILIES, Family
    from studio.core.generation.registry import ModelRegistry
    from studio.core.library import Library

    target: Path = args.dir
    if args.family not in _family_names():
        raise CliError(f"unknown family {args.family!r} (one of: {', '.join(_family_names())})",
                       2)
    if target.exists() and any(target.iterdir()):
        raise CliError(f"{target} is not empty; choose a new folder")
    family = Family(args.family)
    if family is Family.SD15:
        build_demo_pipeline(target)
        name = DEMO_NAME
    else:
        build_tiny_pipeline(target, family)
        name = f"Tiny {FAMILIES[family].label} (random weights: produces noise)"
    print(f"wrote a tiny random-weight {FAMILIES[family].label} model to {target} "
          "(it produces noise)")
    if not args.no_register:
        with Library.open(ctx.paths) as lib:
            entry = ModelRegistry(lib).add(target, name=name)
        print(f"registered as {entry.id}: studio generate --model {entry.id} --prompt ...")
    return 0


def _models_list(args: argparse.Namespace, ctx) -> int:
    from studio.core.generation.lora import LoraRegistry
    from studio.core.generation.registry import ModelRegistry
    from studio.core.generation.upscale import UPSCALER_FAMILY, UpscalerRegistry
    from studio.core.library import Library

    only_upscalers = args.family == UPSCALER_FAMILY
    with Library.open(ctx.paths) as lib:
        entries = [] if only_upscalers else ModelRegistry(lib).search(args.search, args.family)
        loras = [] if only_upscalers else [
            lo for lo in LoraRegistry(lib).list(args.family)
            if args.search.lower() in f"{lo.name} {lo.path} {lo.source}".lower()]
        upscalers = UpscalerRegistry(lib).search(args.search) \
            if args.family in (None, UPSCALER_FAMILY) else []
    if args.json:
        print(json.dumps([{**e.__dict__, "kind": str(e.kind), "family": str(e.family)}
                          for e in entries]
                         + [{**lo.__dict__, "kind": "lora",
                             "trigger_words": list(lo.trigger_words)} for lo in loras]
                         + [{**u.__dict__, "kind": "upscaler", "family": UPSCALER_FAMILY}
                            for u in upscalers], indent=2))
        return 0
    if not entries and not loras and not upscalers:
        print("No models yet. `studio models add PATH`, `studio models download REPO` or "
              "`studio demo-model DIR` adds one.")
    for e in entries:
        used = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.last_used)) \
            if e.last_used else "never"
        print(f"{e.id}  {e.family.value:<12} {_human(e.size):>9}  sha256 {e.sha256[:10]}  "
              f"used {used}  {e.name}  ({e.source or e.path})")
    for lo in loras:
        words = f"  trigger: {', '.join(lo.trigger_words)}" if lo.trigger_words else ""
        print(f"{lo.id}  LoRA {lo.family:<7} {_human(lo.size):>9}  sha256 {lo.sha256[:10]}  "
              f"{lo.name}  ({lo.source or lo.path}){words}")
    for u in upscalers:
        print(f"{u.id}  {UPSCALER_FAMILY:<12} {_human(u.size):>9}  sha256 {u.sha256[:10]}  "
              f"{u.architecture} {u.scale}x  {u.name}  ({u.path})")
    return 0


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _looks_like_upscaler(path: Path) -> bool:
    if path.suffix.lower() == ".pth":
        return True
    if path.suffix.lower() != ".safetensors" or not path.is_file():
        return False
    from studio.core.generation.registry import read_safetensors_keys

    try:
        keys = read_safetensors_keys(path)
    except Exception:
        return False
    # Diffusion checkpoints have these prefixes; upscalers never do.
    return not any(k.startswith(("model.diffusion_model.", "first_stage_model.", "unet.",
                                 "transformer.", "cond_stage_model.")) for k in keys)


def _models_add(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.generation.errors import ModelError
    from studio.core.generation.lora import LoraRegistry
    from studio.core.generation.registry import ModelRegistry
    from studio.core.generation.upscale import UpscalerRegistry
    from studio.core.library import Library
    from studio.core.models.manager import is_lora_file

    with Library.open(ctx.paths) as lib:
        try:
            if args.path.is_file() and is_lora_file(args.path):
                lo = LoraRegistry(lib).add(args.path, name=args.name)
                words = f"; trigger words: {', '.join(lo.trigger_words)}" \
                    if lo.trigger_words else ""
                print(f"{lo.id}  LoRA ({lo.family})  sha256 {lo.sha256}{words}")
                return 0
            if _looks_like_upscaler(args.path):
                u = UpscalerRegistry(lib).add(args.path, name=args.name)
                print(f"{u.id}  {u.label}  sha256 {u.sha256}")
                return 0
            e = ModelRegistry(lib).add(args.path, name=args.name, config_dir=args.config)
        except ModelError as exc:
            raise CliError(str(exc)) from exc
    print(f"{e.id}  {e.label}  sha256 {e.sha256}")
    return 0


def _models_remove(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.generation.registry import ModelRegistry
    from studio.core.generation.upscale import UpscalerRegistry
    from studio.core.library import Library

    with Library.open(ctx.paths) as lib:
        reg = ModelRegistry(lib)
        entry = reg.get(args.id)
        if entry is None:
            from studio.core.generation.lora import LoraRegistry

            loras = LoraRegistry(lib)
            lora = loras.get(args.id)
            if lora is not None and loras.remove(lora.id):
                print(f"removed {lora.id} from the list (its file was left in place)")
                return 0
        if entry is not None and reg.remove(entry.id):
            print(f"removed {entry.id} from the list (its files were left in place)")
            return 0
        ups = UpscalerRegistry(lib)
        upscaler = ups.get(args.id)
        if upscaler is None or not ups.remove(upscaler.id):
            raise CliError(f"no model {args.id!r}")
    print(f"removed {upscaler.id} from the list (its files were left in place)")
    return 0


def _models_starters(args: argparse.Namespace, ctx) -> int:
    from studio.core.models.download import human
    from studio.core.models.starter import STARTERS

    if args.json:
        print(json.dumps([{**s.__dict__, "family": str(s.family), "spec": s.spec}
                          for s in STARTERS], indent=2))
        return 0
    for s in STARTERS:
        gated = ", gated" if s.gated else ""
        print(f"{s.key:<13} {s.name:<30} {human(s.size_bytes):>8}  VRAM {s.vram_gib:g} GB "
              f"(runs from {s.min_vram_gib:g})  {s.licence}{gated}\n"
              f"{'':<14}{s.repo_id}{':' + s.file if s.file else ''} - {s.note}")
    return 0


def _models_token(args: argparse.Namespace, ctx) -> int:
    import getpass

    from studio.cli import CliError
    from studio.core.models.download import hub_endpoint
    from studio.core.models.token import TokenError, delete_token, store_token

    if args.delete:
        delete_token(hub_endpoint())
        print(f"forgot the access token for {hub_endpoint()}")
        return 0
    token = getpass.getpass("Hugging Face access token: ") if sys.stdin.isatty() \
        else sys.stdin.readline()
    try:
        store_token(hub_endpoint(), token.strip())
    except TokenError as exc:
        raise CliError(str(exc)) from exc
    print(f"stored the access token for {hub_endpoint()} in the OS keyring")
    return 0


def _models_download(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.library import Library
    from studio.core.models.download import DownloadError, hub_endpoint, human, plan_hub
    from studio.core.models.manager import download_and_register
    from studio.core.models.starter import starter
    from studio.core.models.token import load_token

    repo, file = args.repo, args.file
    pick = starter(repo)
    if pick is not None:
        repo, file = pick.repo_id, file or pick.file
    if repo.startswith(("http://", "https://")):
        return _download_url(args, ctx, repo)
    token = load_token(hub_endpoint())
    try:
        plan = plan_hub(repo, revision=args.revision, file=file, token=token)
    except DownloadError as exc:
        raise CliError(str(exc)) from exc
    for line in plan.summary():
        print(line, file=sys.stderr)
    if not plan.enough_space:
        raise CliError(f"not enough disk space: the download needs {human(plan.needed_bytes)}, "
                       f"{human(plan.free_bytes)} is free at {plan.cache_dir}; nothing was "
                       "written")
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError("confirm with --yes (no terminal to ask on); nothing was written", 2)
        answer = input(f"Download {human(plan.needed_bytes)}? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("nothing was downloaded", file=sys.stderr)
            return 1

    def progress(p) -> None:
        if args.json:
            return
        eta = f"{p.eta_s:.0f} s" if p.eta_s is not None else "?"
        print(f"\r{human(p.done)}/{human(p.total)}  {human(p.speed)}/s  ETA {eta}  {p.file}"
              f"\x1b[K", end="", file=sys.stderr, flush=True)

    with Library.open(ctx.paths) as lib:
        try:
            entry = download_and_register(lib, plan, token=token, progress=progress,
                                          name=args.name)
        except KeyboardInterrupt:
            print("\ncancelled; run the same command again to resume", file=sys.stderr)
            return 130
        except DownloadError as exc:
            raise CliError(str(exc)) from exc
    if not args.json:
        print(file=sys.stderr)
    return _print_registered(entry, args, entry.source)


def _download_url(args: argparse.Namespace, ctx, url: str) -> int:
    from studio.cli import CliError
    from studio.core.library import Library
    from studio.core.models.download import DownloadError, human
    from studio.core.models.manager import register
    from studio.core.models.url_download import plan_url, run_url_download

    try:
        plan = plan_url(url, ctx.paths.data_dir / "models" / "downloads", sha256=args.sha256)
    except DownloadError as exc:
        raise CliError(str(exc)) from exc
    for line in plan.summary():
        print(line, file=sys.stderr)
    if not plan.enough_space:
        raise CliError(f"not enough disk space: the download needs {human(plan.needed_bytes)}, "
                       f"{human(plan.free_bytes)} is free; nothing was written")
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError("confirm with --yes (no terminal to ask on); nothing was written", 2)
        if input("Download? [y/N] ").strip().lower() not in ("y", "yes"):
            return 1
    try:
        path = run_url_download(plan)
        with Library.open(ctx.paths) as lib:
            entry = register(lib, path, source=url, name=args.name)
    except KeyboardInterrupt:
        print("\ncancelled; run the same command again to resume", file=sys.stderr)
        return 130
    except DownloadError as exc:
        raise CliError(str(exc)) from exc
    return _print_registered(entry, args, url)


def _print_registered(entry, args: argparse.Namespace, source: str) -> int:
    """What a finished download registered: one line, or JSON with --json."""
    kind = "LoRA" if entry.id.startswith("lora-") else "model"
    if args.json:
        print(json.dumps({"kind": kind, "id": entry.id, "sha256": entry.sha256,
                          "path": entry.path, "source": entry.source,
                          "family": str(entry.family)}, indent=2))
    else:
        print(f"registered {kind} {entry.id} ({entry.family}) from {source}")
    return 0
