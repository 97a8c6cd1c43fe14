"""The static leaderboard: boards computed from committed study results (`boards`) and the offline site (`site`)."""
