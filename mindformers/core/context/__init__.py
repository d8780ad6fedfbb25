"""Context setup."""
from .build_context import build_context, init_context

__all__ = ['build_context', 'init_context']
