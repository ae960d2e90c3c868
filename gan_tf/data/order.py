"""The training set on the device, visited in TF1's `DataSet.next_batch` order.

The data are visited in a shuffled order; a batch that crosses the end of an epoch
takes the rest of the old order and the start of the next epoch's order. Sample k
of minibatch b is global index g = b*B + k: epoch g // N, position g % N. Each
epoch's order is a pure function of (seed, epoch) (streams.epoch_permutation), so
nothing here is checkpointed: a resumed run draws the batches the uninterrupted one
would have.
"""

from __future__ import annotations

import tensorflow as tf

from gan_tf.data.streams import STREAM_EPOCH, epoch_permutation

NUM_CLASSES = 10


class DeviceData:
    """uint8 images (N, D) [and integer labels] as device constants; `batch(b)` is
    minibatch b in G's output range ('sigmoid': [0, 1], 'tanh': [-1, 1])."""

    def __init__(self, images, labels=None, *, seed: int, batch_size: int,
                 output: str = "sigmoid", stream: int = STREAM_EPOCH):
        """`stream`: the random stream of the epoch orders (a family that visits a
        second copy of its data in an order of its own gives it one of its streams)."""
        self.images = tf.constant(images, tf.uint8)
        self.n = int(images.shape[0])
        self.labels = None if labels is None else tf.constant(labels, tf.int32)
        if labels is not None and len(labels) != self.n:
            raise ValueError("labels must give one label per training image")
        if self.n < batch_size:
            raise ValueError(f"batch_size {batch_size} exceeds the {self.n} images")
        self.seed, self.batch_size, self.output = seed, batch_size, output
        self.stream = stream
        # A cache of the two epoch orders the current batch can touch; derived from
        # (seed, epoch), so it is rebuilt rather than checkpointed. int64, not int32:
        # TensorFlow keeps an int32 variable in host memory whatever the device (XLA's
        # "Known issues"), so on a GPU the compiled loop could not read it.
        self._cached_epoch = tf.Variable(-1, dtype=tf.int64, trainable=False)
        self._perm_a = tf.Variable(tf.zeros([self.n], tf.int64), trainable=False)
        self._perm_b = tf.Variable(tf.zeros([self.n], tf.int64), trainable=False)

    def indices(self, b):
        """The training-set indices of minibatch b."""
        n, size = self.n, self.batch_size
        g = b * size + tf.range(size, dtype=tf.int64)
        epoch0 = (b * size) // n
        if tf.not_equal(epoch0, self._cached_epoch):
            self._perm_a.assign(tf.cast(epoch_permutation(self.seed, epoch0, n, self.stream),
                                        tf.int64))
            self._perm_b.assign(tf.cast(epoch_permutation(self.seed, epoch0 + 1, n,
                                                          self.stream), tf.int64))
            self._cached_epoch.assign(epoch0)
        pos = g % n
        return tf.where(g // n == epoch0, tf.gather(self._perm_a, pos),
                        tf.gather(self._perm_b, pos))

    def batch(self, b):
        """Minibatch b: images in G's output range and their one-hot labels (None
        without labels)."""
        idx = self.indices(b)
        return self.images_at(idx), self.labels_at(idx)

    def images_at(self, idx):
        x = tf.cast(tf.gather(self.images, idx), tf.float32) / 255.0
        return x * 2.0 - 1.0 if self.output == "tanh" else x

    def labels_at(self, idx):
        if self.labels is None:
            return None
        return tf.one_hot(tf.gather(self.labels, idx), NUM_CLASSES)
