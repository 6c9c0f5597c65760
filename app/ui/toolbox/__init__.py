"""The toolbox under the charts: Trade, History, Journal (and tabs others add)."""
