"""GPT-2 data tools."""
