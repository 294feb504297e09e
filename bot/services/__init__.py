"""Services: the rules. Each public method is one transaction; none knows about chat."""
