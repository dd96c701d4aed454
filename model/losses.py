"""VAE losses and image metrics, each returning one value per image (n,)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# Zhao et al., "Loss Functions for Image Restoration with Neural Networks": SSIM carries the
# structure, L1 keeps colours and brightness right where SSIM is insensitive.
SSIM_L1_ALPHA = 0.84


def kl_divergence(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) per image: (n, d), (n, d) -> (n,)."""
    return 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def _gaussian_window(size: int, sigma: float, channels: int, like: torch.Tensor) -> torch.Tensor:
    coords = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, size, size).contiguous()  # (C, 1, k, k)


def ssim(x: torch.Tensor, y: torch.Tensor, window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Mean SSIM per image of (n, C, H, W) tensors in [0, 1] (Wang et al. 2004 constants)."""
    c = x.shape[1]
    k = min(window, x.shape[-1], x.shape[-2])
    w = _gaussian_window(k, sigma, c, x)
    mu_x = F.conv2d(x, w, groups=c)  # (n, C, H-k+1, W-k+1)
    mu_y = F.conv2d(y, w, groups=c)
    sxx = F.conv2d(x * x, w, groups=c) - mu_x**2
    syy = F.conv2d(y * y, w, groups=c) - mu_y**2
    sxy = F.conv2d(x * y, w, groups=c) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    num = (2 * mu_x * mu_y + c1) * (2 * sxy + c2)
    den = (mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2)
    return (num / den).flatten(1).mean(dim=1)  # (n,)


def reconstruction_loss(recon: torch.Tensor, x: torch.Tensor, kind: str) -> torch.Tensor:
    """Per-image reconstruction loss on the scale of a per-pixel sum: (n, C, H, W) -> (n,)."""
    if kind == "mse":
        return (recon - x).pow(2).flatten(1).sum(dim=1)
    if kind == "ssim-l1":
        n_pix = x[0].numel()
        l1 = (recon - x).abs().flatten(1).mean(dim=1)
        mix = SSIM_L1_ALPHA * (1.0 - ssim(recon, x)) + (1.0 - SSIM_L1_ALPHA) * l1
        return n_pix * mix
    raise ValueError(f"unknown reconstruction loss {kind!r} (use 'mse' or 'ssim-l1')")


def psnr(recon: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image, for images in [0, 1]: -> (n,)."""
    mse = (recon - x).pow(2).flatten(1).mean(dim=1).clamp_min(1e-10)
    return -10.0 * torch.log10(mse)


def psnr_of_mse(mse: float) -> float:
    """PSNR in dB of a mean squared error on [0, 1] images."""
    return -10.0 * math.log10(max(mse, 1e-10))
