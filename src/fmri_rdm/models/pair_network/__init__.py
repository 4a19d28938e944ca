"""The pair networks (mlp, siamese, siamese_cnn): the learner, the Lightning module, losses, the
datamodule and blocks plan, the voxel read-out; the networks in `nets/` and the fixed base
predictions (priors) in `priors/`."""
