"""The entry points (train, predict) and the error wrapper they share."""
