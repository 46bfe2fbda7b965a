"""Personal data: the retention purge and the record of processing."""
