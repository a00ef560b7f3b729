"""Sweeps, aggregation and generated leaderboard tables (issue 8)."""
