"""A MetaTrader5 script in the style of the official documentation (order_send example).

It imports ``MetaTrader5`` and knows nothing of the simulator; tests/sim/test_doc_script.py runs it
unmodified with ``sys.modules["MetaTrader5"]`` set to ``app.mt5.sim``.
"""

import time
from datetime import datetime

import MetaTrader5 as mt5

print("MetaTrader5 package author: ", mt5.__author__)
print("MetaTrader5 package version: ", mt5.__version__)

# establish connection to the MetaTrader 5 terminal and log in to the trading account
if not mt5.initialize(login=5001006, password="Demo-1006", server="SimBroker-Demo"):
    print("initialize() failed, error code =", mt5.last_error())
    quit()
print("balance before:", mt5.account_info().balance)

# prepare the buy request structure
symbol = "EURUSD"
symbol_info = mt5.symbol_info(symbol)
if symbol_info is None:
    print(symbol, "not found, can not call order_check()")
    mt5.shutdown()
    quit()

# if the symbol is unavailable in MarketWatch, add it
if not symbol_info.visible:
    print(symbol, "is not visible, trying to switch on")
    if not mt5.symbol_select(symbol, True):
        print("symbol_select({}}) failed, exit", symbol)
        mt5.shutdown()
        quit()

lot = 1.0
point = mt5.symbol_info(symbol).point
price = mt5.symbol_info_tick(symbol).ask
deviation = 20
request = {
    "action": mt5.TRADE_ACTION_DEAL,
    "symbol": symbol,
    "volume": lot,
    "type": mt5.ORDER_TYPE_BUY,
    "price": price,
    "sl": price - 100 * point,
    "tp": price + 100 * point,
    "deviation": deviation,
    "magic": 234000,
    "comment": "python script open",
    "type_time": mt5.ORDER_TIME_GTC,
    "type_filling": mt5.ORDER_FILLING_RETURN,
}

# send a trading request
result = mt5.order_send(request)
# check the execution result
print("1. order_send(): by {} {} lots at {} with deviation={} points".format(symbol, lot, price, deviation))
if result.retcode != mt5.TRADE_RETCODE_DONE:
    print("2. order_send failed, retcode={}".format(result.retcode))
    result_dict = result._asdict()
    for field in result_dict.keys():
        print("   {}={}".format(field, result_dict[field]))
    mt5.shutdown()
    quit()

print("2. order_send done, ", result)
position_id = result.order
print("   opened position with POSITION_TICKET={}".format(position_id))
positions = mt5.positions_get(ticket=position_id)
print("   positions_get(ticket={}) = {}".format(position_id, positions))

# move the stop loss and take profit further away
request = {
    "action": mt5.TRADE_ACTION_SLTP,
    "symbol": symbol,
    "position": position_id,
    "sl": positions[0].price_open - 200 * point,
    "tp": positions[0].price_open + 200 * point,
}
result = mt5.order_send(request)
print("3. SLTP modify: retcode={} comment={}".format(result.retcode, result.comment))
print("   sleep 1 second before closing position #{}".format(position_id))
time.sleep(1)

# create a close request
price = mt5.symbol_info_tick(symbol).bid
request = {
    "action": mt5.TRADE_ACTION_DEAL,
    "symbol": symbol,
    "volume": lot,
    "type": mt5.ORDER_TYPE_SELL,
    "position": position_id,
    "price": price,
    "deviation": deviation,
    "magic": 234000,
    "comment": "python script close",
    "type_time": mt5.ORDER_TIME_GTC,
    "type_filling": mt5.ORDER_FILLING_RETURN,
}
# send a trading request
result = mt5.order_send(request)
print(
    "4. close position #{}: sell {} {} lots at {} with deviation={} points".format(
        position_id, symbol, lot, price, deviation
    )
)
if result.retcode != mt5.TRADE_RETCODE_DONE:
    print("5. order_send failed, retcode={}".format(result.retcode))
    print("   result", result)
else:
    print("5. position #{} closed, {}".format(position_id, result))

# the deals of the period, and the deals of the position
from_date = datetime(2020, 1, 1)
to_date = datetime.now()
deals = mt5.history_deals_get(from_date, to_date)
print("history_deals_get({}, {}) = {}".format(from_date, to_date, len(deals)))
position_deals = mt5.history_deals_get(position=position_id)
print("Deals with position id #{}: {}".format(position_id, len(position_deals)))
for deal in position_deals:
    print("  ", deal)
print("balance after:", mt5.account_info().balance)

# shut down connection to the MetaTrader 5 terminal
mt5.shutdown()
