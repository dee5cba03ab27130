"""Widgets: reusable pieces that know nothing of the AppContext; they talk through signals."""
