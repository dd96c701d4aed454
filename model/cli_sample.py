"""`fotorobot sample`: a grid of prior samples and held-out reconstructions next to originals."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `fotorobot sample`."""
    parser.add_argument(
        "--model", default=None, help="checkpoint path or bundled model name (default: celeba)"
    )
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.add_argument(
        "--samples", type=int, default=32, help="prior samples (default %(default)s)"
    )
    parser.add_argument(
        "--recons", type=int, default=16, help="held-out faces to reconstruct (default %(default)s)"
    )
    parser.add_argument("--cols", type=int, default=8, help="tiles per row (default %(default)s)")
    parser.add_argument("--scale", type=int, default=2, help="pixel zoom (default %(default)s)")
    parser.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="std of the prior samples (default %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="(default %(default)s)")
    parser.add_argument(
        "--space",
        choices=("search", "prior"),
        default="search",
        help="search: faces as the bot draws them (the encoded mean + the top principal axes); "
        "prior: z ~ N(0, I) (default %(default)s)",
    )
    parser.add_argument(
        "--search-dim",
        type=int,
        default=16,
        help="principal axes of --space search (default %(default)s)",
    )
    parser.add_argument(
        "--data",
        default=None,
        help="where the held-out faces come from (default: the checkpoint's data)",
    )
    parser.add_argument(
        "--axes-grid",
        metavar="PNG",
        default=None,
        help="also write walks along the top principal axes of the latent space",
    )
    parser.add_argument(
        "--synthetic-grid",
        metavar="PNG",
        default=None,
        help="also write a grid of 64 synthetic training faces here",
    )


def run(args: argparse.Namespace) -> int:
    """Write the grid(s); returns a process exit code."""
    import numpy as np

    from model.checkpoint import CheckpointError, load_checkpoint
    from model.face_model import FaceModel, resolve_model
    from model.grid import make_grid, pairs, stack, titled
    from model.heldout import heldout_faces
    from model.synthetic import synthetic_faces

    path = resolve_model(args.model)
    try:
        fm = FaceModel.load(path)
        ckpt = load_checkpoint(path)
    except (FileNotFoundError, CheckpointError) as err:
        print(f"fotorobot sample: cannot load {path}: {err}", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    basis = fm.latent_basis
    if args.space == "search" and basis is not None:
        # As the bot draws faces: the encoded mean plus a standard normal along the top
        # principal axes the search walks.
        k = min(args.search_dim, fm.latent_dim)
        t = rng.standard_normal((args.samples, k)) * args.temperature  # (n, k)
        z = basis.mean + t @ basis.axes[:, :k].T  # (n, d)
        what = f"faces the search draws: top {k} principal axes"
    else:
        z = rng.standard_normal((args.samples, fm.latent_dim)) * args.temperature  # (n, d)
        what = f"prior samples z ~ N(0, {args.temperature:g}^2 I)"
    panels = [
        titled(make_grid(fm.decode(z), args.cols, scale=args.scale), f"{what}  [{fm.version}]")
    ]
    if args.recons > 0:
        originals = heldout_faces(ckpt, limit=args.recons, data=args.data)
        if originals is None:
            print("note: the training data is not available; prior samples only", file=sys.stderr)
        else:
            recons = fm.decode(fm.encode(originals))
            panels.append(
                titled(
                    make_grid(pairs(originals, recons), args.cols, scale=args.scale),
                    "held-out faces: original | reconstruction",
                )
            )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    stack(panels).save(args.out)
    print(f"wrote {args.out}", file=sys.stderr)
    if args.axes_grid:
        if basis is None:
            print("note: this checkpoint has no latent basis; no axes grid", file=sys.stderr)
        else:
            steps = np.linspace(-2.0, 2.0, args.cols)  # in standard deviations along each axis
            rows = min(8, fm.latent_dim)
            z = basis.mean + (
                steps[None, :, None]
                * (basis.stds[:rows, None, None] * basis.axes.T[:rows, None, :])
            )
            walk = fm.decode(z.reshape(rows * args.cols, fm.latent_dim))  # (rows * cols, S, S, 3)
            title = f"top {rows} principal axes, -2 .. +2 standard deviations"
            titled(make_grid(walk, args.cols, scale=args.scale), title).save(args.axes_grid)
            print(f"wrote {args.axes_grid}", file=sys.stderr)
    if args.synthetic_grid:
        faces, _ = synthetic_faces(64, seed=args.seed, size=fm.image_size)
        make_grid(faces, 8, scale=args.scale).save(args.synthetic_grid)
        print(f"wrote {args.synthetic_grid}", file=sys.stderr)
    return 0
