"""Chapter 7 — a correct variant built on numpy's sliding_window_view and einsum: im2col by a
strided view, Convolution without im2col, max pooling backward through a first-maximum mask."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv_output_size(input_size, filter_size, stride=1, pad=0):
    return (input_size - filter_size + pad * 2) // stride + 1


def _windows(x, fh, fw, stride, pad):
    """(N, C, OH, OW, FH, FW) view of every window."""
    img = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    return sliding_window_view(img, (fh, fw), axis=(2, 3))[:, :, ::stride, ::stride]


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    win = _windows(input_data, filter_h, filter_w, stride, pad)
    N, C, OH, OW = win.shape[:4]
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(N * OH * OW, C * filter_h * filter_w)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_shape
    OH = conv_output_size(H, filter_h, stride, pad)
    OW = conv_output_size(W, filter_w, stride, pad)
    blocks = col.reshape(N, OH, OW, C, filter_h, filter_w)
    img = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    for i in range(OH):
        for j in range(OW):
            img[:, :, i * stride : i * stride + filter_h, j * stride : j * stride + filter_w] += blocks[:, i, j]
    return img[:, :, pad : pad + H, pad : pad + W]


class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W = W
        self.b = b
        self.stride = stride
        self.pad = pad
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x = x
        _, _, FH, FW = self.W.shape
        win = _windows(x, FH, FW, self.stride, self.pad)
        return np.einsum("ncijyx,fcyx->nfij", win, self.W) + self.b[None, :, None, None]

    def backward(self, dout):
        _, _, FH, FW = self.W.shape
        win = _windows(self.x, FH, FW, self.stride, self.pad)
        self.dW = np.einsum("ncijyx,nfij->fcyx", win, dout)
        self.db = dout.sum(axis=(0, 2, 3))
        dwin = np.einsum("nfij,fcyx->nijcyx", dout, self.W)
        N, OH, OW = dwin.shape[:3]
        return col2im(dwin.reshape(N * OH * OW, -1), self.x.shape, FH, FW, self.stride, self.pad)


class Pooling:
    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.pad = pad

    def forward(self, x):
        self.x = x
        win = _windows(x, self.pool_h, self.pool_w, self.stride, self.pad)
        flat = win.reshape(*win.shape[:4], -1)
        first = flat.argmax(axis=-1)
        self.mask = np.arange(flat.shape[-1]) == first[..., None]  # (N, C, OH, OW, PH*PW)
        return flat.max(axis=-1)

    def backward(self, dout):
        N, C, OH, OW = dout.shape
        dflat = self.mask * dout[..., None]
        dcol = dflat.transpose(0, 2, 3, 1, 4).reshape(N * OH * OW, -1)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)
