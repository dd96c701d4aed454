"""dlib's face-recognition ResNet in torch: 128-d identity descriptors, fast and differentiable.

A reimplementation of ``anet_type`` from dlib's ``examples/dnn_face_recognition_ex.cpp`` (the
network behind ``dlib.face_recognition_model_v1``) that reads its weights straight from
``dlib_face_recognition_resnet_model_v1.dat`` (public domain, shipped by the
``face_recognition_models`` package). Its descriptors equal dlib's ``compute_face_descriptor``
to float32 rounding (~1e-6).

What dlib does, from its sources (dlib/dnn/{input,layers,loss,core}.h, dlib/cuda/cpu_dlib.cpp):

- input_rgb_image_sized<150>: a 150x150 RGB chip becomes ``(pixel - mean[c]) / 256`` with the
  per-channel means stored in the file (122.782, 117.001, 104.298).
- con_<N, r, c, sy, sx>: cross-correlation; padding r//2 when the stride is 1, else 0, so the
  7x7/2 stem and every 3x3/2 down-sampling conv are unpadded; output 1 + (in + 2*pad - r)//stride.
- affine_: per-channel ``gamma * x + beta`` (batch norm frozen after training); folded here into
  the conv before it.
- max_pool<3,3,2,2> and avg_pool<2,2,2,2>: unpadded (their stride is not 1), floor output sizes.
- residual_down = ``add_prev2<avg_pool<2,2,2,2, skip1<tag2<block<stride 2, tag1<x>>>>>>``: the
  skip path is x average-pooled 2x2/2. add_prev (tt::add) sums differently shaped tensors by
  zero-padding both to the larger channel count, rows and columns, anchored at the top-left. That
  matters twice: the channel count doubles at 64 and 128 and 256, and in the first 256 level the
  conv path is 3x3 while the pooled skip path is 4x4 (from 8x8: 1 + (8-3)//2 = 3, 8//2 = 4).
- avg_pool_everything, then fc_no_bias<128>: ``x @ W`` with W stored (inputs, outputs).
- loss_metric's to_label returns the fc output as it is: descriptors are NOT L2-normalised (their
  norms are about 1.2-1.7). Two faces are the same person when their distance is below 0.6.

``compute_face_descriptor(img, shape)`` first cuts the chip with
``get_face_chip_details(shape, 150, 0.25)`` and ``extract_image_chips`` (a similarity transform
fitted to the landmarks, a 2x image pyramid while the face is over twice the chip's size, then
bilinear sampling), exactly what ``dlib.get_face_chip(img, shape, size=150, padding=0.25)``
returns. It jitters only when num_jitters > 1 (default 0), averaging over randomly cropped and
flipped copies; this module never jitters.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from model.dlib_files import DESCRIPTOR_FILE, locate_face_models

CHIP_SIZE = 150
DESCRIPTOR_DIM = 128
SAME_PERSON_DISTANCE = 0.6  # dlib's threshold on the Euclidean distance between descriptors
DLIB_MEANS = (122.782, 117.001, 104.298)  # input_rgb_image_sized's defaults; the file has its own

# Residual levels, input first: (channels, blocks, first block down-samples).
LEVELS = ((32, 3, False), (64, 4, True), (128, 3, True), (256, 3, True), (256, 1, True))


# ---------------------------------------------------------------------------------------------
# dlib's binary serialization (dlib/serialize.h, dlib/float_details.h, dlib/cuda/tensor.h)


class _Reader:
    """Reads dlib's serialized primitives from a byte buffer."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def fail(self, what: str) -> ValueError:
        return ValueError(f"not dlib's face-recognition ResNet: {what} (byte {self.pos})")

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise self.fail("unexpected end of file")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def int_(self) -> int:
        """Any integer: a control byte (0x80 negative, low 4 bits the byte count), then the
        magnitude's bytes, little-endian."""
        control = self.take(1)[0]
        size = control & 0x0F
        if not 1 <= size <= 8:
            raise self.fail(f"bad integer control byte {control:#x}")
        value = int.from_bytes(self.take(size), "little")
        return -value if control & 0x80 else value

    def float_(self) -> float:
        """float or double: integers mantissa and exponent, value mantissa * 2**exponent."""
        mantissa, exponent = self.int_(), self.int_()
        special = {32000: math.inf, 32001: -math.inf, 32002: math.nan}
        return special.get(exponent, math.ldexp(mantissa, exponent))

    def bool_(self) -> bool:
        char = self.take(1)
        if char not in (b"0", b"1"):
            raise self.fail(f"bad bool {char!r}")
        return char == b"1"

    def string(self) -> str:
        return self.take(self.int_()).decode("latin-1")

    def expect(self, *names: str) -> str:
        name = self.string()
        if name not in names:
            raise self.fail(f"found {name!r} where {' or '.join(names)} belongs")
        return name

    def version(self, *allowed: int) -> int:
        version = self.int_()
        if version not in allowed:
            raise self.fail(f"unexpected version {version}")
        return version

    def tensor(self) -> np.ndarray:
        """resizable_tensor: version 2, num_samples, k, nr, nc, then little-endian float32s."""
        self.version(2)
        shape = tuple(self.int_() for _ in range(4))
        data = self.take(4 * math.prod(shape))
        return np.frombuffer(data, dtype="<f4").astype(np.float32).reshape(shape)

    def alias(self) -> tuple[int, ...]:
        """alias_tensor: a shape only (version 1, num_samples, k, nr, nc)."""
        self.version(1)
        return tuple(self.int_() for _ in range(4))

    def floats(self, n: int) -> None:
        """Skip n floats (learning-rate and weight-decay multipliers and the like)."""
        for _ in range(n):
            self.float_()


