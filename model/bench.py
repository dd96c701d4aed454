"""`fotorobot bench model`: generator speed, training throughput, decode latency, model quality."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `fotorobot bench model`."""
    parser.add_argument(
        "--model", default=None, help="checkpoint path or bundled model name (default: celeba)"
    )
    parser.add_argument("--json", metavar="PATH", default=None, help="also write the figures here")
    parser.add_argument("--faces", type=int, default=1000, help="synthetic faces to time")
    parser.add_argument("--train-steps", type=int, default=8, help="training steps to time")
    parser.add_argument("--decode-calls", type=int, default=300, help="decode calls to time")
    parser.add_argument(
        "--heldout",
        type=int,
        default=2000,
        help="evaluation faces measured, at most (default %(default)s)",
    )
    parser.add_argument(
        "--data",
        default=None,
        help="folder of the model's photos, if it moved (the evaluation split is taken from it)",
    )
    parser.add_argument(
        "--search-dim",
        type=int,
        default=16,
        help="axes of the search subspace for the ceiling: principal, and identity axes when "
        "the model has them (default %(default)s)",
    )
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: all)")


def _percentiles(ms: list[float]) -> dict[str, float]:
    import numpy as np

    a = np.asarray(ms)
    return {
        "p50_ms": round(float(np.percentile(a, 50)), 3),
        "p99_ms": round(float(np.percentile(a, 99)), 3),
        "mean_ms": round(float(a.mean()), 3),
    }


def bench_generator(n: int) -> dict[str, float]:
    """Synthetic faces per second at 64 px (drawn at 256 px), one process."""
    from model.synthetic import synthetic_faces

    synthetic_faces(20, seed=10**6)  # warm-up: imports, font/colour tables
    t = time.perf_counter()
    synthetic_faces(n, seed=0)
    dt = time.perf_counter() - t
    return {"faces_per_s": round(n / dt, 1), "faces": n}


