from widget_server.cli import main

main()