Layer = tuple[str, dict[str, Any]]  # a layer's kind and the parameters it holds


def _read_layer(r: _Reader, kind: str) -> Layer:
    """One layer's own fields, as its ``deserialize`` in dlib/dnn/layers.h reads them."""
    if kind == "con":
        name = r.expect("con_4", "con_5", "con_6")
        params = r.tensor().reshape(-1)
        num_filters, nr, nc = r.int_(), r.int_(), r.int_()
        stride_y, stride_x, padding_y, padding_x = r.int_(), r.int_(), r.int_(), r.int_()
        shape, _ = r.alias(), r.alias()  # filters, biases
        r.floats(4)
        use_bias = r.bool_() if name != "con_4" else True
        if name == "con_6" and r.bool_():
            raise r.fail("con_ with a fused relu")
        if shape[0] != num_filters or shape[2:] != (nr, nc):
            raise r.fail(f"con_ filters {shape} vs {num_filters} {nr}x{nc}")
        size = math.prod(shape)
        bias = params[size : size + num_filters] if use_bias else np.zeros(num_filters, np.float32)
        geometry = {"stride": (stride_y, stride_x), "padding": (padding_y, padding_x)}
        return kind, {"weight": params[:size].reshape(shape), "bias": bias, **geometry}
    if kind == "affine":
        name = r.expect("affine_", "affine_2")
        params = r.tensor().reshape(-1)
        shape, _ = r.alias(), r.alias()  # gamma, beta
        channels = math.prod(shape)
        if r.int_() != 0 or shape[2:] != (1, 1):  # CONV_MODE = 0: one gamma per channel
            raise r.fail("affine_ not in CONV_MODE")
        if name == "affine_2" and r.bool_():
            raise r.fail("disabled affine_")
        return kind, {"gamma": params[:channels], "beta": params[channels : 2 * channels]}
    if kind == "relu":
        if r.expect("relu_", "relu_2") == "relu_2" and r.bool_():
            raise r.fail("disabled relu_")
        return kind, {}
    if kind in ("max_pool", "avg_pool"):
        r.expect(f"{kind}_2")
        window, stride, padding = [(r.int_(), r.int_()) for _ in range(3)]
        return kind, {"size": window, "stride": stride, "padding": padding}
    if kind == "add_prev":
        r.expect("add_prev_")
        return kind, {}
    if kind == "fc":
        name = r.expect("fc_2", "fc_3")
        outputs, inputs = r.int_(), r.int_()
        params = r.tensor().reshape(-1)
        r.alias(), r.alias()  # weights, biases
        has_bias = r.int_() == 0  # FC_HAS_BIAS = 0, FC_NO_BIAS = 1
        r.floats(4)
        if name == "fc_3" and not r.bool_():  # use_bias
            has_bias = False
        if has_bias:
            raise r.fail("fc_ with a bias")
        return kind, {"weight": params[: inputs * outputs].reshape(inputs, outputs)}
    raise AssertionError(kind)


def _blocks() -> list[tuple[int, bool]]:
    """Every residual block, input first: (channels, down-samples)."""
    return [(ch, down and i == 0) for ch, n, down in LEVELS for i in range(n)]


def _nesting() -> list[str]:
    """anet_type's layers from the loss inwards to the input, as dlib nests (and saves) them.

    "tag" and "skip" are dlib's tag and skip layers, which hold no data; every other entry is an
    add_layer around the layer of that name.
    """
    block = ["affine", "con", "relu", "affine", "con"]  # BN<con<relu<BN<con<SUBNET>>>>>
    ares = ["relu", "add_prev", *block, "tag"]  # relu<add_prev1<block<tag1<SUBNET>>>>
    ares_down = ["relu", "add_prev", "avg_pool", "skip", "tag", *block, "tag"]
    body = [kind for _, down in reversed(_blocks()) for kind in (ares_down if down else ares)]
    return ["fc", "avg_pool", *body, "max_pool", "relu", "affine", "con"]


