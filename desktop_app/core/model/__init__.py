"""The Model step: the pretrained bases, their weights, the classifier and its summary tree."""
