"""Fake verl: the dataset and reward-function loading of verl's trainer (see README.md)."""
