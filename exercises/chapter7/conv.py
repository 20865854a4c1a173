"""Chapter 7 — convolutional networks: im2col, convolution and max-pooling layers.

Read: *Deep Learning from Scratch*, chapter 7 "Convolutional Neural Networks" — §7.2 the
convolution layer (§7.2.3 padding, §7.2.4 stride), §7.3 the pooling layer and §7.4 implementing
them (§7.4.3 im2col). Also the course lecture "深度学习与神经网络", section 4.2.2 卷积神经网络组成
(kernels, zero padding, stride and the output size). Its `numpy_conv` snippet has syntax slips (a
`def` line without its colon, `w` where it means `W`): read it for the idea, do not copy it.

Check your work:  grade check chapter7
Stuck?            grade hint chapter7.im2col   (add --lang zh for Chinese)

Conventions the grader checks (the book's):
- data is 4-D, (N, C, H, W): batch, channels, height, width; filters are (FN, C, FH, FW);
- conv_output_size returns an int: (input + 2*pad - filter) // stride + 1;
- im2col rows are ordered (n, out_y, out_x) and its columns (c, fh, fw);
- col2im adds overlapping windows together (it is im2col run backwards, for gradients);
- Convolution does not flip the kernel (it is the cross-correlation every DL library calls
  convolution), adds one bias per filter, and keeps dW and db after backward;
- Pooling is max pooling; backward sends each window's gradient to its (first) maximum only.
You may import your own functions from this file's folder, and numpy.
"""

from __future__ import annotations

import numpy as np


def conv_output_size(input_size: int, filter_size: int, stride: int = 1, pad: int = 0) -> int:
    """The output height (or width) of a convolution or pooling window sliding over an input.

    out = (input_size + 2*pad - filter_size) // stride + 1     (rounded down)

    Why: padding adds `pad` cells on both sides, the filter must fit inside, and it moves
    `stride` cells at a time; a last step that would leave the input is not taken.

    Shapes: all arguments are ints; returns a Python int.

    Example:
        >>> conv_output_size(4, 3, stride=1, pad=1)   # note 002: n=4, p=1, f=3, s=1 keeps 4x4
        4
        >>> conv_output_size(7, 3, stride=2)
        3
    """
    # TODO: apply the formula above with integer division.
    raise NotImplementedError


