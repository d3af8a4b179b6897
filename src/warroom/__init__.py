"""warroom: an incident console for AWS serverless stacks, in the terminal."""

__version__ = "0.1.0"
