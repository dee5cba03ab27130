"""The headless command line: one module per command group over the services; ``main.py`` parses and dispatches."""
