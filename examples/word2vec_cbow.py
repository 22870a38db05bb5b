"""word2vec, continuous bag of words: predict a word from the mean of its context's vectors.

Notes 002, the four steps: a word index with `Tokenizer` (id 0 for 'PAD'), (context,
target) pairs from a window of 2 words each side padded with `pad_sequences`, the model
(Embedding, a Lambda taking `K.mean` over the context, a softmax Dense over the
vocabulary), training with `train_on_batch` one pair at a time; then the word vectors are
the Embedding's weights (written to cbow_word_vectors.csv) and their nearest neighbours.

    python examples/word2vec_cbow.py --corpus bible-kjv.txt   # or with nltk's gutenberg data
    python examples/word2vec_cbow.py --quick                  # a few verses, 1 epoch
"""

import re

import numpy as np
import pandas as pd

import _example
import layerkit.backend as K
from layerkit.layers import Dense, Embedding, Lambda
from layerkit.models import Sequential
from layerkit.preprocessing import sequence, text
from layerkit.utils import np_utils

parser = _example.parser(__doc__, "word2vec_cbow")
parser.add_argument("--corpus", metavar="FILE", help="a text file (the notes: bible-kjv.txt)")
args = _example.setup(parser)

lines = _example.bible_lines(args.corpus)
norm_bible = [re.sub(r'[^a-zA-Z0-9\s]', ' ', line).lower().strip() for line in lines]
norm_bible = [line for line in norm_bible if len(line.split()) > 2]
if args.quick:
    norm_bible = norm_bible[:20]
print('Total lines:', len(norm_bible))
print('Processed line:', norm_bible[0])

# Step 1: the word index.
tokenizer = text.Tokenizer()
tokenizer.fit_on_texts(norm_bible)
word2id = tokenizer.word_index
# build vocabulary of unique words
word2id['PAD'] = 0
id2word = {v: k for k, v in word2id.items()}
wids = [[word2id[w] for w in text.text_to_word_sequence(doc)] for doc in norm_bible]
vocab_size = len(word2id)
embed_size = 100
window_size = 2
print('Vocabulary Size:', vocab_size)
print('Vocabulary Sample:', list(word2id.items())[:10])


# Step 2: (context, target) pairs.
def generate_context_word_pairs(corpus, window_size, vocab_size):
    context_length = window_size * 2
    for words in corpus:
        sentence_length = len(words)
        for index, word in enumerate(words):
            context_words = []
            label_word = []
            start = index - window_size
            end = index + window_size + 1
            context_words.append([words[i]
                                  for i in range(start, end)
                                  if 0 <= i < sentence_length
                                  and i != index])
            label_word.append(word)
            x = sequence.pad_sequences(context_words, maxlen=context_length)
            y = np_utils.to_categorical(label_word, vocab_size)
            yield (x, y)


i = 0
for x, y in generate_context_word_pairs(corpus=wids, window_size=window_size,
                                        vocab_size=vocab_size):
    if 0 not in x[0]:
        print('Context (X):', [id2word[w] for w in x[0]], '-> Target (Y):',
              id2word[np.argwhere(y[0])[0][0]])
        if i == 3:
            break
        i += 1

# Step 3: the network.
cbow = Sequential()
cbow.add(Embedding(input_dim=vocab_size, output_dim=embed_size,
                   input_length=window_size * 2))
cbow.add(Lambda(lambda x: K.mean(x, axis=1), output_shape=(embed_size,)))
cbow.add(Dense(vocab_size, activation='softmax'))
cbow.compile(loss='categorical_crossentropy', optimizer='rmsprop')
print(cbow.summary())

# Step 4: training, one (context, word) pair per batch.
for epoch in range(1, 2 if args.quick else 6):
    loss = 0.
    i = 0
    for x, y in generate_context_word_pairs(corpus=wids, window_size=window_size,
                                            vocab_size=vocab_size):
        i += 1
        loss += cbow.train_on_batch(x, y)
        if i % 100000 == 0:
            print('Processed {} (context, word) pairs'.format(i))
    print('Epoch:', epoch, '\tLoss:', loss)
    print()

# The word vectors: the Embedding's weights, without the row of 'PAD'.
weights = cbow.get_weights()[0]
weights = weights[1:]
print(weights.shape)
vectors = pd.DataFrame(weights, index=[id2word[i] for i in range(1, vocab_size)])
print(vectors.head())
vectors.to_csv(_example.out(args, 'cbow_word_vectors.csv'))

distance_matrix = np.sqrt(((weights[:, None, :] - weights[None, :, :]) ** 2).sum(-1))
for search_term in ['god', 'light', 'waters']:
    if search_term in word2id:
        nearest = distance_matrix[word2id[search_term] - 1].argsort()[1:6] + 1
        print(search_term, '->', [id2word[idx] for idx in nearest])
