import TunwardenCommands

Tunwarden.main()
