"""Where each weight lives in Keras files: Keras 3's object paths and tf.keras 2.x's names.

Who owns what: this module maps a layerkit model onto the two Keras weight layouts; the
format modules only read and write the arrays it lists.

- Keras 3 (`.keras`, `.weights.h5`): `layers/<snake_case class name, numbered _1, _2 in
  model.layers order>/vars/<i>`; recurrent layers keep their weights in `.../cell/vars`,
  Bidirectional in `forward_layer/...` and `backward_layer/...`, TimeDistributed in
  `layer/...`; nested models recurse through their own `layers`.
- tf.keras 2.x (`.h5`): one group per layer name, weight names `<layer>/<weight>:0`.
"""

import re

from ..utils.serialization import is_graph_model


def keras_snake_case(name):
    """Keras 3's `naming.to_snake_case` (the rule behind its weight paths)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _kind(layer):
    if is_graph_model(layer):
        return "model"
    names = {klass.__name__ for klass in type(layer).__mro__}
    if "BaseRNN" in names:
        return "rnn"
    if "Bidirectional" in names:
        return "bidirectional"
    if "TimeDistributed" in names:
        return "wrapper"
    return "plain"


def keras3_tree(model, owners=None):
    """Returns `{path: [parameters]}` for every object Keras 3 saves, the model at ''.

    Args:
        model: a Sequential or Functional model.
        owners: optional dict, filled with `{path: the layer owning those weights}`.

    Returns:
        An insertion-ordered dict; every path's list may be empty (Keras writes those too).
    """
    tree = {}
    _walk(model, "", tree, {} if owners is None else owners)
    return tree


def _join(path, name):
    return f"{path}/{name}" if path else name


def _walk(layer, path, tree, owners):
    kind = _kind(layer)
    owners[path] = layer
    if kind == "plain":
        tree[path] = layer.ordered_weights()
        return
    tree[path] = []
    if kind == "model":
        used = {}
        for child in layer.layers:
            base = keras_snake_case(type(child).__name__)
            count = used.get(base)
            used[base] = 0 if count is None else count + 1
            name = base if count is None else f"{base}_{count + 1}"
            _walk(child, _join(_join(path, "layers"), name), tree, owners)
    elif kind == "rnn":
        tree[_join(path, "cell")] = layer.ordered_weights()
        owners[_join(path, "cell")] = layer
    elif kind == "bidirectional":
        _walk(layer.backward_layer, _join(path, "backward_layer"), tree, owners)
        _walk(layer.forward_layer, _join(path, "forward_layer"), tree, owners)
    else:
        _walk(layer.layer, _join(path, "layer"), tree, owners)


def legacy_layers(model):
    """`[(layer name, [(weight name, parameter)])]` in tf.keras 2.x's h5 layout.

    Weight names are `<layer>/<attribute path>:0` (`lstm/kernel:0`,
    `bidirectional/forward_layer/kernel:0`); loaders match by position, as Keras does.
    """
    out = []
    for layer in model.layers:
        names = {id(p): n for n, p in layer.named_parameters()}
        weights = [(f"{layer.name}/{names.get(id(p), 'weight').replace('.', '/')}:0", p)
                   for p in layer.ordered_weights()]
        out.append((layer.name, weights))
    return out


def parameter_names(model):
    """`{id(param): 'dense_kernel'}` for the optimizer's Keras-style slot names."""
    names = {}
    for layer in model.layers:
        for name, param in layer.named_parameters():
            names[id(param)] = f"{layer.name}_{name.replace('.', '_')}"
    return names
