"""Script import: screenplays (Fountain, Final Draft) and shot lists into scenes and shots."""
