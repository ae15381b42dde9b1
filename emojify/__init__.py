"""Emojify: live emotion recognition with emoji, as a library (see docs/ARCHITECTURE.md)."""
from emojify.config import VERSION as __version__  # config imports nothing but pathlib: safe before preflight

__all__ = ["__version__"]
