"""Charts: candles with live bar, indicators, price lines, crosshair; and the tick chart."""
