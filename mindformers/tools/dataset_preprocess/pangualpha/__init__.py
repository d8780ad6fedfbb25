"""PanGu-Alpha data tools."""
