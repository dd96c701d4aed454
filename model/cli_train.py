"""`fotorobot train`: train the face VAE on synthetic faces or photos (also under torchrun)."""

from __future__ import annotations

import argparse
import os
import sys

from model.config import TrainConfig, VAEConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `fotorobot train`."""
    t, v = TrainConfig(), VAEConfig()
    parser.add_argument(
        "--data",
        default=t.data,
        help="synthetic:N[:SEED] or a folder tree of face photos (jpg, png, webp; "
        "CelebA's img_align_celeba works as is) (default %(default)s)",
    )
    parser.add_argument("--out", required=True, help="checkpoint to write after every epoch")
    parser.add_argument(
        "--epochs", type=int, default=t.epochs, help="total epochs (default %(default)s)"
    )
    parser.add_argument(
        "--latent-dim", type=int, default=v.latent_dim, help="(default %(default)s)"
    )
    parser.add_argument(
        "--image-size", type=int, default=v.image_size, help="(default %(default)s)"
    )
    parser.add_argument(
        "--beta", type=float, default=v.beta, help="weight of the KL term (default %(default)s)"
    )
    parser.add_argument(
        "--recon",
        choices=("mse", "ssim-l1"),
        default=v.recon,
        help="reconstruction loss: mse (the seed's) or ssim-l1 (structure-aware)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=t.batch_size, help="per process (default %(default)s)"
    )
    parser.add_argument(
        "--lr", type=float, default=t.lr, help="Adam learning rate (default %(default)s)"
    )
    parser.add_argument(
        "--lr-decay",
        type=float,
        default=t.lr_decay,
        help="learning-rate factor per epoch (default %(default)s)",
    )
    parser.add_argument(
        "--grad-clip",
        type=float,
        default=t.grad_clip,
        help="max gradient norm (default %(default)s)",
    )
    parser.add_argument(
        "--holdout",
        type=float,
        default=t.holdout,
        help="fraction held out for metrics (default %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=t.seed, help="(default %(default)s)")
    parser.add_argument("--resume", action="store_true", help="continue from --out if it exists")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch threads per process (default: CPUs / processes on this node)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=t.workers,
        help="threads decoding a photo folder (default: one per CPU)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--weights-digest",
        metavar="PREFIX",
        default=None,
        help="at the end, each process writes a hash of its weights to PREFIX.rankN",
    )


def _validate(args: argparse.Namespace) -> str | None:
    if args.epochs < 1:
        return "--epochs must be at least 1"
    if args.batch_size < 2:
        return "--batch-size must be at least 2 (BatchNorm)"
    if not 0.0 < args.holdout < 1.0:
        return "--holdout must be between 0 and 1"
    if args.lr <= 0 or not 0 < args.lr_decay <= 1:
        return "--lr must be positive and --lr-decay in (0, 1]"
    return None


def run(args: argparse.Namespace) -> int:
    """Train; returns a process exit code."""
    problem = _validate(args)
    if problem:
        print(f"fotorobot train: {problem}", file=sys.stderr)
        return 2
    import torch  # after argument checks, so --help and mistakes answer fast

    from model.data import DataError
    from model.train import train

    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    torch.set_num_threads(args.threads or max(1, (os.cpu_count() or 1) // local_world))
    try:
        vc = VAEConfig(
            image_size=args.image_size, latent_dim=args.latent_dim, beta=args.beta, recon=args.recon
        )
    except ValueError as err:
        print(f"fotorobot train: {err}", file=sys.stderr)
        return 2
    tc = TrainConfig(
        data=args.data,
        out=args.out,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        lr_decay=args.lr_decay,
        grad_clip=args.grad_clip,
        holdout=args.holdout,
        seed=args.seed,
        workers=args.workers,
    )
    try:
        result = train(
            tc,
            vc,
            resume=args.resume,
            progress=not args.no_progress,
            digest_path=args.weights_digest,
        )
    except DataError as err:
        print(f"fotorobot train: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; the last finished epoch is saved (use --resume)", file=sys.stderr)
        return 130
    if int(os.environ.get("RANK", "0")) == 0:
        m = result["metrics"]
        if m:
            print(
                f"done in {result['seconds']:.0f} s: held-out PSNR {m['psnr']:.2f} dB, "
                f"KL {m['kl']:.1f}; wrote {args.out}",
                file=sys.stderr,
            )
        else:
            print(f"nothing to do: {args.out} already has {args.epochs} epochs", file=sys.stderr)
    return 0
