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
        help="synthetic:N[:SEED] or a folder tree of face photos (jpg, png, webp): each "
        "photo's largest face is found and aligned (default %(default)s)",
    )
    parser.add_argument(
        "--no-align",
        action="store_true",
        help="photo folders: use each photo's centre square as it is, without face alignment",
    )
    parser.add_argument(
        "--eval-from",
        default=t.eval_from,
        metavar="NAME",
        help="photo folders: files named from NAME on (numbers compare as numbers: 190000 "
        "for CelebA) are the evaluation split and never trained on",
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
        "--enc-channels",
        type=_channels,
        default=v.enc_channels,
        help="encoder channels per stage, comma-separated (default %(default)s)",
    )
    parser.add_argument(
        "--dec-channels",
        type=_channels,
        default=v.dec_channels,
        help="decoder channels per stage, comma-separated (default %(default)s)",
    )
    parser.add_argument(
        "--dec-extra",
        type=int,
        default=v.dec_extra,
        help="extra conv layers per decoder stage (default %(default)s)",
    )
    parser.add_argument(
        "--identity-weight",
        type=float,
        default=v.identity_weight,
        help="weight of the identity loss: dlib's face descriptor of each reconstruction "
        "should match its original's (default %(default)s: off)",
    )
    parser.add_argument(
        "--identity-batch",
        type=int,
        default=t.identity_batch,
        help="faces per batch that get the identity loss (default %(default)s)",
    )
    parser.add_argument("--flip", action="store_true", help="mirror half of each batch")
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
        help="processes aligning a photo folder (default: one per CPU)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--progress-json",
        metavar="PATH",
        default=None,
        help="append progress as JSON lines (step: loss, images/s, ETA; epoch; done) to PATH",
    )
    parser.add_argument(
        "--keep-epochs",
        action="store_true",
        help="also keep each epoch's checkpoint as OUT.epochK.pt (named in --progress-json)",
    )
    parser.add_argument(
        "--weights-digest",
        metavar="PREFIX",
        default=None,
        help="at the end, each process writes a hash of its weights to PREFIX.rankN",
    )


def _channels(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(c) for c in text.split(","))
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected numbers like 32,64,128,256: {text!r}") from err
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"channels must be positive: {text!r}")
    return values


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


def configs_from_args(args: argparse.Namespace) -> tuple[TrainConfig, VAEConfig] | str:
    """The recipe and the network the flags ask for, or what is wrong with them (also used
    by `fotorobot tune`, which takes the same flags)."""
    problem = _validate(args)
    if problem:
        return problem
    try:
        vc = VAEConfig(
            image_size=args.image_size,
            latent_dim=args.latent_dim,
            beta=args.beta,
            recon=args.recon,
            identity_weight=args.identity_weight,
            enc_channels=args.enc_channels,
            dec_channels=args.dec_channels,
            dec_extra=args.dec_extra,
        )
    except ValueError as err:
        return str(err)
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
        align=not args.no_align,
        eval_from=args.eval_from,
        flip=args.flip,
        identity_batch=args.identity_batch,
    )
    return tc, vc


def run(args: argparse.Namespace) -> int:
    """Train; returns a process exit code."""
    built = configs_from_args(args)
    if isinstance(built, str):
        print(f"fotorobot train: {built}", file=sys.stderr)
        return 2
    tc, vc = built
    import torch  # after argument checks, so --help and mistakes answer fast

    from model.data import DataError
    from model.progress import ProgressWriter
    from model.train import train

    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    torch.set_num_threads(args.threads or max(1, (os.cpu_count() or 1) // local_world))
    writer = None
    if args.progress_json:
        writer = ProgressWriter(args.progress_json, keep_epochs=args.keep_epochs)
    try:
        result = train(
            tc,
            vc,
            resume=args.resume,
            progress=not args.no_progress,
            digest_path=args.weights_digest,
            on_progress=writer,
        )
    except DataError as err:
        print(f"fotorobot train: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; the last finished epoch is saved (use --resume)", file=sys.stderr)
        return 130
    if int(os.environ.get("RANK", "0")) == 0:
        m = result["metrics"]
        if writer is not None:
            writer.write({"event": "done", "metrics": m, "seconds": result["seconds"]})
        if m:
            print(
                f"done in {result['seconds']:.0f} s: held-out PSNR {m['psnr']:.2f} dB, "
                f"KL {m['kl']:.1f}; wrote {args.out}",
                file=sys.stderr,
            )
        else:
            print(f"nothing to do: {args.out} already has {args.epochs} epochs", file=sys.stderr)
    return 0
