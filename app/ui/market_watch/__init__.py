"""Market Watch: the symbols the trader follows, their quotes, adding and removing symbols."""

from app.ui.market_watch.model import QuoteTableModel
from app.ui.market_watch.view import MarketWatch

__all__ = ["MarketWatch", "QuoteTableModel"]
