"""Chapter 8 (Keras) feedback in Chinese: a student's ``grade check chapter8`` with
``GRADE_LANG=zh`` on a submission wrong in many ways at once reads Chinese in every sentence
(code, Keras names and numbers stay as they are). One grading run (about 30 s), shared."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import replace_once as replace
from typer.testing import CliRunner
from zhcheck import english_sentences

from grader.cli import app

pytest.importorskip("tensorflow")
pytest.importorskip("keras")

REPO = Path(__file__).resolve().parent.parent


def wrong_submission() -> str:
    s = (REPO / "solutions" / "chapter8" / "keras_models.py").read_text(encoding="utf-8")
    # linear_unit: builds the model and forgets to return it
    s = replace(
        s,
        "    return keras.Sequential([keras.Input(shape=(n_inputs,)), layers.Dense(units=1)])",
        "    keras.Sequential([keras.Input(shape=(n_inputs,)), layers.Dense(units=1)])",
    )
    # unit_weights: only the kernel, not the pair (w, b)
    s = replace(s, "    w, b = model.get_weights()\n    return w, b", "    w, b = model.get_weights()\n    return w")
    # deep_regression: a Lambda layer after the output (code the grader must not run)
    s = replace(
        s,
        "    stack.append(layers.Dense(1))  # a linear output",
        "    stack.append(layers.Dense(1))\n    stack.append(layers.Lambda(lambda t: 2.0 * t))  # a linear output",
    )
    # compile_model: another optimizer
    s = replace(s, "        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),\n        loss=loss,", '        optimizer="sgd",\n        loss=loss,')
    # train_model: callbacks are not passed on to fit
    s = replace(s, "        callbacks=list(callbacks or []),\n", "")
    # early_stopping: watches the training loss
    s = replace(s, '        monitor="val_loss",', '        monitor="loss",')
    # regularized_regression: no input shape
    s = replace(
        s,
        "    stack: list = [keras.Input(shape=tuple(input_shape))]\n    for n in units:\n        stack += [",
        "    stack: list = []\n    for n in units:\n        stack += [",
    )
    # binary_classifier: a ReLU output unit instead of a sigmoid
    s = replace(s, '            layers.Dense(1, activation="sigmoid"),  # a probability for class 1', '            layers.Dense(1, activation="relu"),')
    # train_classifier: its own model, with a one-unit softmax output (always 1.0)
    s = replace(
        s,
        "    model = binary_classifier(X_train.shape[1])\n",
        "    model = keras.Sequential([keras.Input(shape=(X_train.shape[1],)), layers.Dense(16, activation=\"relu\"),\n"
        "                              layers.Dense(1, activation=\"softmax\")])\n"
        "    model.compile(optimizer=\"adam\", loss=\"binary_crossentropy\", metrics=[\"binary_accuracy\"])\n",
    )
    return s


@pytest.fixture(scope="module")
def zh_report(tmp_path_factory: pytest.TempPathFactory) -> str:
    target = tmp_path_factory.mktemp("wrong8") / "exercises"
    (target / "chapter8").mkdir(parents=True)
    (target / "chapter8" / "keras_models.py").write_text(wrong_submission(), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["check", "chapter8", "--path", str(target)], env={"GRADE_LANG": "zh", "COLUMNS": "400"}
    )
    assert result.exit_code == 1, result.output
    return result.output


def test_a_chapter8_report_wrong_everywhere_is_chinese_in_every_sentence(zh_report: str) -> None:
    out = zh_report
    # each mistake is named, in Chinese
    assert "linear_unit(3) 返回了 None。是不是忘了写 `return` 语句？" in out
    assert "应当返回由两个 numpy 数组组成的一对 (w, b)" in out  # unit_weights
    assert "你的模型用了 Lambda 层" in out and "不接受这个模型" in out  # deep_regression
    assert "优化器是 SGD；应当是 keras.optimizers.Adam" in out  # compile_model
    assert "请把 callbacks 原样传给 fit" in out  # train_model
    assert "它应当监控 'val_loss'" in out and "训练却跑满了全部" in out  # early_stopping
    assert "没有指定输入形状" in out and "keras.Input(shape=(n,))" in out  # regularized_regression
    assert "输出层应当是 Dense(1, sigmoid)" in out  # binary_classifier
    assert "及格线是 90%" in out and "先检查模型本身：模型是 Dense(16, relu) → Dense(1, softmax)" in out  # train_classifier
    # (its learning curves are its own fit's: a one-unit softmax still trains on the logits in
    # Keras, and the returned model's val_loss, recomputed by the grader, is the best epoch's)
    assert "train_classifier：每轮的二元交叉熵" in out  # the learning curve's title
    # and no English sentence is left outside code, names, numbers and what Keras printed
    sentences = english_sentences(out)
    assert sentences == [], sentences
