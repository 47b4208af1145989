"""``lstmkit generate text`` and ``lstmkit generate music``: train a generative model on embedded data (or a text
file), judge it on held-out data against a baseline, write a run folder with samples; with ``--model``, sample
from a saved one.

Text run folder: run.json, checkpoints/, model/, metrics.json (``{"validation": {"lstm": {"nats_per_char",
"bits_per_char"}, "5-gram": {...}}, ...}``), samples.txt, training.png, cells.png and cells.html (the units that
track quotes, words, line position ... on a validation excerpt). Music run folder: model/, metrics.json
(``{"test": {"lstm": {"nll"}, "key_frequencies": {"nll"}}, ...}``), training.png, samples/ (MIDI and PNG).
Every check of the data and the options runs before anything is written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from lstmkit.checks import check_number
from lstmkit.cli import common
from lstmkit.data.datasets import load_jsb_chorales, load_tiny_shakespeare
from lstmkit.data.text import read_text, split_text, text_features
from lstmkit.errors import DataError
from lstmkit.files import write_atomically
from lstmkit.tasks import MusicGenerator, TextGenerator
from lstmkit.tasks.interpret import find_cells

generate_app = typer.Typer(help="Generate text or polyphonic music with a recurrent model, judged on held-out data.")

EMBEDDED_TEXT = "embedded:tinyshakespeare"
NGRAM_ORDER = 5
SAMPLE_TEMPERATURES = (0.5, 0.8, 1.0)
CELLS_EXCERPT = 2000  # characters of the validation text the cells are read on
TEMPERATURE = typer.Option(1.0, help="Softmax temperature (> 0; below 1: safer, above: wilder).")


@dataclass
class TextSettings:
    """Everything a text run depends on; recorded in run.json so ``--resume`` repeats it exactly."""

    data: str = EMBEDDED_TEXT
    cell: str = "lstm"
    hidden_size: int = 512
    num_layers: int = 2
    epochs: int = 2
    prime: str = ""
    length: int = 600
    seed: int = 0
    fingerprint: str = ""


def make_text_model(settings: TextSettings) -> TextGenerator:
    model = TextGenerator(
        cell=settings.cell,
        hidden_size=settings.hidden_size,
        num_layers=settings.num_layers,
        epochs=settings.epochs,
        lr_schedule=None,  # a 2-epoch run ends far from converged: a cosine decay costs there (measured 1.622 vs 1.562)
        seed=settings.seed,
        progress=None,
    )
    model.check_params()
    return model


def read_training_text(settings: TextSettings) -> str:
    """The text to train on; a prime whose characters it never shows is refused here, before any training."""
    text = load_tiny_shakespeare() if settings.data == EMBEDDED_TEXT else read_text(settings.data)
    unseen = sorted(set(settings.prime) - set(split_text(text, TextGenerator().val_fraction)[0]))
    if unseen:
        raise DataError(f"the prime holds characters the training text never shows: {''.join(unseen)!r}")
    return text


def check_sampling(temperature: float, top_k: int | None, top_p: float | None) -> None:
    check_number("temperature", temperature, 0.0, math.inf, low_open=True, high_open=True)
    if top_p is not None:
        check_number("top_p", top_p, 0.0, 1.0, low_open=True)


def _text_table(results: dict) -> Table:
    table = Table(title="Held-out text: loss per character", caption="the last 10% of the text, read in one stream")
    for column in ("model", "nats/char", "bits/char"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for name, values in results.items():
        table.add_row(name, f"{values['nats_per_char']:.3f}", f"{values['bits_per_char']:.3f}")
    return table


def _label(match) -> str:
    return f"layer {match.layer} unit {match.unit}: {match.feature} ({match.measure} {match.value:.2f})"


def write_cells(model: TextGenerator, text: str, out: Path) -> None:
    """cells.png and cells.html: the best units for each property of ``text``, each drawn over the text."""
    from lstmkit.viz import plot_text_activation, text_activation_html
    from lstmkit.viz.report import figure_png, html_report

    states = model.cell_states(text)  # (T, L, H), read once for the matches and the pictures
    matches = find_cells(states, text_features(text), top=3)
    best = {}
    for match in matches:
        best.setdefault(match.feature, match)
    sections = [
        (_label(match), None, [], text_activation_html(text, states[:, match.layer, match.unit]))
        for match in best.values()
    ]
    rows = [
        {
            "property": m.feature,
            "layer": m.layer,
            "unit": m.unit,
            "measure": m.measure,
            "value": m.value,
            "direction": "up" if m.sign > 0 else "down",
        }
        for m in matches
    ]
    shown = best.get("position in line") or next(iter(best.values()))
    excerpt = text[:600]
    figure = plot_text_activation(excerpt, states[: len(excerpt), shown.layer, shown.unit], title=_label(shown))
    figure.savefig(out / "cells.png", dpi=110)
    page = html_report(
        "What single cells track", [("The best units for each property", rows, [figure_png(figure)]), *sections]
    )
    write_atomically(out / "cells.html", page)


def run_text(settings: TextSettings, text: str, out: Path, console: Console) -> dict:
    """Fit the model and the n-gram baseline on the first 90%, score both on the rest, sample, write results."""
    from lstmkit.tasks.baselines import CharNGram
    from lstmkit.viz import plot_training_curves

    model = make_text_model(settings)
    train_text, val_text = split_text(text, model.val_fraction)
    model.fit(text, checkpoint_dir=out / "checkpoints")
    model.save(out / "model", overwrite=True)
    score = model.score(val_text)
    ngram = CharNGram(NGRAM_ORDER).fit(train_text).nats_per_char(val_text)
    results = {
        settings.cell: {"nats_per_char": score.nats_per_char, "bits_per_char": score.bits_per_char},
        f"{NGRAM_ORDER}-gram": {"nats_per_char": ngram, "bits_per_char": ngram / math.log(2)},
    }
    common.write_json(
        out / "metrics.json",
        {
            "validation": results,
            "characters": {"train": len(train_text), "validation": len(val_text)},
            "epochs_trained": len(model.history_),
        },
    )
    samples = [
        f"--- temperature {t} ---\n{settings.prime}"
        + model.generate(settings.prime, settings.length, temperature=t, seed=settings.seed)
        for t in SAMPLE_TEMPERATURES
    ]
    write_atomically(out / "samples.txt", "\n\n".join(samples) + "\n")
    plot_training_curves(model.history_, title="Training: cross-entropy per character (nats)").savefig(
        out / "training.png", dpi=110
    )
    if text_features(val_text[:CELLS_EXCERPT]):
        write_cells(model, val_text[:CELLS_EXCERPT], out)
    console.print(_text_table(results))
    console.print(samples[1], markup=False, highlight=False)
    return results


@generate_app.command("text")
def text(
    ctx: typer.Context,
    model: Path = typer.Option(None, help="Sample from this saved model (a generate text run folder, or model/)."),
    data: Path = typer.Option(None, help="Train on this UTF-8 text file (default: embedded Tiny Shakespeare)."),
    prime: str = typer.Option("", help="Text the sample continues (default: a new line)."),
    length: int = typer.Option(600, min=1, help="Characters (or words) to sample."),
    temperature: float = TEMPERATURE,
    top_k: int = typer.Option(None, min=1, help="Sample among the K most likely tokens only."),
    top_p: float = typer.Option(None, help="Sample among the most likely tokens holding this much probability."),
    cell: str = typer.Option("lstm", help="lstm, peephole, coupled, layernorm, gru or rnn."),
    hidden_size: int = typer.Option(512, min=1, help="Units per layer."),
    layers: int = typer.Option(2, min=1, help="Recurrent layers."),
    epochs: int = typer.Option(2, min=1, help="Passes over the training text."),
    seed: int = common.SEED,
    out: Path = common.RUN_FOLDER,
    resume: Path = common.RESUME,
) -> None:
    """Train a character-level language model and judge it on held-out text; with --model, sample from one."""
    check_sampling(temperature, top_k, top_p)
    shown = common.console()
    if model is not None:
        generator = common.load_saved(model, TextGenerator, "a text generator", "generate text")
        sample = generator.generate(prime, length, temperature=temperature, top_k=top_k, top_p=top_p, seed=seed)
        shown.print(prime + sample, markup=False, highlight=False)
        return

    def new_settings() -> TextSettings:
        return TextSettings(
            data=common.data_setting(data, EMBEDDED_TEXT),
            cell=cell,
            hidden_size=hidden_size,
            num_layers=layers,
            epochs=epochs,
            prime=prime,
            length=length,
            seed=seed,
        )

    def read(settings: TextSettings) -> str:
        make_text_model(settings)
        return read_training_text(settings)

    # torch's own thread count: the products of a 512-unit layer over 32 streams are worth sharing between cores
    settings, corpus, out = common.open_run(ctx, resume, out, "generate text", TextSettings, new_settings, read)
    run_text(settings, corpus, out, shown)
    shown.print(f"run folder: {out} (model/, metrics.json, samples.txt, training.png, cells.png, cells.html)")


# ---- music ---------------------------------------------------------------------------------------------


@dataclass
class MusicSettings:
    """Everything a music run depends on; recorded in run.json so ``--resume`` repeats it exactly."""

    cell: str = "lstm"
    hidden_size: int = 256
    epochs: int = 100
    samples: int = 3
    length: int = 64
    temperature: float = 1.0
    seed: int = 0
    fingerprint: str = ""


def make_music_model(settings: MusicSettings) -> MusicGenerator:
    model = MusicGenerator(
        cell=settings.cell, hidden_size=settings.hidden_size, epochs=settings.epochs, seed=settings.seed, progress=None
    )
    model.check_params()
    return model


def write_samples(model: MusicGenerator, folder: Path, samples: int, length: int, seed: int, temperature: float):
    """``samples`` sampled rolls as sample_k.mid and sample_k.png in ``folder``."""
    from lstmkit.data.midi import write_midi
    from lstmkit.viz import plot_piano_roll

    folder.mkdir(parents=True, exist_ok=True)
    for k in range(1, samples + 1):
        roll = model.generate(length, temperature=temperature, seed=seed + k)
        write_midi(roll, folder / f"sample_{k}.mid")
        plot_piano_roll(roll, title=f"Sample {k} (seed {seed + k})").savefig(folder / f"sample_{k}.png", dpi=110)


def run_music(settings: MusicSettings, out: Path, console: Console) -> dict:
    """Fit on the JSB Chorales training split (early stopping on validation), score the test split, sample."""
    from lstmkit.tasks.baselines import key_frequency_nll
    from lstmkit.viz import plot_training_curves

    chorales = load_jsb_chorales()
    model = make_music_model(settings).fit(chorales.train, chorales.valid, checkpoint_dir=out / "checkpoints")
    model.save(out / "model", overwrite=True)
    results = {
        settings.cell: {"nll": model.nll(chorales.test), "validation_nll": model.nll(chorales.valid)},
        "key_frequencies": {"nll": key_frequency_nll(chorales.train, chorales.test)},
    }
    common.write_json(out / "metrics.json", {"test": results, "epochs_trained": len(model.history_)})
    plot_training_curves(model.history_, title="Training: NLL per step (nats)").savefig(out / "training.png", dpi=110)
    write_samples(model, out / "samples", settings.samples, settings.length, settings.seed, settings.temperature)
    table = Table(title="JSB Chorales test split: NLL per step", caption="summed over the 88 keys; lower is better")
    table.add_column("model", justify="left")
    table.add_column("NLL", justify="right")
    for name, values in results.items():
        table.add_row(name, f"{values['nll']:.3f}")
    console.print(table)
    return results


@generate_app.command("music")
def music(
    ctx: typer.Context,
    model: Path = typer.Option(None, help="Sample from this saved model (a generate music run folder, or model/)."),
    samples: int = typer.Option(3, min=1, help="Sampled chorales to write (MIDI and PNG)."),
    length: int = typer.Option(64, min=1, help="Steps (quarter notes) per sample, the opening chord included."),
    temperature: float = TEMPERATURE,
    cell: str = typer.Option("lstm", help="lstm, peephole, coupled, layernorm, gru or rnn."),
    hidden_size: int = typer.Option(256, min=1, help="Units of the recurrent layer."),
    epochs: int = typer.Option(100, min=1, help="Maximum epochs (early stopping on the validation NLL)."),
    seed: int = common.SEED,
    out: Path = common.RUN_FOLDER,
    resume: Path = common.RESUME,
) -> None:
    """Train a piano-roll model on JSB Chorales and score its test NLL; with --model, write samples to --out."""
    from lstmkit.data.midi import require_mido

    check_sampling(temperature, None, None)
    require_mido()
    shown = common.console()
    if model is not None:
        generator = common.load_saved(model, MusicGenerator, "a music generator", "generate music")
        out = common.check_run_folder(out)
        write_samples(generator, out, samples, length, seed, temperature)
        shown.print(f"{samples} samples written to {out} (sample_k.mid, sample_k.png)")
        return

    def new_settings() -> MusicSettings:
        return MusicSettings(
            cell=cell,
            hidden_size=hidden_size,
            epochs=epochs,
            samples=samples,
            length=length,
            temperature=temperature,
            seed=seed,
        )

    def read(settings: MusicSettings) -> None:
        make_music_model(settings)

    common.one_thread()
    settings, _, out = common.open_run(ctx, resume, out, "generate music", MusicSettings, new_settings, read)
    run_music(settings, out, shown)
    shown.print(f"run folder: {out} (model/, metrics.json, training.png, samples/)")
