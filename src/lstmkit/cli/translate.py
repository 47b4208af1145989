"""``lstmkit translate``: train an encoder-decoder with attention and one without on sentence pairs (default: the
embedded English-French Tatoeba pairs), score both on held-out sentences with sacreBLEU, write a run folder;
``lstmkit translate --model DIR "a sentence"`` (or ``--data FILE``, one sentence a line) translates.

The run folder holds run.json, checkpoints/, model/ (with attention), model_no_attention/, metrics.json
(``{"test": {"attention": {"bleu", "chrf", "beam": {...}}, "no_attention": {...}}, "train": {...},
"signatures": {...}}``), samples.txt (source, references, translations), attention.png and training.png. Every
check of the data and the options runs before the folder is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from lstmkit.cli import common
from lstmkit.data.datasets import load_translation_pairs
from lstmkit.data.text import read_text
from lstmkit.data.translation import PairSplits, group_by_source, read_pairs, split_by_source
from lstmkit.errors import DataError
from lstmkit.files import write_atomically
from lstmkit.tasks import Seq2Seq
from lstmkit.tasks.metrics import sacrebleu_metrics

COMMAND = "translate"
EMBEDDED = "embedded:fra-eng"
MODELS = {"attention": "general", "no_attention": "none"}  # metrics.json name -> Seq2Seq(attention_kind=...)
SAMPLES = 20
SPLIT_SEED = 0  # the split is fixed (documented in docs/translation.md); --seed varies the models alone


@dataclass
class TranslateSettings:
    """Everything a translate run depends on; recorded in run.json so ``--resume`` repeats it exactly."""

    data: str = EMBEDDED  # "embedded:fra-eng" or a file of source<TAB>target lines
    pairs: int | None = None  # only the first N pairs of the file
    cell: str = "lstm"
    hidden_size: int = 256
    epochs: int = 6
    beam_size: int = 5
    test_sources: int = 1000
    seed: int = 0
    fingerprint: str = ""


def read_data(settings: TranslateSettings) -> PairSplits:
    """The pairs, split by source sentence with the fixed ``SPLIT_SEED`` (test: ``test_sources`` sources,
    validation: half as many); every DataError comes from here."""
    pairs = load_translation_pairs() if settings.data == EMBEDDED else read_pairs(settings.data)
    pairs = pairs[: settings.pairs] if settings.pairs is not None else pairs
    distinct = len(group_by_source(pairs))
    val_sources = max(1, settings.test_sources // 2)
    if settings.test_sources + val_sources >= distinct // 2:
        raise DataError(
            f"{distinct} distinct source sentences are too few to hold out {settings.test_sources} for testing and "
            f"{val_sources} for validation and train on the rest (at least half); lower --test-sentences"
        )
    return split_by_source(pairs, settings.test_sources, val_sources, seed=SPLIT_SEED)


def make_model(settings: TranslateSettings, attention_kind: str) -> Seq2Seq:
    model = Seq2Seq(
        attention_kind=attention_kind,
        cell=settings.cell,
        hidden_size=settings.hidden_size,
        embedding_dim=max(2, settings.hidden_size // 2),
        epochs=settings.epochs,
        beam_size=settings.beam_size,
        seed=settings.seed,
        progress=None,
    )
    model.check_params()
    return model


def _scores(scores) -> dict:
    return {"bleu": scores.bleu, "chrf": scores.chrf}


def _table(results: dict, sentences: int, beam_size: int) -> Table:
    table = Table(
        title=f"Held-out BLEU and chrF, {sentences} source sentences with all their references",
        caption="sacreBLEU, lower-cased; the training pairs' BLEU shows the gap",
    )
    for column in ("model", "BLEU", "chrF", f"BLEU beam {beam_size}", "BLEU on training pairs"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for name, values in results["test"].items():
        table.add_row(
            name,
            f"{values['bleu']:.1f}",
            f"{values['chrf']:.1f}",
            f"{values['beam']['bleu']:.1f}",
            f"{results['train'][name]['bleu']:.1f}",
        )
    return table


def run(settings: TranslateSettings, split: PairSplits, out: Path, console: Console) -> dict:
    """Fit both models (checkpoints in ``out``), score them on the held-out and training sentences, write the
    results."""
    from lstmkit.viz import plot_alignment, plot_training_curves

    sources, targets = [s for s, _ in split.train], [t for _, t in split.train]
    validation = ([s for s, _ in split.val], [t for _, t in split.val])
    seen = group_by_source(split.train)[: len(split.test)]  # as many training sources, with all their references
    results: dict = {"test": {}, "train": {}}
    models = {}
    for name, kind in MODELS.items():
        model = make_model(settings, kind).fit(sources, targets, validation, checkpoint_dir=out / "checkpoints" / name)
        model.save(out / ("model" if name == "attention" else f"model_{name}"), overwrite=True)
        greedy = model.evaluate(split.test_sources, split.test_references, 1)
        beam = model.evaluate(split.test_sources, split.test_references, settings.beam_size)
        results["test"][name] = _scores(greedy) | {
            "beam": {"size": settings.beam_size} | _scores(beam),
            "epochs_trained": len(model.history_),
        }
        results["train"][name] = _scores(model.evaluate([s for s, _ in seen], [refs for _, refs in seen], 1))
        results["signatures"] = {"bleu": greedy.bleu_signature, "chrf": greedy.chrf_signature}
        models[name] = model
    common.write_json(out / "metrics.json", results)
    translations = {name: model.predict(split.test_sources[:SAMPLES]) for name, model in models.items()}
    lines = []
    for k, (source, references) in enumerate(split.test[:SAMPLES]):
        lines += [f"source:        {source}", *(f"reference:     {r}" for r in references)]
        lines += [f"{name + ':':<15}{translations[name][k]}" for name in MODELS] + [""]
    write_atomically(out / "samples.txt", "\n".join(lines))
    shown = max(split.test_sources[:SAMPLES], key=lambda s: len(s.split()))
    alignment = models["attention"].attention(shown)
    figure = plot_alignment(alignment.weights, alignment.source_tokens, alignment.target_tokens)
    figure.savefig(out / "attention.png", dpi=110)
    plot_training_curves(models["attention"].history_, title="Training: token cross-entropy").savefig(
        out / "training.png", dpi=110
    )
    console.print(_table(results, len(split.test), settings.beam_size))
    console.print(f"BLEU signature: {results['signatures']['bleu']}")
    return results


def read_sentences(path: Path) -> list[str]:
    """Sentences to translate: one per line, UTF-8 text; blank lines are refused (they would shift the output)."""
    lines = read_text(path, "one sentence a line").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            raise DataError(f"{path}, line {number}: an empty line; expected one sentence on every line")
    return lines


def translate_with(model: Path, sentence: str | None, data: Path | None, beam_size: int | None) -> list[str]:
    """Translations of ``sentence`` or of every line of ``data`` by the model saved in ``model`` (a run folder or
    its model/ folder)."""
    if (sentence is None) == (data is None):
        raise DataError('--model needs a sentence ("...") or --data FILE (one sentence a line), not both')
    sentences = [sentence] if data is None else read_sentences(data)
    if data is None and not sentence.strip():
        raise DataError("the sentence is empty; expected text to translate")
    translator = common.load_saved(model, Seq2Seq, "a translation model", "translate")
    return translator.predict(sentences, beam_size)


def translate(
    ctx: typer.Context,
    sentence: str = typer.Argument(None, help='With --model: the sentence to translate ("Where is Tom?").'),
    model: Path = typer.Option(None, help="Translate with this saved model (a translate run folder, or model/)."),
    data: Path = typer.Option(
        None, help="Training: source<TAB>target pairs (default: embedded). With --model: one sentence a line."
    ),
    pairs: int = typer.Option(None, min=1, help="Train on the first N pairs only."),
    cell: str = typer.Option("lstm", help="lstm, peephole, coupled, layernorm, gru or rnn."),
    hidden_size: int = typer.Option(256, min=2, help="Decoder hidden size (each encoder direction: half)."),
    epochs: int = typer.Option(6, min=1, help="Epochs (early stopping on the validation loss may end sooner)."),
    beam_size: int = typer.Option(None, min=1, help="Beam width (training: the beam scored beside greedy, 5)."),
    test_sentences: int = typer.Option(1000, min=1, help="Distinct source sentences held out for the test."),
    seed: int = common.SEED,
    out: Path = common.RUN_FOLDER,
    resume: Path = common.RESUME,
) -> None:
    """Train and score translation models (attention against none); with --model, translate."""
    shown = common.console()
    if model is not None:
        for line in translate_with(model, sentence, data, beam_size):
            shown.print(line, markup=False, highlight=False)
        return
    if sentence is not None:
        raise DataError(f"a sentence ({sentence!r}) is translated with --model DIR; to train, give no sentence")
    # torch's own thread count, unlike the other commands: the output layer's products (V ~ 4,700 French words)
    # are large enough to share between cores

    def new_settings() -> TranslateSettings:
        return TranslateSettings(
            data=common.data_setting(data, EMBEDDED),
            pairs=pairs,
            cell=cell,
            hidden_size=hidden_size,
            epochs=epochs,
            beam_size=5 if beam_size is None else beam_size,
            test_sources=test_sentences,
            seed=seed,
        )

    def read(settings: TranslateSettings) -> PairSplits:
        sacrebleu_metrics()  # the scores come last: refuse before training when they cannot be computed
        split = read_data(settings)
        for kind in MODELS.values():
            make_model(settings, kind)
        return split

    settings, split, out = common.open_run(ctx, resume, out, COMMAND, TranslateSettings, new_settings, read)
    run(settings, split, out, shown)
    shown.print(f"run folder: {out} (model/, metrics.json, samples.txt, attention.png, training.png)")
