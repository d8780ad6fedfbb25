"""How much of upstream MindFormers r1.0's public API exists here: every name in the `__all__` lists of its
packages (tests/data/upstream_r1_0_public_names.json, read from the released mindformers 1.0.0 wheel) looked up
in the same package here.

    python scripts/api_coverage.py           # prints the figure per package
    python scripts/api_coverage.py --write   # also rewrites docs/api_coverage.md (the names still missing)
"""
import argparse
import importlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAMES = os.path.join(ROOT, 'tests', 'data', 'upstream_r1_0_public_names.json')
REPORT = os.path.join(ROOT, 'docs', 'api_coverage.md')


def coverage():
    """{package: (present names, missing names)} in the data file's order."""
    with open(NAMES, encoding='utf-8') as stream:
        packages = json.load(stream)['packages']
    result = {}
    for package, names in packages.items():
        try:
            module = importlib.import_module(package)
        except ImportError:
            module = None
        present = [name for name in names if module is not None and hasattr(module, name)]
        result[package] = (present, [name for name in names if name not in present])
    return result


def report(result):
    present = sum(len(p) for p, _ in result.values())
    total = sum(len(p) + len(m) for p, m in result.values())
    lines = ['# Upstream API coverage', '',
             f'Names of upstream MindFormers r1.0\'s public API (the `__all__` lists of its packages, in '
             f'`tests/data/upstream_r1_0_public_names.json`) that exist here in the same package: '
             f'**{present} of {total} ({100 * present / total:.1f} %)**. Regenerate this file with '
             f'`python scripts/api_coverage.py --write`; `tests/ut/test_api_coverage.py` checks it is current.', '',
             '| package | present | missing names |', '|---|---|---|']
    for package, (found, missing) in result.items():
        lines.append(f"| `{package}` | {len(found)}/{len(found) + len(missing)} | "
                     f"{', '.join(f'`{name}`' for name in missing) or '-'} |")
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--write', action='store_true', help=f'rewrite {os.path.relpath(REPORT, ROOT)}')
    args = parser.parse_args(argv)
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    result = coverage()
    for package, (found, missing) in result.items():
        print(f"{package:24s} {len(found):4d}/{len(found) + len(missing):4d}")
    text = report(result)
    print(text.splitlines()[2])
    if args.write:
        with open(REPORT, 'w', encoding='utf-8') as stream:
            stream.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
