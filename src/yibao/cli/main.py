"""The `yibao` command: every operator task calls the same use cases as the web."""

from __future__ import annotations

import typer

from yibao.cli import (
    audit,
    catalogue,
    contributions,
    crediting,
    crossregion,
    demo,
    enrolment,
    family,
    filings,
    fsi_client,
    hotline,
    identity,
    kiosks,
    partners,
    server,
    settlement,
)
from yibao.cli.selftest import command as _selftest  # noqa: F401 - adds `yibao fsi selftest`
from yibao.config import get_settings
from yibao.logs import configure_logging

app = typer.Typer(
    help="yibao — 医保个人账户 platform: serve, migrate, demo data, enrolment, contributions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

app.command("serve")(server.serve)
app.command("migrate")(server.migrate)
app.command("worker")(server.worker)
app.command("demo")(demo.demo)
app.add_typer(enrolment.persons_app, name="persons")
app.add_typer(enrolment.regions_app, name="regions")
app.add_typer(contributions.contributions_app, name="contributions")
app.add_typer(crediting.crediting_app, name="crediting")
# Each feature adds its sub-commands here, one line each.
app.add_typer(audit.audit_app, name="audit")
app.add_typer(identity.users_app, name="users")
app.add_typer(identity.staff_app, name="staff")
app.add_typer(identity.sms_app, name="sms")
app.add_typer(family.family_app, name="family")
app.add_typer(settlement.institutions_app, name="institutions")
app.add_typer(catalogue.catalogue_app, name="catalogue")
app.add_typer(fsi_client.fsi_app, name="fsi")
app.add_typer(hotline.hotline_app, name="hotline")
app.add_typer(kiosks.kiosks_app, name="kiosks")
app.add_typer(partners.partners_app, name="partners")
app.add_typer(crossregion.crossregion_app, name="crossregion")
app.add_typer(filings.filings_app, name="filings")


@app.callback()
def _configure() -> None:
    configure_logging(get_settings().log_level)


def main() -> None:
    app()
