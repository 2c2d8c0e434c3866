"""The ``csdesk`` command line (names and exit codes fixed by ../shared/contract.md).

Exit codes: 0 ok, 2 bad usage or bad input (one line on stderr naming the problem),
1 other failure. ``--json`` output goes to stdout alone; progress and logs go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from csdesk.actions.team import NewMember
    from csdesk.settings import DatabaseSettings

from csdesk.errors import BadInputError, CsdeskError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad usage or bad input: reported in one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def _port(text: str) -> int:
    value = _positive_int(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"port must be 1-65535, got {value}")
    return value


DEMO_PROMOTIONS = ("double11",)
"""The replays of ``csdesk demo --promotion`` (``csdesk.demo.PROMOTIONS``, kept equal by a
test; named here so ``--help`` needs no import of the web stack)."""
MAX_DEMO_RATE = 200.0


def _demo_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"rate must be a number, got {text!r}") from None
    if not 0 < value <= MAX_DEMO_RATE:
        raise argparse.ArgumentTypeError(
            f"rate must be above 0 and at most {MAX_DEMO_RATE:g} events a second, got {text}"
        )
    return value


def _progress_bar(stream: object = sys.stderr) -> Callable[[str, int, int], None]:
    """A one-line progress bar on stderr (stdout stays clean for --json)."""
    width = 30

    def draw(phase: str, done: int, total: int) -> None:
        filled = width if total <= 0 else min(width, width * done // total)
        bar = "#" * filled + "-" * (width - filled)
        print(f"\r{phase:<14} [{bar}] {done}/{total}", end="", file=sys.stderr, flush=True)
        if total and done >= total:
            print(file=sys.stderr, flush=True)

    return draw


# -- commands ---------------------------------------------------------------------------


def _data_dir(args: argparse.Namespace) -> Path:
    """The data directory (``--data``, ``$CSDESK_DATA_DIR`` or ``./csdesk-data``); a path
    that exists but is no directory is bad input, refused before anything is written."""
    from csdesk.settings import data_dir_from_env

    path = data_dir_from_env(getattr(args, "data", None))
    if path.exists() and not path.is_dir():
        raise UsageError(f"--data: {path} is not a directory")
    return path


def _existing_database(args: argparse.Namespace) -> DatabaseSettings:
    """The database of a command that needs one ``csdesk migrate`` made: a missing or
    unmigrated database is bad input, and nothing (folder, secrets, file) is created."""
    from csdesk.settings import database_settings
    from csdesk.storage import migrate

    data_dir = _data_dir(args)
    database = database_settings(data_dir)
    if database.is_sqlite and not (data_dir / "csdesk.sqlite3").is_file():
        raise UsageError(f"--data: no database in {data_dir} (run `csdesk migrate` first)")
    if not migrate.current_heads(database.url):
        raise UsageError("the database has no schema yet (run `csdesk migrate` first)")
    return database


def cmd_migrate(args: argparse.Namespace) -> int:
    from csdesk.settings import load_settings
    from csdesk.storage import migrate

    settings = load_settings(_data_dir(args))
    migrate.upgrade(settings.database.url)
    print(
        f"database at head: {', '.join(sorted(migrate.current_heads(settings.database.url)))}",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_seed(args: argparse.Namespace) -> int:
    from csdesk.seed.generator import SeedError, SeedOptions, seed_demo
    from csdesk.settings import load_settings
    from csdesk.storage import migrate
    from csdesk.storage.engine import create_engine, create_session_factory

    try:
        options = SeedOptions(
            buyers=args.buyers, orders=args.orders, days=args.days, seed=args.seed
        )
    except SeedError as exc:
        raise UsageError(str(exc)) from None
    settings = load_settings(_data_dir(args))
    migrate.upgrade(settings.database.url)

    async def run() -> object:
        engine = create_engine(settings.database)
        try:
            return await seed_demo(create_session_factory(engine), options, _progress_bar())
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(run())
    except SeedError as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(report.to_json(), ensure_ascii=False) if args.json else report.summary())  # type: ignore[attr-defined]
    return EXIT_OK


def cmd_user_add(args: argparse.Namespace) -> int:
    from csdesk.actions.shops import default_shop_id, ensure_shop
    from csdesk.actions.team import AgentSetup, add_member, parse_service_roles, split_list
    from csdesk.storage.engine import create_engine, create_session_factory
    from csdesk.storage.enums import UserRole

    role = UserRole(args.role)
    agent: AgentSetup | None = None
    if role is UserRole.AGENT:
        agent = AgentSetup(
            service_roles=parse_service_roles(
                split_list(args.service_roles or "presales"), field="--service-roles"
            ),
            chat_capacity=args.chat_capacity if args.chat_capacity is not None else 5,
        )
    elif args.service_roles is not None or args.chat_capacity is not None:
        raise UsageError(
            f"--service-roles and --chat-capacity are for agents only (this is a {role.value})"
        )
    password: str | None = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("--password-stdin given but no password on stdin")
    database = _existing_database(args)

    async def run() -> NewMember:
        engine = create_engine(database)
        try:
            sessions = create_session_factory(engine)
            shop_id = args.shop or await default_shop_id(sessions)
            if shop_id is None:
                shop_id = (await ensure_shop(sessions)).id
            return await add_member(
                sessions,
                shop_id=shop_id,
                username=args.name,
                role=role,
                password=password,
                display_name=args.display_name,
                agent=agent,
            )
        finally:
            await engine.dispose()

    member = asyncio.run(run())
    what = f"created user {member.username} ({member.role.value}), id {member.user_id}"
    if member.agent is not None:
        roles = ",".join(r.value for r in member.agent.service_roles)
        what += (
            f"; agent profile: service roles {roles}, chat capacity "
            f"{member.agent.chat_capacity}, offline until they go online"
        )
    print(what, file=sys.stderr)
    if member.token_only:
        print(
            f"note: no password given (--password-stdin), so {member.username} cannot log in "
            f"to the console; use `csdesk token issue {member.username}` for API access",
            file=sys.stderr,
        )
    return EXIT_OK


def cmd_token_issue(args: argparse.Namespace) -> int:
    from csdesk.actions.users import issue_token
    from csdesk.storage.engine import create_engine, create_session_factory

    database = _existing_database(args)

    async def run() -> str:
        engine = create_engine(database)
        try:
            return await issue_token(create_session_factory(engine), args.name)
        finally:
            await engine.dispose()

    try:
        token = asyncio.run(run())
    except LookupError as exc:
        raise UsageError(exc.args[0] if exc.args else "no such user") from None
    print(token)
    return EXIT_OK


def _sqlite_file(args: argparse.Namespace, command: str) -> Path:
    """The embedded database file; server mode (PostgreSQL) is bad input for backup and
    restore, which point to PostgreSQL's own tools."""
    from csdesk.settings import database_settings

    data_dir = _data_dir(args)
    if not database_settings(data_dir).is_sqlite:
        raise UsageError(
            f"csdesk {command} is for embedded mode (SQLite); CSDESK_DATABASE_URL is "
            "PostgreSQL: use pg_dump / pg_restore (docs/operations.md)"
        )
    return data_dir / "csdesk.sqlite3"


