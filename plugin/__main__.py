"""Entry point of the ``polardb-account`` plugin, outside the installed console script.

Pulumi's Python language host runs this file (``python <plugin directory> <engine address>``)
for the source plugin (``PulumiPlugin.yaml``), and ``scripts/build_plugin.py`` bundles it with
PyInstaller into the release binary ``pulumi-resource-polardb-account``.
"""

import sys

from pulumi_polardb_reset.native import main

if __name__ == "__main__":
    sys.exit(main())
