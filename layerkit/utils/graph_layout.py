"""A layered (Sugiyama-style) layout of a `DotGraph`, for machines without graphviz.

Steps, as graphviz's `dot` does them in spirit: ranks by longest path from the sources,
dummy nodes on edges that skip ranks, barycenter sweeps to reduce crossings, then
coordinates by repeated least-squares alignment with each rank's neighbours under
no-overlap constraints. A cluster (a nested model with `expand_nested`) is laid out on its
own first and then placed as one block, so its box never overlaps other nodes.

Coordinates are computed on an abstract (order, rank) plane and mapped to the page by
`rankdir` at the end. Units are points (1/72 inch). Text is measured for a monospace font
(advance 0.6 em) because the SVG is written by hand with no font metrics at hand; a
monospace face renders at that width in every viewer.
"""

FONT_SIZE = 11.0
CHAR_W = 0.602 * FONT_SIZE  # DejaVu Sans Mono's advance width
LINE_H = 1.3 * FONT_SIZE
PAD_X, PAD_Y = 7.0, 5.0
NODE_SEP, RANK_SEP = 18.0, 34.0
CLUSTER_PAD = 10.0
MARGIN = 8.0
_SWEEPS = 6


class Scene:
    """What to draw, in page points: `boxes` (name, cells), `clusters`, `edges`."""

    def __init__(self, width, height, boxes, clusters, edges):
        self.width, self.height = width, height
        self.boxes = boxes          # [(name, [(x, y, w, h, lines), ...])]
        self.clusters = clusters    # [(x, y, w, h, label)]
        self.edges = edges          # [[(x, y), ...]] ending at the arrow's tip


def layout(graph):
    """Lays out `graph` (a DotGraph) and returns a Scene in page coordinates."""
    rankdir = str(graph.get("rankdir") or "TB").upper()
    across = rankdir in ("TB", "BT")  # records read left to right when ranks go down
    block = _layout_block(graph, rankdir, across)
    size_o, size_r = block.size
    to_page = _page_mapping(rankdir, size_r)
    boxes = []
    for name, (o, r, so, sr, record) in block.leaves.items():
        x, y, w, h = _page_rect(to_page, o, r, so, sr)
        boxes.append((name, _cells(record, x + MARGIN, y + MARGIN, w, h, across)))
    clusters = []
    for o, r, so, sr, label in block.clusters:
        x, y, w, h = _page_rect(to_page, o, r, so, sr)
        clusters.append((x + MARGIN, y + MARGIN, w, h, label))
    edges = [[tuple(c + MARGIN for c in to_page(o, r)) for o, r in points]
             for points in block.edges]
    width, height = (size_o, size_r) if across else (size_r, size_o)
    return Scene(width + 2 * MARGIN, height + 2 * MARGIN, boxes, clusters, edges)


# --------------------------------------------------------------------------- records
def parse_record(label):
    """A graphviz record label as nested lists: a str per field, a list per `{...}`."""
    root, stack, text, pending = [], [], [], [None]
    stack.append(root)

    def end_field():
        stack[-1].append(pending[0] if pending[0] is not None else "".join(text))
        pending[0] = None
        text.clear()

    i = 0
    while i < len(label):
        ch = label[i]
        if ch == "\\" and i + 1 < len(label):
            text.append("\n" if label[i + 1] in "nlr" else label[i + 1])
            i += 2
            continue
        if ch == "{":
            stack.append([])
            text.clear()
        elif ch == "}" and len(stack) > 1:
            end_field()
            pending[0] = stack.pop()
        elif ch == "|":
            end_field()
        else:
            text.append(ch)
        i += 1
    end_field()
    return root


def _lines(text):
    lines = [line.strip() for line in text.split("\n")]
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    return lines


def _measure(field, horizontal):
    """(w, h) of a record field; a group alternates direction at each level."""
    if isinstance(field, str):
        lines = _lines(field)
        return (max(len(line) for line in lines) * CHAR_W + 2 * PAD_X,
                len(lines) * LINE_H + 2 * PAD_Y)
    sizes = [_measure(f, not horizontal) for f in field]
    if horizontal:
        return sum(s[0] for s in sizes), max(s[1] for s in sizes)
    return max(s[0] for s in sizes), sum(s[1] for s in sizes)


