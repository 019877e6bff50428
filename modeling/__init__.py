"""Training and model artifacts for the repeat-purchase model.

One module per verb: `dataset` builds the point-in-time training set from Feast, `preprocess`
encodes features, `candidates` lists, fits and calibrates the models, `bgnbd` is the BG/NBD
baseline, `evaluate` scores them (overall and per slice), `crossval` compares them over
as-of-date folds, `report` writes report.html, `artifact` saves and loads what serving uses,
`train` is the command that ties them together.
"""
