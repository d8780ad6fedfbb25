"""BLOOM data tools."""
