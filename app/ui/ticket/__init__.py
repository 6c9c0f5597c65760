"""The order ticket: a form that asks the trading service for its verdict, then sends once."""