def _cells(field, x, y, w, h, horizontal):
    """Leaf cells (x, y, w, h, lines) filling the rectangle; extra space shared evenly."""
    if isinstance(field, str):
        return [(x, y, w, h, _lines(field))]
    sizes = [_measure(f, not horizontal) for f in field]
    natural = sum(s[0] if horizontal else s[1] for s in sizes)
    extra = ((w if horizontal else h) - natural) / len(field)
    cells, at = [], x if horizontal else y
    for f, s in zip(field, sizes):
        step = (s[0] if horizontal else s[1]) + extra
        if horizontal:
            cells += _cells(f, at, y, step, h, not horizontal)
        else:
            cells += _cells(f, x, at, w, step, not horizontal)
        at += step
    return cells


# --------------------------------------------------------------------------- blocks
class _Block:
    """A laid-out graph in (order, rank) coordinates relative to its own origin."""

    def __init__(self):
        self.size = (0.0, 0.0)
        self.leaves = {}     # name -> (o, r, size_o, size_r, record)
        self.clusters = []   # (o, r, size_o, size_r, label)
        self.edges = []      # [(o, r), ...]

    def shift(self, do, dr):
        self.leaves = {name: (v[0] + do, v[1] + dr) + v[2:] for name, v in self.leaves.items()}
        self.clusters = [(c[0] + do, c[1] + dr) + c[2:] for c in self.clusters]
        self.edges = [[(o + do, r + dr) for o, r in e] for e in self.edges]


def _layout_block(graph, rankdir, across):
    """Lays out one graph level: its nodes and its clusters (each as one block)."""
    items, owner = {}, {}
    for node in graph.get_nodes():
        record = parse_record(str(node.get("label") or node.get_name()))
        w, h = _measure(record, across)
        items[node.get_name()] = ((w, h) if across else (h, w), record)
        owner[node.get_name()] = node.get_name()
    inner = {}
    for sub in graph.get_subgraphs():
        block = _cluster_block(sub, rankdir, across)
        inner[sub.get_name()] = block
        items[sub.get_name()] = (block.size, None)
        for leaf in block.leaves:
            owner[leaf] = sub.get_name()
    links = []
    for edge in graph.get_edges():
        u, v = owner.get(edge.get_source()), owner.get(edge.get_destination())
        if u is not None and v is not None and u != v:
            links.append((edge.get_source(), edge.get_destination(), u, v))
    ranks = _ranks(list(items), [(u, v) for _, _, u, v in links])
    grid = _Grid(items, ranks, links)
    grid.order()
    grid.place()
    out = _Block()
    out.size = grid.size
    for name, ((so, sr), record) in items.items():
        o, r = grid.corner(name)
        if record is not None:
            out.leaves[name] = (o, r, so, sr, record)
        else:
            inner[name].shift(o, r)
            out.leaves.update(inner[name].leaves)
            out.clusters += inner[name].clusters
            out.edges += inner[name].edges
    out.edges += grid.edge_paths(out.leaves)
    return out


def _cluster_block(sub, rankdir, across):
    """A cluster: its graph's block plus padding and room for its label at the page top."""
    block = _layout_block(sub, rankdir, across)
    label = str(sub.get("label") or "")
    label_w, label_h = len(label) * CHAR_W + 2 * PAD_X, LINE_H + PAD_Y
    so, sr = block.size
    if across:
        so_out = max(so + 2 * CLUSTER_PAD, label_w)
        sr_out = sr + 2 * CLUSTER_PAD + label_h
        top = label_h if rankdir == "TB" else 0.0  # BT: the page top is the rank end
        block.shift((so_out - so) / 2, CLUSTER_PAD + top)
    else:
        so_out = so + 2 * CLUSTER_PAD + label_h
        sr_out = max(sr + 2 * CLUSTER_PAD, label_w)
        block.shift(CLUSTER_PAD + label_h, (sr_out - sr) / 2)
    block.clusters.insert(0, (0.0, 0.0, so_out, sr_out, label))
    block.size = (so_out, sr_out)
    return block


