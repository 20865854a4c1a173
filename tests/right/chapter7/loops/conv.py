"""Chapter 7 — a correct variant written with plain loops: window by window, no im2col in the
layers, max pooling that pads with -inf, conv_output_size via int() of a true division."""

from __future__ import annotations

import numpy as np


def conv_output_size(input_size, filter_size, stride=1, pad=0):
    return int((input_size + 2 * pad - filter_size) / stride) + 1


def _pad(x, pad, value=0.0):
    return np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], constant_values=value)


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    oh = conv_output_size(H, filter_h, stride, pad)
    ow = conv_output_size(W, filter_w, stride, pad)
    img = _pad(input_data, pad)
    col = np.empty((N * oh * ow, C * filter_h * filter_w))
    row = 0
    for n in range(N):
        for i in range(oh):
            for j in range(ow):
                col[row] = img[n, :, i * stride : i * stride + filter_h, j * stride : j * stride + filter_w].ravel()
                row += 1
    return col


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_shape
    oh = conv_output_size(H, filter_h, stride, pad)
    ow = conv_output_size(W, filter_w, stride, pad)
    img = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    row = 0
    for n in range(N):
        for i in range(oh):
            for j in range(ow):
                window = col[row].reshape(C, filter_h, filter_w)
                img[n, :, i * stride : i * stride + filter_h, j * stride : j * stride + filter_w] += window
                row += 1
    return img[:, :, pad : pad + H, pad : pad + W]


class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad
        self.dW = self.db = None

    def forward(self, x):
        self.x = x
        FN, C, FH, FW = self.W.shape
        N, _, H, W = x.shape
        oh = conv_output_size(H, FH, self.stride, self.pad)
        ow = conv_output_size(W, FW, self.stride, self.pad)
        img = _pad(x, self.pad)
        out = np.zeros((N, FN, oh, ow))
        for i in range(oh):
            for j in range(ow):
                y, z = i * self.stride, j * self.stride
                window = img[:, :, y : y + FH, z : z + FW]  # (N, C, FH, FW)
                for f in range(FN):
                    out[:, f, i, j] = np.sum(window * self.W[f], axis=(1, 2, 3)) + self.b[f]
        return out

    def backward(self, dout):
        FN, C, FH, FW = self.W.shape
        img = _pad(self.x, self.pad)
        dimg = np.zeros_like(img)
        self.dW = np.zeros_like(self.W, dtype=float)
        self.db = dout.sum(axis=(0, 2, 3))
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                y, z = i * self.stride, j * self.stride
                window = img[:, :, y : y + FH, z : z + FW]
                for f in range(FN):
                    g = dout[:, f, i, j][:, None, None, None]
                    self.dW[f] += np.sum(g * window, axis=0)
                    dimg[:, :, y : y + FH, z : z + FW] += g * self.W[f]
        H, W = self.x.shape[2:]
        return dimg[:, :, self.pad : self.pad + H, self.pad : self.pad + W]


class Pooling:
    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad

    def forward(self, x):
        self.x = x
        N, C, H, W = x.shape
        oh = conv_output_size(H, self.pool_h, self.stride, self.pad)
        ow = conv_output_size(W, self.pool_w, self.stride, self.pad)
        img = _pad(x, self.pad, -np.inf)
        out = np.empty((N, C, oh, ow))
        self.where = np.empty((N, C, oh, ow, 2), dtype=int)
        for n in range(N):
            for c in range(C):
                for i in range(oh):
                    for j in range(ow):
                        y, z = i * self.stride, j * self.stride
                        window = img[n, c, y : y + self.pool_h, z : z + self.pool_w]
                        k = int(np.argmax(window))  # first maximum in row-major order
                        out[n, c, i, j] = window.flat[k]
                        self.where[n, c, i, j] = (y + k // self.pool_w, z + k % self.pool_w)
        return out

    def backward(self, dout):
        N, C, H, W = self.x.shape
        dimg = np.zeros((N, C, H + 2 * self.pad, W + 2 * self.pad))
        for n in range(N):
            for c in range(C):
                for i in range(dout.shape[2]):
                    for j in range(dout.shape[3]):
                        y, z = self.where[n, c, i, j]
                        dimg[n, c, y, z] += dout[n, c, i, j]
        return dimg[:, :, self.pad : self.pad + H, self.pad : self.pad + W]
