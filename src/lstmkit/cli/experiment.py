"""``lstmkit experiment ...``: the classic long-time-lag problems, LSTM against vanilla RNN."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lstmkit.cli import common
from lstmkit.errors import ParameterError
from lstmkit.experiments.long_lag import TASKS, LongLagConfig, RunResult, compare

experiment_app = typer.Typer(help="Runnable experiments with measured results.", no_args_is_help=True)


def _sample_points(length: int) -> list[int]:
    return sorted({0, length // 4, length // 2, 3 * length // 4, length - 1})


def _results_table(config: LongLagConfig, results: dict[str, RunResult]) -> Table:
    points = _sample_points(config.length)
    first = next(iter(results.values()))
    table = Table(
        title=f"{config.task}: T = {config.length}, {config.steps} steps of batch {config.batch_size}, "
        f"H = {config.hidden_size}",
        caption=f"{first.metric_name} on {config.eval_size} held-out sequences; baseline: "
        f"{'chance' if first.metric_name == 'accuracy' else 'always guessing 1'}; "
        "|dL/dh_t|: mean gradient norm reaching step t",
    )
    table.add_column("model")
    table.add_column(first.metric_name, justify="right")
    table.add_column("baseline", justify="right")
    table.add_column("solved")
    for t in points:
        table.add_column(f"|dL/dh_{t}|", justify="right")
    for kind, result in results.items():
        table.add_row(
            kind,
            f"{result.metric:.4f}",
            f"{result.baseline:.4f}",
            "yes" if result.solved else "no",
            *(f"{result.grad_norms[t]:.1e}" for t in points),
        )
    return table


@experiment_app.command("long-lag")
def long_lag(
    task: str = typer.Option("both", help=f"{', '.join(TASKS)} or both."),
    length: int = typer.Option(100, help="Sequence length T."),
    steps: int = typer.Option(None, help="Training batches (default: the task's)."),
    hidden_size: int = typer.Option(32, help="Hidden units of both models."),
    batch_size: int = typer.Option(32),
    lr: float = typer.Option(1e-2, help="Adam learning rate."),
    forget_bias: float = typer.Option(None, help="Initial forget-gate bias of the LSTM (default: the task's)."),
    seed: int = common.SEED,
    json_out: Path = typer.Option(None, "--json", help="Also write the results to this JSON file."),
) -> None:
    """Train the reference LSTM and vanilla RNN with the same budget on long-time-lag problems.

    Prints held-out accuracy or MSE of both, and the measured gradient norm |dL/dh_t| along t.
    """
    if task not in (*TASKS, "both"):
        raise ParameterError(f"unknown task {task!r}; expected one of {', '.join(TASKS)} or both")
    if json_out is not None:
        common.check_new_file(json_out, "results")  # before the training, not after
    console = Console(width=None if sys.stdout.isatty() else 120)
    payload = {}
    for name in TASKS if task == "both" else (task,):
        overrides = dict(
            length=length,
            hidden_size=hidden_size,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            steps=steps,
            forget_bias=forget_bias,
        )
        config = LongLagConfig.for_task(name, **{k: v for k, v in overrides.items() if v is not None})
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("loss {task.fields[loss]:.4f}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            bars = {}

            def report(kind: str, step: int, loss: float, config=config, bars=bars, progress=progress) -> None:
                if kind not in bars:
                    bars[kind] = progress.add_task(f"{config.task} {kind}", total=config.steps, loss=loss)
                progress.update(bars[kind], completed=step + 1, loss=loss)

            results = compare(config, progress=report)
        console.print(_results_table(config, results))
        payload[name] = {
            "config": config.__dict__,
            "results": {
                kind: {
                    "metric": result.metric_name,
                    "value": result.metric,
                    "baseline": result.baseline,
                    "solved": result.solved,
                    "grad_norms": np.asarray(result.grad_norms).tolist(),
                    "final_train_loss": result.train_loss[-1],
                }
                for kind, result in results.items()
            },
        }
    if json_out is not None:
        overflow = "null where the gradient norm overflowed float64 (an exploding gradient)"
        common.write_json(json_out, common.undefined_as_null(payload, "grad_norms", overflow))
        console.print(f"results written to {json_out}")


def _seeds(quick: bool, seeds: str) -> tuple[int, ...]:
    """Seed 0 alone with --quick, else the comma-separated --seeds."""
    try:
        return (0,) if quick else tuple(int(s) for s in seeds.split(","))
    except ValueError:
        raise ParameterError(f"expected --seeds as comma-separated integers, got {seeds!r}") from None


def _by_cell(trials, key: str = "cell") -> dict[str, list]:
    """The trials of each net (told apart by the trial's ``key``), in the order the nets first appear."""
    grouped: dict[str, list] = {}
    for trial in trials:
        grouped.setdefault(getattr(trial, key), []).append(trial)
    return grouped


def _report(table: Table, result, json_out: Path | None, omit: tuple[str, ...] = ()) -> None:
    """Print the table; write the result (a dataclass), less its fields ``omit`` (pictures' data), to ``json_out``
    if given."""
    from dataclasses import asdict

    common.console().print(table)
    if json_out is not None:
        common.write_json(json_out, {k: v for k, v in asdict(result).items() if k not in omit})
        common.console().print(f"results written to {json_out}")


def _table(title: str, caption: str, columns: tuple[str, ...]) -> Table:
    """A results table: the first column names the net (left), the others hold numbers (right)."""
    table = Table(title=title, caption=caption)
    for k, column in enumerate(columns):
        table.add_column(column, justify="left" if k == 0 else "right")
    return table


def _start(json_out: Path | None, picture: Path | None = None) -> None:
    """Before any training: refuse outputs that exist or cannot be written; then one thread (seeded runs repeat)."""
    for path, what in ((json_out, "results"), (picture, "picture")):
        if path is not None:
            common.check_new_file(path, what)
    common.one_thread()


SEEDS = typer.Option("0,1,2", help="Comma-separated seeds, one trial of each net per seed.")
JSON_OUT = typer.Option(None, "--json", help="Also write the results to this JSON file.")
INPUT_BIAS = typer.Option(-3.0, help="Added to the LSTM's initial input-gate bias (the paper's cells: negative).")


@experiment_app.command("reber")
def reber(
    quick: bool = typer.Option(False, "--quick", help="One seed and a short budget (seconds): the test's version."),
    epochs: int = typer.Option(None, min=1, help="Passes over the 256 training strings (default: 400)."),
    seeds: str = SEEDS,
    json_out: Path = JSON_OUT,
) -> None:
    """The embedded Reber grammar (Hochreiter & Schmidhuber 1997, experiment 1): LSTM against the vanilla RNN."""
    from lstmkit.experiments.reber import ReberConfig, embedded_reber

    config = ReberConfig(epochs=epochs or (30 if quick else ReberConfig.epochs), seeds=_seeds(quick, seeds))
    _start(json_out)
    result = embedded_reber(config)
    table = _table(
        title=f"Embedded Reber grammar: {config.epochs} epochs over {config.train_strings} strings, H = "
        f"{config.hidden_size}",
        caption=f"test steps with every allowed symbol ranked first; the best memoryless rule: "
        f"{result.memoryless_step_accuracy:.3f}. Hochreiter & Schmidhuber 1997: LSTM solved it in all trials",
        columns=("net", "solved", "step accuracy", "second-to-last symbol"),
    )
    for cell, trials in _by_cell(result.trials).items():
        table.add_row(
            cell,
            f"{sum(t.solved for t in trials)} of {len(trials)}",
            f"{np.mean([t.step_accuracy for t in trials]):.3f}",
            f"{np.mean([t.second_to_last_accuracy for t in trials]):.3f}",
        )
    _report(table, result, json_out)


@experiment_app.command("temporal-order")
def temporal_order(
    relevant: int = typer.Option(2, min=2, max=3, help="Relevant symbols: 2 (experiment 6a) or 3 (6b)."),
    quick: bool = typer.Option(False, "--quick", help="One seed, fewer sequences and epochs: the test's version."),
    epochs: int = typer.Option(None, min=1, help="Passes over the training sequences (default: 60)."),
    input_bias: float = INPUT_BIAS,
    seeds: str = SEEDS,
    json_out: Path = JSON_OUT,
) -> None:
    """The temporal order problem (Hochreiter & Schmidhuber 1997, experiment 6): LSTM against the vanilla RNN."""
    from lstmkit.experiments.temporal_order import TemporalOrderConfig, temporal_order_experiment

    budget = {"test_sequences": 500, "epochs": 8} if quick else {"epochs": TemporalOrderConfig.epochs}
    config = TemporalOrderConfig(
        relevant=relevant,
        input_bias=input_bias,
        seeds=_seeds(quick, seeds),
        **(budget | ({"epochs": epochs} if epochs else {})),
    )
    _start(json_out)
    result = temporal_order_experiment(config)
    table = _table(
        title=f"Temporal order, {relevant} relevant symbols: {config.epochs} epochs over {config.train_sequences} "
        f"sequences, H = {config.hidden_size}, LSTM gate biases + {config.forget_bias} (f), {config.input_bias:+} (i)",
        caption=f"accuracy on {config.test_sequences} held-out sequences (chance {result.chance:.3f}); solved: all "
        "of them right",
        columns=("net", "solved", "accuracy"),
    )
    for cell, trials in _by_cell(result.trials).items():
        accuracies = ", ".join(f"{t.accuracy:.3f}" for t in trials)
        table.add_row(cell, f"{sum(t.solved for t in trials)} of {len(trials)}", accuracies)
    _report(table, result, json_out)


@experiment_app.command("adding")
def adding(
    length: int = typer.Option(100, min=22, help="T: sequences of T to T + T/10 steps."),
    quick: bool = typer.Option(False, "--quick", help="One seed, T = 30 and a short budget: the test's version."),
    epochs: int = typer.Option(None, min=1, help="Passes over the training sequences (default: 10)."),
    input_bias: float = INPUT_BIAS,
    seeds: str = SEEDS,
    json_out: Path = JSON_OUT,
) -> None:
    """The adding problem as Hochreiter & Schmidhuber 1997 posed it (experiment 4): LSTM against the vanilla RNN."""
    from lstmkit.experiments.adding import PAPER_SEQUENCES, AddingConfig, adding_experiment

    budget = {"length": 30, "train_sequences": 3000, "test_sequences": 512, "epochs": 8} if quick else {}
    options = {"length": length, "input_bias": input_bias, "seeds": _seeds(quick, seeds)}
    config = AddingConfig(**(options | budget | ({"epochs": epochs} if epochs else {})))
    _start(json_out)
    result = adding_experiment(config)
    paper = (
        f"Hochreiter & Schmidhuber 1997 at T = {config.length}: {result.paper_wrong} of 2,560 wrong after "
        f"{PAPER_SEQUENCES[config.length]:,} training sequences"
        if result.paper_wrong is not None
        else "the paper reports T = 100, 500 and 1000"
    )
    table = _table(
        title=f"Adding problem, T = {config.length}: {config.epochs} epochs over {config.train_sequences:,} sequences, "
        f"H = {config.hidden_size}",
        caption=f"wrong: final |error| >= {config.threshold} on {config.test_sequences:,} held-out sequences; always "
        f"answering 0.5: {result.constant_wrong} wrong, MSE {result.constant_mse:.4f}. {paper}",
        columns=("net", "wrong", "MSE"),
    )
    for cell, trials in _by_cell(result.trials).items():
        table.add_row(cell, ", ".join(str(t.wrong) for t in trials), ", ".join(f"{t.mse:.5f}" for t in trials))
    _report(table, result, json_out)


@experiment_app.command("continual-reber")
def continual_reber(
    quick: bool = typer.Option(False, "--quick", help="One seed and a short budget: the test's version."),
    epochs: int = typer.Option(None, min=1, help="Passes over the training streams (default: 20)."),
    seeds: str = SEEDS,
    json_out: Path = JSON_OUT,
    picture: Path = typer.Option(None, help="Also draw the first seed's cell states on the held-out stream (PNG)."),
) -> None:
    """The continual embedded Reber grammar (Gers et al. 2000): LSTM with a learned forget gate against f = 1."""
    from lstmkit.experiments.continual_reber import ContinualReberConfig
    from lstmkit.experiments.continual_reber import continual_reber as run
    from lstmkit.viz import plot_cell_states

    budget = {"strings_per_stream": 60, "test_strings": 400, "epochs": 12} if quick else {}
    config = ContinualReberConfig(seeds=_seeds(quick, seeds), **(budget | ({"epochs": epochs} if epochs else {})))
    _start(json_out, picture)
    result = run(config)
    table = _table(
        title=f"Continual embedded Reber grammar: {config.epochs} epochs over {config.streams} streams of "
        f"{config.strings_per_stream} strings, H = {config.hidden_size}",
        caption=f"one held-out stream of {result.trials[0].strings:,} strings read without a reset; right: every "
        "allowed next symbol ranked first. Gers et al. 2000: without forget gates LSTM failed in all trials, with "
        "them it solved the task",
        columns=("forget gate", "steps right", "strings before the first error", "mean |c|, first / last tenth"),
    )
    for gate, trials in _by_cell(result.trials, key="forget_gate").items():
        table.add_row(
            gate,
            ", ".join(f"{t.step_accuracy:.4f}" for t in trials),
            ", ".join(f"{t.strings_before_error:,}" for t in trials),
            ", ".join(f"{t.mean_abs_cell[0]:.2f} / {t.mean_abs_cell[1]:.2f}" for t in trials),
        )
    if picture is not None:
        figure = plot_cell_states(
            {f"forget gate {gate}": states for gate, states in result.cells.items()},
            title="Cell states over the first steps of the held-out stream (seed "
            f"{config.seeds[0]}): without forgetting they drift",
        )
        common.write_figure(figure, picture)
    _report(table, result, json_out, omit=("cells",))


@experiment_app.command("first-symbol")
def first_symbol(
    length: int = typer.Option(100, min=2, help="T: the steps between the symbol and the question."),
    quick: bool = typer.Option(False, "--quick", help="One seed, T = 40 and a short budget: the test's version."),
    epochs: int = typer.Option(None, min=1, help="Passes over the training sequences (default: 30)."),
    seeds: str = SEEDS,
    json_out: Path = JSON_OUT,
    picture: Path = typer.Option(None, help="Also draw the first seed's measured gradient flow (PNG)."),
) -> None:
    """Remember the first symbol across T steps: LSTM, GRU and vanilla RNN, and their gradient flow, measured."""
    from lstmkit.experiments.first_symbol import FirstSymbolConfig, first_symbol_experiment
    from lstmkit.viz import plot_gradient_flow

    budget = {"length": 40, "train_sequences": 1000, "test_sequences": 256, "epochs": 12} if quick else {}
    config = FirstSymbolConfig(
        **({"length": length, "seeds": _seeds(quick, seeds)} | budget | ({"epochs": epochs} if epochs else {}))
    )
    _start(json_out, picture)
    result = first_symbol_experiment(config)
    table = _table(
        title=f"First symbol across T = {config.length}: {config.epochs} epochs over {config.train_sequences:,} "
        f"sequences, H = {config.hidden_size}",
        caption=f"accuracy on {config.test_sequences} held-out sequences (chance {result.chance:.2f}); "
        "|dL/dh_0| / |dL/dh_T-1|: the share of the error signal at the last step that reaches the first, "
        "measured through the trained net",
        columns=("net", "accuracy", "|dL/dh_0| / |dL/dh_T-1|"),
    )
    for cell, trials in _by_cell(result.trials).items():
        table.add_row(
            cell,
            ", ".join(f"{t.accuracy:.3f}" for t in trials),
            ", ".join(f"{t.gradient_ratio:.1e}" for t in trials),
        )
    if picture is not None:
        first = [t for t in result.trials if t.seed == config.seeds[0]]
        figure = plot_gradient_flow(
            {f"{t.cell} (accuracy {t.accuracy:.2f})": np.asarray(t.grad_h) for t in first},
            {f"{t.cell}": np.asarray(t.grad_c) for t in first if t.grad_c is not None},
            title=f"Gradient flow through trained nets, first symbol across T = {config.length} (seed "
            f"{config.seeds[0]})",
        )
        common.write_figure(figure, picture)
    _report(table, result, json_out)


def _names(value: str, known: tuple[str, ...], what: str) -> tuple[str, ...]:
    """Comma-separated names, each one of ``known``."""
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise ParameterError(f"expected {what} among {', '.join(known)}, got {value!r}")
    return names


@experiment_app.command("compare")
def compare_cells(
    quick: bool = typer.Option(False, "--quick", help="One seed, small budgets: the test's version (seconds)."),
    tasks: str = typer.Option(",".join(("adding", "temporal-order", "japanese-vowels", "char-lm")), help="Tasks."),
    variants: str = typer.Option(None, help="Comma-separated variants (default: all seven)."),
    seeds: str = SEEDS,
    json_out: Path = JSON_OUT,
    picture: Path = typer.Option(None, help="Also draw the scores, task by task (PNG)."),
) -> None:
    """Every cell kind (and the LSTM with recurrent dropout) on the same tasks, parameter budget and steps."""
    from lstmkit.experiments.compare import SCORES, TASKS, VARIANTS, CompareConfig, compare
    from lstmkit.viz import plot_comparison

    chosen = {"tasks": _names(tasks, TASKS, "tasks"), "seeds": _seeds(quick, seeds)}
    if variants is not None:
        chosen["variants"] = _names(variants, tuple(VARIANTS), "variants")
    config = CompareConfig.quick(**chosen) if quick else CompareConfig(**chosen)
    _start(json_out, picture)
    with common.console().status("training") as status:
        result = compare(config, progress=lambda *step: status.update(f"{step[0]}: {step[1]}, seed {step[2]} done"))
    table = _table(
        title=f"The cell family on equal terms: recurrent layers of about "
        f"{max(max(p.values()) for p in result.parameters.values()):,} parameters or fewer (an LSTM of "
        f"{config.budget_hidden} units), seeds {', '.join(map(str, config.seeds))}",
        caption="mean ± sd over seeds; * : differs from the LSTM by more than both seed spreads together. "
        + "; ".join(
            f"{task}: {SCORES[task][0]}, {'higher' if SCORES[task][1] else 'lower'} is better" for task in config.tasks
        ),
        columns=("variant", *config.tasks, "widths H"),
    )
    marks = {task: result.beyond_spread(task) if "lstm" in config.variants else {} for task in config.tasks}
    for variant in config.variants:
        cells = []
        for task in config.tasks:
            mean, sd = result.summary(task)[variant]
            cells.append(f"{mean:.3f} ± {sd:.3f}{' *' if marks[task].get(variant) else ''}")
        table.add_row(variant, *cells, ", ".join(str(result.hidden[task][variant]) for task in config.tasks))
    if picture is not None:
        figure = plot_comparison(
            result.scores, {task: SCORES[task] for task in config.tasks}, title=table.title.split(":")[0]
        )
        common.write_figure(figure, picture)
    _report(table, result, json_out)
