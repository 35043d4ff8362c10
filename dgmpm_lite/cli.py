"""Command line: ``dgmpm-lite <command>`` (also ``python -m dgmpm_lite``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 240x432 (height x width), got {text!r}") from None
    if h < 1 or w < 1:
        raise argparse.ArgumentTypeError(f"size must be positive, got {text!r}")
    return h, w


def _whole_number(text: str, minimum: int, rule: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{rule}, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    return _whole_number(text, 1, "must be at least 1")


def _non_negative_int(text: str) -> int:
    return _whole_number(text, 0, "must be 0 or more")


def _scored_frames(text: str) -> int:
    """--max-frames of compare and ablation: 0 (every frame) or at least 3, since DAVIS scores
    neither a video's first frame (it is given) nor its last."""
    value = _non_negative_int(text)
    if value in (1, 2):
        raise argparse.ArgumentTypeError(
            f"must be 0 (every frame) or at least 3: DAVIS scores neither the first frame nor the last, got {text!r}"
        )
    return value


def _jpeg_quality(text: str) -> int:
    value = _whole_number(text, 1, "must be between 1 and 95 (JPEG quality)")
    if value > 95:
        raise argparse.ArgumentTypeError(f"must be between 1 and 95 (JPEG quality), got {text!r}")
    return value


def _number(text: str, ok, rule: str, what: str = "a number") -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not ok(value):  # a comparison with nan is False: nan is refused too
        raise argparse.ArgumentTypeError(f"{rule}, got {text!r}")
    return value


def _fps(text: str) -> float:
    return _number(
        text, lambda v: 0 < v <= 240, "must be between 0 and 240 frames per second", "a number of frames per second"
    )


def _positive_float(text: str) -> float:
    return _number(text, lambda v: 0 < v < float("inf"), "must be a positive number")


def _check_device(name: str) -> None:
    """Refuse a device this machine does not have, before any work starts."""
    import torch

    if name.startswith("cuda") and not torch.cuda.is_available():
        raise CliError(f"--device {name}: CUDA is not available on this machine; use --device cpu (or auto)")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise CliError("--device mps: Apple's MPS is not available on this machine; use --device cpu (or auto)")


def _check_output_folder(path, flag: str) -> None:
    """An output folder must be creatable: no existing file at it or above it."""
    from pathlib import Path

    p = Path(path).absolute()
    for q in (p, *p.parents):
        if q.exists():
            if not q.is_dir():
                raise CliError(f"{flag} {path}: {q} is a file, not a folder; choose another {flag}")
            return


DEVICE_HELP = "auto (a GPU when there is one), cpu, cuda, cuda:N or mps"
WORKING_SIZE_HELP = (
    "short side in pixels that DGMPM runs at; masks come back at the video's own size "
    "(default: the model's recorded working size, the short side it was trained at unless its "
    "training config set working_size; 0 = the video's own size)"
)


def _figures(args) -> int:
    from . import REPO_ROOT, work_dir
    from .notebooks import run_series

    if not args.fig_dir:  # the instructor's command is the one writer of the committed figures/
        args.fig_dir = str(work_dir("smoke_figures") if args.smoke else REPO_ROOT / "figures")
    extra = {"08": {"ABLATION_RETRAIN": True}} if args.retrain_ablation else None
    done = run_series(
        fig_dir=args.fig_dir,
        build_dir=args.build_dir,
        smoke=args.smoke,
        device=args.device,
        only=args.only,
        extra_parameters=extra,
    )
    print(f"executed {len(done)} notebooks into {args.build_dir}; figures in {args.fig_dir}")
    return 0


