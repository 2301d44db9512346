"""File templates used by ``edgefx plugins new`` (see ``edgefx.cli.scaffold``)."""
