"""Context setup."""
from .build_context import build_context, init_context, build_profile_cb

__all__ = ['build_context', 'init_context', 'build_profile_cb']
