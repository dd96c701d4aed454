"""Identity: how much two faces look like the same person, by dlib's face-recognition network.

dlib's ResNet maps a 150x150 face chip to a 128-d descriptor; two photos whose descriptors
lie closer than 0.6 are the same person (99.38 % on LFW). Our faces are aligned to one
canonical frame (model.align), so the chip is a fixed window of every face: no detector or
landmark model runs on a decoded face, and the chip is cut by one differentiable resampling.
The network runs in torch (model.dlib_resnet, weights read from dlib's own file), which is
faster than dlib on a CPU and lets training use the distance as a loss.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from model.dlib_resnet import CHIP_SIZE, DlibFaceNet

# dlib's chip window (get_face_chip_details, size 150, padding 0.25) for a face whose five
# landmarks sit exactly on model.align.CANONICAL_POINTS, in unit frame coordinates (left, top,
# right, bottom of the corner pixels' centres). tests/model/test_identity.py recomputes it.
CHIP_BOX = (0.13969, 0.29680, 0.86993, 1.02704)


def chip_grid(size: int = CHIP_SIZE) -> torch.Tensor:
    """The sampling grid of the chip for F.grid_sample (align_corners=False): (1, s, s, 2)."""
    left, top, right, bottom = CHIP_BOX
    xs = torch.linspace(left, right, size, dtype=torch.float64) * 2 - 1  # (s,)
    ys = torch.linspace(top, bottom, size, dtype=torch.float64) * 2 - 1  # (s,)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")  # (s, s) each
    return torch.stack([gx, gy], dim=-1)[None].float()  # (1, s, s, 2)


def face_chips(images: torch.Tensor) -> torch.Tensor:
    """Aligned faces (n, 3, S, S) in [0, 1] -> dlib chips (n, 3, 150, 150) in [0, 1].

    Bilinear and differentiable; the strip of the chip below the frame's bottom edge (3 %)
    repeats the edge.
    """
    # Built per call (0.1 ms): a cached grid made under inference_mode could not take part
    # in a later autograd graph.
    grid = chip_grid().to(images.device, images.dtype).expand(images.shape[0], -1, -1, -1)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


def uint8_to_tensor(faces: np.ndarray) -> torch.Tensor:
    """(n, S, S, 3) uint8 -> (n, 3, S, S) float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(faces)).permute(0, 3, 1, 2).float().div_(255.0)


class IdentityMetric:
    """dlib descriptors of aligned faces and the distances between them.

    `descriptors` works on uint8 arrays (benchmarks, raters); `embed` on float tensors with
    gradients (training losses).
    """

    def __init__(self, net: DlibFaceNet | None = None, batch_size: int = 64) -> None:
        self.net = (net or DlibFaceNet.load()).eval()
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.batch_size = batch_size

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """(n, 3, S, S) in [0, 1] -> (n, 128) descriptors, differentiable in the images."""
        return self.net(face_chips(images))  # (n, 128)

    def descriptors(self, faces: np.ndarray) -> np.ndarray:
        """(n, S, S, 3) uint8 aligned faces -> (n, 128) float32 descriptors."""
        faces = np.asarray(faces)
        if faces.ndim == 3:
            faces = faces[None]
        out = np.empty((len(faces), 128), dtype=np.float32)
        with torch.inference_mode():
            for i in range(0, len(faces), self.batch_size):
                x = uint8_to_tensor(faces[i : i + self.batch_size])  # (b, 3, S, S)
                out[i : i + self.batch_size] = self.embed(x).numpy()
        return out


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Euclidean distances between descriptor arrays (n, 128), (n, 128) -> (n,)."""
    return np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64), axis=-1)


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """All distances between (n, 128) and (m, 128) descriptors -> (n, m)."""
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    sq = (a64**2).sum(1)[:, None] + (b64**2).sum(1)[None, :] - 2 * a64 @ b64.T
    return np.sqrt(np.clip(sq, 0.0, None))


def rank1_accuracy(
    probe: np.ndarray, gallery: np.ndarray, group: int = 100, seed: int = 0
) -> float:
    """Identification among `group` people: the share of probes (descriptors of the decoded
    faces) whose nearest gallery descriptor (the originals) is their own, in random groups of
    `group` identities (the last, smaller group included)."""
    n = len(probe)
    if n == 0:
        return float("nan")
    order = np.random.default_rng(seed).permutation(n)
    hits = 0
    for start in range(0, n, group):
        idx = order[start : start + group]
        d = pairwise_distances(probe[idx], gallery[idx])  # (g, g)
        hits += int((d.argmin(axis=1) == np.arange(len(idx))).sum())
    return hits / n
