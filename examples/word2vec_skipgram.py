"""word2vec, skip-gram: tell (word, context word) pairs from (word, random word) pairs.

Notes 002: the word index from `Tokenizer`, labelled pairs from `skipgrams()` (context
words within the window labelled 1, random words 0), two Embedding + Reshape Sequentials
joined by `Dot(axes=1)` and a sigmoid Dense in a functional `Model`, mean squared error,
training with `train_on_batch` on each line's pairs; the word vectors are the word
model's Embedding weights (written to skipgram_word_vectors.csv).

    python examples/word2vec_skipgram.py --corpus bible-kjv.txt   # or with nltk's data
    python examples/word2vec_skipgram.py --quick                  # a few verses, 1 epoch
"""

import re

import numpy as np
import pandas as pd

import _example
from layerkit.layers import Dot
from layerkit.layers.core import Dense, Reshape
from layerkit.layers.embeddings import Embedding
from layerkit.models import Model, Sequential
from layerkit.preprocessing import text
from layerkit.preprocessing.sequence import skipgrams

parser = _example.parser(__doc__, "word2vec_skipgram")
parser.add_argument("--corpus", metavar="FILE", help="a text file (the notes: bible-kjv.txt)")
args = _example.setup(parser)

lines = _example.bible_lines(args.corpus)
norm_bible = [re.sub(r'[^a-zA-Z0-9\s]', ' ', line).lower().strip() for line in lines]
norm_bible = [line for line in norm_bible if len(line.split()) > 2]
if args.quick:
    norm_bible = norm_bible[:20]

tokenizer = text.Tokenizer()
tokenizer.fit_on_texts(norm_bible)
word2id = tokenizer.word_index
id2word = {v: k for k, v in word2id.items()}
vocab_size = len(word2id) + 1
embed_size = 100
wids = [[word2id[w] for w in text.text_to_word_sequence(doc)] for doc in norm_bible]
print('Vocabulary Size:', vocab_size)
print('Vocabulary Sample:', list(word2id.items())[:10])

# generate skip-grams
skip_grams = [skipgrams(wid, vocabulary_size=vocab_size, window_size=10) for wid in wids]

# view sample skip-grams
pairs, labels = skip_grams[0][0], skip_grams[0][1]
for i in range(10):
    print("({:s} ({:d}), {:s} ({:d})) -> {:d}".format(
        id2word[pairs[i][0]], pairs[i][0],
        id2word[pairs[i][1]], pairs[i][1],
        labels[i]))

# build skip-gram architecture
word_model = Sequential()
word_model.add(Embedding(vocab_size, embed_size, embeddings_initializer="glorot_uniform",
                         input_length=1))
word_model.add(Reshape((embed_size, )))
context_model = Sequential()
context_model.add(Embedding(vocab_size, embed_size, embeddings_initializer="glorot_uniform",
                            input_length=1))
context_model.add(Reshape((embed_size,)))
model_arch = Dot(axes=1)([word_model.output, context_model.output])
model_arch = Dense(1, kernel_initializer="glorot_uniform", activation="sigmoid")(model_arch)
model = Model([word_model.input, context_model.input], model_arch)
model.compile(loss="mean_squared_error", optimizer="rmsprop")
model.summary()

for epoch in range(1, 2 if args.quick else 6):
    loss = 0
    for i, elem in enumerate(skip_grams):
        if not elem[0]:  # a one-word line has no pairs
            continue
        pair_first_elem = np.array(list(zip(*elem[0]))[0], dtype='int32')
        pair_second_elem = np.array(list(zip(*elem[0]))[1], dtype='int32')
        labels = np.array(elem[1], dtype='int32')
        X = [pair_first_elem, pair_second_elem]
        Y = labels
        if i % 10000 == 0:
            print('Processed {} (skip_first, skip_second, relevance) pairs'.format(i))
        loss += model.train_on_batch(X, Y)
    print('Epoch:', epoch, 'Loss:', loss)

# The word vectors come from the target word's Embedding (the word model's).
word_embed_layer = model.layers[2]
print(word_embed_layer.name)
weights = word_embed_layer.get_weights()[0][1:]
print(weights.shape)
vectors = pd.DataFrame(weights, index=[id2word[i] for i in range(1, vocab_size)])
print(vectors.head())
vectors.to_csv(_example.out(args, 'skipgram_word_vectors.csv'))
