"""Keras 3 on the torch backend on MNIST, two ways:

- `example`: the keras.io "Simple MNIST convnet" (keras.io/examples/vision/mnist_convnet/) as written: conv
  32@3x3 -> pool -> conv 64@3x3 -> pool -> flatten -> dropout 0.5 -> dense 10 softmax; pixels / 255; Adam with its
  defaults; categorical cross-entropy; batch 128; 15 epochs; `validation_split=0.1` (so it trains on 54,000
  images and validates on 6,000 every epoch, which is part of its time as written).
- `same_net`: deepscope's net and recipe in Keras: conv 24@5x5 -> pool -> conv 32@3x3 -> pool -> dense 256 ->
  dense 10; Adam lr 1e-2, betas (0.7, 0.9); a one-cycle learning rate (cosine up over 30 % of the steps from
  lr/25, then down to lr/25e4, as torch's OneCycleLR); batch 256; 1 epoch; standardised pixels. One difference
  is left: torch's OneCycleLR (and deepscope's one-cycle) also cycle Adam's beta_1 between 0.95 and 0.85, for
  which Keras' Adam has no hook, so beta_1 stays 0.7 here.

The time is that of the training epochs (a Callback's epoch begin to end); test accuracy is measured after each
epoch outside the clock. KERAS_BACKEND=torch must be set before keras is imported (bench/suite.py does).

    pip install -e ".[bench]"; KERAS_BACKEND=torch python bench/suite.py --only keras
"""

from __future__ import annotations

import math
import os
import time

import numpy as np


def _keras():
    if os.environ.get("KERAS_BACKEND") != "torch":
        raise SystemExit("set KERAS_BACKEND=torch before running the Keras peer (bench/suite.py does)")
    try:
        import keras
    except ImportError as error:
        raise SystemExit(f"Keras 3 is not installed ({error}); pip install -e \".[bench]\"") from None
    return keras


def example(raw, seed: int, epochs: int = 15) -> dict:
    """The keras.io example as written; {points: [(training seconds, test accuracy) per epoch], seconds}."""
    keras = _keras()
    from keras import layers

    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = _arrays(raw)
    x_train, x_test = x_train.astype("float32") / 255, x_test.astype("float32") / 255
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    timer = _timer(keras, x_test, y_test)
    started = time.perf_counter()
    model.fit(x_train, keras.utils.to_categorical(y_train, 10), batch_size=128, epochs=epochs, validation_split=0.1,
              verbose=0, callbacks=[timer])
    return {"points": timer.points, "seconds": time.perf_counter() - started}


def same_net(raw, seed: int, epochs: int = 1) -> dict:
    """deepscope's net and recipe in Keras; {points, seconds} as `example`."""
    keras = _keras()
    from keras import layers

    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = _arrays(raw)
    mean, std = x_train.mean() / 255, x_train.std() / 255
    x_train, x_test = (x_train / 255 - mean) / std, (x_test / 255 - mean) / std
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(24, 5, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dense(256, activation="relu"), layers.Dense(10),
    ])
    steps = epochs * math.ceil(len(x_train) / 256)
    optimizer = keras.optimizers.Adam(learning_rate=one_cycle(keras, 1e-2, steps), beta_1=0.7, beta_2=0.9)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer=optimizer)
    timer = _timer(keras, x_test, y_test)
    started = time.perf_counter()
    model.fit(x_train.astype("float32"), y_train, batch_size=256, epochs=epochs, verbose=0, callbacks=[timer])
    return {"points": timer.points, "seconds": time.perf_counter() - started}


def one_cycle(keras, max_lr: float, steps: int, warmup: float = 0.3):
    """torch's OneCycleLR (cosine annealing, div_factor 25, final_div_factor 1e4) as a Keras schedule."""
    ops = keras.ops

    class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            step = ops.cast(step, "float32")
            up = max(warmup * steps - 1, 1.0)
            low, floor = max_lr / 25, max_lr / 25 / 1e4
            rising = ops.minimum(step / up, 1.0)
            falling = ops.clip((step - up) / max(steps - 1 - up, 1.0), 0.0, 1.0)
            lr_up = low + (max_lr - low) * (1 - ops.cos(math.pi * rising)) / 2
            lr_down = floor + (max_lr - floor) * (1 + ops.cos(math.pi * falling)) / 2
            return ops.where(step <= up, lr_up, lr_down)

        def get_config(self):
            return {"max_lr": max_lr, "steps": steps, "warmup": warmup}

    return OneCycle()


def _arrays(raw):
    def split(name):
        return raw.splits[name]["image"][..., None], np.asarray(raw.splits[name]["label"], dtype="int64")
    return split("train"), split("test")


def _timer(keras, x_test, y_test):
    class TestEachEpoch(keras.callbacks.Callback):
        """Times each epoch (with its validation pass, where the fit has one), then test accuracy off the clock."""

        def __init__(self):
            super().__init__()
            self.points, self.elapsed = [], 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.elapsed += time.perf_counter() - self.started
            predicted = self.model.predict(x_test.astype("float32"), batch_size=2000, verbose=0).argmax(axis=1)
            self.points.append((self.elapsed, float((predicted == y_test).mean())))

    return TestEachEpoch()
