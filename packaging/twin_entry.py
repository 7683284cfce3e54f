"""The frozen bundle's entry point: the ``twin`` command line, as installed by pip."""

import sys

from twin.cli import main

if __name__ == "__main__":
    sys.exit(main())
