"""`python -m fmnist_helpers` runs the course command line (see `fmnist_helpers.course.cli`).

Usage:
    python -m fmnist_helpers run --profile quick
"""
import sys

from fmnist_helpers.course.cli import main

sys.exit(main())
