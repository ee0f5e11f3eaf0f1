"""投诉与回访 models (filled by its issue)."""
