"""Engine adapter: the Pulumi dynamic provider, its resource class, targets from config,
sharding across provider processes, and the one module that adapts to Pulumi's host."""
