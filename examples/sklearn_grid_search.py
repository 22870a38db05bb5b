"""scikit-learn with Keras models: GridSearchCV over a network's settings, cross_val_score.

Chris Albon's recipes (notes 001): `create_network(optimizer='rmsprop')` returns a
compiled Dense 16-16-1 network, `KerasClassifier(build_fn=create_network, verbose=0)`
wraps it, `GridSearchCV` searches optimizers, epochs and batch sizes on
`make_classification` data, and `cross_val_score` runs 3-fold cross-validation. The grid's
scores are written to grid_search_results.csv.

    python examples/sklearn_grid_search.py            # 10,000 samples, 12-setting grid
    python examples/sklearn_grid_search.py --quick    # 300 samples, a 2-setting grid
"""

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, cross_val_score

import _example
from layerkit import layers, models
from layerkit.wrappers.scikit_learn import KerasClassifier

args = _example.setup(_example.parser(__doc__, "sklearn_grid_search"))

np.random.seed(0)
number_of_features = 100
features, target = make_classification(n_samples=300 if args.quick else 10000,
                                       n_features=number_of_features,
                                       n_informative=3,
                                       n_redundant=0,
                                       n_classes=2,
                                       weights=[.5, .5],
                                       random_state=0)


def create_network(optimizer='rmsprop'):
    network = models.Sequential()
    network.add(layers.Dense(units=16, activation='relu',
                             input_shape=(number_of_features,)))
    network.add(layers.Dense(units=16, activation='relu'))
    network.add(layers.Dense(units=1, activation='sigmoid'))
    network.compile(loss='binary_crossentropy',
                    optimizer=optimizer,
                    metrics=['accuracy'])
    return network


neural_network = KerasClassifier(build_fn=create_network, verbose=0)

epochs = [1] if args.quick else [5, 10]
batches = [100] if args.quick else [5, 10, 100]
optimizers = ['rmsprop', 'adam']
hyperparameters = dict(optimizer=optimizers, epochs=epochs, batch_size=batches)
grid = GridSearchCV(estimator=neural_network, param_grid=hyperparameters,
                    cv=2 if args.quick else None)
grid_result = grid.fit(features, target)
print('best parameters:', grid_result.best_params_)
print('best cross-validated accuracy:', grid_result.best_score_)
pd.DataFrame(grid_result.cv_results_).to_csv(_example.out(args, 'grid_search_results.csv'))


neural_network = KerasClassifier(build_fn=create_network,
                                 epochs=2 if args.quick else 10,
                                 batch_size=100,
                                 verbose=0)
scores = cross_val_score(neural_network, features, target, cv=3)
print('3-fold cross-validation accuracy:', scores)
