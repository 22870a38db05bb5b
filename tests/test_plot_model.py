"""plot_model / model_to_dot (notes 001, 002): Keras's DOT graph, with and without graphviz."""

import re
import sys
import time

import pytest
from PIL import Image

from layerkit import Input, Model, layers, models
from layerkit.utils import dot_graph, model_to_dot, plot_model
from layerkit.utils import vis_utils
from layerkit.utils.graph_layout import CHAR_W, PAD_X, layout


@pytest.fixture
def no_graphviz(monkeypatch):
    """A fresh machine: no `dot` program and no pydot."""
    monkeypatch.setattr(dot_graph, "graphviz_program", lambda prog="dot": None)
    monkeypatch.setitem(sys.modules, "pydot", None)


def _notes_mlp():
    network = models.Sequential()
    network.add(layers.Dense(units=16, activation="relu", input_shape=(10,)))
    network.add(layers.Dense(units=16, activation="relu"))
    network.add(layers.Dense(units=1, activation="sigmoid"))
    return network


def _mnist_cnn():
    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Flatten())
    model.add(layers.Dense(64, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    return model


def _multi_input():
    title, body = Input(shape=(8,), name="title"), Input(shape=(4,), name="body")
    tags = Input(shape=(3,), name="tags")
    merged = layers.concatenate([layers.Dense(16, activation="relu")(title),
                                 layers.Dense(16, activation="relu")(body), tags])
    priority = layers.Dense(1, activation="sigmoid", name="priority")(merged)
    department = layers.Dense(5, activation="softmax", name="department")(merged)
    skip = layers.Add(name="skip")([layers.Dense(1, name="shortcut")(title), priority])
    return Model([title, body, tags], [skip, department])


def _nested():
    inner_in = Input(shape=(16,))
    hidden = layers.Dense(8, name="enc_hidden")(inner_in)
    encoder = Model(inner_in, layers.Dense(4, name="enc_code")(hidden), name="encoder")
    outer_in = Input(shape=(16,), name="features")
    return Model(outer_in, layers.Dense(1, name="head")(encoder(outer_in)), name="outer")


def _deep(n=100):
    return models.Sequential([layers.Dense(8, activation="relu", input_shape=(8,))]
                             + [layers.Dense(8, activation="relu") for _ in range(n - 1)])


def _labels(dot):
    """Node labels, clusters included (pydot lists node defaults as a node named 'node')."""
    found = [n.get_label().strip('"') for n in dot.get_nodes()
             if n.get_name() not in ("node", "edge", "graph")]
    for sub in dot.get_subgraphs():
        found += _labels(sub)
    return found


def _assert_readable(dot):
    """Boxes apart, every line of text inside its cell, arrows from a box to a box."""
    scene = layout(dot)
    rects = [(min(c[0] for c in cells), min(c[1] for c in cells),
              max(c[0] + c[2] for c in cells), max(c[1] + c[3] for c in cells))
             for _, cells in scene.boxes]
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
        assert 0 <= a[0] and a[2] <= scene.width and 0 <= a[1] and a[3] <= scene.height
    for _, cells in scene.boxes:
        for x, y, w, h, lines in cells:
            assert max(len(line) for line in lines) * CHAR_W + 2 * PAD_X <= w + 1e-6
    def on_border(x, y, r, eps=1e-6):
        inside = r[0] - eps <= x <= r[2] + eps and r[1] - eps <= y <= r[3] + eps
        return inside and min(abs(x - r[0]), abs(x - r[2]), abs(y - r[1]), abs(y - r[3])) < eps

    for points in scene.edges:
        assert len(points) >= 2 and any(on_border(*points[-1], r) for r in rects)
        assert any(on_border(*points[0], r) for r in rects)
    return scene


NOTES_MLP_LABELS = [
    "dense_input: InputLayer\n|{input:|output:}|{{[(None, 10)]}|{[(None, 10)]}}",
    "dense: Dense\n|{input:|output:}|{{(None, 10)}|{(None, 16)}}",
    "dense_1: Dense\n|{input:|output:}|{{(None, 16)}|{(None, 16)}}",
    "dense_2: Dense\n|{input:|output:}|{{(None, 16)}|{(None, 1)}}",
]


def test_notes_svg_line_works_without_graphviz(no_graphviz):
    network = _notes_mlp()
    dot = model_to_dot(network, show_shapes=True)
    assert isinstance(dot, dot_graph.DotGraph)
    assert _labels(dot) == NOTES_MLP_LABELS
    assert len(dot.get_edges()) == 3
    svg = dot.create(prog="dot", format="svg").decode()
    assert svg.startswith("<?xml") and svg.count('class="node"') == 4
    for text in ("dense_input: InputLayer", "dense_2: Dense", "(None, 16)", "output:"):
        assert f">{text}</text>" in svg
    assert "node [shape=record];" in dot.to_string() and "rankdir=TB;" in dot.to_string()
    _assert_readable(dot)


def test_notes_plot_model_png_without_graphviz(no_graphviz, tmp_path):
    plot_model(_notes_mlp(), show_shapes=True, to_file=str(tmp_path / "network.png"))
    with Image.open(tmp_path / "network.png") as image:
        assert image.format == "PNG"
        width, height = image.size
    assert 300 < width < 700 and 300 < height < 700  # 4 boxes stacked, 96 dpi
    plot_model(_notes_mlp(), to_file=str(tmp_path / "small.png"), dpi=48)
    with Image.open(tmp_path / "small.png") as image:
        assert image.size[1] < height / 2  # no shapes and half the dpi


@pytest.mark.parametrize("suffix,magic", [("png", b"\x89PNG"), ("pdf", b"%PDF"),
                                          ("svg", b"<?xml"), ("dot", b"digraph")])
def test_mnist_cnn_every_format_without_graphviz(no_graphviz, tmp_path, suffix, magic):
    path = tmp_path / f"model.{suffix}"
    plot_model(_mnist_cnn(), to_file=path, show_shapes=True)
    assert path.read_bytes().startswith(magic)


def test_multi_input_graph_and_layout(no_graphviz, tmp_path):
    model = _multi_input()
    dot = model_to_dot(model, show_shapes=True)
    names = {n.get_name(): n.get_label().split(":")[0] for n in dot.get_nodes()}
    edges = {(names[e.get_source()], names[e.get_destination()]) for e in dot.get_edges()}
    assert ("title", "shortcut") in edges and ("tags", "concatenate") in edges
    assert ("priority", "skip") in edges and ("shortcut", "skip") in edges
    assert len(edges) == 10
    concat = [l for l in _labels(dot) if l.startswith("concatenate")][0]
    assert "{{[(None, 16), (None, 16), (None, 3)]}|{(None, 35)}}" in concat
    for rankdir in ("TB", "LR", "BT", "RL"):
        _assert_readable(model_to_dot(model, show_shapes=True, rankdir=rankdir))
    plot_model(model, to_file=tmp_path / "multi.png", show_shapes=True, rankdir="LR")
    with Image.open(tmp_path / "multi.png") as image:
        assert image.size[0] > image.size[1]  # left to right: wider than tall


def test_nested_model_as_cluster(no_graphviz, tmp_path):
    model = _nested()
    flat = model_to_dot(model)
    assert [l.split(":")[0] for l in _labels(flat)] == ["features", "encoder", "head"]
    assert _labels(flat)[1] == "encoder: Functional"
    dot = model_to_dot(model, expand_nested=True, show_shapes=True)
    (cluster,) = dot.get_subgraphs()
    assert cluster.get_name() == "cluster_encoder" and cluster.get("style") == "dashed"
    inner = [n.get_name() for n in cluster.get_nodes()]
    assert len(inner) == 3 and len(cluster.get_edges()) == 2
    ends = {(e.get_source(), e.get_destination()) for e in dot.get_edges()}
    assert any(dst == inner[0] for _, dst in ends) and any(src == inner[-1] for src, _ in ends)
    scene = _assert_readable(dot)
    ((x, y, w, h, label),) = scene.clusters
    assert label == "encoder"
    for name, cells in scene.boxes:  # the encoder's layers lie inside its box
        inside = x <= cells[0][0] and cells[-1][0] + cells[-1][2] <= x + w \
            and y < cells[0][1] and cells[-1][1] + cells[-1][3] <= y + h
        assert inside == (name in inner)
    plot_model(model, to_file=tmp_path / "nested.svg", expand_nested=True)
    svg = (tmp_path / "nested.svg").read_text()
    assert 'class="cluster"' in svg and ">enc_code: Dense</text>" in svg


def test_hundred_layers_under_two_seconds(no_graphviz, tmp_path):
    model = _deep(100)
    start = time.perf_counter()
    plot_model(model, to_file=tmp_path / "deep.png", show_shapes=True)
    assert time.perf_counter() - start < 2.0
    with Image.open(tmp_path / "deep.png") as image:
        assert image.size[1] > 20 * image.size[0]  # one straight column
    assert len(model_to_dot(model).get_nodes()) == 101


def test_label_options_follow_tf_keras():
    network = _notes_mlp()
    network.layers[0].trainable = False
    labels = _labels(model_to_dot(network, show_dtype=True, show_layer_activations=True,
                                  show_trainable=True))
    assert labels[1] == "{{dense: Dense|relu}|float32|NT}"
    assert labels[3] == "{{dense_2: Dense|sigmoid}|float32|T}"
    assert _labels(model_to_dot(network, show_layer_names=False))[1] == "Dense"
    ranged = model_to_dot(network, layer_range=["dense_1", "dense_2"])
    assert [l.split(":")[0] for l in _labels(ranged)] == ["dense_1", "dense_2"]
    assert len(ranged.get_edges()) == 1
    with pytest.raises(ValueError, match="does not match the layer names"):
        model_to_dot(network, layer_range=["conv", "dense_2"])


def test_unbuilt_model_raises_with_advice():
    with pytest.raises(ValueError, match="has not yet been built"):
        plot_model(models.Sequential([layers.Dense(2)]))


def test_dot_graph_writers(no_graphviz, tmp_path):
    dot = model_to_dot(_notes_mlp())
    dot.write_svg(str(tmp_path / "a.svg"))
    dot.write_png(str(tmp_path / "a.png"))
    dot.write(str(tmp_path / "a.dot"))
    assert (tmp_path / "a.dot").read_text() == dot.to_string()
    assert dot.create_png().startswith(b"\x89PNG")
    assert re.search(r"\d+ -> \d+;", dot.to_string())


@pytest.mark.skipif(dot_graph.graphviz_program("dot") is None,
                    reason="graphviz is not installed (.ci/run installs Debian's graphviz)")
def test_with_graphviz_renders_the_same_graph(tmp_path, monkeypatch):
    network = _notes_mlp()
    dot = model_to_dot(network, show_shapes=True)
    try:
        import pydot
    except ImportError:
        assert isinstance(dot, dot_graph.DotGraph)
    else:
        assert isinstance(dot, pydot.Dot)
        assert _labels(dot) == NOTES_MLP_LABELS
    assert b"Generated by graphviz" in dot.create(prog="dot", format="svg")
    plot_model(_nested(), to_file=str(tmp_path / "nested.png"), expand_nested=True,
               show_shapes=True)
    with Image.open(tmp_path / "nested.png") as image:
        assert image.format == "PNG" and image.size[1] > image.size[0]
    monkeypatch.setitem(sys.modules, "pydot", None)  # graphviz alone renders our DotGraph
    own = model_to_dot(_multi_input(), show_shapes=True)
    assert isinstance(own, dot_graph.DotGraph)
    assert b"Generated by graphviz" in own.create(prog="dot", format="svg")
    assert vis_utils.model_to_dot is model_to_dot
