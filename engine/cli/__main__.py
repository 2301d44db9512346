"""``python -m edgefx.cli``: the ``edgefx`` command (subprocess tests and batch workers use it)."""

from edgefx.cli.main import main

raise SystemExit(main())
