from reportsum.cli import main

main()
