"""`python -m fmnist_helpers` runs the course command line (see `fmnist_helpers.course.cli`)."""
import sys

from fmnist_helpers.course.cli import main

sys.exit(main())
