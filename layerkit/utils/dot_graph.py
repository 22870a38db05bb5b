"""`DotGraph`: a DOT graph with pydot's interface that renders with or without graphviz.

Who owns what: `vis_utils.model_to_dot` fills a DotGraph with Keras's nodes, edges and
clusters; this module keeps them, writes the DOT text (`to_string`) and renders it —
through graphviz's `dot` program when it is on the PATH, else through layerkit's own
layered layout (`graph_layout`) drawn as hand-written SVG or with matplotlib
(`graph_render`). `to_pydot()` hands the same graph to pydot for users who want pydot's
own object.
"""

import functools
import shutil
import subprocess

_RAW_FORMATS = ("raw", "dot", "canon", "gv")


def graphviz_program(prog="dot"):
    """The path of graphviz's `prog` executable, or None when graphviz is not installed."""
    return shutil.which(prog)


def _quote(value):
    text = str(value)
    if text.replace("_", "").isalnum() and not text[:1].isdigit():
        return text
    if text.isdigit():
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _attr_list(attrs):
    return ", ".join(f"{k}={_quote(v)}" for k, v in attrs.items())


class DotNode:
    """One node: a name (unique in the graph) and attributes such as `label`."""

    def __init__(self, name, **attrs):
        self.name = str(name)
        self.attrs = dict(attrs)

    def get_name(self):
        return self.name

    def get(self, key):
        return self.attrs.get(key)

    def get_label(self):
        return self.attrs.get("label")

    def set(self, key, value):
        self.attrs[key] = value

    def to_string(self):
        return f"{_quote(self.name)} [{_attr_list(self.attrs)}];" if self.attrs \
            else f"{_quote(self.name)};"


class DotEdge:
    """A directed edge between two node names."""

    def __init__(self, src, dst, **attrs):
        self.src, self.dst, self.attrs = str(src), str(dst), dict(attrs)

    def get_source(self):
        return self.src

    def get_destination(self):
        return self.dst

    def to_string(self):
        extra = f" [{_attr_list(self.attrs)}]" if self.attrs else ""
        return f"{_quote(self.src)} -> {_quote(self.dst)}{extra};"


class DotGraph:
    """A digraph (or a cluster inside one) with pydot.Dot's methods.

    Args:
        graph_name: the graph's name (a cluster's name gets graphviz's `cluster_` prefix).
        cluster: True for a subgraph drawn as a box around its nodes.
        **attrs: graph attributes (`rankdir`, `dpi`, `label`, `style`, ...).

    Example:
        >>> svg = model_to_dot(model, show_shapes=True).create(prog="dot", format="svg")
    """

    def __init__(self, graph_name="G", cluster=False, **attrs):
        self.graph_name = ("cluster_" + graph_name) if cluster else graph_name
        self.cluster = cluster
        self.attrs = dict(attrs)
        self.node_defaults = {}
        self._nodes, self._edges, self._subgraphs = {}, [], []

    # ----------------------------------------------------------------- pydot's builders
    def set(self, key, value):
        self.attrs[key] = value

    def get(self, key):
        return self.attrs.get(key)

    def get_name(self):
        return self.graph_name

    def set_node_defaults(self, **attrs):
        self.node_defaults.update(attrs)

    def add_node(self, node):
        self._nodes[node.get_name()] = node

    def add_edge(self, edge):
        self._edges.append(edge)

    def add_subgraph(self, graph):
        self._subgraphs.append(graph)

    def get_nodes(self):
        return list(self._nodes.values())

    def get_node(self, name):
        """Nodes named `name` (a list, as pydot returns), searching clusters too."""
        if str(name) in self._nodes:
            return [self._nodes[str(name)]]
        for sub in self._subgraphs:
            found = sub.get_node(name)
            if found:
                return found
        return []

    def get_edges(self):
        return list(self._edges)

    def get_edge(self, src, dst):
        return [e for e in self._edges if (e.src, e.dst) == (str(src), str(dst))]

    def get_subgraphs(self):
        return list(self._subgraphs)

    get_subgraph_list = get_subgraphs

    # ----------------------------------------------------------------- text
    def to_string(self):
        """The DOT source, as pydot writes it."""
        head = f"subgraph {_quote(self.graph_name)}" if self.cluster \
            else f"digraph {_quote(self.graph_name)}"
        lines = [head + " {"]
        lines += [f"{k}={_quote(v)};" for k, v in self.attrs.items()]
        if self.node_defaults:
            lines.append(f"node [{_attr_list(self.node_defaults)}];")
        lines += [n.to_string() for n in self._nodes.values()]
        lines += [s.to_string() for s in self._subgraphs]
        lines += [e.to_string() for e in self._edges]
        return "\n".join(lines) + "\n}\n"

    def __str__(self):
        return self.to_string()

    # ----------------------------------------------------------------- rendering
    def create(self, prog=None, format="ps", encoding=None):
        """The graph rendered in `format` (bytes), like `pydot.Dot.create`.

        graphviz's `prog` renders it when installed; otherwise layerkit lays the graph out
        itself: 'svg' is hand-written, 'raw'/'dot' is the DOT text, other formats ('png',
        'pdf', 'ps', 'eps', 'jpg') are drawn with matplotlib.

        Raises:
            ImportError: a non-SVG image without graphviz or matplotlib, saying what to
                install.
        """
        source = self.to_string().encode(encoding or "utf-8")
        if format == "raw":
            return source
        executable = graphviz_program(prog or "dot")
        if executable is not None:
            result = subprocess.run([executable, f"-T{format}"], input=source,
                                    capture_output=True, check=False)
            if result.returncode == 0:
                return result.stdout
        if format in _RAW_FORMATS:
            return source
        from .graph_layout import layout
        from .graph_render import render

        return render(layout(self), format, dpi=float(self.attrs.get("dpi", 96)))

    def write(self, path, prog=None, format="raw", encoding=None):
        """Writes `create(prog, format)` to `path` (format 'raw' writes the DOT text)."""
        data = self.create(prog=prog, format=format, encoding=encoding)
        with open(path, "wb") as f:
            f.write(data)
        return True

    def to_pydot(self):
        """The same graph as a `pydot.Dot` (needs pydot)."""
        import pydot

        return _fill_pydot(self, pydot.Cluster(self.graph_name[len("cluster_"):])
                           if self.cluster else pydot.Dot(graph_name=self.graph_name),
                           pydot)


for _fmt in ("png", "svg", "pdf", "ps", "jpg", "jpeg", "raw", "dot"):
    setattr(DotGraph, f"create_{_fmt}", functools.partialmethod(DotGraph.create, format=_fmt))
    setattr(DotGraph, f"write_{_fmt}", functools.partialmethod(DotGraph.write, format=_fmt))


def _fill_pydot(graph, target, pydot):
    for key, value in graph.attrs.items():
        target.set(key, value)
    if graph.node_defaults:
        target.set_node_defaults(**graph.node_defaults)
    for node in graph.get_nodes():
        target.add_node(pydot.Node(node.name, **node.attrs))
    for sub in graph.get_subgraphs():
        target.add_subgraph(_fill_pydot(sub, pydot.Cluster(sub.graph_name[len("cluster_"):]),
                                        pydot))
    for edge in graph.get_edges():
        target.add_edge(pydot.Edge(edge.src, edge.dst, **edge.attrs))
    return target
