"""Views: pure functions from (translator, data) to a Reply, shared by commands and jobs."""
