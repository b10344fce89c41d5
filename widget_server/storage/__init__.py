"""Tables, the database handle and queries. SQL lives here and nowhere else."""