def _parse_dat(data: bytes) -> tuple[tuple[float, float, float], list[Layer]]:
    """The input's channel means and anet_type's data-bearing layers, input first.

    add_loss_layer writes its loss then its subnetwork; each add_layer writes a version, then its
    subnetwork, then its own layer and state; tag and skip layers write a version and their
    subnetwork. So the file holds the versions from the outside in, then the input layer, then
    each layer from the input outwards.
    """
    r = _Reader(data)
    r.version(1)  # add_loss_layer
    if r.expect("loss_metric_", "loss_metric_2") == "loss_metric_2":
        r.floats(2)  # margin, distance threshold: for training only
    nesting = _nesting()
    for kind in nesting[:-1]:
        r.version(*((1,) if kind in ("tag", "skip") else (1, 2)))
    innermost = r.version(2, 3)  # the add_layer holding the input layer
    r.expect("input_rgb_image_sized")
    means = (r.float_(), r.float_(), r.float_())
    if (r.int_(), r.int_()) != (CHIP_SIZE, CHIP_SIZE):
        raise r.fail("input is not 150x150")
    layers: list[Layer] = []
    for depth in reversed(range(len(nesting))):
        if nesting[depth] in ("tag", "skip"):
            continue
        layers.append(_read_layer(r, nesting[depth]))
        for _ in range(3):  # setup called, gradient stale, output and gradient disabled
            r.bool_()
        r.tensor(), r.tensor()  # x_grad, cached_output
        if depth == len(nesting) - 1:
            r.tensor()  # grad_final
            if innermost == 3:
                r.int_()  # sample_expansion_factor
        else:
            r.tensor()  # params_grad (add_layer version 2; version 1 has none)
    if r.pos != len(data):
        raise r.fail("trailing data")
    return means, layers


# ---------------------------------------------------------------------------------------------
# The network


def _conv(in_ch: int, out_ch: int, size: int, stride: int) -> nn.Conv2d:
    """A frozen, uninitialised conv padded as dlib's con_ is (size//2 if stride 1, else 0), its
    weights channels_last (measurably faster on CPU, with channels_last input)."""
    padding = size // 2 if stride == 1 else 0
    conv = nn.utils.skip_init(nn.Conv2d, in_ch, out_ch, size, stride=stride, padding=padding)
    weight = conv.weight.to(memory_format=torch.channels_last)  # (out, in, size, size)
    conv.weight = nn.Parameter(weight, requires_grad=False)
    return conv.requires_grad_(False)


