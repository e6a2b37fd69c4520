"""`python -m deepscope ...` runs the CLI, as `torchrun -m deepscope train ...` does on each process."""

from deepscope.cli.main import main

main()
