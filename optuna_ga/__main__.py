"""``python -m optuna_ga`` is the ``optuna-ga`` command."""

import sys

from optuna_ga.cli import main

if __name__ == "__main__":
    sys.exit(main())