def _generate(args) -> int:
    import json

    from .data import SyntheticConfig
    from .data.sets import REAL_MULTI_ROOT, data_samples_root, make_data_samples, make_real_multi
    from .data.synthetic import generate_dataset

    if args.preset == "data_samples":
        manifest = make_data_samples(args.root, overwrite=args.overwrite)
        root = args.root or data_samples_root()
    elif args.preset == "davis_multi_val":
        manifest = make_real_multi(args.root, args.davis, overwrite=args.overwrite)
        root = args.root or REAL_MULTI_ROOT
    else:
        if args.root is None:
            raise CliError("--root is required without --preset (the folder to write the videos to)")
        try:
            knobs = json.loads(args.config) if args.config else {}
        except json.JSONDecodeError as err:
            raise CliError(f"--config is not valid JSON ({err}); e.g. --config '{{\"num_frames\": 40}}'") from None
        manifest = generate_dataset(
            args.root,
            {"train": args.train, "val": args.val},
            SyntheticConfig.from_dict(knobs),
            args.seed,
            args.resolution,
            overwrite=args.overwrite,
            command=f"dgmpm-lite generate --root {args.root} --seed {args.seed} --train {args.train} --val {args.val} "
            f"--resolution {args.resolution}" + (f" --config '{args.config}'" if args.config else ""),
        )
        root = args.root
    n = sum(len(v) for v in manifest["splits"].values())
    print(f"wrote {n} sequences to {root} in {manifest['generation_seconds']} s")
    return 0


def _pack(args) -> int:
    from .data.pack import pack_davis

    _check_output_folder(args.out.parent, "--out")
    splits = None if "" in (args.split or [""]) else args.split  # '' = every sequence, as elsewhere
    packed = pack_davis(args.data, args.out, splits, quality=args.quality, short_side=args.short_side)
    print(
        f"packed {packed.sequences} sequences ({packed.frames} frames) into {packed.root}: "
        f"{packed.bytes / 2**20:.1f} MiB at JPEG quality {args.quality}"
    )
    return 0


def _benchmark(args) -> int:
    import torch

    from .benchmark import format_table, run_benchmark

    _check_device(args.device)
    rows = run_benchmark(
        args.backbones,
        args.sizes,
        args.objects,
        args.methods,
        args.device,
        args.repeats,
        amp=args.amp,
        channels_last=args.channels_last,
        compile=args.compile,
        widths=args.widths,
    )
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    print(format_table(rows))
    return 0


class CliError(Exception):
    """A problem with the user's arguments or files: printed as one line, exit status 2."""


def _checkpoint_path(path: str | None, default: str = ""):
    from .checkpoints import DEFAULT_CHECKPOINT, default_checkpoint

    try:
        return default_checkpoint(path or "", default or DEFAULT_CHECKPOINT)
    except FileNotFoundError as err:
        raise CliError(str(err)) from None


def _train(args) -> int:
    from pathlib import Path

    from .checkpoints import export_model, load_checkpoint
    from .config import load_config
    from .train import finished, train

    overrides = {}
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise CliError(f"--set expects KEY=VALUE, got {item!r}")
        import json

        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    if args.device:
        _check_device(args.device)
        overrides["device"] = args.device
    cfg = load_config(args.config, **overrides)  # checked (TrainConfig.validate) before anything is written
    _check_output_folder(args.out, "--out")
    replace_export = args.overwrite
    if args.export:  # a clash found now, not after hours of training
        _check_output_folder(str(Path(args.export).parent), "--export")
        if Path(args.export).exists() and not args.overwrite:
            if not _exported_by(args.export, args.out, cfg):
                raise CliError(
                    f"--export {args.export} exists; pass --overwrite to replace it, or choose another --export"
                )
            replace_export = True  # this run's own earlier export (a --minutes call before this one)
    try:
        path = train(cfg, args.out, overwrite=args.overwrite, max_minutes=args.minutes)
    except KeyboardInterrupt:
        print(
            f"\ndgmpm-lite train: interrupted; {_resume_hint(cfg, Path(args.out) / 'last.pt', args.overwrite)}",
            file=sys.stderr,
        )
        return 130
    print(f"checkpoint: {path}")
    done = finished(load_checkpoint(path))
    if args.export:
        exported = export_model(
            path,
            args.export,
            meta={"run_folder": str(Path(args.out).resolve())},
            overwrite=replace_export,
            precision=args.precision,
            config=cfg.to_dict(),
        )
        print(f"exported: {exported}" + ("" if done else " (the model as it is now; the run is not finished)"))
    if not done:
        after = f"after --minutes {args.minutes:g}" if args.minutes else "before the end"
        print(f"dgmpm-lite train: stopped {after}; {_resume_hint(cfg, path, args.overwrite)}")
    return 0


