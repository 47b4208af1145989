"""``lstmkit tag``: train a sequence tagger on CoNLL files (default: the embedded WNUT17), score it on the test
file beside the baselines, write a run folder; ``lstmkit tag predict`` tags new sentences with a saved model.

The run folder holds run.json, checkpoints/, model/, metrics.json (``{"test": {"lstm": {"entity_f1",
"surface_f1", "precision", "recall", "per_type"}, "<baseline>": {...}}}``), predictions.conll (token, gold and
predicted tag per line) and training.png. Every check of the data and the options runs before the folder is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from lstmkit.cli import common
from lstmkit.data.conll import parse_conll, read_conll
from lstmkit.data.datasets import load_wnut17
from lstmkit.data.lexicon import LEXICONS
from lstmkit.data.series import check_input_file
from lstmkit.data.tags import check_scheme
from lstmkit.errors import DataError
from lstmkit.files import write_atomically
from lstmkit.tasks import SequenceTagger
from lstmkit.tasks.metrics import entity_scores, surface_scores

tag_app = typer.Typer(help="Tag every token (named entities) with a BiLSTM-CRF, against baselines.")
COMMAND = "tag"
EMBEDDED = "embedded:wnut17"
ALL_LEXICONS = ",".join(LEXICONS)


@dataclass
class TagSettings:
    """Everything a tag run depends on; recorded in run.json so ``--resume`` repeats it exactly."""

    train: str = EMBEDDED  # "embedded:wnut17" or a CoNLL file (then dev and test are files too)
    dev: str | None = None
    test: str | None = None
    cell: str = "lstm"
    crf: bool = True
    lexicons: str = ALL_LEXICONS  # comma-separated names from lstmkit.data.lexicon, or "none"
    refit: bool = True
    ensemble: int = 1
    epochs: int = 30
    patience: int = 4
    seed: int = 0
    fingerprint: str = ""


def read_data(settings: TagSettings) -> dict[str, tuple[list, list]]:
    """The train, dev and test sentences; every DataError comes from here (the tags must be BIO or BIOES)."""
    if settings.train == EMBEDDED:
        corpus = load_wnut17()
        splits = {"train": corpus.train, "dev": corpus.dev, "test": corpus.test}
    else:
        if settings.dev is None or settings.test is None:
            raise DataError("--train FILE needs --dev FILE and --test FILE (CoNLL files) too")
        splits = {name: read_conll(getattr(settings, name)) for name in ("train", "dev", "test")}
    for name, (_, tags) in splits.items():
        check_scheme(tags, f"the {name} file")
    return splits


def lexicon_names(text: str) -> tuple[str, ...]:
    """ "frequency,places" -> ("frequency", "places"); "none" -> ()."""
    return () if text.strip() == "none" else tuple(name.strip() for name in text.split(","))


def make_tagger(settings: TagSettings) -> SequenceTagger:
    tagger = SequenceTagger(
        cell=settings.cell,
        crf=settings.crf,
        lexicons=lexicon_names(settings.lexicons),
        refit=settings.refit,
        ensemble=settings.ensemble,
        epochs=settings.epochs,
        patience=settings.patience,
        seed=settings.seed,
        progress=None,
    )
    tagger.check_params()
    return tagger


def scores(tokens, gold, predicted) -> dict:
    entity = entity_scores(gold, predicted)
    return {
        "entity_f1": entity["f1"],
        "surface_f1": surface_scores(tokens, gold, predicted)["f1"],
        "precision": entity["precision"],
        "recall": entity["recall"],
        "per_type": entity["per_type"],
    }


def _table(results: dict, sentences: int) -> Table:
    table = Table(title=f"Test entities, {sentences} sentences", caption="entity F1 as conlleval; surface F1 as WNUT17")
    for column in ("model", "entity F1", "precision", "recall", "surface F1"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for model, values in results.items():
        table.add_row(model, *(f"{values[k]:.3f}" for k in ("entity_f1", "precision", "recall", "surface_f1")))
    return table


def run(settings: TagSettings, splits: dict, out: Path, console: Console) -> dict:
    """Fit (checkpoints in ``out``), score the tagger and the baselines on the test sentences, write the results."""
    from lstmkit.tasks.baselines import all_outside, most_frequent_tag
    from lstmkit.viz import plot_training_curves

    (train_x, train_y), (test_x, test_y) = splits["train"], splits["test"]
    tagger = make_tagger(settings).fit(train_x, train_y, validation=splits["dev"], checkpoint_dir=out / "checkpoints")
    tagger.save(out / "model", overwrite=True)  # the run folder is ours: a resumed run rewrites its model
    predicted = tagger.predict(test_x)
    results = {
        "lstm": scores(test_x, test_y, predicted),
        "most_frequent_tag": scores(test_x, test_y, most_frequent_tag(train_x, train_y, test_x)),
        "all_o": scores(test_x, test_y, all_outside(test_x)),
    }
    epochs = {"epochs_trained": len(tagger.history_), "refit_epochs": tagger.refit_epochs_}
    common.write_json(out / "metrics.json", {"test": results, "outside_bias": tagger.outside_bias_, **epochs})
    lines = [
        "\n".join(f"{w}\t{g}\t{p}" for w, g, p in zip(words, gold, guess, strict=True)) + "\n"
        for words, gold, guess in zip(test_x, test_y, predicted, strict=True)
    ]
    write_atomically(out / "predictions.conll", "\n".join(lines))
    title = "Training: CRF negative log-likelihood" if settings.crf else "Training: cross-entropy"
    first = [row for row in tagger.history_ if row.get("member", 0) == 0]  # an ensemble: its first member
    title += f" (member 1 of {settings.ensemble})" if settings.ensemble > 1 else ""
    plot_training_curves(first, title=title).savefig(out / "training.png", dpi=110)
    console.print(_table(results, len(test_x)))
    return results


@tag_app.callback(invoke_without_command=True)
def tag(
    ctx: typer.Context,
    train: Path = typer.Option(None, help="Training sentences, a CoNLL file (default: the embedded WNUT17)."),
    dev: Path = typer.Option(None, help="Validation sentences (early stopping), a CoNLL file."),
    test: Path = typer.Option(None, help="Test sentences, a CoNLL file."),
    cell: str = typer.Option("lstm", help="lstm, peephole, coupled, layernorm, gru or rnn."),
    crf: bool = typer.Option(True, "--crf/--no-crf", help="A CRF output layer, or a softmax (BIO-constrained)."),
    lexicons: str = typer.Option(
        ALL_LEXICONS, help='Lexical features, comma-separated, or "none" (the tag extra: pip install "lstmkit[tag]").'
    ),
    refit: bool = typer.Option(
        True, "--refit/--no-refit", help="Train again on train + dev for the best epoch count (dev scores nothing)."
    ),
    ensemble: int = typer.Option(1, min=1, help="Members from independent seeds, scored by their mean."),
    epochs: int = typer.Option(30, min=1, help="Maximum epochs (early stopping on the dev entity F1)."),
    patience: int = typer.Option(4, min=1, help="Epochs without a better dev entity F1 before stopping."),
    seed: int = common.SEED,
    out: Path = common.RUN_FOLDER,
    resume: Path = common.RESUME,
) -> None:
    """Train, test against the baselines, save; with no options, on the embedded WNUT17."""
    if ctx.invoked_subcommand is not None:
        return
    common.one_thread()
    shown = common.console()

    def new_settings() -> TagSettings:
        files = {
            name: None if path is None else common.data_setting(path) for name, path in (("dev", dev), ("test", test))
        }
        return TagSettings(
            train=common.data_setting(train, EMBEDDED),
            cell=cell,
            crf=crf,
            lexicons=lexicons,
            refit=refit,
            ensemble=ensemble,
            epochs=epochs,
            patience=patience,
            seed=seed,
            **files,
        )

    def read(settings: TagSettings) -> dict:
        splits = read_data(settings)
        make_tagger(settings)
        return splits

    settings, splits, out = common.open_run(ctx, resume, out, COMMAND, TagSettings, new_settings, read)
    run(settings, splits, out, shown)
    shown.print(f"run folder: {out} (model/, metrics.json, predictions.conll, training.png)")


def read_sentences(path: Path) -> list[list[str]]:
    """Sentences to tag: a CoNLL file (token first, tags ignored) or plain text, one sentence per line."""
    text = check_input_file(path).read_text(encoding="utf-8", errors="strict")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise DataError(f"{path}: the file is empty; expected one sentence per line, or a CoNLL file")
    if all("\t" in line for line in lines):
        return parse_conll(text, str(path))[0]
    return [line.split() for line in lines]


@tag_app.command("predict")
def predict(
    model: Path = typer.Option(..., help="A tag run folder, or its model/ folder."),
    data: Path = typer.Option(..., help="Sentences: one per line (whitespace tokens), or a CoNLL file."),
    out: Path = typer.Option(None, help="Write the tags to this new CoNLL file instead of printing them."),
) -> None:
    """Tag sentences with a saved tagger: token and tag per line, sentences separated by blank lines."""
    if out is not None:
        common.check_new_file(out, "tags")
    try:
        sentences = read_sentences(data)
    except UnicodeDecodeError as error:
        raise DataError(f"{data}: not UTF-8 text ({error.reason})") from None
    tagger = common.load_saved(model, SequenceTagger, "a tagger", "tag")
    tagged = tagger.predict(sentences)
    text = "\n".join(
        "\n".join(f"{w}\t{t}" for w, t in zip(words, tags, strict=True)) + "\n"
        for words, tags in zip(sentences, tagged, strict=True)
    )
    if out is None:
        common.console().print(text, markup=False, highlight=False)
    else:
        write_atomically(out, text)
        common.console().print(f"{len(sentences)} sentences tagged, written to {out}")
