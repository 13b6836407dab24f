"""The ``jobacct`` command: a thin Typer layer over the library's plain functions.

Start-up time matters (``jobacct sacct -j ID`` should answer in a quarter of a second, tracker
issue 3), so a subcommand's module, and what it imports, is loaded only when that command runs
or a help screen lists it (:class:`LazyGroup`), and SQLAlchemy's exceptions are only looked at
if SQLAlchemy was loaded.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable, Iterator, MutableMapping
from typing import Annotated, Any

import typer
import typer.main
from typer._click import exceptions as click_exceptions
from typer._click.core import Command
from typer.core import TyperCommand, TyperGroup

from jobacct.cli.context import AppContext
from jobacct.cli.helpfmt import help_width, plain_help
from jobacct.errors import ExitStatus, JobAcctError, error_line, run_command
from jobacct.textsafe import is_utf8

#: Commands given by a function: name -> (module, function, ``app.command`` settings).
COMMANDS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "sacct": (
        "jobacct.cli.sacct",
        "sacct",
        {"context_settings": {"ignore_unknown_options": False}},
    ),
    "sjobexitmod": ("jobacct.cli.sjobexitmod", "sjobexitmod", {}),
    "modify-job": ("jobacct.cli.modifyjob", "modify_job", {}),
    "scancel": ("jobacct.cli.scancel", "scancel", {}),
    "serve": ("jobacct.cli.serve", "serve", {}),
    "completion": ("jobacct.cli.completion", "completion", {}),
    "man": ("jobacct.cli.manpage", "man", {}),
}
#: Command groups given by a module's ``app`` (a ``typer.Typer``): name -> module.
GROUPS: dict[str, str] = {
    "admin": "jobacct.cli.admin",
    "db": "jobacct.cli.db",
    "import": "jobacct.cli.importcmd",
    "shim": "jobacct.cli.shim",
    "report": "jobacct.cli.report",
}
#: The order ``jobacct --help`` lists them in.
ORDER = (
    "sacct",
    "sjobexitmod",
    "modify-job",
    "scancel",
    "admin",
    "db",
    "import",
    "report",
    "shim",
    "serve",
    "completion",
    "man",
)


#: The first paragraph of each command's help: all ``jobacct --help`` shows of a command, so
#: listing them imports none of their modules (the store, SQLAlchemy...: 0.45 s, tracker
#: issue 16). tests/test_startup.py checks that each is what the command's module says.
SUMMARIES: dict[str, str] = {
    "sacct": "Query job records as sacct(1) does, in its formats, byte for byte.",
    "sjobexitmod": "Record why a job really failed (or succeeded): DerivedExitCode and Comment.",
    "modify-job": "Set DerivedExitCode / Comment (operators also AdminComment / SystemComment)"
    " of jobs.",
    "scancel": "Cancel or signal jobs, as Slurm's scancel does, recording who, when, which"
    " signal, why.",
    "admin": "Manage AdminLevels and account coordinators (root and Administrators only).",
    "db": "Create, migrate and inspect the database.",
    "import": "Load records from Slurm's own output.",
    "report": "Reports for cron: failures, cancellations, utilization, top users, accounts.",
    "shim": "Controller events in: the shim's transports.",
    "serve": "Serve the store to local users over a Unix socket (run it as the store's owner).",
    "completion": "Print the shell completion script for bash, zsh or fish.",
    "man": "Print the man page (roff) of jobacct or of one of its commands.",
}


def load_command(name: str) -> Command:
    """Import the module of command ``name`` and build its click command as Typer would."""
    command: Command
    if name in GROUPS:
        command = typer.main.get_group(importlib.import_module(GROUPS[name]).app)
        command.name = name
    else:
        module, function, settings = COMMANDS[name]
        single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        single.command(name, **settings)(getattr(importlib.import_module(module), function))
        command = typer.main.get_command(single)
    plain_text_options(command)
    plain_help(command)
    return command


def plain_text_options(command: Command, *, subcommands: bool = True) -> None:
    """Let Typer pass ``str``, ``list[str]`` and flag values through without Pydantic.

    Typer (0.2x) coerces option values through a Pydantic ``TypeAdapter`` (even ``None``, the
    default of an option not given, and the ``--help`` flag), and importing Pydantic for that
    costs about 0.2 s of each command's start-up, while for a ``str`` the adapter is the
    identity (``_parse_cli_str``: ``str(value)``), and for a ``bool`` flag value too. Any other
    value still goes through Typer's own coercion, built when first needed; Typer versions
    without this machinery are left alone.
    """
    for param in command.params:
        _plain_text(param)
    get_help_option = command.get_help_option

    def help_option(ctx: Any) -> Any:
        option = get_help_option(ctx)  # created on first use, then cached by the command
        _plain_text(option)
        return option

    command.get_help_option = help_option  # type: ignore[method-assign]
    if subcommands:
        for sub in getattr(command, "commands", {}).values():
            plain_text_options(sub)


def _plain_text(param: Any) -> None:
    descriptor = getattr(param, "type_descriptor", None)
    if (
        descriptor is None
        or getattr(param, "_runtime_param", True) is not None
        or descriptor.file_annotation is not None
        or descriptor.parameter_info.parser is not None
        or descriptor.annotation not in (str, list[str], bool)
    ):
        return
    param._runtime_param = _plain_text_class()(
        descriptor.parameter_info, descriptor.annotation, descriptor
    )


@functools.cache
def _plain_text_class() -> type:
    from dataclasses import dataclass

    from typer._coercion import RuntimeParam, build_runtime_param

    @dataclass(frozen=True)
    class PlainText(RuntimeParam):
        descriptor: Any

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            if self.annotation is bool:
                if type(value) is bool:
                    return value
            elif type(value) is str:
                return value
            elif isinstance(value, (list, tuple)) and all(type(v) is str for v in value):
                return list(value)
            real = build_runtime_param(self.descriptor)
            return real._coerce_value(value, param=param, ctx=ctx)

    return PlainText


class _LazyCommands(MutableMapping[str, Command]):
    """A group's commands by name; each is built (its module imported) on first access."""

    def __init__(self, names: tuple[str, ...], load: Callable[[str], Command]) -> None:
        self._names = list(names)
        self._load = load
        self._built: dict[str, Command] = {}
        #: Set while a help screen lists the commands: an unbuilt one is its summary.
        self.listing = False

    def __getitem__(self, name: str) -> Command:
        if self.listing and name not in self._built and name in SUMMARIES:
            return TyperCommand(name, help=SUMMARIES[name])
        if name not in self._built:
            if name not in self._names:
                raise KeyError(name)
            self._built[name] = self._load(name)
        return self._built[name]

    def __setitem__(self, name: str, command: Command) -> None:
        if name not in self._names:
            self._names.append(name)
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        self._names.remove(name)
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names


