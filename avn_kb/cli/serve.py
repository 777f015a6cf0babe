"""`avn-kb serve`: the decision service over HTTP (avn_kb/serve/, docs/service.md). Loaded only
when the command runs, and the service's packages (the `serve` extra) only then too."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from avn_kb.cli import usage
from avn_kb.cli.common import load_for_use
from avn_kb.validate.readiness import Readiness

if TYPE_CHECKING:
    from avn_kb.serve.snapshot import Snapshot


@click.command(epilog="""\b
Examples:
  avn-kb serve
  avn-kb serve --kb knowledge --port 8080 --workers 4
  curl -s localhost:8080/v1/answers -H 'Content-Type: application/json' \\
       -d '{"facts": {"site": "knee", "ficat_stage": "II", "phase": "chronic"}}'
  avn-kb serve --article-url https://example.org/avn/index.html --cors-origin '*'
  kill -HUP <pid>   # reload the knowledge; the old one answers until the new one loaded whole
""")
@click.option("--kb", "kb_dir", default="knowledge", show_default=True, help="Knowledge directory.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free one).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option("--max-body-bytes", default=1_000_000, show_default=True, type=click.IntRange(1),
              help="Largest request body (larger: 413).")
@click.option("--max-depth", default=16, show_default=True, type=click.IntRange(2), help="Deepest JSON nesting.")
@click.option("--max-cases", default=1000, show_default=True, type=click.IntRange(1), help="Most cases per request.")
@click.option("--request-timeout", default=30.0, show_default=True, type=click.FloatRange(0, min_open=True),
              help="Seconds an answer may take (longer: 503).")
@click.option("--article-url", default=None,
              help="Where the rendered article (avn-kb render) is published: CDS Hooks cards link to their "
                   "recommendation there (default: the service's own page).")
@click.option("--cors-origin", "cors_origins", multiple=True,
              help="An origin allowed to call the CDS Hooks routes from a browser (repeatable; * for any, "
                   "as the CDS Hooks sandbox needs). Default: no CORS.")
@click.option("--fhir-timeout", default=5.0, show_default=True, type=click.FloatRange(0, min_open=True),
              help="Seconds each query of a CDS client's FHIR server may take.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def serve(kb_dir: str, host: str, port: int, workers: int, max_body_bytes: int, max_depth: int, max_cases: int,
          request_timeout: float, article_url: str | None, cors_origins: tuple[str, ...], fhir_timeout: float,
          log_level: str) -> None:
    """Answer over HTTP: POST /v1/answers gives what `query --format json` gives. Refuses to start
    on knowledge that does not load whole; SIGHUP reloads it."""
    try:
        from avn_kb.serve.cds import CdsOptions
        from avn_kb.serve.fhir_fetch import FetchLimits
        from avn_kb.serve.limits import Limits
        from avn_kb.serve.reload import KnowledgeHolder
        from avn_kb.serve.server import listen
        from avn_kb.serve.server import serve as run
        from avn_kb.serve.snapshot import load_snapshot
    except ImportError as err:
        usage("serve", f"the service needs the serve extra ({err.name} is not installed): "
                       "pip install 'avn-kb[serve]'")
    loaded: list[Snapshot] = []

    def load(root: Path, shown: str) -> Readiness:
        loaded.append(load_snapshot(root, shown))
        return loaded[-1].ready

    load_for_use("serve", kb_dir, load=load)
    holder = KnowledgeHolder(loaded[-1], Path(kb_dir), kb_dir.rstrip("/") or kb_dir)
    limits = Limits(max_body_bytes, max_depth, max_cases, request_timeout)
    try:
        sock = listen(host, port)
    except OSError as err:
        usage("serve", f"cannot listen on {host}:{port}: {err.strerror or err}; choose another --port or --host")
    if article_url is not None and not article_url.startswith(("http://", "https://")):
        usage("serve", f"--article-url {article_url!r} is not an http(s) address")
    cds = CdsOptions(article_url, tuple(cors_origins), FetchLimits(timeout_seconds=fhir_timeout))
    sys.exit(run(holder, sock, workers, limits, log_level=log_level, cds=cds))
