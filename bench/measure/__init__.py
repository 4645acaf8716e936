"""The measurements, one module per measured area: each `measure_*(seeded, results)` adds its
entries to `results`."""
