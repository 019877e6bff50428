"""spark-submit's entry point for the backfill: ``spark-submit … backfill_submit.py --start …``.

spark-submit runs a *file*. Run from inside the package, ``backfill/__main__.py`` would put
``backfill/`` itself first on sys.path, where ``backfill/calendar.py`` shadows the standard
library's ``calendar`` (pyspark imports it) and ``backfill`` itself is not importable. From
the repository root the package imports as a package, and the driver finds the files it reads
beside it (the dbt seeds and the marts' yml); the executors get the code from --py-files.
"""

import sys

from backfill.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