def bench_training(config: Any, steps: int, batch: int = 64) -> dict[str, float]:
    """Training images per second of the given architecture (forward, backward, Adam step)."""
    import torch

    from model.losses import kl_divergence, reconstruction_loss
    from model.vae import VAE, channels_last

    torch.manual_seed(0)
    net = VAE(config).train()
    channels_last(net)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    s = config.image_size
    x = torch.rand(batch, 3, s, s).contiguous(memory_format=torch.channels_last)  # (b, 3, S, S)
    times = []
    for i in range(steps + 2):
        t = time.perf_counter()
        recon, mean, logvar = net(x)
        loss = (reconstruction_loss(recon, x, "mse") + kl_divergence(mean, logvar)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i >= 2:  # the first steps allocate and pick kernels
            times.append(time.perf_counter() - t)
    return {
        "images_per_s": round(batch * len(times) / sum(times), 1),
        "batch_size": batch,
        "threads": torch.get_num_threads(),
    }


def bench_decode(fm: Any, calls: int, n: int = 4) -> dict[str, Any]:
    """Latency of decoding (and encoding) an album of n faces: one forward pass each."""
    import numpy as np

    rng = np.random.default_rng(0)
    z = rng.standard_normal((calls + 10, n, fm.latent_dim)).astype(np.float32)
    dec = []
    for i in range(calls + 10):
        t = time.perf_counter()
        faces = fm.decode(z[i])
        if i >= 10:
            dec.append((time.perf_counter() - t) * 1000)
    enc = []
    for i in range(calls // 2 + 10):
        t = time.perf_counter()
        fm.encode(faces)
        if i >= 10:
            enc.append((time.perf_counter() - t) * 1000)
    return {"decode": _percentiles(dec), "encode": _percentiles(enc), "faces": n}


def bench_quality(
    fm: Any,
    ckpt: dict[str, Any],
    n: int,
    data: str | None = None,
    search_dim: int = 16,
    path: Path | None = None,
) -> dict[str, Any]:
    """PSNR/SSIM/KL on the model's evaluation faces (its evaluation split, else held-out
    validation faces), and for photo models the identity figures (model.identity_bench)."""
    import numpy as np
    import torch

    from model.heldout import evaluation_faces
    from model.losses import ssim

    found = evaluation_faces(ckpt, limit=n, data=data)
    if found is None:
        return {"heldout": None}
    originals, source = found
    recons = fm.decode(fm.encode(originals))
    a = originals.astype(np.float64) / 255.0
    b = recons.astype(np.float64) / 255.0
    mse = ((a - b) ** 2).reshape(len(a), -1).mean(axis=1)
    ta = torch.from_numpy(a).permute(0, 3, 1, 2).float()  # (n, 3, S, S)
    tb = torch.from_numpy(b).permute(0, 3, 1, 2).float()
    with torch.inference_mode():
        mean, logvar = fm.net.encode(ta)  # (n, d), (n, d)
    kl_per_dim = (0.5 * (mean**2 + logvar.exp() - 1 - logvar)).mean(dim=0).numpy()  # (d,)
    report: dict[str, Any] = {
        "faces": source,
        "heldout": len(a),
        "psnr_db": round(float(np.mean(-10 * np.log10(mse))), 3),
        "ssim": round(float(ssim(tb, ta).mean()), 4),
        "kl": round(float(kl_per_dim.sum()), 3),
        # Dimensions the encoder uses (KL > 0.05 nats); the others collapsed onto the prior.
        "active_dims": int((kl_per_dim > 0.05).sum()),
        "stored_metrics": ckpt["config"].get("metrics", {}),
    }
    basis = fm.latent_basis
    if basis is not None:
        var = basis.stds.astype(np.float64) ** 2
        for k in (8, 12, 16, 20):
            if k < len(var):
                report[f"pca_variance_top{k}"] = round(float(var[:k].sum() / var.sum()), 4)
    if fm.config.aligned:
        # A photo model: who the faces are is what matters (synthetic faces have no identity).
        from model.identity import IdentityMetric
        from model.identity_bench import identity_figures, prior_figures
        from model.search_assets import stored_identity_assets

        # The identity axes the bot searches, if the model has them (sidecar or cache).
        stored = stored_identity_assets(fm, path) if path is not None else None
        axes = stored[0] if stored is not None else None
        report["identity"] = identity_figures(
            fm, originals, IdentityMetric(), search_dims=(search_dim,), identity_axes=axes
        )
        report["prior_detected"] = prior_figures(
            fm, n=min(n, 500), dim=search_dim, identity_axes=axes
        )
    return report


def run(args: argparse.Namespace) -> int:
    """Run every benchmark and print the figures; returns a process exit code."""
    import torch

    from model.checkpoint import CheckpointError, load_checkpoint
    from model.face_model import FaceModel, resolve_model

    if args.threads:
        torch.set_num_threads(args.threads)
    path = resolve_model(args.model)
    try:
        fm = FaceModel.load(path)
        ckpt = load_checkpoint(path)
    except (FileNotFoundError, CheckpointError) as err:
        print(f"fotorobot bench model: cannot load {path}: {err}", file=sys.stderr)
        return 2
    threads = torch.get_num_threads()
    report: dict[str, Any] = {
        "model": str(path),
        "version": fm.version,
        "latent_dim": fm.latent_dim,
        "image_size": fm.image_size,
        "checkpoint_bytes": path.stat().st_size,
        "threads": threads,
    }
    steps = [
        ("generator", lambda: bench_generator(args.faces)),
        ("training", lambda: bench_training(fm.config, args.train_steps)),
        ("album_latency", lambda: bench_decode(fm, args.decode_calls)),
        (
            "quality",
            lambda: bench_quality(fm, ckpt, args.heldout, args.data, args.search_dim, path),
        ),
    ]
    for name, fn in steps:
        report[name] = fn()
        print(f"{name}: {json.dumps(report[name])}", flush=True)
    if threads > 1:
        torch.set_num_threads(1)
        report["album_latency_1_thread"] = bench_decode(fm, args.decode_calls)
        print(f"album_latency_1_thread: {json.dumps(report['album_latency_1_thread'])}")
        torch.set_num_threads(threads)
    print(f"checkpoint: {report['checkpoint_bytes'] / 1e6:.2f} MB, version {fm.version}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0
