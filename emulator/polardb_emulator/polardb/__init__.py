"""The PolarDB 2017-08-01 API: its model, actions (``responses``), errors, tasks and databases.

``responses`` maps request parameters to :class:`~.service.Service` calls and renders the
SDK's documents; ``service`` holds the rules of the actions, ``tasks`` the asynchronous
tasks, ``backend`` and ``mariadb`` the accounts' databases, ``models`` ties them together
with the seed and state file; ``exceptions`` holds the service's error codes.
"""
