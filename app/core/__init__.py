"""Vocabulary shared by every layer: dataclasses, errors, ports, filters, progress, settings. stdlib only."""
