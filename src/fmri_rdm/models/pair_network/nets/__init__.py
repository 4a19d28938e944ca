"""The torch pair networks; their constructor arguments are `model.net`."""
