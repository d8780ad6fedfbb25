"""T5 data tools."""
