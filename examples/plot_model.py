"""Drawing a model: `plot_model` to a PNG, and `model_to_dot(...).create()` to SVG.

Chris Albon's recipe (notes 001): a Dense 16-16-1 network drawn with
`SVG(model_to_dot(network, show_shapes=True).create(prog='dot', format='svg'))` and
`plot_model(network, show_shapes=True, to_file='network.png')`; and the course's
Fashion-MNIST MLP (notes 002) and a two-input functional model drawn the same way. With
graphviz's `dot` installed, graphviz lays the graphs out; without it, layerkit does, so
these lines work on a fresh machine.

    python examples/plot_model.py    # --quick changes nothing: nothing here trains
"""

import _example
from layerkit import layers, models
from layerkit.utils import plot_model
from layerkit.utils.vis_utils import model_to_dot

args = _example.setup(_example.parser(__doc__, "plot_model"))

network = models.Sequential()
network.add(layers.Dense(units=16, activation='relu', input_shape=(10,)))
network.add(layers.Dense(units=16, activation='relu'))
network.add(layers.Dense(units=1, activation='sigmoid'))

# In a notebook: from IPython.display import SVG; SVG(model_to_dot(...).create(...)).
svg = model_to_dot(network, show_shapes=True).create(prog='dot', format='svg')
with open(_example.out(args, 'network.svg'), 'wb') as f:
    f.write(svg)
plot_model(network, show_shapes=True, to_file=_example.out(args, 'network.png'))

model = models.Sequential([
    layers.Flatten(input_shape=[28, 28]),
    layers.Dense(300, activation="relu"),
    layers.Dense(100, activation="relu"),
    layers.Dense(10, activation="softmax")
])
plot_model(model, _example.out(args, "my_fashion_mnist_model.png"), show_shapes=True)

# A functional model with two inputs (notes 003: the functional API).
text_input = layers.Input(shape=(None,), dtype='int32', name='text')
embedded_text = layers.Embedding(10000, 64)(text_input)
encoded_text = layers.LSTM(32)(embedded_text)
question_input = layers.Input(shape=(None,), dtype='int32', name='question')
embedded_question = layers.Embedding(10000, 32)(question_input)
encoded_question = layers.LSTM(16)(embedded_question)
concatenated = layers.concatenate([encoded_text, encoded_question], axis=-1)
answer = layers.Dense(500, activation='softmax')(concatenated)
qa_model = models.Model([text_input, question_input], answer)
plot_model(qa_model, to_file=_example.out(args, 'question_answering.png'),
           show_shapes=True)
print('wrote', ', '.join(['network.svg', 'network.png', 'my_fashion_mnist_model.png',
                          'question_answering.png']), 'to', args.output)