def _average(args) -> int:
    from .checkpoints import average_models

    _check_output_folder(str(Path(args.out).parent), "--out")
    paths = [_checkpoint_path(m) for m in args.models]
    out = average_models(
        paths, args.out, overwrite=args.overwrite, precision=args.precision, working_size=args.working_size
    )
    print(f"averaged {len(paths)} models into {out}")
    return 0


def _exported_by(export: str, out: str, cfg) -> bool:
    """Whether the model file ``export`` was written by ``train --export`` for this very run:
    the run folder ``out``, with the config ``cfg`` (runtime keys aside)."""
    import json

    from .checkpoints import load_checkpoint
    from .runs import config_differences

    try:
        meta = json.loads(load_checkpoint(export).get("meta", "{}"))
    except (OSError, ValueError, TypeError):
        return False
    if not isinstance(meta, dict) or meta.get("run_folder") != str(Path(out).resolve()):
        return False
    saved = meta.get("trained_with")
    return isinstance(saved, dict) and not config_differences(saved, cfg.to_dict())


def _resume_hint(cfg, ckpt_path, overwrite: bool) -> str:
    """What to run after Ctrl-C: resume only if the checkpoint there is this run's."""
    from .checkpoints import load_checkpoint
    from .runs import resume_differences

    try:
        ours = not resume_differences(load_checkpoint(ckpt_path).get("config", {}), cfg)
    except (FileNotFoundError, ValueError):
        ours = False
    if not ours:
        return "nothing of this run was saved yet; rerun the same command to start again"
    again = "the same command without --overwrite" if overwrite else "the same command"
    return f"rerun {again} to resume from its last checkpoint, {ckpt_path}"


def _segment(args) -> int:
    from pathlib import Path

    from tqdm.auto import tqdm

    from .data import load_own_video, write_label_png
    from .infer import propagate

    _check_device(args.device)
    _check_output_folder(args.out, "--out")
    if args.overlay:
        overlay_path = Path(args.overlay)
        if overlay_path.suffix.lower() not in (".mp4", ".avi"):
            raise CliError(f"--overlay {args.overlay}: the overlay is a video, name it .mp4 or .avi")
        parent = overlay_path.absolute().parent
        if not parent.is_dir() and parent not in (Path(args.out).absolute(), *Path(args.out).absolute().parents):
            raise CliError(f"--overlay {args.overlay}: folder {parent} does not exist; create it first")
    seq = load_own_video(args.frames, args.first_mask)
    for i in tqdm(range(1, len(seq)), desc="checking frames", leave=False):  # a bad frame fails now, not halfway
        seq.frame(i)
    out = Path(args.out)
    names = [Path(n).stem + ".png" for n in seq.frame_names]
    existing = [n for n in names if (out / n).exists()]
    if existing and not args.overwrite:
        raise CliError(
            f"{out} already holds {len(existing)} result files (e.g. {existing[0]}); pass --overwrite to replace them"
        )
    if args.overlay and Path(args.overlay).exists() and not args.overwrite:
        raise CliError(f"{args.overlay} exists; pass --overwrite to replace it")
    model = None
    if args.method == "dgmpm":
        from .checkpoints import REAL_FOOTAGE_CHECKPOINT, load_model

        model = load_model(_checkpoint_path(args.checkpoint, REAL_FOOTAGE_CHECKPOINT))
    created = [p for p in (out.absolute(), *out.absolute().parents) if not p.exists()]
    out.mkdir(parents=True, exist_ok=True)
    writer = None
    if args.overlay:
        import cv2

        from .viz import overlay

        h, w = seq.size
        fourcc = "mp4v" if Path(args.overlay).suffix.lower() == ".mp4" else "MJPG"
        writer = cv2.VideoWriter(str(args.overlay), cv2.VideoWriter_fourcc(*fourcc), args.fps, (w, h))
        if not writer.isOpened():
            for p in created:  # leave no empty folders behind
                p.rmdir()
            raise CliError(
                f"--overlay {args.overlay}: OpenCV cannot write this video here (codec {fourcc}); try an .avi name"
            )
    frames = (seq.frame(i) for i in range(len(seq)))
    try:
        masks = propagate(args.method, frames, seq.mask(0), model, args.device, args.working_size)
        for name, i_labels in tqdm(zip(names, enumerate(masks)), total=len(names), desc="segment"):
            i, labels = i_labels
            write_label_png(out / name, labels)
            if writer is not None:
                writer.write(overlay(seq.frame(i), labels)[..., ::-1])
    finally:
        if writer is not None:
            writer.release()
    print(f"wrote {len(names)} masks to {out}" + (f" and {args.overlay}" if args.overlay else ""))
    return 0


