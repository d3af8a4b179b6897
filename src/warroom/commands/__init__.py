"""One module per `warroom` subcommand."""
