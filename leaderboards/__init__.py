"""Static leaderboard site builder (reads run records under results/)."""
