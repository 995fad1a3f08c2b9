"""Dependency order, planning (read + diff) and applying (execute a plan)."""
