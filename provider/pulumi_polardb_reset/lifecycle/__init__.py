"""Lifecycle layer: engine-agnostic check, diff and CRUD of a privileged account reset.

Every engine adapter (the dynamic provider, the native plugin, the command line) calls
this layer with typed values; it calls ``cloud`` (the PolarDB API) and ``drift`` (the SQL
check) and never imports an engine module.
"""
