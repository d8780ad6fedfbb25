"""re_match_list: does a name match any of a list of regular expressions."""
import re


def re_match_list(name, patterns):
    """True when `re.match(pattern, name)` succeeds for one of `patterns` (a string or a list of strings)."""
    if not patterns:
        return False
    if isinstance(patterns, str):
        patterns = [patterns]
    return any(re.match(pattern, name) for pattern in patterns)