def _ranks(names, links):
    """Longest-path ranks from the sources, in topological order (Kahn)."""
    succs = {n: [] for n in names}
    indegree = dict.fromkeys(names, 0)
    for u, v in links:
        succs[u].append(v)
        indegree[v] += 1
    rank = dict.fromkeys(names, 0)
    ready = [n for n in names if indegree[n] == 0]
    sources, topological = set(ready), []
    while ready:
        n = ready.pop()
        topological.append(n)
        for v in succs[n]:
            rank[v] = max(rank[v], rank[n] + 1)
            indegree[v] -= 1
            if indegree[v] == 0:
                ready.append(v)
    for n in reversed(topological):  # a source sits just above its first consumer
        if n in sources and succs[n]:
            rank[n] = min(rank[v] for v in succs[n]) - 1
    return rank  # nodes on a cycle (none in a model graph) keep their rank so far


class _Grid:
    """Ranks of items with dummy nodes on long edges: ordering and coordinates."""

    def __init__(self, items, ranks, links):
        self.sizes = {n: size for n, (size, _) in items.items()}
        self.rank = dict(ranks)
        self.layers = [[] for _ in range(max(ranks.values(), default=-1) + 1)]
        for n in items:
            self.layers[ranks[n]].append(n)
        self.pred = {n: [] for n in items}
        self.succ = {n: [] for n in items}
        self.chains = []  # (source leaf, target leaf, [u, dummies..., v])
        for k, (s, t, u, v) in enumerate(links):
            chain = [u]
            for r in range(ranks[u] + 1, ranks[v]):
                dummy = ("dummy", k, r)
                self.sizes[dummy], self.rank[dummy] = (0.0, 0.0), r
                self.pred[dummy], self.succ[dummy] = [], []
                self.layers[r].append(dummy)
                chain.append(dummy)
            chain.append(v)
            for a, b in zip(chain, chain[1:]):
                self.succ[a].append(b)
                self.pred[b].append(a)
            self.chains.append((s, t, chain))
        self.x = {}

    # ------------------------------------------------------------ crossing reduction
    def order(self):
        """Barycenter sweeps, keeping the order with the fewest crossings."""
        pos = {n: i for layer in self.layers for i, n in enumerate(layer)}
        best, best_crossings = [list(l) for l in self.layers], self._crossings(pos)
        for sweep in range(_SWEEPS):
            down = sweep % 2 == 0
            neighbours = self.pred if down else self.succ
            indices = range(1, len(self.layers)) if down else range(len(self.layers) - 2, -1, -1)
            for r in indices:
                self.layers[r].sort(key=lambda n: sum(pos[p] for p in neighbours[n])
                                    / len(neighbours[n]) if neighbours[n] else pos[n])
                pos.update({n: i for i, n in enumerate(self.layers[r])})
            crossings = self._crossings(pos)
            if crossings < best_crossings:
                best, best_crossings = [list(l) for l in self.layers], crossings
        self.layers = best

    def _crossings(self, pos):
        total = 0
        for layer in self.layers[:-1]:
            pairs = [(pos[a], pos[b]) for a in layer for b in self.succ[a]]
            total += sum(1 for i, (a1, b1) in enumerate(pairs) for a2, b2 in pairs[i + 1:]
                         if (a1 - a2) * (b1 - b2) < 0)
        return total

    # ------------------------------------------------------------ coordinates
    def place(self):
        """Rank bands along r; along o, least-squares alignment with neighbours."""
        self.band = [max((self.sizes[n][1] for n in layer), default=0.0)
                     for layer in self.layers]
        self.start, at = [], 0.0
        for size in self.band:
            self.start.append(at)
            at += size + RANK_SEP
        for layer in self.layers:
            self._pack(layer, [0.0] * len(layer))
        for sweep in range(2 * _SWEEPS):
            neighbours = (self.pred, self.succ)[sweep % 2] if sweep < 2 * _SWEEPS - 2 else None
            for layer in self.layers:
                wanted = []
                for n in layer:
                    near = neighbours[n] if neighbours else self.pred[n] + self.succ[n]
                    wanted.append(sum(self.x[m] for m in near) / len(near) if near
                                  else self.x[n])
                self._pack(layer, wanted)
        lo = min((self.x[n] - self.sizes[n][0] / 2 for n in self.x), default=0.0)
        self.x = {n: x - lo for n, x in self.x.items()}
        width = max((self.x[n] + self.sizes[n][0] / 2 for n in self.x), default=0.0)
        self.size = (width, max(at - RANK_SEP, 0.0))

    def _pack(self, layer, wanted):
        """Centers closest (least squares) to `wanted` keeping order and separation.

        Isotonic regression by pool-adjacent-violators on `wanted - offsets`.
        """
        offsets = [0.0]
        for a, b in zip(layer, layer[1:]):
            sep = NODE_SEP if isinstance(a, str) and isinstance(b, str) else NODE_SEP / 2
            offsets.append(offsets[-1] + (self.sizes[a][0] + self.sizes[b][0]) / 2 + sep)
        pools = []  # [sum, count]
        for w, off in zip(wanted, offsets):
            pools.append([w - off, 1])
            while len(pools) > 1 and pools[-2][0] * pools[-1][1] > pools[-1][0] * pools[-2][1]:
                total, count = pools.pop()
                pools[-1][0] += total
                pools[-1][1] += count
        values = [total / count for total, count in pools for _ in range(count)]
        self.x.update({n: v + off for n, v, off in zip(layer, values, offsets)})

    def corner(self, name):
        so, sr = self.sizes[name]
        r = self.rank[name]
        return self.x[name] - so / 2, self.start[r] + (self.band[r] - sr) / 2

    # ------------------------------------------------------------ edges
    def edge_paths(self, leaves):
        """Polylines: straight down inside rank bands, diagonals only between bands."""
        def center(leaf):
            o, _, so, *_ = leaves[leaf]
            return o + so / 2

        outs, ins = {}, {}
        for k, (s, t, chain) in enumerate(self.chains):
            after = self.x[chain[1]] if len(chain) > 2 else center(t)
            before = self.x[chain[-2]] if len(chain) > 2 else center(s)
            outs.setdefault(s, []).append((after, k))
            ins.setdefault(t, []).append((before, k))
        src_o = _spread(outs, leaves)
        dst_o = _spread(ins, leaves)
        paths = []
        for k, (s, t, chain) in enumerate(self.chains):
            _, rs, _, srs, _ = leaves[s]
            _, rt, *_ = leaves[t]
            u, v = chain[0], chain[-1]
            points = [(src_o[k], rs + srs), (src_o[k], self.start[self.rank[u]]
                                              + self.band[self.rank[u]])]
            for d in chain[1:-1]:
                r = self.rank[d]
                points += [(self.x[d], self.start[r]), (self.x[d], self.start[r] + self.band[r])]
            points += [(dst_o[k], self.start[self.rank[v]]), (dst_o[k], rt)]
            paths.append(_dedupe(points))
        return paths


