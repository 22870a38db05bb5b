"""Character-level LSTM text generation (Deep Learning with Python, listings 8.1-8.7).

An LSTM learns to predict the next character of Nietzsche's writings from the 60
before it; text is then sampled from its predictions, one `model.predict` call per
character, at temperatures 0.2, 0.5, 1.0 and 1.2. Everything sampled is written to
`generated_text.txt`.

    python examples/generative/text_generation.py           # downloads nietzsche.txt
    python examples/generative/text_generation.py --quick   # a paragraph, 2 epochs
"""

import random
import sys

import numpy as np

import _generative
import layerkit as keras
from layerkit import layers

args = _generative.setup(__doc__, "text_generation")
np.random.seed(0)
random.seed(0)

QUICK_TEXT = (
    "what is good? all that heightens the feeling of power in man, the will to power, "
    "power itself. what is bad? all that is born of weakness. what is happiness? the "
    "feeling that power increases, that a resistance is overcome. ") * 8

if args.quick:
    text = QUICK_TEXT
else:
    path = keras.utils.get_file(
        "nietzsche.txt", origin="https://s3.amazonaws.com/text-datasets/nietzsche.txt")
    text = open(path).read().lower()
print("Corpus length:", len(text))

maxlen = 20 if args.quick else 60
step = 3
sentences = []
next_chars = []
for i in range(0, len(text) - maxlen, step):
    sentences.append(text[i: i + maxlen])
    next_chars.append(text[i + maxlen])
print("Number of sequences:", len(sentences))
chars = sorted(list(set(text)))
print("Unique characters:", len(chars))
char_indices = dict((char, chars.index(char)) for char in chars)
print("Vectorization...")
x = np.zeros((len(sentences), maxlen, len(chars)), dtype=bool)
y = np.zeros((len(sentences), len(chars)), dtype=bool)
for i, sentence in enumerate(sentences):
    for t, char in enumerate(sentence):
        x[i, t, char_indices[char]] = 1
    y[i, char_indices[next_chars[i]]] = 1

model = keras.models.Sequential()
model.add(layers.LSTM(32 if args.quick else 128, input_shape=(maxlen, len(chars))))
model.add(layers.Dense(len(chars), activation="softmax"))
optimizer = keras.optimizers.RMSprop(lr=0.01)
model.compile(loss="categorical_crossentropy", optimizer=optimizer)


def sample(preds, temperature=1.0):
    preds = np.asarray(preds).astype("float64")
    preds = np.log(preds) / temperature
    exp_preds = np.exp(preds)
    preds = exp_preds / np.sum(exp_preds)
    probas = np.random.multinomial(1, preds, 1)
    return np.argmax(probas)


epochs = 2 if args.quick else 59
length = 80 if args.quick else 400
with open(_generative.out(args, "generated_text.txt"), "w") as log:
    for epoch in range(1, epochs + 1):
        print("epoch", epoch)
        model.fit(x, y, batch_size=128, epochs=1, verbose=2 if args.quick else 1)
        start_index = random.randint(0, len(text) - maxlen - 1)
        generated_text = text[start_index: start_index + maxlen]
        print('--- Generating with seed: "' + generated_text + '"')
        log.write(f'=== epoch {epoch}, seed: "{generated_text}"\n')
        for temperature in [0.2, 0.5, 1.0, 1.2]:
            print("------ temperature:", temperature)
            sys.stdout.write(generated_text)
            written = generated_text
            for i in range(length):
                sampled = np.zeros((1, maxlen, len(chars)))
                for t, char in enumerate(generated_text):
                    sampled[0, t, char_indices[char]] = 1.
                preds = model.predict(sampled, verbose=0)[0]
                next_index = sample(preds, temperature)
                next_char = chars[next_index]
                generated_text += next_char
                generated_text = generated_text[1:]
                written += next_char
                sys.stdout.write(next_char)
            sys.stdout.write("\n")
            log.write(f"--- temperature {temperature}:\n{written}\n")
print("Generated text written to", _generative.out(args, "generated_text.txt"))