def im2col(input_data: np.ndarray, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """Unroll every filter-sized window of a batch of images into one row of a 2-D matrix.

    col[row, column] with row = (n, out_y, out_x) and column = (c, fh, fw), both in C order:
    col[(n*OH + i)*OW + j, (c*FH + y)*FW + x] = padded[n, c, i*stride + y, j*stride + x]
    where padded is input_data with `pad` zeros on each side of H and W.

    Why: once the windows are rows, a whole convolution is a single matrix product with the
    filters laid out as columns, which numpy does fast (book 7.4.2).

    Shapes: input_data (N, C, H, W) -> (N*OH*OW, C*filter_h*filter_w),
    OH = conv_output_size(H, filter_h, stride, pad), OW likewise with W and filter_w.

    Example:
        >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
        >>> im2col(x, 2, 2)
        array([[0., 1., 3., 4.],
               [1., 2., 4., 5.],
               [3., 4., 6., 7.],
               [4., 5., 7., 8.]])
    """
    # TODO: pad, gather each (y, x) filter position for all windows at once, then transpose and reshape.
    raise NotImplementedError


def col2im(
    col: np.ndarray, input_shape: tuple, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0
) -> np.ndarray:
    """The reverse of im2col: scatter each row back onto its window and add where windows overlap.

    img = zeros of the padded shape; for every row r = (n, out_y, out_x) and column (c, fh, fw):
    img[n, c, out_y*stride + fh, out_x*stride + fw] += col[r, (c, fh, fw)];  return img without the padding

    Why: a pixel that sits in several windows contributed to several outputs, so its gradient
    is the sum of what flows back through each of them (overwriting would lose all but one).

    Shapes: col (N*OH*OW, C*filter_h*filter_w), input_shape = (N, C, H, W) -> (N, C, H, W).

    Example:
        >>> col2im(np.ones((4, 4)), (1, 1, 3, 3), 2, 2)[0, 0]   # how many windows cover each pixel
        array([[1., 2., 1.],
               [2., 4., 2.],
               [1., 2., 1.]])
    """
    # TODO: reshape col back to (N, OH, OW, C, FH, FW), then add each filter position into a zero image.
    raise NotImplementedError


class Convolution:
    """A convolution layer: every filter slides over the input; out = sum(window * filter) + bias.

    out[n, f, i, j] = sum over c, y, x of padded[n, c, i*stride + y, j*stride + x] * W[f, c, y, x] + b[f]
    (no kernel flip). With im2col: out = im2col(x) @ W.reshape(FN, -1).T + b, reshaped back to 4-D.

    Why: the same small filter (shared weights) is applied at every position, so a pattern is
    found wherever it appears, with far fewer parameters than a fully connected layer.

    Shapes: W (FN, C, FH, FW), b (FN,); forward x (N, C, H, W) -> (N, FN, OH, OW);
    backward dout (N, FN, OH, OW) -> dx (N, C, H, W), and sets self.dW (FN, C, FH, FW), self.db (FN,).

    Example:
        >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
        >>> W = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])   # x[i, j] - x[i+1, j+1]
        >>> Convolution(W, np.array([0.5])).forward(x)
        array([[[[-3.5, -3.5],
                 [-3.5, -3.5]]]])
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0) -> None:
        self.W = W
        self.b = b
        self.stride = stride
        self.pad = pad
        self.dW = None  # set by backward
        self.db = None  # set by backward

    def forward(self, x: np.ndarray) -> np.ndarray:
        """out = im2col(x) @ W.reshape(FN, -1).T + b, reshaped to (N, OH, OW, FN) and transposed to
        (N, FN, OH, OW). Keep what backward needs (x, the im2col matrix, the reshaped W)."""
        # TODO: im2col, one matrix product plus the bias, reshape, transpose (0, 3, 1, 2).
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """With dout as rows (N*OH*OW, FN): db = sum over the rows, dW = (col.T @ dout).T reshaped to
        (FN, C, FH, FW), dcol = dout @ W.reshape(FN, -1); dx = col2im(dcol, x.shape, FH, FW, stride, pad)."""
        # TODO: undo forward's transpose, then compute self.db, self.dW and dx as above.
        raise NotImplementedError


class Pooling:
    """Max pooling: each (pool_h, pool_w) window, moved `stride` cells at a time, keeps its maximum.

    out[n, c, i, j] = max over y < pool_h, x < pool_w of padded[n, c, i*stride + y, j*stride + x]
    (padding, if any, adds zeros, as im2col does). Channels are pooled separately.

    Why: pooling shrinks height and width, has nothing to learn, keeps the channel count and
    tolerates small shifts of the input (book 7.3). The gradient flows back only through the
    element that was the maximum (the first one, if a window has ties), like a ReLU switch.

    Shapes: forward x (N, C, H, W) -> (N, C, OH, OW); backward dout (N, C, OH, OW) -> dx (N, C, H, W).

    Example:
        >>> x = np.array([[[[1.0, 2.0, 5.0, 0.0],
        ...                 [3.0, 4.0, 1.0, 1.0],
        ...                 [0.0, 0.0, 2.0, 2.0],
        ...                 [9.0, 0.0, 2.0, 3.0]]]])
        >>> Pooling(2, 2).forward(x)
        array([[[[4., 5.],
                 [9., 3.]]]])
    """

    def __init__(self, pool_h: int, pool_w: int, stride: int = 2, pad: int = 0) -> None:
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.pad = pad

    def forward(self, x: np.ndarray) -> np.ndarray:
        """im2col, then one row per (n, out_y, out_x, c) window: reshape to (-1, pool_h*pool_w), take
        the max of each row (remember where it was), reshape to (N, OH, OW, C), transpose to 4-D."""
        # TODO: im2col + reshape, np.argmax / np.max along axis 1, reshape, transpose (0, 3, 1, 2).
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Put each dout value at its window's argmax in a zero matrix of shape (windows, pool_h*pool_w),
        reshape it like im2col's output and col2im it back to x's shape."""
        # TODO: route dout to the remembered maxima, then col2im.
        raise NotImplementedError
