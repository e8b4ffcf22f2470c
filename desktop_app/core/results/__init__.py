"""The Evaluate step: metrics on the validation photos, and predictions on new ones."""
