"""Data access: the Algonauts 2023 layout (real or synthetic), ROI catalogue, images."""