class LazyGroup(TyperGroup):
    """The root group: its subcommands (:data:`ORDER`) are loaded on first use.

    Click asks a group for its commands through ``get_command``/``list_commands``, which read
    ``self.commands``; a lazy mapping there keeps ``jobacct sacct ...`` from importing the
    admin, import and annotation modules. Listing every command (``jobacct --help``) shows
    their :data:`SUMMARIES` and loads none.
    """

    def __init__(self, *, commands: Any = None, **attrs: Any) -> None:
        lazy = _LazyCommands(ORDER, load_command)
        for name, command in dict(commands or {}).items():
            lazy[name] = command
        super().__init__(**attrs)
        self.commands = lazy
        plain_text_options(self, subcommands=False)  # its commands: when they are loaded
        plain_help(self)

    def get_params(self, ctx: Any) -> list[Any]:
        # Typer adds --install-completion/--show-completion after building the group: they
        # take the plain-text fast path here (else every command imports Pydantic, 50 ms).
        params: list[Any] = super().get_params(ctx)
        for param in params:
            _plain_text(param)
        return params

    def format_help(self, ctx: Any, formatter: Any) -> None:
        commands = self.commands
        if not isinstance(commands, _LazyCommands):
            super().format_help(ctx, formatter)
            return
        commands.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            commands.listing = False


app = typer.Typer(
    name="jobacct",
    help="Job accounting and exit codes for batch clusters: sacct, sjobexitmod and scancel "
    "on a SQL store.",
    no_args_is_help=True,
    # --install-completion / --show-completion (and `jobacct completion SHELL`): Click's
    # completion protocol ($_JOBACCT_COMPLETE), answered by main() before any routing.
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        sys.stdout.write(f"jobacct {version('jobacct')}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL or SQLite path (default: $JOBACCT_DATABASE_URL, the site "
            "config file, then a SQLite file in your data directory).",
            metavar="URL",
        ),
    ] = None,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            help="Run the command through the jobacct daemon at unix:PATH (default: "
            "$JOBACCT_SERVER, then 'server' in the site config file; --db runs directly).",
            metavar="ADDR",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print jobacct's version and exit.",
            is_eager=True,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    ctx.obj = AppContext(db_option=db)


def main(argv: list[str] | None = None, *, route: bool = True) -> int:
    """Entry point of the console script; returns the exit status (errors.ExitStatus).

    With a server configured (``--server``, ``$JOBACCT_SERVER``, the site config's
    ``server``), the command runs through the daemon (:mod:`jobacct.client`) unless
    ``route`` is false.
    """
    from jobacct import client

    args = client.hoist_root_options(sys.argv[1:] if argv is None else argv)
    bad = next((a for a in args if not is_utf8(a)), None)
    if bad is not None:
        # Bytes that are not UTF-8 (surrogateescape) would fail deep inside, where a value
        # is encoded for the database or the terminal: one rule here for every command.
        error_line(f"argument '{bad}' is not valid UTF-8")
        return int(ExitStatus.USAGE)
    if route:
        try:
            status = client.main(args)
        except JobAcctError as exc:
            error_line(str(exc))
            return int(exc.exit_status)
        if status is not None:
            return status

    def invoke() -> object:
        try:
            # A command that ends with typer.Exit(N) (scancel's statuses) gets N back from
            # click.
            return app(args=args, standalone_mode=False, prog_name="jobacct", **help_width())
        except typer.Exit as exc:
            return int(exc.exit_code)
        except typer.Abort:
            sys.stderr.write("\n")
            return int(ExitStatus.INTERRUPTED)
        except click_exceptions.NoArgsIsHelpError as exc:
            # `jobacct`, `jobacct db`: no command given; the help says which there are.
            sys.stdout.write(exc.ctx.get_help() + "\n")
            return int(ExitStatus.USAGE)
        except click_exceptions.ClickException as exc:
            error_line(exc.format_message())
            return int(ExitStatus.USAGE)

    # JobAcctError, interrupts, EPIPE and SQLAlchemy's errors: as every direct command.
    return run_command(invoke)


def run() -> None:
    """Console-script wrapper: exit with main()'s status."""
    from jobacct import client

    client.entry()