def _print_verified(verified: object, what: str, args: argparse.Namespace) -> None:
    from csdesk.storage.backup import Verified

    assert isinstance(verified, Verified)
    if args.json:
        print(json.dumps(verified.to_json(), ensure_ascii=False))
    rows = sum(verified.tables.values())
    print(
        f"{what} {verified.path} ({verified.bytes} bytes, revision {verified.revision}, "
        f"{len(verified.tables)} tables, {rows} rows; integrity ok)",
        file=sys.stderr,
    )


def cmd_backup(args: argparse.Namespace) -> int:
    from csdesk.storage.backup import BackupError, backup

    database = _sqlite_file(args, "backup")
    try:
        verified = backup(database, Path(args.file), force=args.force)
    except BackupError as exc:
        raise UsageError(str(exc)) from None
    _print_verified(verified, "backed up and verified", args)
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from csdesk.storage import migrate
    from csdesk.storage.backup import BackupError, restore

    database = _sqlite_file(args, "restore")
    try:
        verified = restore(Path(args.file), database, force=args.force)
    except BackupError as exc:
        raise UsageError(str(exc)) from None
    _print_verified(verified, "restored and verified", args)
    # A backup taken before an upgrade comes back at its own revision.
    from csdesk.settings import database_settings

    migrate.upgrade(database_settings(_data_dir(args)).url)
    return EXIT_OK


