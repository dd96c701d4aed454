"""The training loop: one process or DistributedDataParallel under torchrun, same code path."""

from __future__ import annotations

import gc
import hashlib
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler
from tqdm import tqdm

from model.checkpoint import atomic_save, load_checkpoint
from model.config import LatentBasis, TrainConfig, VAEConfig
from model.data import FaceData, load_data
from model.dlib_resnet import SAME_PERSON_DISTANCE
from model.identity import IdentityMetric
from model.identity_loss import identity_loss, identity_targets
from model.losses import kl_divergence, psnr, reconstruction_loss, ssim
from model.photo_folder import default_cache_dir
from model.vae import VAE, channels_last

BASIS_SAMPLE = 5000  # training faces encoded for the latent basis at each checkpoint

# Called (main process only) with plain-data events: "step" during an epoch, "epoch" once its
# checkpoint is written. The bot's admin side follows a background run through them.
ProgressCallback = Callable[[dict[str, Any]], None]


@dataclass
class Dist:
    """Where this process sits in a (possibly single-process) run."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def state_path(out: str | os.PathLike[str]) -> Path:
    """The sidecar holding optimizer/scheduler state, so the model file itself stays small."""
    return Path(str(out) + ".state")


def _init_distributed() -> tuple[Dist, torch.device]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return Dist(), device
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
        dist.init_process_group("nccl")
    else:
        device = torch.device("cpu")
        dist.init_process_group("gloo")
    return Dist(dist.get_rank(), dist.get_world_size(), local_rank), device


def split_indices(n: int, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded (train, held-out) split of range(n); at least one face on each side."""
    perm = np.random.default_rng(seed).permutation(n)
    n_hold = min(max(1, round(holdout * n)), n - 1)
    return np.sort(perm[n_hold:]), np.sort(perm[:n_hold])


