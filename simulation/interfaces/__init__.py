"""What users touch: the command line, the classroom app, plots and output files."""
