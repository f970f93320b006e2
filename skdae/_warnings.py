"""Warnings that point at the user's line, however deep inside skdae they are raised."""

import os
import sys
import warnings

import sklearn

# Frames in these folders are library code: a warning skips them to reach the caller's
# line (a Pipeline's or a search's fit included), whatever the call chain in between.
_LIBRARY_FOLDERS = tuple(
    os.path.dirname(module.__file__) + os.sep
    for module in (sys.modules[__name__.split(".")[0]], sklearn)
)


def warn(message, category):
    """``warnings.warn(message, category)`` attributed to the first frame outside skdae
    and scikit-learn: the line of the user's code that called into them."""
    level = 2  # the caller of warn()
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARY_FOLDERS):
        frame = frame.f_back
        level += 1
    if frame is None:  # called from library code alone (a thread's target, say)
        level = 2
    warnings.warn(message, category, stacklevel=level)