def _add_prev(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """dlib's tt::add of differently shaped tensors: both zero-padded to the larger channel
    count, rows and columns (anchored at the top-left), then summed."""
    (_, ca, ha, wa), (_, cb, hb, wb) = a.shape, b.shape
    c, h, w = max(ca, cb), max(ha, hb), max(wa, wb)
    if (ca, ha, wa) != (c, h, w):
        a = F.pad(a, (0, w - wa, 0, h - ha, 0, c - ca))  # (n, c, h, w)
    if (cb, hb, wb) != (c, h, w):
        b = F.pad(b, (0, w - wb, 0, h - hb, 0, c - cb))  # (n, c, h, w)
    return a + b


class _Residual(nn.Module):
    """ares / ares_down: relu(add_prev(block(x), skip(x))), block = conv, relu, conv (each conv
    with its affine folded in); when down-sampling the first conv has stride 2 and the skip path
    is a 2x2/2 average pool."""

    def __init__(self, in_ch: int, out_ch: int, down: bool) -> None:
        super().__init__()
        self.down = down
        self.conv1 = _conv(in_ch, out_ch, 3, 2 if down else 1)
        self.conv2 = _conv(out_ch, out_ch, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(F.relu(self.conv1(x)))  # (n, out, h', w')
        skip = F.avg_pool2d(x, 2) if self.down else x  # (n, in, h//2, w//2) or (n, in, h, w)
        return F.relu(_add_prev(y, skip))


def _load_conv(conv: nn.Conv2d, con: Layer, affine: Layer) -> None:
    """Set conv to dlib's con_ followed by affine_ (folded in float64, then rounded)."""
    (kind1, c), (kind2, a) = con, affine
    if (kind1, kind2) != ("con", "affine"):
        raise ValueError(f"expected con, affine; the file has {kind1}, {kind2}")
    expected = (tuple(conv.weight.shape), conv.stride, conv.padding)
    if (c["weight"].shape, c["stride"], c["padding"]) != expected:
        raise ValueError(f"conv {c['weight'].shape} {c['stride']} {c['padding']} vs {expected}")
    gamma, beta = a["gamma"].astype(np.float64), a["beta"].astype(np.float64)  # (out,)
    weight = c["weight"] * gamma[:, None, None, None]  # (out, in, kh, kw)
    conv.weight.copy_(torch.from_numpy(weight))
    assert conv.bias is not None
    conv.bias.copy_(torch.from_numpy(c["bias"] * gamma + beta))


def _expect(layers: Iterator[Layer], kind: str, **params: object) -> Layer:
    found, details = next(layers, ("end of file", {}))
    if found != kind or any(details.get(k) != v for k, v in params.items()):
        raise ValueError(f"expected {kind} {params}; the file has {found} {details}")
    return found, details


class DlibFaceNet(nn.Module):
    """dlib's face-recognition ResNet: (n, 3, 150, 150) RGB in [0, 1] -> (n, 128) descriptors.

    The input is float32 RGB, pixel/255, a face aligned as ``dlib.get_face_chip(img, shape, 150,
    0.25)`` aligns it. The output is dlib's ``compute_face_descriptor`` (not normalised, as
    dlib's); dlib calls two faces one person below ``SAME_PERSON_DISTANCE`` apart. Build it
    with :meth:`load`. Weights are frozen and there is no batch norm or dropout, so train and eval
    mode agree; it is differentiable with respect to its input (an identity loss).
    """

    shift: torch.Tensor  # (1, 3, 1, 1): -mean / 256

    def __init__(self) -> None:
        """The architecture with uninitialised weights; :meth:`load` fills them."""
        super().__init__()
        # dlib feeds (pixel - mean) / 256 with pixel = 255 * x.
        self.register_buffer("shift", -torch.tensor(DLIB_MEANS).view(1, 3, 1, 1) / 256)
        self.stem = _conv(3, 32, 7, 2)
        blocks: list[nn.Module] = []
        in_ch = 32
        for out_ch, down in _blocks():
            blocks.append(_Residual(in_ch, out_ch, down))
            in_ch = out_ch
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.utils.skip_init(nn.Linear, in_ch, DESCRIPTOR_DIM, bias=False)
        self.requires_grad_(False)
        self.eval()

    @classmethod
    def load(cls, path: Path | None = None) -> DlibFaceNet:
        """The network with the weights in ``path`` (default: face_recognition_models' file)."""
        path = locate_face_models() / DESCRIPTOR_FILE if path is None else Path(path)
        means, parsed = _parse_dat(path.read_bytes())
        net = cls()
        with torch.no_grad():
            net.shift.copy_(-torch.tensor(means).view(1, 3, 1, 1) / 256)  # (1, 3, 1, 1)
            layers = iter(parsed)
            _load_conv(net.stem, next(layers), next(layers))
            _expect(layers, "relu")
            _expect(layers, "max_pool", size=(3, 3), stride=(2, 2), padding=(0, 0))
            for block in net.blocks:
                assert isinstance(block, _Residual)
                _load_conv(block.conv1, next(layers), next(layers))
                _expect(layers, "relu")
                _load_conv(block.conv2, next(layers), next(layers))
                if block.down:
                    _expect(layers, "avg_pool", size=(2, 2), stride=(2, 2), padding=(0, 0))
                _expect(layers, "add_prev")
                _expect(layers, "relu")
            _expect(layers, "avg_pool", size=(0, 0))  # avg_pool_everything
            _, fc = _expect(layers, "fc")
            if fc["weight"].shape != (net.fc.in_features, net.fc.out_features):
                raise ValueError(f"fc weights {fc['weight'].shape}")
            net.fc.weight.copy_(torch.from_numpy(fc["weight"].T))  # (128, 256); dlib: x @ W
            if next(layers, None) is not None:
                raise ValueError("layers left over")
        return net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(n, 3, 150, 150) RGB in [0, 1] -> (n, 128) descriptors."""
        if x.ndim != 4 or x.shape[1:] != (3, CHIP_SIZE, CHIP_SIZE):
            raise ValueError(f"expected (n, 3, 150, 150) face chips, got {tuple(x.shape)}")
        x = x.contiguous(memory_format=torch.channels_last)  # (n, 3, 150, 150)
        x = x * (255 / 256) + self.shift  # (n, 3, 150, 150)
        x = F.relu(self.stem(x))  # (n, 32, 72, 72)
        x = F.max_pool2d(x, 3, 2)  # (n, 32, 35, 35)
        x = self.blocks(x)  # (n, 256, 2, 2): 35 -> 17 -> 8 -> 4 -> 2
        return self.fc(x.mean(dim=(2, 3)))  # (n, 128)


def chips_to_tensor(chips: np.ndarray) -> torch.Tensor:
    """(n, 150, 150, 3) or (150, 150, 3) uint8 RGB chips -> (n, 3, 150, 150) float32 in [0, 1]."""
    array = np.asarray(chips, dtype=np.uint8)
    batch = array[None] if array.ndim == 3 else array  # (n, 150, 150, 3)
    return torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2).float() / 255
