"""BERT data tools (text classification so far)."""
