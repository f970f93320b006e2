"""What every Display shares: lazy matplotlib, image shapes, axes grids."""

import math

import numpy as np

from skdae.exceptions import InputError


def import_pyplot(caller):
    """Import matplotlib.pyplot, or say how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} needs matplotlib. Install it with: pip install 'skdae[plot]'"
        ) from exc
    return plt


def infer_image_shape(n_features, image_shape=None):
    """(height, width) of one image: given, or the square that holds n_features pixels."""
    if image_shape is not None:
        height, width = (int(v) for v in image_shape)
        if height * width != n_features:
            raise InputError(
                f"image_shape={tuple(image_shape)} holds {height * width} pixels but the "
                f"data have {n_features} features. Pass the shape of one image."
            )
        return height, width
    side = math.isqrt(n_features)
    if side * side != n_features:
        raise InputError(
            f"Cannot show {n_features} features as a square image; pass image_shape=(h, w)."
        )
    return side, side


def axes_grid(plt, n_rows, n_cols, ax, *, cell=1.2):
    """A 2-D array of axes: the given ones (reshaped), or a new figure's."""
    if ax is None:
        fig, ax = plt.subplots(
            n_rows, n_cols, figsize=(cell * n_cols, cell * n_rows + 0.3), squeeze=False
        )
        return fig, np.asarray(ax)
    ax = np.asarray(ax).reshape(n_rows, n_cols)
    return ax.flat[0].figure, ax


def show_image(ax, row, image_shape, *, cmap="gray"):
    ax.imshow(np.asarray(row).reshape(image_shape), cmap=cmap, vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
