"""Pure core: typed inputs and state, validation, diff decisions, privileges, errors.

No Pulumi, no network, no SQL: every engine adapter and the command line share it.
"""
