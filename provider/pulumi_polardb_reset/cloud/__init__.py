"""Cloud layer: the one place that talks to the PolarDB API (client, transport, retries,
pacing, and the reset workflow)."""