def cmd_buyer_erase(args: argparse.Namespace) -> int:
    from csdesk.actions.erasure import erase_buyer
    from csdesk.actions.shops import default_shop_id
    from csdesk.clock import utcnow
    from csdesk.storage.engine import create_engine, create_session_factory

    if not args.nick.strip():
        raise UsageError("NICK: name the buyer to erase")
    database = _existing_database(args)

    async def run() -> dict[str, object]:
        engine = create_engine(database)
        try:
            sessions = create_session_factory(engine)
            shop_id = args.shop or await default_shop_id(sessions)
            if shop_id is None:
                raise UsageError("--shop: the database has no shop")
            erased = await erase_buyer(
                sessions, None, shop_id, utcnow(), reason=args.reason, nick=args.nick
            )
            return erased.to_json()
        finally:
            await engine.dispose()

    result = asyncio.run(run())
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    print(
        f"erased buyer {result['buyer_id']} (now {result['nick']}): "
        f"{result['orders_cleared']} orders cleared, {result['messages_masked']} messages "
        f"masked; {result['conversations_kept']} conversations kept (audited as pii.erase)",
        file=sys.stderr,
    )
    return EXIT_OK


def _run_with_database(args: argparse.Namespace, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """``work(sessions)`` on the existing database, the engine disposed afterwards."""
    from csdesk.storage.engine import create_engine, create_session_factory

    database = _existing_database(args)

    async def run() -> Any:
        engine = create_engine(database)
        try:
            return await work(create_session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def cmd_shop_add(args: argparse.Namespace) -> int:
    from csdesk.actions.shops import add_shop, check_shop_id
    from csdesk.clock import utcnow

    check_shop_id(args.id, "ID")  # bad input before the database is opened
    created = _run_with_database(
        args, lambda sessions: add_shop(sessions, args.id, args.name, utcnow())
    )
    if args.json:
        print(
            json.dumps(
                {
                    "shop_id": created.shop_id,
                    "name": created.name,
                    "webhook_secret": created.secret,
                },
                ensure_ascii=False,
            )
        )
    else:
        print(f"created shop {created.shop_id} ({created.name})", file=sys.stderr)
        print(f"inbound webhook secret (shown once, keep it): {created.secret}")
    return EXIT_OK


def cmd_shop_rotate_secret(args: argparse.Namespace) -> int:
    from csdesk.actions.shops import rotate_webhook_secret
    from csdesk.clock import utcnow

    rotated = _run_with_database(
        args,
        lambda sessions: rotate_webhook_secret(
            sessions, args.id, utcnow(), grace_s=args.grace_hours * 3600
        ),
    )
    until = rotated.previous_valid_until.isoformat() if rotated.previous_valid_until else None
    if args.json:
        print(
            json.dumps(
                {
                    "shop_id": rotated.shop_id,
                    "webhook_secret": rotated.secret,
                    "previous_valid_until": until,
                }
            )
        )
    else:
        print(
            f"shop {rotated.shop_id}: new inbound webhook secret; "
            + (f"the previous one works until {until}" if until else "no previous one works"),
            file=sys.stderr,
        )
        print(f"inbound webhook secret (shown once, keep it): {rotated.secret}")
    return EXIT_OK


async def _shop_or_default(sessions: Any, shop: str | None) -> str:
    from csdesk.actions.shops import default_shop_id

    shop_id = shop or await default_shop_id(sessions)
    if shop_id is None:
        raise UsageError("--shop: there is no shop yet (`csdesk shop add ID` creates one)")
    return shop_id


def cmd_channel_set(args: argparse.Namespace) -> int:
    from csdesk.actions.shops import check_channel_url, set_channel
    from csdesk.clock import utcnow

    check_channel_url(args.url, "URL")  # bad input before the database is opened

    async def work(sessions: Any) -> Any:
        return await set_channel(
            sessions, await _shop_or_default(sessions, args.shop), args.url, utcnow()
        )

    channel = _run_with_database(args, work)
    if args.json:
        print(
            json.dumps(
                {
                    "shop_id": channel.shop_id,
                    "url": channel.url,
                    "outbound_secret": channel.outbound_secret,
                }
            )
        )
    else:
        print(
            f"shop {channel.shop_id}: buyer-visible messages go to {channel.url}, signed "
            'X-Csdesk-Signature: t=<unix seconds>,sha256=<hex HMAC of "<t>." + body>',
            file=sys.stderr,
        )
        print(f"outbound secret (shown once, keep it): {channel.outbound_secret}")
    return EXIT_OK


def cmd_channel_clear(args: argparse.Namespace) -> int:
    from csdesk.actions.shops import clear_channel
    from csdesk.clock import utcnow

    async def work(sessions: Any) -> str:
        shop_id = await _shop_or_default(sessions, args.shop)
        await clear_channel(sessions, shop_id, utcnow())
        return shop_id

    shop_id = _run_with_database(args, work)
    print(f"shop {shop_id}: no channel; buyer-visible messages are sent nowhere", file=sys.stderr)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from csdesk.app import create_app, for_serving
    from csdesk.settings import load_settings

    _existing_database(args)
    settings = load_settings(_data_dir(args), host=args.host, port=args.port)
    web.run_app(
        for_serving(create_app(settings)),
        host=settings.web.host,
        port=settings.web.port,
        reuse_port=args.reuse_port or None,
        print=lambda msg: print(msg, file=sys.stderr),
    )
    return EXIT_OK


def cmd_worker(args: argparse.Namespace) -> int:
    import os

    from csdesk.jobs.worker import run_worker

    # Checked before settings are loaded, which would write secrets into a data folder.
    if not os.environ.get("CSDESK_REDIS_URL"):
        raise UsageError(
            "the worker needs CSDESK_REDIS_URL (embedded mode runs jobs in the web process)"
        )
    return run_worker()


def cmd_demo(args: argparse.Namespace) -> int:
    from aiohttp import web

    from csdesk.app import create_app, for_serving
    from csdesk.demo import TrafficOptions, prepare_demo
    from csdesk.settings import load_settings

    settings = load_settings(_data_dir(args), host=args.host, port=args.port)
    logins = asyncio.run(prepare_demo(settings, _progress_bar()))
    url = f"http://{settings.web.host}:{settings.web.port}/console/"
    print(f"csdesk demo: {url}")
    for username, password, role in logins:
        print(f"  login {username:<12} password {password:<14} ({role})")
    sys.stdout.flush()
    web.run_app(
        for_serving(
            create_app(
                settings,
                demo=True,
                traffic=TrafficOptions(rate=args.rate, promotion=args.promotion),
            )
        ),
        host=settings.web.host,
        port=settings.web.port,
        print=lambda msg: print(msg, file=sys.stderr),
    )
    return EXIT_OK


def cmd_triage(args: argparse.Namespace) -> int:
    from csdesk.roles.triage import classify

    texts: Sequence[str] = args.text or [line.rstrip("\r\n") for line in sys.stdin]
    texts = [text for text in texts if text.strip()]
    if not texts:
        raise UsageError("no text to classify: give TEXT arguments or lines on stdin")
    for text in texts:
        result = classify(text)
        if args.json:
            print(json.dumps(result.to_json(), ensure_ascii=False))
        else:
            print(f"{result.intent:<15} {result.role:<18} {result.risk:<7} {text}")
            for reason in result.reasons:
                print(f"    {reason}")
    return EXIT_OK


def _number(option: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            return float(text)
        except ValueError:
            raise UsageError(f"{option}: expected a number, got {text!r}") from None

    return parse


def cmd_staffing(args: argparse.Namespace) -> int:
    from csdesk.staffing.erlang import StaffingInputError, agents_needed, parse_service_level

    try:
        target = parse_service_level(args.service_level)
        staffing = agents_needed(
            args.arrivals_per_hour, args.aht_seconds, args.answer_within, target
        )
    except StaffingInputError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(staffing.to_json()))
    else:
        print(
            f"agents {staffing.agents}: {staffing.service_level:.1%} answered within "
            f"{args.answer_within:g} s (target {target:.1%}), ASA {staffing.asa_seconds:.1f} s, "
            f"occupancy {staffing.occupancy:.1%}, traffic {staffing.traffic_erlangs:.2f} erlangs"
        )
    return EXIT_OK


def cmd_simulate(args: argparse.Namespace) -> int:
    from csdesk.simulation.cli import run_simulate

    return run_simulate(args, UsageError, _progress_bar())


def cmd_bench(args: argparse.Namespace) -> int:
    # An installed ``csdesk`` script does not see the current directory on sys.path; the
    # benchmarks live in the checkout (not in the wheel), so look there.
    checkout = Path.cwd()
    if (checkout / "bench" / "run.py").is_file() and str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    try:
        from bench.run import parse_only, run_all
    except ModuleNotFoundError:
        raise UsageError(
            "csdesk bench runs from a source checkout (bench/ is not installed): "
            "cd to the repository first"
        ) from None

    try:
        only = None if args.only is None else parse_only(args.only)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return run_all(json_output=args.json, quick=args.quick, only=only)


def _read_text(path: str) -> str:
    """FILE or ``-`` (stdin), as text; a missing or unreadable file is bad input."""
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"FILE: cannot read {path!r}: {exc}") from None


def cmd_qc_plan(args: argparse.Namespace) -> int:
    from csdesk.qc.aql import PlanInputError, parse_aql, parse_level, single_plan

    try:
        plan = single_plan(args.lot, parse_level(args.level), parse_aql(args.aql))
    except PlanInputError as exc:
        raise UsageError(f"--{exc.field}: {exc.message}") from None
    if args.json:
        print(json.dumps(plan.to_json()))
    else:
        print(
            f"code letter {plan.code_letter}: inspect {plan.sample_size} of {args.lot}, "
            f"accept with <= {plan.accept} nonconforming, reject with >= {plan.reject}"
        )
    return EXIT_OK


def cmd_qc_check(args: argparse.Namespace) -> int:
    from csdesk.qc.check import TranscriptError, check, parse_transcript
    from csdesk.qc.scripts import default_script

    try:
        transcript = parse_transcript(json.loads(_read_text(args.file)))
    except json.JSONDecodeError as exc:
        raise UsageError(f"FILE: not JSON ({exc})") from None
    except TranscriptError as exc:
        raise UsageError(str(exc)) from None
    result = check(transcript, default_script(transcript.role))
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        print(f"score {result.score} ({result.script_version}), {len(result.hits)} hit(s)")
        for hit in result.hits:
            print(
                f"  #{hit.message_index} [{hit.span[0]}:{hit.span[1]}] {hit.category} "
                f"{hit.severity} -{hit.points}: {hit.detail}"
            )
    return EXIT_OK


def cmd_qc_alpha(args: argparse.Namespace) -> int:
    from csdesk.qc.calibration import Level, SheetError, agreement, drift, parse_sheet

    level = Level(args.level)
    try:
        sheet = parse_sheet(_read_text(args.file), level)
        result = agreement(sheet, level)
        drifts = drift(sheet) if level is not Level.NOMINAL else []
    except SheetError as exc:
        raise UsageError(f"FILE: {exc}") from None
    if args.json:
        print(json.dumps({**result.to_json(), "drift": [d.to_json() for d in drifts]}))
    else:
        print(
            f"alpha {result.alpha:.3f} ({level.value}; {result.raters} raters, "
            f"{result.units} units, {result.pairable} pairable values)"
        )
        for d in drifts:
            print(f"  {d.rater}: {d.mean_deviation:+.2f} over {d.units} units, {d.verdict}")
    return EXIT_OK


def _capacity(text: str) -> int:
    value = _positive_int(text)
    if value > 50:
        raise argparse.ArgumentTypeError(f"at most 50 concurrent chats, got {value}")
    return value


def _hours(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of hours, got {text!r}") from None
    if not 0 <= value <= 720:
        raise argparse.ArgumentTypeError(f"must be from 0 to 720 hours, got {text}")
    return value


def _lot_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 2:
        raise argparse.ArgumentTypeError(f"a lot has at least 2 items, got {value}")
    return value


# -- parser -------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="csdesk", description="csdesk customer-service desk / 客服工作台")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def data_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--data",
            type=Path,
            default=None,
            help="data directory (default ./csdesk-data or $CSDESK_DATA_DIR)",
        )

    def verbose_arg(p: argparse.ArgumentParser) -> None:
        # Also after the command (``csdesk demo -v``); SUPPRESS keeps ``csdesk -v demo``.
        p.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            default=argparse.SUPPRESS,
            help="debug logging and one line per HTTP request on stderr",
        )

    p = sub.add_parser("demo", help="embedded demo: SQLite, in-process jobs, seeded shop")
    verbose_arg(p)
    p.add_argument("--port", type=_port, default=8080)
    p.add_argument("--host", default="127.0.0.1")
    data_arg(p)
    p.add_argument(
        "--rate",
        type=_demo_rate,
        default=0.25,
        help="buyer-traffic events per second, on average (default 0.25)",
    )
    p.add_argument(
        "--promotion",
        choices=sorted(DEMO_PROMOTIONS),
        default=None,
        help="replay a promotion evening at demo speed (surge, payment wave, refund wave) "
        "with the shop's promotion profile on",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="web process (console, API, websockets)")
    verbose_arg(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_port, default=8080)
    p.add_argument(
        "--reuse-port",
        action="store_true",
        help="SO_REUSEPORT: several web processes share the port (the kernel spreads "
        "connections among them, as a load balancer would)",
    )
    data_arg(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="arq worker (jobs and cron) for server mode")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("migrate", help="bring the database schema to head")
    data_arg(p)
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser(
        "backup", help="embedded mode: copy the live SQLite database to FILE and verify it"
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.add_argument("--json", action="store_true")
    data_arg(p)
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser(
        "restore", help="embedded mode: replace the database with a verified backup (stop first)"
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--force", action="store_true", help="replace an existing database")
    p.add_argument("--json", action="store_true")
    data_arg(p)
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("seed", help="deterministic demo data")
    p.add_argument("--buyers", type=_positive_int, default=5000)
    p.add_argument("--orders", type=_positive_int, default=20000)
    p.add_argument("--days", type=_positive_int, default=30)
    p.add_argument("--seed", type=_positive_int, default=1)
    p.add_argument("--json", action="store_true")
    data_arg(p)
    p.set_defaults(func=cmd_seed)

    p = sub.add_parser("user", help="manage logins")
    user_sub = p.add_subparsers(dest="user_command", required=True, parser_class=_Parser)
    q = user_sub.add_parser("add", help="create a login")
    q.add_argument("name")
    q.add_argument(
        "--role",
        required=True,
        choices=["agent", "supervisor", "qc_inspector", "trainer", "owner", "admin"],
    )
    q.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    q.add_argument(
        "--service-roles",
        default=None,
        metavar="ROLE,...",
        help="agents: service roles held (presales, order_review, payment_chasing, "
        "aftersales_triage, refund, hotline; default presales)",
    )
    q.add_argument(
        "--chat-capacity",
        type=_capacity,
        default=None,
        metavar="N",
        help="agents: concurrent chats (default 5)",
    )
    q.add_argument("--display-name", default=None)
    q.add_argument("--shop", default=None, help="shop id (default: the first shop)")
    data_arg(q)
    q.set_defaults(func=cmd_user_add)

    p = sub.add_parser("buyer", help="buyers: erase personal data on request (PIPL)")
    buyer_sub = p.add_subparsers(dest="buyer_command", required=True, parser_class=_Parser)
    q = buyer_sub.add_parser(
        "erase", help="remove a buyer's name, phone and address; mask them in transcripts"
    )
    q.add_argument("nick", metavar="NICK", help="the buyer's marketplace nick (旺旺名)")
    q.add_argument("--shop", default=None, help="shop id (default: the first shop)")
    q.add_argument(
        "--reason",
        default="buyer's erasure request (PIPL)",
        help="why (the request's reference); written to the audit log",
    )
    q.add_argument("--json", action="store_true")
    data_arg(q)
    q.set_defaults(func=cmd_buyer_erase)

    p = sub.add_parser("shop", help="shops and their inbound webhook secrets")
    shop_sub = p.add_subparsers(dest="shop_command", required=True, parser_class=_Parser)
    q = shop_sub.add_parser("add", help="create a shop; prints its inbound webhook secret once")
    q.add_argument("id", metavar="ID", help="the marketplace's shop id, as events carry it")
    q.add_argument("--name", default=None, help="display name (default: the id)")
    q.add_argument("--json", action="store_true")
    data_arg(q)
    q.set_defaults(func=cmd_shop_add)
    q = shop_sub.add_parser(
        "rotate-secret",
        help="a new inbound webhook secret; the previous one keeps working for --grace-hours",
    )
    q.add_argument("id", metavar="ID")
    q.add_argument(
        "--grace-hours",
        type=_hours,
        default=24.0,
        help="how long the previous secret still works (default 24; 0: not at all)",
    )
    q.add_argument("--json", action="store_true")
    data_arg(q)
    q.set_defaults(func=cmd_shop_rotate_secret)

    p = sub.add_parser("channel", help="where a shop's buyer-visible messages go")
    channel_sub = p.add_subparsers(dest="channel_command", required=True, parser_class=_Parser)
    q = channel_sub.add_parser(
        "set", help="the shop's channel URL; prints a new outbound secret once"
    )
    q.add_argument("url", metavar="URL")
    q.add_argument("--shop", default=None, help="shop id (default: the first shop)")
    q.add_argument("--json", action="store_true")
    data_arg(q)
    q.set_defaults(func=cmd_channel_set)
    q = channel_sub.add_parser("clear", help="no channel: messages are sent nowhere")
    q.add_argument("--shop", default=None, help="shop id (default: the first shop)")
    data_arg(q)
    q.set_defaults(func=cmd_channel_clear)

    p = sub.add_parser("token", help="API tokens")
    token_sub = p.add_subparsers(dest="token_command", required=True, parser_class=_Parser)
    q = token_sub.add_parser("issue", help="print a new API bearer token for a user")
    q.add_argument("name")
    data_arg(q)
    q.set_defaults(func=cmd_token_issue)

    p = sub.add_parser("triage", help="classify buyer utterances")
    p.add_argument("--json", action="store_true")
    p.add_argument("text", nargs="*", metavar="TEXT")
    p.set_defaults(func=cmd_triage)

    p = sub.add_parser("staffing", help="Erlang C: fewest agents meeting a service level")
    p.add_argument("--arrivals-per-hour", type=_number("--arrivals-per-hour"), required=True)
    p.add_argument("--aht-seconds", type=_number("--aht-seconds"), required=True)
    p.add_argument(
        "--answer-within", type=_number("--answer-within"), required=True, help="seconds"
    )
    p.add_argument(
        "--service-level",
        required=True,
        help="target share answered in time: a fraction (0.8) or a percent (80, 80%%)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_staffing)

    p = sub.add_parser("simulate", help="replay a day through the router on a virtual clock")
    from csdesk.simulation.cli import add_simulate_arguments

    add_simulate_arguments(p)
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("qc", help="quality control: sampling plans, transcript check, α")
    qc_sub = p.add_subparsers(dest="qc_command", required=True, parser_class=_Parser)
    q = qc_sub.add_parser("plan", help="ISO 2859-1 single sampling plan, normal inspection")
    q.add_argument("--lot", type=_lot_size, required=True, help="lot size (N >= 2)")
    q.add_argument("--level", default="II", help="S-1..S-4, I, II, III (default II)")
    q.add_argument("--aql", default="2.5", help="AQL 0.065 ... 6.5 (default 2.5)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_qc_plan)
    q = qc_sub.add_parser("check", help="auto-check one transcript (JSON) against its script")
    q.add_argument("--json", action="store_true")
    q.add_argument("file", metavar="FILE", help="transcript JSON, or - for stdin")
    q.set_defaults(func=cmd_qc_check)
    q = qc_sub.add_parser("alpha", help="Krippendorff's alpha of a calibration sheet (CSV)")
    q.add_argument(
        "--level", choices=["nominal", "ordinal", "interval", "ratio"], default="nominal"
    )
    q.add_argument("--json", action="store_true")
    q.add_argument("file", metavar="FILE", help="CSV (rater, then one column per unit), or -")
    q.set_defaults(func=cmd_qc_alpha)

    p = sub.add_parser("bench", help="performance suite (writes docs/performance.md)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quick", action="store_true", help="shorter runs, for a smoke check")
    p.add_argument(
        "--only",
        metavar="NAMES",
        help="comma-separated benchmarks to rerun (e.g. qc_check,qc_sampling); "
        "the other rows keep their last results",
    )
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.INFO,
            stream=sys.stderr,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        if not args.verbose:
            # Alembic narrates every plugin and revision at INFO; one summary line is ours.
            logging.getLogger("alembic").setLevel(logging.WARNING)
            # One line per request would scroll the demo's printed logins away.
            logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
        result: int = args.func(args)
        return result
    except UsageError as exc:
        print(f"csdesk: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CsdeskError as exc:
        # Refusals from actions: the field names the option (service_roles -> --service-roles).
        print(f"csdesk: error: {_option_message(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_FAILURE
    except Exception as exc:
        # Not bad input but still one line: the traceback is for -v.
        logging.getLogger("csdesk.cli").debug("failed", exc_info=True)
        print(f"csdesk: failed: {type(exc).__name__}: {_first_line(exc)}", file=sys.stderr)
        return EXIT_FAILURE


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"


def _option_message(exc: CsdeskError) -> str:
    if isinstance(exc, BadInputError) and exc.field and not exc.field.startswith("-"):
        return f"{exc.field.replace('_', '-')}: {exc.reason}"
    return exc.message
