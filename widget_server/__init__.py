"""Openline: a self-hosted website live chat."""

__version__ = "0.1.0"
