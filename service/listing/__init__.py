"""Shared list machinery; each module does one job (see the README code map)."""
