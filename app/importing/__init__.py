"""Validate and load seed files and imports: all records checked first, then written at once."""
