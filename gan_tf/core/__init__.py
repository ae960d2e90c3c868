"""What every layer shares: the one frozen Config and its experiments (config), the
errors a user can fix (errors), and the commands' scaffold (cli)."""