def _to_float(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 (n, 3, S, S) -> float (n, 3, S, S) in [0, 1], channels-last (faster convs on CPU)."""
    return (
        x.to(device, non_blocking=True)
        .float()
        .div_(255.0)
        .contiguous(memory_format=torch.channels_last)
    )


@torch.no_grad()
def evaluate(
    net: VAE, images: torch.Tensor, config: VAEConfig, device: torch.device, batch_size: int = 256
) -> dict[str, float]:
    """Held-out metrics with z = posterior mean: loss, recon, KL, PSNR (dB), SSIM."""
    was_training = net.training
    net.eval()
    sums = {"loss": 0.0, "recon": 0.0, "kl": 0.0, "psnr": 0.0, "ssim": 0.0, "mse": 0.0}
    for i in range(0, len(images), batch_size):
        x = _to_float(images[i : i + batch_size], device)  # (b, 3, S, S)
        recon, mean, logvar = net(x, sample=False)
        rec = reconstruction_loss(recon, x, config.recon)  # (b,)
        kl = kl_divergence(mean, logvar)  # (b,)
        sums["recon"] += rec.sum().item()
        sums["kl"] += kl.sum().item()
        sums["loss"] += (rec + config.beta * kl).sum().item()
        sums["psnr"] += psnr(recon, x).sum().item()
        sums["ssim"] += ssim(recon, x).sum().item()
        sums["mse"] += (recon - x).pow(2).flatten(1).mean(1).sum().item()
    net.train(was_training)
    return {k: v / len(images) for k, v in sums.items()}


@torch.no_grad()
def encode_means(net: VAE, images: torch.Tensor, device: torch.device) -> np.ndarray:
    """Posterior means (n, d) of uint8 images (n, 3, S, S)."""
    was_training = net.training
    net.eval()
    out = [
        net.encode(_to_float(images[i : i + 256], device))[0].cpu()
        for i in range(0, len(images), 256)
    ]
    net.train(was_training)
    return torch.cat(out).numpy().astype(np.float32)


def _identity_setup(
    vc: VAEConfig, train_images: torch.Tensor, photos: bool, d: Dist, progress: bool
) -> tuple[IdentityMetric | None, torch.Tensor | None]:
    """The identity network (for photos, where held-out identity is reported each epoch, or
    when the identity loss is on) and the training faces' descriptors (n, 2, 128) for the
    loss."""
    if vc.identity_weight <= 0 and not photos:
        return None, None
    metric = IdentityMetric()
    if vc.identity_weight <= 0:
        return metric, None
    faces = train_images.permute(0, 2, 3, 1).numpy()  # (n, S, S, 3) uint8
    targets = identity_targets(metric, faces, default_cache_dir(), progress and d.main)
    return metric, torch.from_numpy(targets)


@torch.no_grad()
def identity_metrics(
    net: VAE, images: torch.Tensor, metric: IdentityMetric, device: torch.device
) -> dict[str, float]:
    """Held-out identity: mean descriptor distance of reconstructions to their originals and
    the share closer than dlib's same-person threshold."""
    was_training = net.training
    net.eval()
    dists = []
    for i in range(0, len(images), 128):
        x = _to_float(images[i : i + 128], device)  # (b, 3, S, S)
        recon = net(x, sample=False)[0]
        dists.append((metric.embed(recon) - metric.embed(x)).norm(dim=1).cpu())
    net.train(was_training)
    dist_all = torch.cat(dists)
    return {
        "identity_distance": float(dist_all.mean()),
        "same_person": float((dist_all < SAME_PERSON_DISTANCE).float().mean()),
    }


def weights_digest(net: torch.nn.Module) -> str:
    """sha256 of every parameter and buffer, to compare replicas bit for bit."""
    h = hashlib.sha256()
    for name, t in sorted(net.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _sync_buffers(net: VAE, d: Dist) -> None:
    """Average BatchNorm running statistics across ranks, so every replica ends identical."""
    if d.world <= 1:
        return
    for buf in net.buffers():
        if buf.is_floating_point():
            dist.all_reduce(buf, op=dist.ReduceOp.SUM)
            buf.div_(d.world)
        else:
            dist.broadcast(buf, src=0)


def _say(d: Dist, msg: str) -> None:
    if d.main:
        print(msg, file=sys.stderr, flush=True)


def _resume(
    out: str, net: VAE, opt: torch.optim.Optimizer, sched: Any, d: Dist
) -> tuple[int, list]:
    """Load weights and optimizer state from a previous run; returns (epoch, history)."""
    ckpt = load_checkpoint(out)
    net.load_state_dict(
        {k: v.float() if v.is_floating_point() else v for k, v in ckpt["model"].items()}
    )
    epoch = int(ckpt["config"].get("epoch", 0))
    history = list(ckpt.get("history", []))
    sp = state_path(out)
    state = torch.load(sp, map_location="cpu", weights_only=True) if sp.exists() else None
    if state is not None and int(state.get("epoch", -1)) == epoch:
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
    else:
        # Weights alone still resume; Adam's moments restart and the schedule is replayed.
        _say(d, f"note: no matching optimizer state in {sp}; resuming with a fresh optimizer")
        for _ in range(epoch):
            sched.step()
    return epoch, history


def train(
    tc: TrainConfig,
    vc: VAEConfig,
    resume: bool = False,
    progress: bool = True,
    digest_path: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Train (or continue training) a VAE and write a checkpoint after every epoch."""
    d, device = _init_distributed()
    report = on_progress if d.main else None
    result = _train(tc, vc, d, device, resume, progress, digest_path, report)
    if d.world > 1:
        # Tear down together, and only after a clean run: a rank that destroys the group while
        # its peer still has gloo work in flight can abort at exit ("terminate called without
        # an active exception"), and destroying after a failure can hang the peer (torchtitan
        # #1342). The DDP wrapper of _train is already freed here, so no work is pending.
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()
    return result


def _train(
    tc: TrainConfig,
    vc: VAEConfig,
    d: Dist,
    device: torch.device,
    resume: bool,
    progress: bool,
    digest_path: str | None,
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    if resume and Path(tc.out).exists():
        # The architecture comes from the checkpoint; the CLI may only change the recipe.
        vc = VAEConfig.from_dict(load_checkpoint(tc.out)["config"])
    torch.manual_seed(tc.seed)  # identical initial weights on every rank (DDP also broadcasts)
    data: FaceData = load_data(
        tc.data, vc.image_size, tc.workers, align=tc.align, eval_from=tc.eval_from
    )
    vc.dataset = data.description
    vc.aligned = tc.align and bool(data.names)  # photos (synthetic faces have no names)
    all_images = torch.from_numpy(data.images).permute(0, 3, 1, 2).contiguous()  # (N, 3, S, S)
    train_idx, hold_idx = split_indices(len(all_images), tc.holdout, tc.seed)
    train_images, hold_images = all_images[train_idx], all_images[hold_idx]
    _say(
        d,
        f"data: {data.description}: {len(train_images)} training, {len(hold_images)} held-out"
        f" faces ({data.skipped} unreadable and {data.no_face} without a face skipped,"
        f" {data.ignored} non-image files ignored, {data.evaluation} kept for evaluation)",
    )
    metric, targets = _identity_setup(vc, train_images, bool(data.names), d, progress)

    net = VAE(vc).to(device)
    channels_last(net)
    opt = torch.optim.Adam(net.parameters(), lr=tc.lr)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=tc.lr_decay)
    start, history = 0, list[dict[str, float]]()
    if resume and Path(tc.out).exists():
        start, history = _resume(tc.out, net, opt, sched, d)
        _say(d, f"resuming {tc.out} at epoch {start}")
    model: torch.nn.Module = net
    if d.world > 1:
        model = DistributedDataParallel(
            net, device_ids=[device.index] if device.type == "cuda" else None
        )

    sampler: DistributedSampler[int] = DistributedSampler(
        # A range is all the sampler needs: it only calls len() on its "dataset".
        range(len(train_images)),  # type: ignore[arg-type]
        num_replicas=d.world,
        rank=d.rank,
        shuffle=True,
        seed=tc.seed,
        drop_last=False,
    )
    per_rank = len(sampler)
    batch = max(2, min(tc.batch_size, per_rank))  # BatchNorm needs two faces per batch
    steps = max(1, per_rank // batch)
    t_start = time.perf_counter()
    metrics: dict[str, float] = {}
    for epoch in range(start, tc.epochs):
        sampler.set_epoch(epoch)
        # Reseeding per epoch makes the sampling noise independent of where a run resumed.
        torch.manual_seed(tc.seed * 100_003 + epoch * 101 + d.rank)
        order = torch.tensor(list(iter(sampler)), dtype=torch.long)
        net.train()
        bar = tqdm(
            total=steps * batch * d.world,
            desc=f"epoch {epoch + 1}/{tc.epochs}",
            unit="img",
            disable=not (progress and d.main),
            file=sys.stderr,
            dynamic_ncols=True,
            leave=True,
        )
        t0 = time.perf_counter()
        run_loss = 0.0
        for step in range(steps):
            idx = order[step * batch : (step + 1) * batch]
            x = _to_float(train_images[idx], device)  # (b, 3, S, S)
            flips = torch.zeros(len(idx), dtype=torch.bool)
            if tc.flip:
                flips = torch.rand(len(idx)) < 0.5  # (b,)
                x = torch.where(flips.to(device)[:, None, None, None], x.flip(3), x)
            recon, mean, logvar = model(x)
            rec = reconstruction_loss(recon, x, vc.recon).mean()
            kl = kl_divergence(mean, logvar).mean()
            loss = rec + vc.beta * kl
            ident = torch.zeros(())
            if metric is not None and targets is not None:
                k = min(tc.identity_batch, len(idx))
                target = targets[idx[:k], flips[:k].long()].to(device)  # (k, 128)
                ident = identity_loss(metric, recon[:k], target).mean()
                loss = loss + vc.identity_weight * ident
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), tc.grad_clip)
            opt.step()
            if not math.isfinite(loss.item()):
                raise FloatingPointError(
                    f"loss became {loss.item()} at epoch {epoch + 1}; lower --lr"
                )
            run_loss = loss.item() if step == 0 else 0.9 * run_loss + 0.1 * loss.item()
            bar.update(len(x) * d.world)
            rate = (step + 1) * len(x) * d.world / (time.perf_counter() - t0)
            bar.set_postfix(
                loss=f"{run_loss:.1f}",
                rec=f"{rec.item():.1f}",
                kl=f"{kl.item():.1f}",
                id=f"{ident.item():.3f}",
                ips=f"{rate:.0f}",
                refresh=False,
            )
            if on_progress is not None:
                # Remaining steps of this epoch and the next ones at this epoch's pace.
                left = steps - step - 1 + steps * (tc.epochs - epoch - 1)
                on_progress(
                    {
                        "event": "step",
                        "epoch": epoch + 1,
                        "epochs": tc.epochs,
                        "step": step + 1,
                        "steps": steps,
                        "loss": run_loss,
                        "images_per_s": rate,
                        "eta_s": left * (time.perf_counter() - t0) / (step + 1),
                    }
                )
        bar.close()
        sched.step()
        _sync_buffers(net, d)
        epoch_time = time.perf_counter() - t0
        if d.main:
            metrics = evaluate(net, hold_images, vc, device)
            if metric is not None:
                metrics.update(identity_metrics(net, hold_images, metric, device))
            metrics["train_loss"] = run_loss
            metrics["images_per_s"] = steps * batch * d.world / epoch_time
            metrics["epoch_seconds"] = epoch_time
            history.append({"epoch": epoch + 1, **metrics})
            vc.epoch = epoch + 1
            vc.metrics = {k: round(float(v), 5) for k, v in metrics.items()}
            sample = train_images[: min(BASIS_SAMPLE, len(train_images))]
            basis = LatentBasis.fit(encode_means(net, sample, device))
            _save(tc, vc, net, opt, sched, data, history, basis)
            same = f"same person {metrics['same_person']:.1%}, " if "same_person" in metrics else ""
            print(
                f"epoch {epoch + 1}/{tc.epochs}: held-out PSNR {metrics['psnr']:.2f} dB, "
                f"SSIM {metrics['ssim']:.3f}, {same}KL {metrics['kl']:.1f}, "
                f"recon {metrics['recon']:.1f}, "
                f"{metrics['images_per_s']:.0f} img/s, lr {sched.get_last_lr()[0]:.2e}",
                file=sys.stderr,
                flush=True,
            )
            if on_progress is not None:
                on_progress(
                    {
                        "event": "epoch",
                        "epoch": epoch + 1,
                        "epochs": tc.epochs,
                        "metrics": dict(vc.metrics),
                        "checkpoint": str(tc.out),
                    }
                )
        if d.world > 1:
            dist.barrier()
    if digest_path:
        Path(f"{digest_path}.rank{d.rank}").write_text(weights_digest(net) + "\n")
    return {
        "epochs": tc.epochs,
        "seconds": time.perf_counter() - t_start,
        "metrics": metrics,
        "history": history,
    }


def _save(
    tc: TrainConfig,
    vc: VAEConfig,
    net: VAE,
    opt: torch.optim.Optimizer,
    sched: Any,
    data: FaceData,
    history: list,
    basis: LatentBasis,
) -> None:
    """Sidecar state first, then the model file: a crash between them is caught on resume."""
    state = {"epoch": vc.epoch, "optimizer": opt.state_dict(), "scheduler": sched.state_dict()}
    atomic_save(state, state_path(tc.out))
    weights = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    atomic_save(
        {
            "format": "fotorobot-vae/1",
            "config": vc.to_dict(),
            "train": tc.to_dict(),
            "data": data.summary(),
            "history": history,
            "latent_basis": basis.to_dict(),
            "model": weights,
        },
        tc.out,
    )
