"""The training engine: `trainer` (the loops), `epoch_iterator` and `data_adapters` (every
data form → device batches), `state` (where training stands: snapshot / restore), `rng`,
`compiled` (losses and metrics of a compiled model) and the callbacks `fit` installs itself
(`callback`, `history`, `progbar_logger`). It imports nothing from `models`, `callbacks` or
`saving`: the trainer works on any compiled model with the step contract."""
