"""Chapter 8 — a small Keras model, from one neuron to a trained classifier.

Read: Kaggle "Intro to Deep Learning", lessons 1 "A Single Neuron", 2 "Deep Neural
Networks", 3 "Stochastic Gradient Descent", 4 "Overfitting and Underfitting", 5 "Dropout and
Batch Normalization" and 6 "Binary Classification"; deeplizard "Deep Learning Fundamentals",
lessons "Layers in a Neural Network explained" (a Keras Sequential model of Dense layers) and
"Training a Neural Network explained" (compile and fit).

Check your work:  grade check chapter8
Stuck?            grade hint chapter8.linear_unit   (add --lang zh for Chinese)

Needs TensorFlow (Keras 3):  pip install 'dl-grade[keras]'

How the grader sees your work:
- functions that build a model return the model; the grader saves it as a ``.keras`` file
  and loads it on its side. Use built-in Keras layers only (Dense, Dropout, BatchNormalization,
  Activation, ...): a Lambda layer or a layer class of your own is refused, because loading it
  would mean running your Python code in the grader;
- ``keras.Input(shape=(3,))`` as the first element of ``keras.Sequential`` is the Keras 3 way
  to give the input shape; ``layers.Dense(..., input_shape=[3])`` as in the notes also works;
- pass ``verbose=0`` to ``fit`` (progress bars are capped output here);
- the whole chapter is checked in about 25 seconds, so keep training short (tens of epochs
  on a few hundred rows, not thousands).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tensorflow import keras
from tensorflow.keras import layers  # noqa: F401 - you will need it


def linear_unit(n_inputs: int = 3) -> keras.Model:
    """A single linear unit (one neuron, no activation) on ``n_inputs`` inputs.

    y = w1*x1 + w2*x2 + w3*x3 + b        (one Dense unit, activation = identity)

    Why: the linear unit is the building block of every dense network (note 001, "The
    Linear Unit"); the cereal example predicts calories from sugars, fiber and protein.

    Shapes: input (batch, n_inputs) -> output (batch, 1); n_inputs + 1 parameters.

    Example:
        >>> model = linear_unit(3)
        >>> model.input_shape, model.output_shape, model.count_params()
        ((None, 3), (None, 1), 4)
    """
    # TODO: return keras.Sequential([...]) holding one Dense layer with units=1 on n_inputs inputs.
    raise NotImplementedError


def unit_weights(model: keras.Model) -> tuple[np.ndarray, np.ndarray]:
    """Read the weights of a linear unit: its kernel w and its bias b, as numpy arrays.

    y = x @ w + b,   w has one row per input, b one value per unit

    Why: the weights are what training changes; looking at them (the Kaggle course does
    ``w, b = model.weights``) shows that an untrained model starts from random w and b = 0.

    Shapes: w (n_inputs, 1), b (1,) — numpy arrays, not Keras variables.

    Example:
        >>> model = linear_unit(3)
        >>> model.set_weights([np.array([[2.5], [0.0], [0.0]]), np.array([90.0])])
        >>> w, b = unit_weights(model)
        >>> w.shape, b.shape
        ((3, 1), (1,))
        >>> float(w[0, 0] * 5 + b[0])    # sugars = 5 gives 102.5 calories, as in note 001
        102.5
    """
    # TODO: get the kernel and the bias (model.get_weights(), or .numpy() of model.weights).
    raise NotImplementedError


def deep_regression(units: Sequence[int], input_shape: Sequence[int]) -> keras.Model:
    """A deep regression network: hidden ReLU Dense layers, then one linear output unit.

    h1 = relu(x @ W1 + b1); h2 = relu(h1 @ W2 + b2); ...; y = h_last @ Wout + bout

    Why: stacking dense layers with a non-linear activation between them lets the network
    learn non-linear relations; a regression output has no activation (note 001, "Stacking
    Dense Layers").

    Shapes: ``units`` lists the hidden widths, e.g. [4, 3]; ``input_shape`` e.g. [2];
    the output is (batch, 1).

    Example:
        >>> model = deep_regression([4, 3], [2])
        >>> [layer.units for layer in model.layers], model.count_params()
        ([4, 3, 1], 31)
    """
    # TODO: one layers.Dense(n, activation="relu") per entry of units, then layers.Dense(1).
    raise NotImplementedError


def compile_model(
    model: keras.Model,
    learning_rate: float = 0.001,
    loss: str = "mae",
    metrics: Sequence[str] = (),
) -> keras.Model:
    """Compile ``model`` with the Adam optimizer at ``learning_rate``, the given loss and metrics.

    optimizer = Adam(learning_rate); loss e.g. "mae" = mean |y - t|; metrics are only reported

    Why: the loss says what to minimise, the optimizer how to change the weights to do it
    (note 001, "Adding the Loss and Optimizer"; deeplizard's ``Adam(learning_rate=0.0001)``).

    Shapes: returns the same model object, compiled.

    Example:
        >>> model = compile_model(linear_unit(3), learning_rate=0.01, loss="mse", metrics=["mae"])
        >>> type(model.optimizer).__name__, round(float(model.optimizer.learning_rate), 4), model.loss
        ('Adam', 0.01, 'mse')
    """
    # TODO: model.compile(optimizer=keras.optimizers.Adam(learning_rate=...), loss=..., metrics=list(...)).
    raise NotImplementedError


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

    for each epoch: for each minibatch of batch_size rows: w <- w - step(gradient of the loss)

    Why: ``fit`` runs stochastic gradient descent; the History it returns holds one loss value
    per epoch (and ``val_loss`` with validation data): the learning curves of note 001.

    Shapes: X (n, features), y (n,) or (n, 1); returns ``History.history``, a dict such as
    {"loss": [...], "val_loss": [...]} with one float per epoch trained.

    Example:
        >>> model = compile_model(linear_unit(2), learning_rate=0.1, loss="mse")
        >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [2.0, 1.0]])
        >>> curves = train_model(model, X, X.sum(axis=1), batch_size=4, epochs=3)
        >>> sorted(curves), len(curves["loss"])
        (['loss'], 3)
    """
    # TODO: call model.fit(...) with every argument and verbose=0; return the History's .history dict.
    raise NotImplementedError


def early_stopping(
    min_delta: float = 0.001,
    patience: int = 20,
    restore_best_weights: bool = True,
) -> keras.callbacks.EarlyStopping:
    """An EarlyStopping callback that watches the validation loss.

    stop when val_loss has not improved by at least min_delta for patience epochs;
    then go back to the weights of the best epoch (restore_best_weights)

    Why: once the model starts learning noise, the validation loss rises again; stopping
    there prevents overfitting, and a large ``epochs`` no longer risks it (note 001).

    Shapes: returns the callback, to pass to ``fit(..., callbacks=[...])``.

    Example:
        >>> stop = early_stopping(min_delta=0.001, patience=20)
        >>> stop.monitor, stop.patience, stop.restore_best_weights
        ('val_loss', 20, True)
    """
    # TODO: return keras.callbacks.EarlyStopping(monitor="val_loss", ...) with the three settings.
    raise NotImplementedError


def regularized_regression(units: Sequence[int], input_shape: Sequence[int], rate: float = 0.3) -> keras.Model:
    """A deep regression network with dropout and batch normalization after each hidden layer.

    for each width n in units:  Dense(n, relu) -> Dropout(rate) -> BatchNormalization()
    then Dense(1)   (linear output)

    Why: dropout breaks up the fragile weight patterns that fit noise (it randomly drops a
    fraction ``rate`` of the next layer's inputs while training); batch normalization
    re-scales activations so SGD trains faster and more stably (note 001, chapter 5: a
    Dropout layer acts on the inputs of the layer after it; BatchNormalization may follow
    a Dense layer).

    Shapes: ``units`` e.g. [32, 16]; ``input_shape`` e.g. [11]; output (batch, 1).

    Example:
        >>> model = regularized_regression([8, 8], [11], rate=0.3)
        >>> [type(layer).__name__ for layer in model.layers][:3], model.output_shape
        (['Dense', 'Dropout', 'BatchNormalization'], (None, 1))
    """
    # TODO: build the stack in exactly this order for every hidden layer, then the linear output.
    raise NotImplementedError


def binary_classifier(n_features: int) -> keras.Model:
    """A compiled binary classifier: hidden ReLU layers, a sigmoid output, cross-entropy loss.

    p = sigmoid(z) = 1 / (1 + exp(-z)) is the probability of class 1; predict 1 when p > 0.5;
    loss = binary cross-entropy = -mean(t*log(p) + (1-t)*log(1-p)); metric: accuracy

    Why: accuracy jumps in steps and cannot guide SGD; cross-entropy is its smooth
    stand-in, and the sigmoid turns the last unit's output into a probability (note 001,
    "Binary Classification").

    Shapes: input (batch, n_features) -> output (batch, 1), values in (0, 1). Hidden layers
    are your choice (e.g. two Dense(16, relu), maybe a Dropout); compile it with an optimizer
    such as "adam", loss "binary_crossentropy" and metrics ["binary_accuracy"] (or ["accuracy"]).

    Example:
        >>> model = binary_classifier(30)
        >>> model.output_shape, model.loss
        ((None, 1), 'binary_crossentropy')
    """
    # TODO: keras.Sequential ending in layers.Dense(1, activation="sigmoid"), then model.compile(...).
    raise NotImplementedError


def train_classifier(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_valid: np.ndarray,
    y_valid: np.ndarray,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Train your binary classifier on real data and return ``(model, learning_curves)``.

    model = binary_classifier(features); fit on (X_train, y_train) with
    validation_data=(X_valid, y_valid) and early stopping; return the model and the history

    Why: this is the whole workflow of note 001 on a real data set: the Breast Cancer
    Wisconsin (Diagnostic) data, 30 measurements of cell nuclei per sample, label 1 =
    malignant, 0 = benign. The features arrive standardized (zero mean, unit variance on
    the training rows), like the preprocessed inputs of the Kaggle course.

    The grader measures accuracy on held-back rows you never see: reach at least 90 %.
    Keep training short: about 30 epochs with early stopping is plenty here.

    Shapes: X_train (n, 30) float64, y_train (n,) of 0.0/1.0, likewise the validation rows;
    returns the trained model and ``History.history`` (with "loss" and "val_loss").

    Example:
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(64, 30)); t = (X[:, 0] > 0).astype(float)
        >>> model, curves = train_classifier(X[:48], t[:48], X[48:], t[48:])
        >>> model.output_shape, "val_loss" in curves
        ((None, 1), True)
    """
    # TODO: reuse binary_classifier, early_stopping and train_model; return (model, history_dict).
    raise NotImplementedError


if __name__ == "__main__":
    # Scratch space: run `python keras_models.py` to try your functions.
    model = linear_unit(3)
    model.summary()
    print(unit_weights(model))
