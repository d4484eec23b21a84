"""Static files of the dispatcher web console (served by assistant.server); a package so they ship in the wheel."""
