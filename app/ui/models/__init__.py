"""Qt item models over cached data (bounded: the track model never loads all rows)."""
