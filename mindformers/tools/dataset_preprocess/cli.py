"""What the data tools share as command-line programs: one-line errors, exit code 2."""
import argparse
import sys

from mindformers.tools.errors import MindFormerError


class OneLineArgumentParser(argparse.ArgumentParser):
    """Reports a bad command line as one line (no usage block) and exits with code 2."""

    def error(self, message):
        self.exit(2, f'{self.prog}: error: {message}\n')


def run_cli(prog, main, argv=None):
    """Run `main(argv)`; a project error (bad input) becomes '<prog>: error: ...' on stderr and exit code 2."""
    try:
        return main(argv)
    except MindFormerError as err:
        print(f"{prog}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
