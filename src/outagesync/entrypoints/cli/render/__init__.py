"""Terminal rendering (Rich) of runs, reports and managed sites. Presentation only, to a given console."""
