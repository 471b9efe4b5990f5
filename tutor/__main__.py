from tutor.edge.cli import main

main()
