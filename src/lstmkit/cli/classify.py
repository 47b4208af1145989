"""``lstmkit classify``: train a sequence classifier, score it on a test split beside the baselines, write a run
folder; ``lstmkit classify predict`` labels new cases with a saved model.

The run folder holds run.json (the settings and a fingerprint of the data), checkpoints/, model/,
metrics.json (``{"test": {"lstm": {"accuracy", "macro_f1"}, "<baseline>": {...}}}``), confusion.png and
training.png. Every check of the data and the options runs before the folder is created.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from lstmkit.cli import common
from lstmkit.data.datasets import EMBEDDED_SEQUENCES, load_sequence_dataset
from lstmkit.data.sequences import read_ts
from lstmkit.data.series import read_labelled_texts
from lstmkit.data.splits import stratified_split
from lstmkit.errors import DataError, ParameterError
from lstmkit.files import write_atomically
from lstmkit.tasks import SequenceClassifier
from lstmkit.tasks.metrics import classification_scores

classify_app = typer.Typer(help="Classify sequences (texts or numeric series) with an LSTM, against baselines.")
COMMAND = "classify"
EMBEDDED = "embedded:japanese_vowels"


@dataclass
class ClassifySettings:
    """Everything a classify run depends on; recorded in run.json so ``--resume`` repeats it exactly."""

    data: str = EMBEDDED  # "embedded:<name>", a .ts file, or a CSV file with --text and --label
    test: str | None = None  # a separate test file; None: a stratified split of ``data``
    text: str | None = None
    label: str | None = None
    test_size: float = 0.25
    cell: str = "lstm"
    bidirectional: bool = True
    hidden_size: int | None = None  # None: 32 for texts, 64 for numeric series
    epochs: int = 100
    seed: int = 0
    fingerprint: str = ""


@dataclass
class ClassificationData:
    train_inputs: list
    train_labels: np.ndarray
    test_inputs: list
    test_labels: np.ndarray
    kind: str  # "text" or "numeric"


def _read_file(path: str, settings: ClassifySettings):
    if settings.text is not None:
        if settings.label is None:
            raise ParameterError("--text needs --label: the column of the classes")
        return read_labelled_texts(path, settings.text, settings.label)
    if settings.label is not None:
        raise ParameterError("--label is for CSV files of texts; give --text too")
    if Path(path).suffix.lower() == ".csv":
        raise ParameterError(f"{path}: a CSV file needs --text COL and --label COL (numeric cases come as .ts files)")
    cases = read_ts(path)
    if cases.labels is None:
        raise DataError(f"{path}: the cases have no labels (@classLabel false); training needs labelled cases")
    return cases.sequences, cases.labels


def read_data(settings: ClassifySettings) -> ClassificationData:
    """The training and test cases the settings name, read and checked (every DataError comes from here)."""
    if settings.data.startswith("embedded:"):
        name = settings.data.removeprefix("embedded:")
        if name not in EMBEDDED_SEQUENCES:
            raise DataError(f"unknown embedded dataset {name!r}; expected one of {', '.join(EMBEDDED_SEQUENCES)}")
        splits = load_sequence_dataset(name)
        return ClassificationData(
            splits.train.sequences, splits.train.labels, splits.test.sequences, splits.test.labels, "numeric"
        )
    X, y = _read_file(settings.data, settings)
    if settings.test is not None:
        test_inputs, test_labels = _read_file(settings.test, settings)
        unseen = sorted(set(map(str, test_labels)) - set(map(str, y)))
        if unseen:
            raise DataError(f"{settings.test}: labels {unseen[:5]} never occur in the training file {settings.data}")
    else:
        train, test = stratified_split(y, settings.test_size, settings.seed)
        X, test_inputs, test_labels, y = [X[i] for i in train], [X[i] for i in test], y[test], y[train]
    kind = "text" if settings.text is not None else "numeric"
    if kind == "numeric" and X[0].shape[1] != test_inputs[0].shape[1]:
        raise DataError(
            f"the training cases have {X[0].shape[1]} channels but the test cases {test_inputs[0].shape[1]}: "
            "expected the same channels"
        )
    return ClassificationData(list(X), np.asarray(y), list(test_inputs), np.asarray(test_labels), kind)


# The settings measured in docs/classification.md: texts want a small, strongly regularized model (800-sentence
# corpora), numeric series a wider one with light dropout.
TEXT_OPTIONS = dict(
    hidden_size=32,
    embedding_dim=50,
    pooling="max",
    dropout=0.5,
    token_dropout=0.1,
    lr=1e-2,
    weight_decay=1e-4,
    patience=10,
)
SERIES_OPTIONS = dict(hidden_size=64, dropout=0.2, patience=20)


def make_classifier(settings: ClassifySettings) -> SequenceClassifier:
    """The run's classifier, its parameters checked (before any file is written)."""
    options = TEXT_OPTIONS if settings.text is not None else SERIES_OPTIONS
    if settings.hidden_size is not None:
        options = options | {"hidden_size": settings.hidden_size}
    classifier = SequenceClassifier(
        cell=settings.cell,
        bidirectional=settings.bidirectional,
        epochs=settings.epochs,
        seed=settings.seed,
        progress=None,
        **options,
    )
    classifier.check_params()
    return classifier


