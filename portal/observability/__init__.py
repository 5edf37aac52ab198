"""What an operator sees of the running portal: request ids, structured logs, metrics."""
