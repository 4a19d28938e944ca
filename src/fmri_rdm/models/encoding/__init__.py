"""The voxelwise ridge encoding model: its learner and the eigendecomposition ridge solver."""
