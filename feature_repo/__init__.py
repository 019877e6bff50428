"""The Feast feature repository: where training and serving meet.

`definitions.py` declares the Feast objects (read by `feast apply`); `store.py` opens the
store from Python; `materialize.py` loads the latest features into the online store;
`lookup.py` reads a customer's online features with their as-of time.
"""
