"""Training and model artifacts for the repeat-purchase model.

One module per verb: `dataset` builds the point-in-time training set from Feast, `preprocess`
encodes features, `candidates` lists the models, `evaluate` scores them, `artifact` saves and
loads what serving uses, `train` is the command that ties them together.
"""
