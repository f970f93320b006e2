"""The single version string of skdae."""

__version__ = "0.3.1"
