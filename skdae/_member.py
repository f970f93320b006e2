"""The member protocol: everything a member of the autoencoder family supplies, in one
place.

:class:`~skdae._base.BaseAutoencoder` implements fitting, inference, persistence,
rollback and the command line's needs once, for any network. A member (the dense
:class:`~skdae.DenoisingAutoencoder`, the convolutional
:class:`~skdae.ConvDenoisingAutoencoder`, a third one) subclasses it, declares its
parameters (``__init__`` and ``_parameter_constraints``) and fills in this interface, and
nothing else: ``_base.py`` and ``_persistence.py`` ask a member only what is declared
here. The abstract parts must be given (a class that lacks one cannot be instantiated,
and the error names it); the rest have defaults that fit a member with nothing to say.

The network a builder returns is a ``torch.nn.Module`` with ``forward`` (the
reconstruction), ``logits`` (the reconstruction before the output activation, which
the BCE loss takes), ``encode`` and ``decode``, and an ``output_activation`` module;
optionally ``dense_layers()`` for the hand-written training step (see
``skdae._dense_step``).
"""

from abc import ABC, abstractmethod


class AutoencoderMember(ABC):
    """The hooks a member of the family supplies; see the module docstring."""

    @abstractmethod
    def _make_architecture(self, n_features, *, warn):
        """The description the network is built from, for data of ``n_features``
        columns: a dict of JSON values (it is saved in model files), ``n_features``
        included, checked against the parameters (errors are
        :class:`~skdae.exceptions.InputError`). ``warn`` is True at the first fit only
        (the place for warnings about the parameters, such as an overcomplete code)."""

    @staticmethod
    @abstractmethod
    def _network_builder(*, generator=None, **architecture):
        """The network for ``architecture``, with its weights drawn from ``generator``
        (build it on the meta device and give it weights with
        :func:`skdae._network.init_glorot`, so that torch's global generator is never
        used). Also builds networks only to check a model file's tensors."""

    @staticmethod
    @abstractmethod
    def _parameter_count(**architecture):
        """The number of parameters the network of ``architecture`` has, from its sizes
        alone (checked before anything is built or a file's tensors are read)."""

    @staticmethod
    def _code_width_of(latent_dim, **_):
        """The width of the codes (``transform``'s output) of a network of this
        architecture; a member whose codes are not ``latent_dim`` wide overrides it."""
        return latent_dim

    # Integer parameters that a bool would silently satisfy (refused at fit and load).
    _count_parameters: tuple = ()
    # Parameters that hold a tuple (a model file stores them as JSON lists).
    _tuple_parameters: tuple = ()
    # Compatibility with files and pickles of skdae 0.1 to 0.3 (see _persistence):
    # parameters they lack, with the values that reproduce how they were trained, and
    # architecture entries they lack (the network's default stands in).
    _parameters_of_old_models: dict = {}
    _architecture_entries_added: tuple = ()
