import sys

from repsense.core.cli import main

sys.exit(main())
