"""What reads finished runs: comparison of runs and the group level over subjects."""
