# Notes 004's IMDB listing (seeds/004_b055333514f94ad9.txt, "二分类"), run by tests/test_run.py
# through `layerkit run` with its keras and tensorflow imports untouched. Only sizes are cut so
# the test takes seconds (num_words/dimension 10000 -> 1000, the 10000-review validation slice
# -> 20, epochs 20 and 4 -> 3 and 2) and the last line prints the scores; the verbatim listing
# also runs through `layerkit run`, in ~30 s and 2.3 GB.
import matplotlib.pyplot as plt
from keras.datasets import imdb
import numpy as np
from keras import models
from keras import layers

# 配置优化器
from keras import losses
from keras import metrics
from tensorflow import optimizers

# 整数序列编码为二进制矩阵


def vectorize_sequences(sequences, dimension=1000):
    # 创建一个序列长度的0矩阵
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        # 将 results[i] 的指定索引设为 1
        results[i, sequence] = 1
    return results


# 加载数据
# num_words=10000 仅保留训练数据中前 10 000 个最常出现的单词
(train_data, train_labels), (test_data,
                             test_labels) = imdb.load_data(num_words=1000)

# 将单词映射为整数索引的字典
word_index = imdb.get_word_index()

# 键值颠倒,将整数索引映射为单词
reverse_word_index = dict(
    [(value, key) for (key, value) in word_index.items()])

# 将评论解码
decoded_review = ' '.join(
    [reverse_word_index.get(i - 3, '?') for i in train_data[0]]
)

# 将数据向量化
x_train = vectorize_sequences(train_data)
x_test = vectorize_sequences(test_data)

# 标签向量化
y_train = np.asarray(train_labels).astype('float32')
y_test = np.asarray(test_labels).astype('float32')


# 模型定义
model = models.Sequential()
model.add(layers.Dense(16, activation='relu', input_shape=(1000,)))
model.add(layers.Dense(16, activation='relu'))
model.add(layers.Dense(1, activation='sigmoid'))

# 编译模型
model.compile(
    optimizer='rmsprop',
    loss='binary_crossentropy',
    metrics=['accuracy'])

# 配置优化器
# model.compile(optimizer=optimizers.RMSprop(lr=0.001), oss='binary_crossentropy', etrics=['accuracy'])

# 使用自定义的损失和指标
model.compile(
    optimizer=optimizers.RMSprop(
        lr=0.001),
    loss=losses.binary_crossentropy,
    metrics=[
        metrics.binary_accuracy])


# 留出验证集
x_val = x_train[:20]
partial_x_train = x_train[20:]

y_val = y_train[:20]
partial_y_train = y_train[20:]


# 训练模型
model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])

history = model.fit(
    partial_x_train,
    partial_y_train,
    epochs=3,
    batch_size=512,
    validation_data=(
        x_val,
        y_val))

# History 对象有一个成员 history,包含训练过程中的所有数据
history_dict = history.history
print(history_dict.keys())

# 绘制训练损失和验证损失
loss_values = history_dict['loss']
val_loss_values = history_dict['val_loss']

epochs = range(1, len(loss_values) + 1)


plt.plot(epochs, loss_values, 'bo', label='Training loss') # 'bo'表示蓝色圆点
plt.plot(epochs, val_loss_values, 'b', label='Validation loss') # 'b'表示蓝色实线
plt.title('Training and validation loss')
plt.xlabel('Epoches')
plt.ylabel('LOSS')
plt.legend()

plt.show()

# 绘制训练精度和验证精度
# plt.clf()

acc = history_dict['acc']
val_acc = history_dict['val_acc']

plt.plot(epochs, acc, 'bo', label='Training acc')
plt.plot(epochs, val_acc, 'b', label='Validation acc')
plt.title('Training and validation accuracy')
plt.xlabel('Epochs')
plt.ylabel('Accuracy')
plt.legend()

plt.show()

# 新的训练模型
model = models.Sequential()
model.add(layers.Dense(16, activation='relu', input_shape=(1000, )))
model.add(layers.Dense(16, activation='relu'))
model.add(layers.Dense(1, activation='sigmoid'))
                       
model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['accuracy'])

model.fit(x_train, y_train, epochs=2, batch_size=512)
results = model.evaluate(x_test, y_test)

# 用 predict 方法来得到评论为正面的可能性大小
model.predict(x_test)
print('results', results)
