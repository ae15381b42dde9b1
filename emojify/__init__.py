"""Emojify: live emotion recognition with emoji, as a library (see docs/ARCHITECTURE.md)."""