def _spread(ports, leaves):
    """Port positions: edges meeting one node side by side, in the order they arrive."""
    out = {}
    for leaf, arrivals in ports.items():
        o, _, so, *_ = leaves[leaf]
        arrivals.sort()
        for i, (_, k) in enumerate(arrivals):
            out[k] = o + so * (0.2 + 0.6 * (i + 1) / (len(arrivals) + 1)) \
                if len(arrivals) > 1 else o + so / 2
    return out


def _dedupe(points):
    kept = [points[0]]
    for p in points[1:]:
        if abs(p[0] - kept[-1][0]) + abs(p[1] - kept[-1][1]) > 1e-6:
            kept.append(p)
    return kept


def _page_mapping(rankdir, size_r):
    """(o, r) -> page (x, y) for `rankdir`."""
    return {"TB": lambda o, r: (o, r), "BT": lambda o, r: (o, size_r - r),
            "LR": lambda o, r: (r, o), "RL": lambda o, r: (size_r - r, o)}.get(
        rankdir, lambda o, r: (o, r))


def _page_rect(to_page, o, r, so, sr):
    (x1, y1), (x2, y2) = to_page(o, r), to_page(o + so, r + sr)
    return min(x1, x2), min(y1, y2), abs(x2 - x1), abs(y2 - y1)
