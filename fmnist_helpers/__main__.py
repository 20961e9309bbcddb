"""`python -m fmnist_helpers` runs the course command line (see `fmnist_helpers.cli`)."""
import sys

from .cli import main

sys.exit(main())
