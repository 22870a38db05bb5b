"""Running Keras code that cannot be edited: the opt-in `keras` alias and `layerkit run`.

- `keras_alias.py`: a `sys.meta_path` finder that makes `import keras` and
  `tensorflow.keras` resolve to layerkit's own modules; off until `install()`,
  `layerkit run` or `%load_ext layerkit` turns it on.
- `runner.py`: executes a script or a Jupyter notebook with the alias on.
- `notebook.py`: reads `.ipynb` cells and turns IPython syntax (`%magic`, `!shell`) into
  plain Python.
"""
