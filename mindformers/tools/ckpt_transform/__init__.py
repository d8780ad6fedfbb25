"""Checkpoint split and merge across parallel layouts on CPU: strategy files and MindSpore's transform API."""
