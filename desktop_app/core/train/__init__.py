"""The Train step: the training job, its callbacks and checkpoints, the embedding cache."""
