"""The Export step: model formats checked in their own runtimes, the model card, the lab report."""