def _evaluate(args) -> int:
    from pathlib import Path

    from .metrics import evaluate_folders
    from .viz.tables import write_davis_csv

    results = evaluate_folders(args.gt, args.results, args.sequences, progress=True)
    out = Path(args.out or args.results)
    try:
        g, s = write_davis_csv(out, results, overwrite=args.overwrite)
    except FileExistsError as err:
        raise CliError(str(err)) from None
    print(results)
    print(f"wrote {g} and {s}")
    return 0


def _compare(args) -> int:
    from pathlib import Path

    from . import shipped_path
    from .ablation import case_scores, lookalike_grid
    from .checkpoints import load_model
    from .compare import BASELINES, evaluate_methods
    from .data import DavisDataset
    from .data.metadata import fig8_candidates, has_metadata
    from .viz import colour_name, savefig
    from .viz.ablation import plot_mask_grid
    from .viz.tables import results_table, write_per_sequence_csv, write_results

    _check_device(args.device)
    methods = {}
    for item in args.model or []:
        name, sep, path = item.partition("=")
        if not sep:
            name, path = "DGMPM", item
        if name in methods:
            unnamed = " (a model given without NAME= is called 'DGMPM')" if not sep else ""
            raise CliError(
                f"--model {item}: the name {name!r} is given twice{unnamed}; give each model its own NAME=, "
                "e.g. --model new=synthetic old=davis"
            )
        if name in BASELINES:
            raise CliError(f"--model {item}: {name!r} is the name of a baseline row; give the model another NAME=")
        methods[name] = load_model(_checkpoint_path(path))
    if not args.model:
        methods["DGMPM"] = load_model(_checkpoint_path(None))
    if not args.no_baselines:
        methods.update(BASELINES)
    for out in (args.out, args.per_sequence, args.lookalike_figure):
        if out and Path(out).exists() and not args.overwrite:
            raise CliError(f"{out} exists; pass --overwrite to replace it")
    dataset = DavisDataset(shipped_path(args.data), split=args.split or None)
    figure = Path(args.lookalike_figure) if args.lookalike_figure else None
    if figure is not None:
        if figure.suffix != ".png":
            raise CliError(f"--lookalike-figure {figure}: give a path ending in .png, e.g. build/figures/lookalike.png")
        if figure.parent.exists() and not figure.parent.is_dir():
            raise CliError(f"--lookalike-figure {figure}: {figure.parent} is a file, not a folder")
        if len(args.model or []) < 2:
            raise CliError(
                "--lookalike-figure shows where the first --model gains most over the second: give two, "
                "e.g. --model new=runs/multi/model.pt old=davis"
            )
        if not has_metadata(dataset):
            raise CliError(
                f"--lookalike-figure needs generated videos, whose Metadata/ and Instances/ say which object "
                f"is a look-alike; not every video of {args.data} has them (`dgmpm-lite generate` makes such videos)"
            )
        if not fig8_candidates(dataset, args.max_frames)["distractor"]:
            within = f" within --max-frames {args.max_frames}" if args.max_frames else ""
            raise CliError(
                f"--lookalike-figure: no video of {args.data} (split {args.split or 'all'!r}) shows a target with "
                f"its look-alike{within}; choose videos with look-alikes"
                + (" or raise --max-frames" if args.max_frames else "")
            )
    results = evaluate_methods(dataset, methods, args.max_frames, args.device, working_size=args.working_size)
    print(results_table(results))
    if args.out:
        csv_path, md_path = write_results(results, args.out)
        print(f"wrote {csv_path} and {md_path}")
    if args.per_sequence:
        write_per_sequence_csv(results, args.per_sequence)
        print(f"wrote {args.per_sequence}")
    if figure is not None:
        better, worse = list(methods)[:2]
        case, grid = lookalike_grid(
            dataset, results, methods, better, worse, args.device, args.max_frames, args.working_size
        )
        j = case_scores(results, case, [better, worse])
        if len(j) < 2:
            raise CliError(
                "--lookalike-figure: DAVIS scores none of the frames where a target is in view with its "
                "look-alike (it skips each video's first and last); raise --max-frames"
            )
        both = f"{better} {100 * j[better]:.1f}, {worse} {100 * j[worse]:.1f}"
        target, colour = f"target {case['object_id']}", colour_name(case["object_id"])
        print(
            f"look-alike case: {case['sequence']}, {target} ({colour} in the figure), frames {case['frame_ids']}; "
            f"J on its scored frames: {both}"
        )
        title = f"{case['sequence']}, {target} ({colour}): J {both}; its look-alike dashed yellow"
        if j[better] <= j[worse]:
            print(f"{better} gains over {worse} on no look-alike case: this is the case where it comes closest")
            title += f"\n({better} gains on no look-alike case: the closest one)"
        fig = plot_mask_grid(grid, title=title)
        path = savefig(fig, figure.stem, figure.parent)
        print(f"wrote {path} (it shows the videos' frames: never commit it if they come from DAVIS)")
    return 0