def _table(scores: dict, settings: ClassifySettings, n_test: int) -> Table:
    table = Table(title=f"Test accuracy on {n_test} cases ({settings.data})", caption="baselines fit on the same split")
    for column in ("model", "accuracy", "macro F1"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for model, values in scores.items():
        table.add_row(model, f"{values['accuracy']:.3f}", f"{values['macro_f1']:.3f}")
    return table


def run(settings: ClassifySettings, data: ClassificationData, out: Path, console: Console) -> dict:
    """Fit the LSTM (checkpoints in ``out``), score it and the baselines on the test cases, write the results."""
    from sklearn.metrics import confusion_matrix

    from lstmkit.tasks.baselines import baselines
    from lstmkit.viz import plot_confusion_matrix, plot_training_curves

    classifier = make_classifier(settings).fit(data.train_inputs, data.train_labels, checkpoint_dir=out / "checkpoints")
    classifier.save(out / "model", overwrite=True)  # the run folder is ours: a resumed run rewrites its model
    predicted = classifier.predict(data.test_inputs)
    scores = {"lstm": classification_scores(data.test_labels, predicted)}
    for name, baseline in baselines(data.kind, settings.seed).items():
        baseline.fit(data.train_inputs, data.train_labels)
        scores[name] = classification_scores(data.test_labels, baseline.predict(data.test_inputs))
    classes = classifier.classes_
    matrix = confusion_matrix(data.test_labels, predicted, labels=classes)
    metrics = {
        "test": scores,
        "classes": classes.tolist(),
        "confusion_matrix": matrix.tolist(),
        "epochs_trained": len(classifier.history_),
    }
    common.write_json(out / "metrics.json", metrics)
    plot_confusion_matrix(matrix, classes).savefig(out / "confusion.png", dpi=110)
    plot_training_curves(classifier.history_, title="Training: cross-entropy").savefig(out / "training.png", dpi=110)
    console.print(_table(scores, settings, len(data.test_labels)))
    return metrics


# The data options, shared with ``lstmkit tune classify``.
DATA = typer.Option(
    None,
    help="Training cases: a .ts file, or a CSV file with --text and --label (default: the embedded JapaneseVowels).",
)
TEST = typer.Option(None, help="Test cases in the same format (default: a stratified split of --data).")
TEXT = typer.Option(None, help="CSV column holding the texts.")
LABEL = typer.Option(None, help="CSV column holding the classes.")
TEST_SIZE = typer.Option(0.25, help="Share of --data held out for testing when there is no --test.")


def settings_for(data: Path | None, test: Path | None, **options) -> ClassifySettings:
    """Settings with the data files checked and made absolute (the embedded default without --data)."""
    return ClassifySettings(
        data=common.data_setting(data, EMBEDDED), test=None if test is None else common.data_setting(test), **options
    )


@classify_app.callback(invoke_without_command=True)
def classify(
    ctx: typer.Context,
    data: Path = DATA,
    test: Path = TEST,
    text: str = TEXT,
    label: str = LABEL,
    test_size: float = TEST_SIZE,
    cell: str = typer.Option("lstm", help="lstm, peephole, coupled, layernorm, gru or rnn."),
    bidirectional: bool = typer.Option(True, "--bidirectional/--unidirectional"),
    hidden_size: int = typer.Option(None, min=1, help="Units per direction (default: 32 for texts, 64 for series)."),
    epochs: int = typer.Option(
        100, min=1, help="Maximum epochs (early stopping on a validation part ends most sooner)."
    ),
    seed: int = common.SEED,
    out: Path = common.RUN_FOLDER,
    resume: Path = common.RESUME,
) -> None:
    """Train, test against the baselines, save; with no options, on the embedded JapaneseVowels."""
    if ctx.invoked_subcommand is not None:
        return
    common.one_thread()
    shown = common.console()

    def new_settings() -> ClassifySettings:
        return settings_for(
            data,
            test,
            text=text,
            label=label,
            test_size=test_size,
            cell=cell,
            bidirectional=bidirectional,
            hidden_size=hidden_size,
            epochs=epochs,
            seed=seed,
        )

    def read(settings: ClassifySettings) -> ClassificationData:
        classified = read_data(settings)
        make_classifier(settings)
        return classified

    settings, classified, out = common.open_run(ctx, resume, out, COMMAND, ClassifySettings, new_settings, read)
    run(settings, classified, out, shown)
    shown.print(f"run folder: {out} (model/, metrics.json, confusion.png, training.png)")


@classify_app.command("predict")
def predict(
    model: Path = typer.Option(..., help="A classify run folder, or its model/ folder."),
    data: Path = typer.Option(..., help="Cases to label: a .ts file, or a CSV file with --text."),
    text: str = typer.Option(None, help="CSV column holding the texts."),
    out: Path = typer.Option(None, help="Write the predictions to this new CSV file instead of printing them."),
) -> None:
    """Label cases with a saved classifier: each prediction with its class probabilities."""
    if out is not None:
        common.check_new_file(out, "predictions")
    classifier = common.load_saved(model, SequenceClassifier, "a classifier", "classify")
    if text is not None:
        X, _ = read_labelled_texts(data, text, None)
    else:
        if Path(data).suffix.lower() == ".csv":
            raise ParameterError(f"{data}: a CSV file of texts needs --text COL")
        X = read_ts(data).sequences
    probabilities = classifier.predict_proba(X)
    table = pd.DataFrame(probabilities, columns=[f"p_{c}" for c in classifier.classes_])
    table.insert(0, "prediction", classifier.classes_[probabilities.argmax(axis=1)])
    table.index.name = "case"
    if out is None:
        common.console().print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    else:
        write_atomically(out, table.to_csv(float_format="%.6g"))
        common.console().print(f"{len(table)} predictions written to {out}")
