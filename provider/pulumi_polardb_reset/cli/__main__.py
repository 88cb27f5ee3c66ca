"""``python -m pulumi_polardb_reset.cli``: the same as the ``polardb-reset`` console script."""

from ._app import main

main()