def _ablation(args) -> int:
    from .ablation import VARIANTS, parse_variants, run_ablation

    variants = parse_variants(args.variants)
    reuse = {}
    for item in args.reuse:
        name, sep, path = item.partition("=")
        names = parse_variants(name) if sep and path else None
        if not names or len(names) != 1:
            raise ValueError(
                f"--reuse wants one NAME=MODEL_FILE, e.g. DGMPM=data_samples/checkpoints/dgmpm_davis.pt, got {item!r}"
            )
        reuse[names[0]] = path
    if reuse and variants is None:
        variants = list(VARIANTS)
    _, table = run_ablation(
        args.config, args.out, variants, not args.no_baselines, args.max_frames, args.overwrite, reuse
    )
    print(table)
    print(f"wrote {args.out}/ablation.csv and ablation.md")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import work_dir
    from .checkpoints import DEFAULT_CHECKPOINT, REAL_FOOTAGE_CHECKPOINT
    from .config import PRESETS

    parser = argparse.ArgumentParser(prog="dgmpm-lite", description="DGMPM teaching suite")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the full traceback of any error (also DGMPM_DEBUG=1); without it, a problem with "
        "your arguments or files is one line",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("figures", help="execute the notebook series with papermill and regenerate figures/")
    p.add_argument(
        "--fig-dir", default="", help="default: figures/ (with --smoke: build/smoke_figures, never the committed ones)"
    )
    p.add_argument("--build-dir", default=str(work_dir()), help="where the executed notebooks go (default: build/)")
    p.add_argument("--smoke", action="store_true", help="tiny sizes (what CI runs)")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--only", nargs="*", action="extend", help="notebook number prefixes to run, e.g. 00 02")
    p.add_argument(
        "--retrain-ablation",
        action="store_true",
        help="notebook 08 trains the five ablation variants from scratch (hours on a CPU) "
        "instead of scoring the shipped ones",
    )
    p.set_defaults(func=_figures)

    p = sub.add_parser("generate", help="generate synthetic occlusion/distractor videos in DAVIS-2017 layout")
    p.add_argument(
        "--preset",
        choices=["data_samples", "davis_multi_val"],
        help="data_samples: regenerate the committed data_samples/synthetic set; davis_multi_val: the "
        "multi-object benchmark from the held-out DAVIS-2016 sequences into build/davis_multi_val "
        "(both ignore the other knobs)",
    )
    p.add_argument(
        "--davis",
        type=Path,
        help="DAVIS-2016 folder for --preset davis_multi_val (default ../shared/data/DAVIS2016-train-240p)",
    )
    p.add_argument("--root", type=Path, help="output folder (data root)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train", type=_non_negative_int, default=8, help="number of train sequences")
    p.add_argument("--val", type=_non_negative_int, default=4, help="number of val sequences")
    p.add_argument("--resolution", default="240p", help="name of the resolution folder")
    p.add_argument("--config", type=str, help="JSON object of SyntheticConfig knobs, e.g. '{\"num_frames\": 40}'")
    p.add_argument("--overwrite", action="store_true", help="replace previously generated sequences")
    p.set_defaults(func=_generate)

    p = sub.add_parser(
        "pack", help="a compact copy of a DAVIS-layout folder (frames re-encoded, optionally smaller) to move elsewhere"
    )
    p.add_argument("--data", required=True, type=Path, help="DAVIS-layout root to copy")
    p.add_argument("--out", required=True, type=Path, help="new folder for the copy (must not exist)")
    p.add_argument(
        "--split",
        action="append",
        help="ImageSets split or a .txt list of sequence names; repeat to join several (default: every sequence)",
    )
    p.add_argument("--quality", type=_jpeg_quality, default=75, help="JPEG quality of the frames, 1-95 (default 75)")
    p.add_argument(
        "--short-side",
        type=_non_negative_int,
        default=0,
        metavar="PIXELS",
        help="shrink larger frames (and masks) to this short side; the resolution folder keeps its name "
        "(default 0: keep the size)",
    )
    p.set_defaults(func=_pack)

    p = sub.add_parser("benchmark", help="frames per second and memory of DGMPM and the baselines")
    p.add_argument("--methods", nargs="+", default=["dgmpm", "flow", "copy"], choices=["dgmpm", "flow", "copy"])
    p.add_argument(
        "--backbones",
        nargs="+",
        default=["resnet18"],
        metavar="BACKBONE",
        help="resnet18, resnet34, resnet50 or efficientnet_lite0",
    )
    p.add_argument("--sizes", nargs="+", type=_size, default=[(240, 432), (480, 854)], help="HxW, e.g. 240x432")
    p.add_argument("--objects", nargs="+", type=_positive_int, default=[1, 3])
    p.add_argument(
        "--widths",
        nargs="+",
        type=_positive_int,
        default=[128],
        metavar="WIDTH",
        help="decoder widths to time (128 = the paper; 64 = `--set width=64` when training); default 128",
    )
    p.add_argument(
        "--amp",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="mixed precision where native: float16 on CUDA, bfloat16 on CPUs with AVX512-BF16/AMX (default: on)",
    )
    p.add_argument(
        "--channels-last",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="channels_last memory format (default: on)",
    )
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--repeats", type=_positive_int, default=10)
    p.set_defaults(func=_benchmark)

    p = sub.add_parser("train", help="train DGMPM (paper IV-B-1); resumes if --out holds a checkpoint")
    p.add_argument(
        "--config",
        default="cpu",
        help=f"preset ({', '.join(PRESETS)}) or a JSON file (default: cpu, which fits a laptop; "
        "synthetic is the same recipe at full size for a GPU)",
    )
    p.add_argument(
        "--out",
        required=True,
        help="run folder: last.pt, train_log.csv, val_log.csv, config.json; the same command resumes it",
    )
    p.add_argument(
        "--set",
        nargs="+",
        action="extend",
        metavar="KEY=VALUE",
        help="override config keys, values as JSON (e.g. batch_size=4 lr=1e-3); may be repeated, all are applied",
    )
    p.add_argument("--device", default="", help=DEVICE_HELP + " (default: the config's)")
    p.add_argument("--export", default="", help="also write a small model file here at the end (see --precision)")
    p.add_argument(
        "--precision",
        default="float16",
        choices=["float16", "int8"],
        help="weights of the --export file: float16 (half the size) or int8 (a quarter); default float16",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="start again from scratch in --out (deleting its checkpoint and logs), and replace --export",
    )
    p.add_argument(
        "--minutes",
        type=_positive_float,
        default=None,
        metavar="M",
        help="stop after M minutes of training with a checkpoint (a Colab session, a lent GPU); --export then "
        "writes the model as it is, and the same command goes on from the checkpoint",
    )
    p.set_defaults(func=_train)

    p = sub.add_parser(
        "average", help="one model whose weights are the mean of several continuations of one run (a model soup)"
    )
    p.add_argument(
        "models",
        nargs="+",
        metavar="CHECKPOINT",
        help="two or more training or exported checkpoints of one run (or shipped names: synthetic, davis, "
        "multi); a path given twice counts twice",
    )
    p.add_argument("--out", required=True, help="the model file to write")
    p.add_argument("--precision", default="float16", choices=["float16", "int8"], help="as train --precision")
    p.add_argument(
        "--working-size",
        type=_positive_int,
        default=None,
        metavar="PIXELS",
        help="short side the mean runs at, recorded in --out (default: the models'; needed when they differ)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace --out")
    p.set_defaults(func=_average)

    p = sub.add_parser("segment", help="segment a video (folder of frames or mp4/avi) from its first-frame mask")
    p.add_argument("--frames", required=True, help="folder of frames or a video file")
    p.add_argument("--first-mask", required=True, help="first-frame mask PNG (palette ids 1..K, grayscale or 0/255)")
    p.add_argument("--out", required=True, help="folder for the palette PNG masks, named like the frames")
    p.add_argument(
        "--checkpoint",
        default="",
        help=f"model file, or a shipped model: multi (default, real footage: {REAL_FOOTAGE_CHECKPOINT}), "
        f"davis (its single-object predecessor) or synthetic ({DEFAULT_CHECKPOINT})",
    )
    p.add_argument("--method", default="dgmpm", choices=["dgmpm", "flow", "copy"], help="DGMPM or a baseline")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--overlay", default="", help="also write an mp4 with the masks over the frames")
    p.add_argument("--fps", type=_fps, default=12.0, help="frame rate of the overlay video (0 < fps <= 240)")
    p.add_argument("--working-size", type=_non_negative_int, default=None, metavar="PIXELS", help=WORKING_SIZE_HELP)
    p.add_argument("--overwrite", action="store_true", help="replace masks (and --overlay) that --out already holds")
    p.set_defaults(func=_segment)

    p = sub.add_parser("evaluate", help="DAVIS J&F of result PNGs against ground-truth PNGs")
    p.add_argument("--gt", required=True, help="annotations folder with one sub-folder per sequence")
    p.add_argument("--results", required=True, help="results folder, same layout and file names")
    p.add_argument("--sequences", nargs="*", action="extend", help="only these sequences")
    p.add_argument("--out", default="", help="where to write the CSV files (default: --results)")
    p.add_argument("--overwrite", action="store_true", help="replace CSV files that are already there")
    p.set_defaults(func=_evaluate)

    p = sub.add_parser("compare", help="J&F of DGMPM checkpoints and the baselines on a DAVIS-layout dataset")
    p.add_argument("--data", default="data_samples/synthetic", help="DAVIS-layout root (2016 or 2017)")
    p.add_argument("--split", default="val", help="ImageSets list to score (default: val; '' = every sequence)")
    p.add_argument(
        "--model",
        nargs="*",
        action="extend",
        metavar="NAME=CHECKPOINT",
        help="CHECKPOINT: a file, or multi / davis / synthetic for a shipped model (default: synthetic)",
    )
    p.add_argument("--no-baselines", action="store_true")
    p.add_argument(
        "--max-frames", type=_scored_frames, default=0, help="first N frames of each video (0 = all, else at least 3)"
    )
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--out", default="", help="also write the table as CSV")
    p.add_argument(
        "--per-sequence", default="", help="also write J-Mean and F-Mean per (method, sequence_object) as CSV"
    )
    p.add_argument("--working-size", type=_non_negative_int, default=None, metavar="PIXELS", help=WORKING_SIZE_HELP)
    p.add_argument(
        "--lookalike-figure",
        default="",
        metavar="PNG",
        help="also draw, as a .png, the target and look-alike (on frames where both are in view) on which the "
        "first of two or more --model gains most J over the second, in a video with two or more targets if it "
        "gains in any; generated videos only",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="replace the --out, --per-sequence and --lookalike-figure files"
    )
    p.set_defaults(func=_compare)

    p = sub.add_parser("ablation", help="train the paper's ablation variants (Table IV) and score them together")
    p.add_argument("--config", default="cpu", help="training preset or JSON file shared by all variants")
    p.add_argument("--out", default="runs/ablation")
    p.add_argument(
        "--variants", default="", help="comma-separated, e.g. DGMPM,EDM,PM (default: DGMPM,-EDM,-PM,-SAB,-SAB+CAB)"
    )
    p.add_argument("--no-baselines", action="store_true")
    p.add_argument(
        "--max-frames", type=_scored_frames, default=0, help="first N frames of each video (0 = all, else at least 3)"
    )
    p.add_argument("--overwrite", action="store_true", help="retrain variants that already have a checkpoint")
    p.add_argument(
        "--reuse",
        action="append",
        default=[],
        metavar="NAME=MODEL",
        help="score this exported model as that variant instead of training it, e.g. "
        "DGMPM=data_samples/checkpoints/dgmpm_davis.pt or DGMPM=davis (it must have been trained with --config)",
    )
    p.set_defaults(func=_ablation)

    for command in sub.choices.values():  # every command computes
        command.add_argument(
            "--threads",
            type=_non_negative_int,
            default=0,
            help="torch CPU threads (0 = torch's default; 1 is often fastest on a busy 2-core machine)",
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    try:
        return args.func(args)
    except (CliError, FileNotFoundError, FileExistsError, ValueError) as err:
        if args.debug or os.environ.get("DGMPM_DEBUG") == "1" or not _raised_here(err):
            raise  # a bug, or asked for: Python prints the traceback (exit status 1)
        print(f"dgmpm-lite {args.command}: error: {err}", file=sys.stderr)
        return 2


def _raised_here(err: BaseException) -> bool:
    """Whether ``err`` is a problem with the user's input: a missing or existing file (wherever
    it was raised), or a ``ValueError`` raised by dgmpm_lite's own checks. A ``ValueError``
    raised inside numpy, torch or another library means a bug and keeps its traceback."""
    if isinstance(err, (CliError, OSError)):
        return True
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(PACKAGE_DIR)


if __name__ == "__main__":
    sys.exit(main())
