"""Descriptions returned as ``Bunch.DESCR``; kept apart so the loaders stay short.

The MNIST text carries the attribution that CC BY-SA 3.0 requires of anything
that redistributes MNIST, the bundled sample included.
"""

MNIST_DESCR = """\
.. _mnist_dataset:

MNIST database of handwritten digits
------------------------------------

**Data Set Characteristics:**

:Number of Instances: 70,000 (60,000 train, 10,000 test; the official split)
:Number of Attributes: 784 (28 x 28 grey-level pixels)
:Attribute Information: pixel intensity; raw values 0-255, scaled to [0, 1]
    (value / 255, float32) unless ``as_float=False``
:Target: digit 0-9 (int64)
:Creators: Yann LeCun, Corinna Cortes, Christopher J. C. Burges
:License: Creative Commons Attribution-Share Alike 3.0 (CC BY-SA 3.0)

The digits were size-normalised and centred in a 28 x 28 image. The training
set was written by about 250 writers; the writers of the training and test sets
are disjoint. Images are white digits on a black background (0 = background).

.. rubric:: References

- Y. LeCun, C. Cortes, C. J. C. Burges. The MNIST database of handwritten
  digits. http://yann.lecun.com/exdb/mnist/
- Y. LeCun, L. Bottou, Y. Bengio, P. Haffner. Gradient-based learning applied
  to document recognition. Proceedings of the IEEE, 86(11):2278-2324, 1998.
"""

SAMPLE_NOTE = """
**This is the bundled sample, not the full data set.** It holds
{n_train} training and {n_test} test images drawn from the official files without
replacement, stratified by label (per-class counts proportional to the official
class frequencies), with seed {seed}. Scores on it are not comparable with
published MNIST results. See ``skdae/datasets/data/PROVENANCE.md`` for how it was
drawn, and :func:`skdae.datasets.load_mnist` to use the full set.
"""

IDX_DESCR = """\
IDX data set loaded from {folder}

{n_train} training and {n_test} test images of {rows} x {cols} pixels, read from
the four files train-images-idx3-ubyte, train-labels-idx1-ubyte,
t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (MNIST's layout).
"""
