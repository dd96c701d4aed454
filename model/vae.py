"""The thesis' convolutional VAE: 4 strided convs down, 4 upsample+conv stages up."""

from __future__ import annotations

import torch
from torch import nn

from model.config import VAEConfig


def _down(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size=4, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.LeakyReLU(0.2, inplace=True),
    )


def _conv3(c_in: int, c_out: int) -> list[nn.Module]:
    return [
        # Replicate padding avoids the dark frame zero padding paints around decoded faces.
        nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, padding_mode="replicate", bias=False),
        nn.BatchNorm2d(c_out),
        nn.LeakyReLU(0.2, inplace=True),
    ]


def _up(c_in: int, c_out: int, extra: int = 0) -> nn.Sequential:
    """Upsample x2, then 1 + extra conv-BN-LeakyReLU layers (extra: more decoder depth)."""
    layers: list[nn.Module] = [nn.Upsample(scale_factor=2, mode="nearest"), *_conv3(c_in, c_out)]
    for _ in range(extra):
        layers += _conv3(c_out, c_out)
    return nn.Sequential(*layers)


def channels_last(net: nn.Module) -> nn.Module:
    """The module converted in place to channels-last weights (faster convolutions on CPU)."""
    return net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]


class VAE(nn.Module):
    """Encoder to (mean, logvar) and decoder from latent to RGB in [0, 1]."""

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        self.config = config
        enc = config.enc_channels
        dec = config.dec_channels
        self.base = config.image_size // 2 ** len(enc)  # spatial size at the bottleneck
        self.encoder = nn.Sequential(
            *[_down(a, b) for a, b in zip((3, *enc[:-1]), enc, strict=True)]
        )
        flat = enc[-1] * self.base * self.base
        self.fc_mean = nn.Linear(flat, config.latent_dim)
        self.fc_logvar = nn.Linear(flat, config.latent_dim)
        self.fc_decode = nn.Linear(config.latent_dim, enc[-1] * self.base * self.base)
        self.decoder = nn.Sequential(
            *[_up(a, b, config.dec_extra) for a, b in zip((enc[-1], *dec[:-1]), dec, strict=True)]
        )
        self.to_rgb = nn.Conv2d(dec[-1], 3, kernel_size=3, padding=1, padding_mode="replicate")

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (n, 3, S, S) in [0, 1] -> mean, logvar: (n, d)."""
        h = self.encoder(x).flatten(1)  # (n, C * b * b)
        return self.fc_mean(h), self.fc_logvar(h).clamp(-12.0, 8.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: (n, d) -> (n, 3, S, S) in [0, 1]."""
        c = self.config.enc_channels[-1]
        h = self.fc_decode(z).view(-1, c, self.base, self.base)  # (n, C, b, b)
        h = self.decoder(h)  # (n, c_last, S, S)
        return torch.sigmoid(self.to_rgb(h))  # (n, 3, S, S)

    def forward(
        self, x: torch.Tensor, sample: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reconstruction (with the reparameterisation trick when sampling), mean, logvar."""
        mean, logvar = self.encode(x)  # (n, d), (n, d)
        z = mean + torch.randn_like(mean) * torch.exp(0.5 * logvar) if sample else mean
        return self.decode(z), mean, logvar
