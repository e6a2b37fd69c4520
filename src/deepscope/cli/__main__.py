from deepscope.cli.main import main

main()
