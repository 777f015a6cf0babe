"""The decision service (`avn-kb serve`, docs/service.md): the library's answers over HTTP.

Above output, beside the CLI: routes call the library (load, resolve, output) and never the CLI.
`app.create_app` builds the ASGI application; `server.serve` runs it with uvicorn. Needs the
`serve` extra (Starlette and uvicorn); nothing below this layer imports it."""
