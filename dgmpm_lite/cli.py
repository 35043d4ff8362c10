"""Command line: ``dgmpm-lite <command>`` (also ``python -m dgmpm_lite``)."""

from __future__ import annotations

import argparse
import sys


def _size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 240x432 (height x width), got {text!r}") from None
    if h < 1 or w < 1:
        raise argparse.ArgumentTypeError(f"size must be positive, got {text!r}")
    return h, w


def _figures(args) -> int:
    from .notebooks import run_series

    done = run_series(fig_dir=args.fig_dir, build_dir=args.build_dir, smoke=args.smoke, device=args.device, only=args.only)
    print(f"executed {len(done)} notebooks into {args.build_dir}; figures in {args.fig_dir}")
    return 0


def _benchmark(args) -> int:
    import torch

    from .benchmark import format_table, run_benchmark

    if args.threads:
        torch.set_num_threads(args.threads)
    rows = run_benchmark(args.backbones, args.sizes, args.objects, args.device, args.repeats)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    print(format_table(rows))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import REPO_ROOT

    parser = argparse.ArgumentParser(prog="dgmpm-lite", description="DGMPM teaching suite")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("figures", help="execute the notebook series with papermill and regenerate figures/")
    p.add_argument("--fig-dir", default=str(REPO_ROOT / "figures"))
    p.add_argument("--build-dir", default=str(REPO_ROOT / "build"))
    p.add_argument("--smoke", action="store_true", help="tiny sizes (what CI runs)")
    p.add_argument("--device", default="auto")
    p.add_argument("--only", nargs="*", help="notebook number prefixes to run, e.g. 00 02")
    p.set_defaults(func=_figures)

    p = sub.add_parser("benchmark", help="time the model per frame (reference encoded once)")
    p.add_argument("--backbones", nargs="+", default=["resnet18", "resnet50"], choices=["resnet18", "resnet34", "resnet50"])
    p.add_argument("--sizes", nargs="+", type=_size, default=[(240, 432), (480, 854)], help="HxW, e.g. 240x432")
    p.add_argument("--objects", nargs="+", type=int, default=[1])
    p.add_argument("--device", default="auto")
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch default)")
    p.set_defaults(func=_benchmark)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
